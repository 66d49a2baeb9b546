/* Warm Stations maps: the station layer — compact marker rows clustered in the browser,
 * Chinese popups built with textContent when a marker is clicked, the amenity filter chips.
 *
 * WarmMap.stationLayer(map, options) → an L.MarkerClusterGroup (added to the layer control by
 * the page). options: {config, data, details?}: ids of JSON blocks.
 *   data:    rows [id, x, y, state, amenity_bits, name], x/y in the page's CRS, state an index
 *            into config.row_states, bit i of amenity_bits = config.amenity_bits[i];
 *   details: (self-contained files only) popup properties by station id. Without it a popup
 *            asks config.details.url + id (GET /api/v1/stations/{id}) for them, once.
 */
(function () {
  'use strict';
  var WM = window.WarmMap;
  var el = WM.el;
  var W = window.WarmWords; // common/words.js: dial, entryText, riderReasons

  var BADGE = { 'true': '开放中', 'false': '休息中', 'null': '时间未知' }; // 已关闭 means closed for good
  var SAFE_LINK = /^https:\/\//;
  var SAFE_PHOTO = /^\/photos\/[0-9a-f]{64}\/[a-z]+\.(jpg|webp)$/;
  // At most 320 px, and within a phone's screen beside the zoom and locate buttons (the pan
  // keeps 54 px on the left for them), with Leaflet's frame (~46 px): on a 360 px phone a
  // 320 px popup put its close button off the screen.
  function popupOptions() {
    var width = Math.min(320, Math.max(160, (window.innerWidth || 360) - 106));
    return { maxWidth: width, minWidth: Math.min(220, width),
      autoPanPaddingTopLeft: [54, 60], autoPanPaddingBottomRight: [6, 40] };
  }

  function row(parent, label, value, className) {
    if (value === undefined || value === null || value === '') { return null; }
    var div = el('div', 'ws-row' + (className ? ' ' + className : ''), null, parent);
    el('span', 'ws-key', label, div);
    el('span', 'ws-val', value, div);
    return div;
  }

  function popupRoot(id, name, className) {
    var root = el('div', 'ws-popup ' + className);
    root.setAttribute('data-station-id', String(id));
    var head = el('div', 'ws-head', null, root);
    el('div', 'ws-title', name, head);
    return { root: root, head: head };
  }

  /** The popup of one station (a DOM node; nothing from the data is parsed as HTML). */
  function buildPopup(p, cfg) {
    var parts = popupRoot(p.id, p.name, 'ws-ready');
    var root = parts.root;
    var open = p.open_now === true ? 'true' : (p.open_now === false ? 'false' : 'null');
    if (open === 'true' && p.confidence === 'doubtful') { // open by its hours, doubted by riders
      el('span', 'ws-badge ws-badge-doubt', '按时间应营业', parts.head);
    } else {
      el('span', 'ws-badge ws-badge-' + open, BADGE[open], parts.head);
    }
    var door = p.photos && p.photos[0];
    if (door && SAFE_PHOTO.test(door.thumb) && SAFE_PHOTO.test(door.url)) { // the door first
      var big = el('a', 'ws-door', null, root);
      big.href = door.url; big.target = '_blank'; big.rel = 'noopener'; big.title = '点击看大图';
      var img = el('img', null, null, big);
      img.src = door.thumb; img.alt = '驿站门口照片'; img.loading = 'lazy';
    }
    // what riders said (the schedule's own reason goes without saying beside the badge)
    var said = W.riderReasons(p);
    if (said.length) {
      row(root, '骑手', (p.confidence === 'doubtful' ? '可能不开放 · ' : '') + said.join('；'),
        'ws-trust ws-trust-' + p.confidence);
    }
    var hostType = cfg.host_types[p.host_type] || p.host_type;
    row(root, '主办', p.host_org ? p.host_org + '（' + hostType + '）' : hostType, 'ws-host');
    if (p.status !== 'open') { row(root, '状态', cfg.statuses[p.status] || p.status, 'ws-status'); }
    row(root, '地址', p.address, 'ws-address');
    row(root, '开放时间', p.opening_hours_text || p.opening_hours || '未提供', 'ws-hours');
    row(root, '进门', W.entryText(p, cfg.entries), 'ws-entry');
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
      var href = W.dial(p.phone);
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

  /** A popup that says what is going on (loading, or why the details are missing). */
  function notice(entry, text, className) {
    var root = popupRoot(entry.id, entry.name, className).root;
    el('div', 'ws-wait', text, root);
    return root;
  }

  /** How long a popup waits for a station's details before it says they could not load. */
  var DETAILS_TIMEOUT_MS = 15000;

  /** details(id, callback(error, properties)): inline, or fetched once per station. */
  function detailsSource(cfg, inline) {
    if (inline) {
      return function (id, done) {
        var p = inline[String(id)];
        done(p ? null : { status: 404 }, p);
      };
    }
    var cache = {};
    var query = '?crs=' + encodeURIComponent(cfg.details.crs) +
      '&at=' + encodeURIComponent(cfg.details.at);
    return function (id, done) {
      if (cache[id]) { done(null, cache[id]); return; }
      // On a weak mobile signal a request can stall for minutes: give up after a while so the
      // popup says so and the next tap asks again, instead of 加载中… for ever.
      var settled = false;
      var timer = setTimeout(function () { finish({ status: 0 }); }, DETAILS_TIMEOUT_MS);
      function finish(err, p) {
        if (settled) { return; }
        settled = true;
        clearTimeout(timer);
        done(err, p);
      }
      fetch(cfg.details.url + encodeURIComponent(id) + query, {
        credentials: 'same-origin', headers: { Accept: 'application/geo+json, application/json' }
      }).then(function (r) {
        if (!r.ok) {
          var err = new Error('HTTP ' + r.status);
          err.status = r.status;
          throw err;
        }
        return r.json();
      }).then(function (f) {
        cache[id] = f.properties;  // kept even when late: the next tap shows it at once
        finish(null, f.properties);
      }, function (err) {
        finish(err && err.status ? err : { status: 0 });
      });
    };
  }

  /** Open (binding on first use) the popup of a clicked marker and fill it with details. */
  function showPopup(entry, cfg, details) {
    var marker = entry.marker;
    if (marker.getPopup() && !entry.failed) { return; }  // Leaflet opened the built popup
    entry.failed = false;
    if (marker.getPopup()) {
      marker.setPopupContent(notice(entry, '加载中…', 'ws-loading'));
    } else {
      marker.bindPopup(notice(entry, '加载中…', 'ws-loading'), popupOptions()).openPopup();
    }
    details(entry.id, function (err, p) {
      if (err) {
        entry.failed = true;  // ask again on the next click
        marker.setPopupContent(notice(entry, err.status === 404 || err.status === 410
          ? '此驿站已撤销或不存在，请刷新页面 This station no longer exists'
          : '详情加载失败，请稍后再点 Could not load the details', 'ws-error'));
        return;
      }
      marker.setPopupContent(buildPopup(p, cfg));
    });
  }

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

  /** One marker per row (no popup yet: it is bound on the first click). */
  function makeEntries(rows, cfg) {
    var icons = makeIcons(cfg.states);
    var entries = new Array(rows.length);
    for (var i = 0; i < rows.length; i += 1) {
      var r = rows[i];
      var state = cfg.row_states[r[3]] || 'unknown';
      var name = String(r[5]);
      var marker = L.marker([r[2], r[1]], { icon: icons[state], title: name, riseOnHover: true });
      var entry = { id: r[0], name: name, state: state, bits: r[4], marker: marker };
      marker.wsEntry = entry;
      entries[i] = entry;
    }
    return entries;
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

  /** The filter chips: amenities present in the data (``present``: their bits; a station
   *  must have all checked) + open now. apply(need, selected, openNow) shows what passes. */
  function addFilter(map, cfg, present, apply) {
    var bit = {};
    cfg.amenity_bits.forEach(function (code, i) { bit[code] = 1 << i; });
    var selected = (cfg.preset.amenities || []).slice();
    var openNow = !!cfg.preset.open_now;

    function run() {
      var need = 0;
      selected.forEach(function (c) { need |= bit[c] || 0; });
      apply(need, selected, openNow);
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
        run();
      });
      return lab;
    }

    var bar = el('div', 'ws-filter', null, map.getContainer());
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', '按设施筛选 Filter by amenity');
    L.DomEvent.disableClickPropagation(bar);
    L.DomEvent.disableScrollPropagation(bar);
    var count = el('span', 'ws-count', '加载中…', bar);
    chip(bar, '开放中', openNow, function (on) { openNow = on; }, 'open_now');
    cfg.amenity_bits.forEach(function (code) {
      if (!(present & bit[code])) { return; }
      chip(bar, cfg.amenities[code] || code, selected.indexOf(code) >= 0, function (on) {
        selected = selected.filter(function (c) { return c !== code; });
        if (on) { selected.push(code); }
      }, code);
    });
    return { count: count, run: run };
  }

  /** Rows mode: every marker is in the page; the chips hide and show them. The markers are
   *  added when the layer joins the map: clustering them before that goes through
   *  markercluster's pre-map queue, which checks every marker against every other. */
  function filterRows(map, layer, cfg, entries) {
    var present = 0;
    entries.forEach(function (e) { present |= e.bits; });
    var bar = addFilter(map, cfg, present, function (need, selected, openNow) {
      var shown = [];
      for (var i = 0; i < entries.length; i += 1) {
        var e = entries[i];
        if ((openNow && e.state !== 'open') || (e.bits & need) !== need) { continue; }
        shown.push(e.marker);
      }
      layer.clearLayers();
      layer.addLayers(shown);
      bar.count.textContent = '显示 ' + shown.length + ' / ' + entries.length + ' 个驿站';
      WM.current.shown = shown.length;
    });
    layer.once('add', bar.run);
  }

  function controls(map, cfg) {
    WM.addLocate(map, cfg.crs);
    WM.addFullscreen(map);
    WM.addLegend(map, cfg.legend);
    WM.addBasemapLinks(map, cfg.basemap_links);
    WM.fit(map, cfg.bounds);
  }

  WM.stationLayer = function (map, options) {
    var cfg = WM.readJSON(options.config);
    var rows = WM.readJSON(options.data);
    var details = detailsSource(cfg, options.details ? WM.readJSON(options.details) : null);
    var layer = L.markerClusterGroup({
      // Chunks of up to 200 ms keep the page responsive while 10,000 markers cluster; a
      // frame's pause between them (not the default 50 ms) brings the first marker sooner.
      chunkedLoading: true, chunkDelay: 16, showCoverageOnHover: false, maxClusterRadius: 50,
      disableClusteringAtZoom: 17, spiderfyOnMaxZoom: true
    });
    var entries = makeEntries(rows, cfg);
    layer.on('click', function (e) {
      var entry = e.layer && e.layer.wsEntry;
      if (entry) { showPopup(entry, cfg, details); }
    });
    WM.map = map;
    WM.current = { layer: layer, entries: entries, shown: 0, crs: cfg.crs };
    filterRows(map, layer, cfg, entries);
    controls(map, cfg);
    return layer;
  };

  /** The state of a station from a tile (as station_state on the server). */
  function tileState(p) {
    if (p.status === 'temporarily_closed') { return 'paused'; }
    if (p.status === 'closed') { return 'retired'; }
    return p.open === 1 ? 'open' : (p.open === 0 ? 'shut' : 'unknown');
  }

  function clusterIcon(count) {
    var size = count < 10 ? 'small' : (count < 100 ? 'medium' : 'large');
    var html = document.createElement('div');
    el('span', null, count, html);
    return L.divIcon({ html: html.outerHTML, className: 'marker-cluster marker-cluster-' + size,
      iconSize: [40, 40] });
  }

  /** Tiles mode (a network too large to inline): the markers of the view come from the
   *  vector tiles, clustered by the server below its cluster zoom; the chips become the
   *  tiles' filter. Popups are the same as in rows mode (details fetched on click). */
  WM.stationTiles = function (map, options) {
    var cfg = WM.readJSON(options.config);
    var details = detailsSource(cfg, null);
    var icons = makeIcons(cfg.states);
    var bar = null;

    function tileQuery(selected, openNow) {
      var q = new URLSearchParams(cfg.tiles.query);
      selected.forEach(function (c) { q.append('amenity', c); });
      if (openNow) { q.set('open_now', 'true'); }
      return q.toString();
    }
    var query = tileQuery(cfg.preset.amenities || [], !!cfg.preset.open_now);
    controls(map, cfg);  // the view first, so the first tiles asked for are the ones shown
    var layer = WarmTiles.markers(map, {
      url: function (c) { return cfg.tiles.url + c.z + '/' + c.x + '/' + c.y + '.mvt?' + query; },
      make: function (p, at) {
        if ((p.count || 1) > 1) {
          var cl = L.marker(at, { icon: clusterIcon(p.count), title: p.count + ' 个驿站' });
          cl.on('click', function () { map.setView(at, Math.min(map.getZoom() + 2, 18)); });
          return cl;
        }
        var state = tileState(p), name = String(p.name);
        var marker = L.marker(at, { icon: icons[state], title: name, riseOnHover: true });
        var entry = { id: p.id, name: name, state: state, marker: marker };
        marker.wsEntry = entry;
        marker.on('click', function () { showPopup(entry, cfg, details); });
        return marker;
      },
      onChange: function (shown) {
        WM.current.shown = shown;
        if (bar) { bar.count.textContent = '视野内 ' + shown + ' / ' + cfg.tiles.total + ' 个驿站'; }
      }
    });
    WM.map = map;
    WM.current = { layer: layer, tiles: true, shown: 0, crs: cfg.crs };
    bar = addFilter(map, cfg, cfg.tiles.present, function (need, selected, openNow) {
      var next = tileQuery(selected, openNow);
      if (next !== query) {
        query = next;
        layer.redraw();
      }
    });
    bar.count.textContent = '加载中…';
    return layer;
  };
}());
