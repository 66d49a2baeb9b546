/* Warm Stations maps: shared pieces (data blocks, controls). Needs Leaflet and common/crs.js.
 *
 * Everything user-supplied reaches the page as JSON in <script type="application/json"> blocks
 * and is put into the DOM with textContent, never innerHTML.
 */
(function () {
  'use strict';
  var WM = window.WarmMap = window.WarmMap || {};

  /** Parse the JSON data block with this id. */
  WM.readJSON = function (id) {
    var el = document.getElementById(id);
    if (!el) { throw new Error('missing data block #' + id); }
    return JSON.parse(el.textContent);
  };

  /** Create an element with a class and (optional) text, appended to parent. */
  WM.el = function (tag, className, text, parent) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  };

  var SVG_NS = 'http://www.w3.org/2000/svg';
  /** A 18×18 stroked SVG icon from path data (no icon font, no image file). */
  WM.icon = function (d, parent) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '18');
    svg.setAttribute('height', '18');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    path.setAttribute('stroke-linecap', 'round');
    svg.appendChild(path);
    parent.appendChild(svg);
    return svg;
  };
  var LOCATE_ICON = 'M12 2v4M12 18v4M2 12h4M18 12h4M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8z';
  var FULLSCREEN_ICON = 'M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5';

  function control(position, className, build) {
    var C = L.Control.extend({
      options: { position: position },
      onAdd: function (map) {
        var div = L.DomUtil.create('div', 'leaflet-control ' + className);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        build(div, map);
        return div;
      }
    });
    return new C();
  }
  WM.control = control;

  function toast(map, text) {
    var box = map.getContainer().querySelector('.ws-toast');
    if (!box) { box = WM.el('div', 'ws-toast', null, map.getContainer()); }
    box.textContent = text;
    box.style.display = 'block';
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.style.display = 'none'; }, 4000);
  }
  WM.toast = toast;

  /** Locate-me: the browser's position (WGS-84) shown in the page's CRS. The only point these
   * pages convert themselves; every overlay arrives already in the page's CRS from the server. */
  WM.addLocate = function (map, crs) {
    var marker = null, ring = null;
    control('topleft', 'leaflet-bar ws-locate', function (div) {
      var a = WM.el('a', 'ws-btn', null, div);
      WM.icon(LOCATE_ICON, a);
      a.href = '#';
      a.title = '我的位置 Locate me';
      a.setAttribute('role', 'button');
      L.DomEvent.on(a, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        if (!navigator.geolocation) { toast(map, '此浏览器不支持定位 Location is not available'); return; }
        a.classList.add('ws-busy');
        navigator.geolocation.getCurrentPosition(function (pos) {
          a.classList.remove('ws-busy');
          var p = window.WarmCRS.convert(pos.coords.longitude, pos.coords.latitude, 'wgs84', crs);
          var ll = L.latLng(p[1], p[0]);
          if (marker) { map.removeLayer(marker); map.removeLayer(ring); }
          ring = L.circle(ll, { radius: pos.coords.accuracy || 0, interactive: false,
            className: 'ws-accuracy', color: '#1a73e8', weight: 1, fillOpacity: 0.1 }).addTo(map);
          marker = L.circleMarker(ll, { radius: 7, color: '#fff', weight: 2, fillColor: '#1a73e8',
            fillOpacity: 1, className: 'ws-me' }).addTo(map);
          marker.bindTooltip('我的位置 You are here');
          WM.myPosition = ll;
          map.setView(ll, Math.max(map.getZoom(), 15));
        }, function (err) {
          a.classList.remove('ws-busy');
          toast(map, '无法定位 Could not get your location (' + err.message + ')');
        }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
      });
    }).addTo(map);
  };

  /** Fullscreen: the Fullscreen API where the browser has it (not inside WeChat on iOS). */
  WM.addFullscreen = function (map) {
    var root = document.documentElement;
    if (!root.requestFullscreen || !document.fullscreenEnabled) { return; }
    control('topleft', 'leaflet-bar ws-fullscreen', function (div) {
      var a = WM.el('a', 'ws-btn', null, div);
      WM.icon(FULLSCREEN_ICON, a);
      a.href = '#';
      a.title = '全屏 Fullscreen';
      a.setAttribute('role', 'button');
      L.DomEvent.on(a, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else {
          root.requestFullscreen();
        }
      });
      document.addEventListener('fullscreenchange', function () {
        a.classList.toggle('ws-on', !!document.fullscreenElement);
        map.invalidateSize();
      });
    }).addTo(map);
  };

  /** Legend: rows of {color, label, shape?} under a title; collapsed on small screens. */
  WM.addLegend = function (map, legend) {
    control('bottomright', 'ws-legend', function (div) {
      var details = WM.el('details', null, null, div);
      if (window.innerWidth >= 600) { details.open = true; }
      WM.el('summary', null, legend.title, details);
      var list = WM.el('ul', null, null, details);
      legend.items.forEach(function (item) {
        var li = WM.el('li', null, null, list);
        var sw = WM.el('span', 'ws-swatch ws-' + (item.shape || 'dot'), null, li);
        sw.style.background = item.fill || item.color;
        sw.style.borderColor = item.color;
        WM.el('span', null, item.label, li);
      });
      (legend.notes || []).forEach(function (note) { WM.el('p', 'ws-note', note, details); });
    }).addTo(map);
  };

  /** Links to the pages drawn for basemaps in the other CRS (one page per CRS). */
  WM.addBasemapLinks = function (map, links) {
    if (!links || !links.length) { return; }
    control('bottomleft', 'ws-basemaps', function (div) {
      WM.el('span', 'ws-prefix', '底图 Basemap: ', div);
      links.forEach(function (link, i) {
        if (i) { WM.el('span', null, ' · ', div); }
        if (link.current) { WM.el('b', null, link.label, div); return; }
        var a = WM.el('a', null, link.label, div);
        a.href = '?basemap=' + encodeURIComponent(link.code);
        // Keep the page's other settings (amenity filter…) when switching basemap.
        L.DomEvent.on(a, 'click', function () {
          var url = new URL(window.location.href);
          url.searchParams.set('basemap', link.code);
          a.href = url.search;
        });
      });
    }).addTo(map);
  };

  /** Fit the map to [[south, west], [north, east]] (in the page's CRS) unless empty. */
  WM.fit = function (map, bounds) {
    if (bounds) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16, animate: false }); }
  };
}());
