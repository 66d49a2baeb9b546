/* Warm Stations maps: the station layer — one GeoJSON FeatureCollection clustered in the
 * browser, Chinese popups built with textContent, and the amenity filter chips.
 *
 * WarmMap.stationLayer(map, options) → an L.MarkerClusterGroup (added to the layer control by
 * the page). options: {data: id of the JSON block, config: id of the config block}.
 */
(function () {
  'use strict';
  var WM = window.WarmMap;
  var el = WM.el;

  /* The marker state of a station: status first, then open-now. */
  function stateOf(p) {
    if (p.status === 'temporarily_closed') { return 'paused'; }
    if (p.status === 'closed') { return 'retired'; }
    if (p.open_now === true) { return 'open'; }
    if (p.open_now === false) { return 'shut'; }
    return 'unknown';
  }
  WM.stationState = stateOf;

  var BADGE = { 'true': '开放中', 'false': '已关闭', 'null': '时间未知' };
  var SAFE_LINK = /^https:\/\//;

  function telHref(phone) {
    var digits = String(phone).replace(/[^0-9+]/g, '');
    return digits ? 'tel:' + digits : null;
  }

  function row(parent, label, value, className) {
    if (value === undefined || value === null || value === '') { return null; }
    var div = el('div', 'ws-row' + (className ? ' ' + className : ''), null, parent);
    el('span', 'ws-key', label, div);
    el('span', 'ws-val', value, div);
    return div;
  }

  /** The popup of one station (a DOM node; nothing from the data is parsed as HTML). */
  function buildPopup(p, cfg) {
    var root = el('div', 'ws-popup');
    root.setAttribute('data-station-id', String(p.id));
    var head = el('div', 'ws-head', null, root);
    el('div', 'ws-title', p.name, head);
    var open = p.open_now === true ? 'true' : (p.open_now === false ? 'false' : 'null');
    el('span', 'ws-badge ws-badge-' + open, BADGE[open], head);
    var hostType = cfg.host_types[p.host_type] || p.host_type;
    row(root, '主办', p.host_org ? p.host_org + '（' + hostType + '）' : hostType, 'ws-host');
    if (p.status !== 'open') { row(root, '状态', cfg.statuses[p.status] || p.status, 'ws-status'); }
    row(root, '地址', p.address, 'ws-address');
    row(root, '开放时间', p.opening_hours || '未提供', 'ws-hours');
    if (p.amenities && p.amenities.length) {
      var amen = el('div', 'ws-row ws-amenities', null, root);
      el('span', 'ws-key', '设施', amen);
      var chips = el('span', 'ws-val', null, amen);
      p.amenities.forEach(function (code) {
        el('span', 'ws-tag', cfg.amenities[code] || code, chips);
      });
    }
    if (p.phone) {
      var ph = el('div', 'ws-row ws-phone', null, root);
      el('span', 'ws-key', '电话', ph);
      var href = telHref(p.phone);
      var link = el(href ? 'a' : 'span', 'ws-val', p.phone, ph);
      if (href) { link.href = href; }
    }
    row(root, '备注', p.notes, 'ws-notes');
    if (p.external_id) { row(root, '编号', p.external_id, 'ws-ref'); }
    var nav = p.navigation || {};
    var apps = [['amap', '高德 AMap'], ['baidu', '百度 Baidu'], ['tencent', '腾讯 Tencent']];
    var navRow = el('div', 'ws-nav', null, root);
    el('span', 'ws-key', '导航', navRow);
    apps.forEach(function (app) {
      var url = nav[app[0]];
      if (!url || !SAFE_LINK.test(url)) { return; }
      var a = el('a', 'ws-nav-' + app[0], app[1], navRow);
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    });
    return root;
  }
  WM.buildPopup = buildPopup;

  function makeIcons(states) {
    var icons = {};
    Object.keys(states).forEach(function (key) {
      // Colours come from the page config (constants on the server), never from station data.
      var color = /^#[0-9a-fA-F]{6}$/.test(states[key].color) ? states[key].color : '#888888';
      icons[key] = L.divIcon({
        className: 'ws-pin ws-pin-' + key,
        html: '<span style="background:' + color + '"></span>',
        iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8]
      });
    });
    return icons;
  }

  function syncQuery(selected, openNow) {
    if (!/^https?:$/.test(window.location.protocol) || !window.history.replaceState) { return; }
    var url = new URL(window.location.href);
    url.searchParams.delete('amenity');
    selected.forEach(function (c) { url.searchParams.append('amenity', c); });
    if (openNow) {
      url.searchParams.set('open_now', 'true');
    } else {
      url.searchParams.delete('open_now');
    }
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }

  /** The filter chips: amenities present in the data (must have all checked) + open now. */
  function addFilter(map, layer, cfg, entries) {
    var present = {};
    entries.forEach(function (e) {
      (e.p.amenities || []).forEach(function (c) { present[c] = (present[c] || 0) + 1; });
    });
    var selected = (cfg.preset.amenities || []).slice();
    var openNow = !!cfg.preset.open_now;
    var count;

    function apply() {
      var shown = entries.filter(function (e) {
        if (openNow && e.p.open_now !== true) { return false; }
        for (var i = 0; i < selected.length; i += 1) {
          if (!e.has[selected[i]]) { return false; }
        }
        return true;
      });
      layer.clearLayers();
      layer.addLayers(shown.map(function (e) { return e.marker; }));
      count.textContent = '显示 ' + shown.length + ' / ' + entries.length + ' 个驿站';
      WM.current.shown = shown.length;
      syncQuery(selected, openNow);
    }

    function chip(parent, label, checked, onChange, value) {
      var lab = el('label', 'ws-chip', null, parent);
      var box = el('input', null, null, lab);
      box.type = 'checkbox';
      box.checked = checked;
      if (value) { box.value = value; }
      el('span', null, label, lab);
      lab.classList.toggle('ws-on', checked);
      box.addEventListener('change', function () {
        lab.classList.toggle('ws-on', box.checked);
        onChange(box.checked);
        apply();
      });
      return lab;
    }

    var bar = el('div', 'ws-filter', null, map.getContainer());
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', '按设施筛选 Filter by amenity');
    L.DomEvent.disableClickPropagation(bar);
    L.DomEvent.disableScrollPropagation(bar);
    count = el('span', 'ws-count', null, bar);
    chip(bar, '开放中', openNow, function (on) { openNow = on; }, 'open_now');
    Object.keys(cfg.amenities).forEach(function (code) {
      if (!present[code]) { return; }
      chip(bar, cfg.amenities[code], selected.indexOf(code) >= 0, function (on) {
        selected = selected.filter(function (c) { return c !== code; });
        if (on) { selected.push(code); }
      }, code);
    });
    apply();
  }

  WM.stationLayer = function (map, options) {
    var cfg = WM.readJSON(options.config);
    var data = WM.readJSON(options.data);
    var icons = makeIcons(cfg.states);
    var layer = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
      disableClusteringAtZoom: 17, spiderfyOnMaxZoom: true
    });
    var entries = data.features.map(function (f) {
      var p = f.properties;
      var c = f.geometry.coordinates;
      var marker = L.marker([c[1], c[0]], {
        icon: icons[stateOf(p)], title: p.name, alt: p.name, riseOnHover: true
      });
      marker.feature = f;
      marker.bindPopup(function () { return buildPopup(p, cfg); },
        { maxWidth: 320, minWidth: 220, autoPanPadding: [20, 60] });
      var has = {};
      (p.amenities || []).forEach(function (code) { has[code] = true; });
      return { p: p, marker: marker, has: has };
    });
    WM.map = map;
    WM.current = { layer: layer, entries: entries, shown: entries.length, crs: cfg.crs };
    addFilter(map, layer, cfg, entries);
    WM.addLocate(map, cfg.crs);
    WM.addFullscreen(map);
    WM.addLegend(map, cfg.legend);
    WM.addBasemapLinks(map, cfg.basemap_links);
    WM.fit(map, cfg.bounds);
    return layer;
  };
}());
