/* Warm Stations embed page (/embed). Hand-written, no framework: riders load it on a weak
 * mobile link inside WeChat. Every station value reaches the DOM through textContent (el());
 * nothing here assigns innerHTML. The server's config (JSON) is described in maps/embed.py. */
(function () {
  'use strict';
  var C = JSON.parse(document.getElementById('embed-config').textContent);
  var doc = document, root = doc.documentElement;
  function $(id) { return doc.getElementById(id); }
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  var convert = window.WarmCRS.convert; // common/crs.js, loaded before this file
  var W = window.WarmWords; // common/words.js: dial, entryText, riderReasons

  /* ---- small helpers ---- */
  function metres(d) {
    if (d == null) return '';
    return d < 1000 ? Math.round(d) + ' 米' : (d / 1000).toFixed(d < 10000 ? 1 : 0) + ' 公里';
  }
  function haversine(a, b) { // display only (list distances come from the server, geodesic)
    var r = Math.PI / 180, dy = (b[1] - a[1]) * r, dx = (b[0] - a[0]) * r;
    var h = Math.pow(Math.sin(dy / 2), 2) + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.pow(Math.sin(dx / 2), 2);
    return 12742000 * Math.asin(Math.sqrt(h));
  }
  // maps/station_page.py's _state says the same on the poster's page
  function badge(open, status, confidence) {
    if (status && status !== 'open') return el('span', 'badge shut', status === 'closed' ? '已关闭' : '暂停开放');
    // open by its hours, but riders found it shut: not green (the line below says why)
    if ((open === true || open === 1) && confidence === 'doubtful') return el('span', 'badge unknown', '按时间应营业');
    if (open === true || open === 1) return el('span', 'badge open', '营业中');
    if (open === false || open === 0) return el('span', 'badge shut', '休息中');
    return el('span', 'badge unknown', '时间未知');
  }
  function safeUrl(u) { return typeof u === 'string' && /^https:\/\//.test(u) ? u : null; }
  function setStatus(text) { $('status').textContent = text; }
  function getJSON(url, signal) {
    return fetch(url, { signal: signal, credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }

  /* ---- state ---- */
  var S = {
    sel: {}, openNow: !!C.openNow, fix: null, fixAt: 0, origin: null, located: false,
    selected: null, list: [], wx: null, seq: 0
  };
  C.selected.forEach(function (c) { S.sel[c] = true; });
  function selectedCodes() { return Object.keys(S.sel).filter(function (c) { return S.sel[c]; }); }
  function needBits() {
    var bits = 0;
    selectedCodes().forEach(function (c) { var i = C.bits.indexOf(c); if (i >= 0) bits |= (1 << i); });
    return bits;
  }
  function filterParams(q) { // C.bits ends with the no_smartphone_ok flag, not an amenity
    selectedCodes().forEach(function (c) {
      if (c === 'no_smartphone_ok') q.set(c, 'true'); else q.append('amenity', c);
    });
    if (S.openNow) q.set('open_now', 'true');
    q.set('status', 'open');
    return q;
  }

  /* ---- WeChat: JS-SDK only inside WeChat, and only when the service can sign wx.config ---- */
  var ua = navigator.userAgent || '';
  var inWeChat = /MicroMessenger/i.test(ua);
  function detectEnv() {
    root.setAttribute('data-env', window.__wxjs_environment === 'miniprogram' ? 'miniprogram'
      : inWeChat ? 'wechat' : 'browser');
  }
  detectEnv();
  if (inWeChat) doc.addEventListener('WeixinJSBridgeReady', detectEnv, false);
  var wxPromise = null;
  function wxReady() {
    if (wxPromise) return wxPromise;
    if (!inWeChat || !C.wechat) {
      root.setAttribute('data-wx', 'off');
      wxPromise = Promise.resolve(null);
      return wxPromise;
    }
    root.setAttribute('data-wx', 'loading');
    wxPromise = new Promise(function (resolve) {
      var done = false;
      function finish(wx) {
        if (done) return;
        done = true;
        S.wx = wx;
        root.setAttribute('data-wx', wx ? 'ready' : 'fallback');
        resolve(wx);
      }
      setTimeout(function () { finish(null); }, 3000); // no bridge (or no answer): use the browser
      var s = doc.createElement('script');
      s.src = C.wechat.sdk;
      s.onerror = function () { finish(null); };
      s.onload = function () {
        var wx = window.wx;
        if (!wx || !wx.config) { finish(null); return; }
        var url = location.href.split('#')[0];
        getJSON(C.wechat.config + '?url=' + encodeURIComponent(url)).then(function (cfg) {
          wx.config({ debug: false, appId: cfg.appId, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr,
            signature: cfg.signature, jsApiList: cfg.jsApiList });
          wx.ready(function () { finish(wx); });
          wx.error(function () { finish(null); });
        }).catch(function () { finish(null); });
      };
      doc.head.appendChild(s);
    });
    return wxPromise;
  }

  /* ---- the map ---- */
  var map = L.map('map', { zoomControl: false, preferCanvas: false, tapTolerance: 15 });
  L.control.zoom({ position: 'topright', zoomInTitle: '放大', zoomOutTitle: '缩小' }).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  C.basemap.forEach(function (b) {
    L.tileLayer(b.url, { subdomains: b.subdomains, maxZoom: b.maxZoom, maxNativeZoom: b.maxNativeZoom,
      attribution: b.attribution })
      .addTo(map);
  });
  if (C.center) map.setView(C.center, C.zoom || 15);
  else if (C.bounds) {
    map.fitBounds(C.bounds, { padding: [16, 16], maxZoom: 16 });
    if (C.zoom) map.setZoom(C.zoom);
  }
  var layer = L.layerGroup().addTo(map), userLayer = L.layerGroup().addTo(map);
  var markers = {};

  function style(p) {
    var on = p[0] === S.selected;
    var colour = p[3] === 1 ? '#2b8a3e' : p[3] === 0 ? '#868e96' : '#f59f00';
    return { radius: on ? 11 : 7, color: on ? '#d9480f' : '#fff', weight: on ? 4 : 2, fillColor: colour,
      fillOpacity: 0.95, opacity: 1, className: 'st sid-' + p[0] };
  }
  function passes(p) {
    var need = needBits();
    return (p[4] & need) === need && (!S.openNow || p[3] === 1);
  }
  function pointMarker(p) { // p: [id, x, y, open (1/0/null), bits, name]
    var m = L.circleMarker([p[2], p[1]], style(p));
    m.on('click', function () { select(p[0]); });
    m.point = p;
    markers[p[0]] = m;
    return m;
  }
  function clusterMarker(x, y, count) {
    var size = count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 50;
    var icon = L.divIcon({ className: 'cl', html: el('span', null, count), iconSize: [size, size] });
    return L.marker([y, x], { icon: icon, keyboard: false, title: count + ' 个驿站' })
      .on('click', function () { map.setView([y, x], Math.min(map.getZoom() + 2, 18)); });
  }
  function drawPoints(points, clientFilter) {
    layer.clearLayers();
    markers = {};
    var n = 0;
    points.forEach(function (p) {
      if (clientFilter && !passes(p)) return;
      pointMarker(p).addTo(layer);
      n++;
    });
    root.setAttribute('data-markers', String(n));
  }

  /* A network above the inline limit: the markers of the view come from the vector tiles
   * (clustered by the server at low zooms), filtered by the chips on the server. */
  var tiles = null, tileQuery = null;
  function tileMarker(p, at) {
    if ((p.count || 1) > 1) return clusterMarker(at.lng, at.lat, p.count);
    return pointMarker([p.id, at.lng, at.lat, p.open === 1 ? 1 : p.open === 0 ? 0 : null, 0, p.name]);
  }
  function refreshMarkers() {
    if (C.markers) { drawPoints(C.markers.points, true); return; }
    var q = filterParams(new URLSearchParams({ crs: C.crs })).toString();
    if (tiles && q === tileQuery) return; // the grid layer follows the view by itself
    tileQuery = q;
    if (tiles) { tiles.redraw(); return; }
    tiles = WarmTiles.markers(map, {
      url: function (c) { return C.api.tiles + c.z + '/' + c.x + '/' + c.y + '.mvt?' + tileQuery; },
      make: tileMarker,
      onChange: function (shown, drawn) { root.setAttribute('data-markers', String(drawn)); }
    });
    tiles.on('stationerror', function () { setStatus('驿站加载失败，请稍后重试'); });
  }

  function highlight(id) {
    var old = S.selected;
    S.selected = id;
    [old, id].forEach(function (k) {
      var m = k != null && markers[k];
      if (m) { m.setStyle(style(m.point)); if (k === id) m.bringToFront(); }
    });
    Array.prototype.forEach.call($('list').children, function (li) {
      li.classList.toggle('on', li.getAttribute('data-id') === String(id));
    });
  }

  /* ---- navigation: wx.openLocation inside WeChat, map-app links elsewhere ---- */
  function navLinks(f) {
    var nav = f.properties.navigation || {};
    var box = el('div', 'nav');
    var go = el('a', 'go', '导航');
    var amap = safeUrl(nav.amap);
    if (amap) { go.href = amap; go.target = '_blank'; go.rel = 'noopener'; }
    go.setAttribute('aria-label', '导航到 ' + f.properties.name);
    go.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (!S.wx) return; // the link opens AMap (app or web)
      ev.preventDefault();
      var c = f.geometry.coordinates, g = convert(c[0], c[1], C.crs, 'gcj02');
      S.wx.openLocation({ latitude: Number(g[1]), longitude: Number(g[0]), name: String(f.properties.name),
        address: String(f.properties.address || f.properties.name), scale: 16 });
    });
    box.appendChild(go);
    var alt = el('span', 'alt');
    [['百度', nav.baidu], ['腾讯', nav.tencent]].forEach(function (pair) {
      var u = safeUrl(pair[1]);
      if (!u) return;
      var a = el('a', null, pair[0]);
      a.href = u; a.target = '_blank'; a.rel = 'noopener';
      a.addEventListener('click', function (ev) { ev.stopPropagation(); });
      alt.appendChild(a);
    });
    if (alt.childNodes.length) box.appendChild(alt);
    return box;
  }
  var DAYS = { Mo: '周一', Tu: '周二', We: '周三', Th: '周四', Fr: '周五', Sa: '周六', Su: '周日', PH: '节假日' };
  function hoursText(h, text) { // the hours as written (opening_hours_text); else OSM read aloud in Chinese
    if (text) return text;
    if (!h) return '';
    if (h.trim() === '24/7') return '24小时开放';
    return h.replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su)-(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, function (m, a, b) { return DAYS[a] + '至' + DAYS[b]; })
      .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b/g, function (m) { return DAYS[m]; })
      .replace(/,(?=周|节假日)/g, '、').replace(/\s*;\s*/g, '；').replace(/\boff\b/g, '休息');
  }
  function amenityText(codes) {
    return (codes || []).map(function (c) { return C.labels[c] || c; }).join('、');
  }

  /* ---- rider evidence (confidence) and how to get in ---- */
  // confirmed needs no label: its reason says it ("刚刚有骑手确认开放")
  var LEVEL = { confirmed: ['trust ok', ''], doubtful: ['trust bad', '可能不开放'] };
  function trustLine(p, all) { // "20 分钟前有骑手确认开放" / "近 3 天 2 人反映关门"
    var reasons = !all ? W.riderReasons(p)
      : (p.confidence_reasons || []).map(function (r) { return r.message_zh; }).filter(Boolean);
    if (!reasons.length) return null;
    var lv = LEVEL[p.confidence] || ['trust', ''];
    var line = el('div', lv[0]);
    if (lv[1]) line.appendChild(el('b', null, lv[1] + ' · '));
    line.appendChild(doc.createTextNode(all ? reasons.join('；') : reasons[0]));
    return line;
  }
  function verifiedText(p) { // "12 天前工作人员核查" (whole days, as the card speaks)
    if (!p.verified_at) return '';
    var t = Date.parse(p.verified_at);
    if (isNaN(t)) return '';
    var days = Math.max(0, Math.floor((Date.now() - t) / 86400000));
    return (days === 0 ? '今天' : days + ' 天前') + '工作人员核查' +
      (p.freshness === 'stale' ? '（已超过 90 天）' : '');
  }
  // At similar distance (within RANK_M) a rider-confirmed station goes first, a doubted one
  // last; the server's order (geodesic distance) holds otherwise.
  var RANK_M = 300;
  function ranked(features) {
    function score(f, i) {
      var p = f.properties, d = p.distance_m == null ? i : p.distance_m;
      return d + (p.confidence === 'doubtful' ? RANK_M : p.confidence === 'confirmed' ? -RANK_M / 3 : 0);
    }
    return features.map(function (f, i) { return [score(f, i), i, f]; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; }).map(function (x) { return x[2]; });
  }

  /* ---- the list ---- */
  function renderList(features) {
    var list = $('list');
    list.textContent = '';
    features = ranked(features);
    S.list = features;
    if (!features.length) {
      // name the filters: the chip row scrolls, so some pressed chips may be out of view
      var on = Array.prototype.map.call(doc.querySelectorAll('.chip[aria-pressed="true"]'),
        function (c) { return c.textContent; });
      list.appendChild(el('li', 'empty', on.length
        ? '附近没有符合“' + on.join('、') + '”的驿站，试试减少筛选条件。'
        : '附近没有驿站。'));
      return;
    }
    features.forEach(function (f) {
      var p = f.properties;
      var li = el('li', 'item');
      li.setAttribute('data-id', String(p.id));
      var main = el('div', 'main');
      main.appendChild(el('div', 'name', p.name));
      var meta = el('div', 'meta');
      if (p.distance_m != null) meta.appendChild(el('span', 'dist', metres(p.distance_m)));
      meta.appendChild(badge(p.open_now, p.status, p.confidence));
      if (p.opening_hours || p.opening_hours_text) meta.appendChild(el('span', null, hoursText(p.opening_hours, p.opening_hours_text)));
      main.appendChild(meta);
      if (p.address) main.appendChild(el('div', 'addr', p.address));
      if (p.amenities && p.amenities.length) main.appendChild(el('div', 'amen', amenityText(p.amenities)));
      var tl = trustLine(p, false);
      if (tl) main.appendChild(tl);
      li.appendChild(main);
      li.appendChild(navLinks(f));
      li.tabIndex = 0;
      li.addEventListener('click', function () { select(p.id, f); });
      li.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') select(p.id, f); });
      list.appendChild(li);
    });
    highlight(S.selected);
  }
  function loadList(fit) {
    var o = S.origin || map.getCenter();
    var my = ++S.seq, located = S.located;
    var q = filterParams(new URLSearchParams({ lat: o.lat.toFixed(7), lon: o.lng.toFixed(7), k: String(C.k), crs: C.crs }));
    // on a weak signal the answer may take seconds: the list says it is out of date meanwhile
    setStatus('正在查找附近驿站…');
    $('list').classList.add('loading');
    return getJSON(C.api.nearest + '?' + q.toString()).then(function (fc) {
      if (my !== S.seq) return;
      $('list').classList.remove('loading');
      setStatus(located ? '按离您的距离排序' : '按离地图中心的距离排序');
      renderList(fc.features);
      if (fit) { // the rider and the three nearest stations in view
        var pts = [o];
        fc.features.slice(0, 3).forEach(function (f) {
          pts.push(L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]));
        });
        map.fitBounds(L.latLngBounds(pts), { padding: [30, 30], maxZoom: 16 });
      }
      root.setAttribute('data-list', located ? 'located' : 'center');
    }).catch(function () {
      if (my !== S.seq) return;
      // not the old list under new chips: say so, and offer to ask again
      var list = $('list');
      list.classList.remove('loading');
      list.textContent = '';
      S.list = [];
      setStatus('附近驿站加载失败');
      var li = el('li', 'empty', '网络不好，附近驿站没有加载出来。');
      var again = el('button', 'go retry', '重试');
      again.type = 'button';
      again.addEventListener('click', function () { loadList(fit); });
      li.appendChild(again);
      list.appendChild(li);
      root.setAttribute('data-list', 'failed');
    });
  }

  /* ---- the card of one station ---- */
  function showCard(f) {
    var p = f.properties, card = $('card');
    card.textContent = '';
    var bar = el('div', 'bar'), back = el('button', 'back', '‹ 返回列表'), rep = el('button', 'report', '报告问题');
    back.type = rep.type = 'button';
    back.addEventListener('click', closeCard);
    rep.addEventListener('click', function () { openReport(p, rep); });
    bar.appendChild(back);
    bar.appendChild(rep);
    card.appendChild(bar);
    var meta = el('p');
    // a distance only from the rider: from the map's centre (a shared link opens on the
    // station itself) it read "距地图中心 0 米", which tells a rider nothing
    if (S.located) {
      var d = p.distance_m != null ? p.distance_m : haversine([S.origin.lng, S.origin.lat], f.geometry.coordinates);
      meta.appendChild(el('span', 'dist', '距您 ' + metres(d)));
    }
    meta.appendChild(badge(p.open_now, p.status, p.confidence));
    var top = el('div', 'top'), head = el('div', 'main');
    head.appendChild(el('div', 'name', p.name));
    head.appendChild(meta);
    top.appendChild(head);
    if (p.navigation) top.appendChild(navLinks(f));
    card.appendChild(top);
    var ph = p.photos && p.photos[0];
    var served = /^\/photos\/[0-9a-f]{64}\//;
    if (ph && served.test(ph.thumb) && served.test(ph.url)) { // the door photo first, loaded lazily
      var pic = el('picture', 'door'), src = doc.createElement('source'), img = doc.createElement('img');
      src.type = 'image/webp'; src.srcset = ph.thumb_webp;
      img.src = ph.thumb; img.loading = 'lazy'; img.decoding = 'async'; img.alt = '驿站门口照片';
      pic.appendChild(src); pic.appendChild(img);
      var big = el('a', 'door-link'); // a tap opens the photo full size
      big.href = ph.url; big.target = '_blank'; big.rel = 'noopener'; big.title = '点击看大图';
      big.appendChild(pic);
      card.insertBefore(big, top);
    }
    var tc = p.confidence_reasons ? trustLine(p, true) : null;
    if (tc) card.appendChild(tc);
    [['地址', p.address], ['开放时间', hoursText(p.opening_hours, p.opening_hours_text)], ['进门', W.entryText(p, C.entries)],
      ['设施', amenityText(p.amenities)],
      ['提供单位', p.host_org], ['备注', p.notes], ['核查', verifiedText(p)]].forEach(function (row) {
      if (!row[1]) return;
      var line = el('p');
      line.appendChild(el('span', 'label', row[0]));
      line.appendChild(doc.createTextNode(row[1]));
      card.appendChild(line);
    });
    if (p.phone) {
      var tel = el('p');
      tel.appendChild(el('span', 'label', '电话'));
      var number = W.dial(p.phone);
      if (number) {
        var a = el('a', null, p.phone);
        a.href = number;
        tel.appendChild(a);
      } else tel.appendChild(doc.createTextNode(p.phone));
      card.appendChild(tel);
    }
    if (p.confidence_reasons) card.appendChild(hereBox(p));
    card.hidden = false;
    $('list').hidden = true;
    $('sheet').scrollTop = 0;
  }
  function closeCard() {
    $('card').hidden = true;
    $('list').hidden = false;
    highlight(null);
  }
  function select(id, f) {
    highlight(id);
    var m = markers[id];
    var found = f || S.list.filter(function (x) { return x.properties.id === id; })[0];
    var ll = m ? m.getLatLng() : found ? L.latLng(found.geometry.coordinates[1], found.geometry.coordinates[0]) : null;
    if (ll && !map.getBounds().pad(-0.1).contains(ll)) map.panTo(ll);
    if (found) { showCard(found); return; }
    if (m) { // show what we have at once, then the details
      showCard({ geometry: { coordinates: [m.point[1], m.point[2]] },
        properties: { id: id, name: m.point[5], open_now: m.point[3] } });
    }
    getJSON(C.api.station + encodeURIComponent(id) + '?crs=' + C.crs).then(function (full) {
      if (S.selected === id) showCard(full);
    }).catch(function () { setStatus('驿站详情加载失败'); });
  }

  /* ---- "我在这里": the shared control (common/here.js); after a tap the card shows what it
   * changed ("刚刚有骑手确认开放") ---- */
  function hereBox(p) {
    var id = p.id;
    return window.WarmHere.box({
      station: id, amenities: p.amenities, labels: C.labels, api: C.api.station, crs: C.crs,
      where: where, convert: convert,
      after: function (d, keep) {
        return getJSON(C.api.station + encodeURIComponent(id) + '?crs=' + C.crs).then(function (full) {
          S.list.forEach(function (f, i) {
            if (f.properties.id === id) { full.properties.distance_m = f.properties.distance_m; S.list[i] = full; }
          });
          if (S.selected !== id) return;
          showCard(full);
          var m = $('card').querySelector('.here-msg');
          if (m) { m.textContent = keep[0]; m.className = keep[1]; }
        });
      }
    });
  }
  function where() { // the rider's position at the tap: the page may have been opened elsewhere
    return getFix(true).then(function (fix) {
      S.fix = fix; S.fixAt = Date.now();
      return fix;
    }, function () { // no fix now: one from the last two minutes will do, an older one would mislead
      return S.fix && Date.now() - S.fixAt < 120000 ? S.fix : null;
    });
  }

  /* ---- "报告问题": anonymous, POST …/stations/{id}/reports; staff review it before anything changes ---- */
  var R = null; // the sheet, built on first use
  function part(tag, cls, parent, text) { return parent.appendChild(el(tag, cls, text)); }
  function buildReport() {
    var wrap = el('div', 'rp-wrap'), box = part('form', 'rp', wrap), btns;
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-label', '报告问题');
    part('h2', null, box, '报告问题');
    R = { wrap: wrap, box: box, who: part('p', null, box), kinds: part('fieldset', null, box) };
    part('legend', null, R.kinds, '问题类型');
    [['closed', '已关闭/暂停开放'], ['amenity_missing', '设施缺失'], ['moved', '位置不对'], ['other', '其他']]
      .forEach(function (k) {
        var lab = part('label', null, R.kinds), r = part('input', null, lab);
        r.type = 'radio'; r.name = 'kind'; r.value = k[0];
        part('span', null, lab, k[1]);
      });
    R.kinds.addEventListener('change', function () { say(); });
    R.text = part('textarea', null, box);
    R.text.maxLength = 500; // stations.reports.REPORT_TEXT_LIMIT
    R.text.rows = 3;
    R.text.placeholder = '补充说明（选填，500 字以内）';
    R.msg = part('p', null, box);
    R.msg.setAttribute('role', 'status');
    btns = part('div', 'rp-btns', box);
    R.cancel = part('button', 'back', btns);
    R.send = part('button', 'go', btns, '提交');
    R.cancel.type = 'button';
    R.cancel.addEventListener('click', closeReport);
    wrap.addEventListener('click', function (ev) { if (ev.target === wrap) closeReport(); });
    wrap.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') closeReport(); });
    box.addEventListener('submit', function (ev) { ev.preventDefault(); sendReport(); });
    doc.body.appendChild(wrap);
  }
  function say(text, cls) {
    R.msg.textContent = text || '';
    R.msg.className = cls || '';
  }
  function openReport(p, from) {
    if (!R) buildReport();
    R.id = p.id; R.from = from;
    R.who.textContent = p.name || '';
    R.box.reset();
    R.kinds.hidden = R.text.hidden = R.send.hidden = R.send.disabled = false;
    R.cancel.textContent = '取消';
    say();
    R.wrap.hidden = false;
    R.kinds.querySelector('input').focus();
  }
  function closeReport() {
    R.wrap.hidden = true;
    R.from.focus();
  }
  function sendReport() {
    var picked = R.kinds.querySelector('input:checked'), id = R.id;
    if (!picked) { say('请选择问题类型', 'err'); return; }
    // the API refuses control characters
    var body = { kind: picked.value, text: R.text.value.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '').trim() };
    function fail(text) { if (R.id === id) { R.send.disabled = false; say(text, 'err'); } }
    R.send.disabled = true; // no second submit meanwhile
    say('正在提交…');
    fetch(C.api.station + encodeURIComponent(id) + '/reports', { method: 'POST', credentials: 'omit',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then(function (r) {
      var wait = parseInt(r.headers.get('Retry-After'), 10);
      if (R.id !== id) return;
      if (r.ok) {
        R.kinds.hidden = R.text.hidden = R.send.hidden = true;
        R.cancel.textContent = '关闭';
        say('已收到，谢谢！工作人员核实后处理', 'ok');
      } else if (r.status === 429) fail('提交太频繁，请稍后再试' + (wait > 0 ? '（约 ' + wait + ' 秒后）' : ''));
      else if (r.status === 404) fail('该驿站不存在或已撤销，无法报告');
      else fail('提交失败（错误 ' + r.status + '），请稍后再试');
    }, function () { fail('网络不通，提交失败，请稍后再试'); });
  }

  /* ---- locating the rider ---- */
  var browserFix = window.WarmHere.browserFix; // common/here.js
  function getFix(fresh) {
    return wxReady().then(function (wx) {
      if (!wx) return browserFix(fresh);
      return new Promise(function (resolve, reject) {
        wx.getLocation({ type: 'gcj02',
          success: function (r) { resolve({ lon: Number(r.longitude), lat: Number(r.latitude), crs: 'gcj02' }); },
          cancel: function () { reject(new Error('cancelled')); },
          fail: function () { browserFix(fresh).then(resolve, reject); } });
      });
    });
  }
  function locate(auto) {
    var btn = $('locate');
    btn.classList.add('busy');
    setStatus('正在定位…');
    return getFix().then(function (fix) {
      var p = convert(fix.lon, fix.lat, fix.crs, C.crs);
      S.fix = fix; S.fixAt = Date.now();
      S.located = true;
      S.origin = L.latLng(p[1], p[0]);
      userLayer.clearLayers();
      L.circleMarker(S.origin, { radius: 8, color: '#fff', weight: 3, fillColor: '#1971c2', fillOpacity: 1,
        className: 'me', interactive: false }).addTo(userLayer);
      return loadList(true);
    }).catch(function () {
      setStatus(auto ? '未获取到您的位置，按离地图中心的距离排序' : '无法获取您的位置，请检查定位权限');
      root.setAttribute('data-locate', 'failed');
    }).then(function () { btn.classList.remove('busy'); });
  }

  /* ---- wiring ---- */
  Array.prototype.forEach.call(doc.querySelectorAll('.chip'), function (chip) {
    chip.addEventListener('click', function () {
      var code = chip.getAttribute('data-code'), on = chip.getAttribute('aria-pressed') !== 'true';
      chip.setAttribute('aria-pressed', on ? 'true' : 'false');
      if (code === 'open_now') S.openNow = on; else S.sel[code] = on;
      refreshMarkers();
      loadList();
    });
  });
  $('locate').addEventListener('click', function () { locate(false); });
  var moveTimer = null;
  map.on('moveend', function () {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(function () {
      if (!S.located && $('card').hidden) loadList();
    }, 300);
  });
  if (C.notice) { $('notice').textContent = C.notice; $('notice').hidden = false; }
  (function showPressedChip() { // a link's chip may sit far along the row: bring it into view
    var chips = doc.querySelectorAll('.chip[aria-pressed="true"]'), last = chips[chips.length - 1];
    if (last && last.getAttribute('data-code') !== 'open_now') $('bar').scrollLeft = last.offsetLeft - 8;
  }());

  refreshMarkers();
  wxReady();
  if (C.station) select(C.station.properties.id, C.station);
  loadList();
  if (C.locate) locate(true);

  window.WarmEmbed = { map: map };
})();
