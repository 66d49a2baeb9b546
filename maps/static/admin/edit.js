/* Staff console: the add/edit form of one station (/admin/stations/new, /admin/stations/{id}).
 *
 * The map places the point (click) or moves it (drag the marker); the coordinates show live in
 * WGS-84 (stored) and GCJ-02 (what AMap and Tencent pickers give), and either pair may be
 * typed. Saving sends the whole form to the JSON API: POST for a new station, PATCH with
 * If-Match: "<version loaded>" for an existing one, so a tab left open while someone else
 * saved gets 412 and a clear conflict message instead of silently overwriting their work.
 * Values reach the DOM through textContent only. Config: api/admin/views.py editor_config. */
(function () {
  'use strict';
  var A = window.WarmAdmin, doc = document, L = window.L;
  var C = JSON.parse(doc.getElementById('editor-config').textContent);
  var form = doc.getElementById('station-form');
  var box = doc.getElementById('editor-message');
  var fieldset = form.querySelector('fieldset');
  var readOnly = fieldset.disabled;
  var saveButton = doc.getElementById('save');

  var CRS = window.WarmCRS; // common/crs.js, loaded before this file

  /* ---- state ---- */
  var state = {
    id: C.id, version: C.version, point: C.point ? C.point.slice() : null,
    original: C.point ? C.point.slice() : null, moved: false, dirty: false, busy: false
  };
  function field(name) { return form.elements.namedItem(name); }
  function markDirty() { state.dirty = true; }
  form.addEventListener('input', markDirty);
  form.addEventListener('change', markDirty);
  window.addEventListener('beforeunload', function (ev) {
    if (state.dirty && !readOnly) { ev.preventDefault(); ev.returnValue = ''; }
  });

  function message(kind, text) { return A.flash(kind, text, box); }

  /* ---- the map ---- */
  var mapCrs = C.basemap.crs;
  function toMap(p) { var q = CRS.convert(p[0], p[1], 'wgs84', mapCrs); return L.latLng(q[1], q[0]); }
  function fromMap(ll) { return CRS.convert(ll.lng, ll.lat, mapCrs, 'wgs84'); }
  var map = L.map('map', { zoomControl: true }).setView(toMap(C.center), C.zoom);
  map.attributionControl.setPrefix(false);
  C.basemap.layers.forEach(function (t) {
    L.tileLayer(t.url, {
      subdomains: t.subdomains || 'abc', maxZoom: t.maxZoom, maxNativeZoom: t.maxNativeZoom,
      attribution: t.attribution
    }).addTo(map);
  });
  var icon = L.icon({
    iconUrl: C.icon.url, iconRetinaUrl: C.icon.retina, shadowUrl: C.icon.shadow,
    iconSize: [25, 41], iconAnchor: [12, 41], tooltipAnchor: [16, -28], shadowSize: [41, 41]
  });
  var marker = null;

  var inputs = {
    wgsLon: doc.getElementById('wgs-lon'), wgsLat: doc.getElementById('wgs-lat'),
    gcjLon: doc.getElementById('gcj-lon'), gcjLat: doc.getElementById('gcj-lat')
  };
  function fix(v) { return (Math.round(v * 1e7) / 1e7).toFixed(7); }
  function showCoords(source) {
    var p = state.point;
    if (!p) { return; }
    if (source !== 'wgs') { inputs.wgsLon.value = fix(p[0]); inputs.wgsLat.value = fix(p[1]); }
    if (source !== 'gcj') {
      var g = CRS.wgs84ToGcj02(p[0], p[1]);
      inputs.gcjLon.value = fix(g[0]); inputs.gcjLat.value = fix(g[1]);
    }
  }
  function setPoint(p, source) {
    state.point = [p[0], p[1]];
    if (!marker) {
      marker = L.marker(toMap(state.point), {
        draggable: !readOnly, icon: icon, keyboard: true, title: '驿站位置', alt: '驿站位置'
      }).addTo(map);
      marker.on('dragend', function () { setPoint(fromMap(marker.getLatLng()), 'drag'); });
    } else if (source !== 'drag') {
      marker.setLatLng(toMap(state.point));
    }
    showCoords(source);
    doc.documentElement.setAttribute('data-point', fix(state.point[0]) + ',' + fix(state.point[1]));
    if (source !== 'load') {
      state.moved = !(state.original && state.original[0] === state.point[0] && state.original[1] === state.point[1]);
      markDirty();
      var note = doc.getElementById('geocoded-note');
      if (note && state.moved) { note.hidden = true; }
      clearFieldError('lon'); clearFieldError('lat');
    }
  }
  if (state.point) { setPoint(state.point, 'load'); }
  map.on('click', function (ev) {
    if (readOnly) { return; }
    setPoint(fromMap(ev.latlng), 'click');
  });

  function typed(lonInput, latInput, source) {
    var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
    if (!isFinite(lon) || !isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) { return; }
    var p = source === 'gcj' ? CRS.gcj02ToWgs84(lon, lat) : [lon, lat];
    setPoint(p, source);
    map.panTo(toMap(p));
  }
  inputs.wgsLon.addEventListener('input', function () { typed(inputs.wgsLon, inputs.wgsLat, 'wgs'); });
  inputs.wgsLat.addEventListener('input', function () { typed(inputs.wgsLon, inputs.wgsLat, 'wgs'); });
  inputs.gcjLon.addEventListener('input', function () { typed(inputs.gcjLon, inputs.gcjLat, 'gcj'); });
  inputs.gcjLat.addEventListener('input', function () { typed(inputs.gcjLon, inputs.gcjLat, 'gcj'); });
  var reset = doc.getElementById('reset-point');
  if (reset) {
    reset.addEventListener('click', function () {
      if (state.original) { setPoint(state.original, 'reset'); map.panTo(toMap(state.original)); }
    });
  }

  /* Other stations in view, as small grey dots: placing a station next to an existing one
   * should be a decision, not an accident. */
  var others = L.layerGroup().addTo(map);
  var othersCtrl = null;
  function loadOthers() {
    if (map.getZoom() < 12) { others.clearLayers(); return; }
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(',');
    if (othersCtrl) { othersCtrl.abort(); }
    othersCtrl = window.AbortController ? new AbortController() : null;
    var url = C.urls.api + '?limit=300&crs=' + mapCrs + '&bbox=' + bbox;
    fetch(url, { credentials: 'same-origin', signal: othersCtrl && othersCtrl.signal })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) { return; }
        others.clearLayers();
        fc.features.forEach(function (f) {
          if (f.id === state.id) { return; }
          var c = f.geometry.coordinates;
          var dot = L.circleMarker([c[1], c[0]], {
            radius: 5, color: '#555', weight: 1, fillColor: '#999', fillOpacity: 0.8, bubblingMouseEvents: true
          });
          dot.bindTooltip(A.el('span', null, f.properties.name));  // an element: text, not HTML
          others.addLayer(dot);
        });
      }, function () { /* aborted or offline: the dots are only a hint */ });
  }
  map.on('moveend', loadOthers);
  loadOthers();

  /* ---- opening hours: checked as you type ---- */
  var hours = doc.getElementById('opening-hours');
  var hoursNote = doc.getElementById('hours-check');
  var hoursTimer = null, hoursCtrl = null;
  function checkHours() {
    var value = hours.value;
    if (!value.trim()) {
      hoursNote.className = 'field-note';
      hoursNote.textContent = '留空表示开放时间未知。';
      return;
    }
    if (hoursCtrl) { hoursCtrl.abort(); }
    hoursCtrl = window.AbortController ? new AbortController() : null;
    fetch(C.urls.checkHours + '?value=' + encodeURIComponent(value),
      { credentials: 'same-origin', signal: hoursCtrl && hoursCtrl.signal })
      .then(function (r) { return r.json(); })
      .then(function (res) {
        if (hours.value !== value) { return; }
        hoursNote.className = 'field-note ' + (res.ok ? 'good' : 'bad');
        hoursNote.textContent = res.ok ? '✓ 格式正确' : (res.message_zh || res.message || '格式有误');
        hours.classList.toggle('invalid', !res.ok);
      }, function () { /* superseded by a newer keystroke */ });
  }
  hours.addEventListener('input', function () {
    clearTimeout(hoursTimer);
    hoursTimer = setTimeout(checkHours, 250);
  });
  if (hours.value.trim()) { checkHours(); }

  /* ---- field errors from the API (422) ---- */
  var FIELD_INPUT = { lon: 'wgs-lon', lat: 'wgs-lat', 'lon/lat': 'wgs-lon', opening_hours: 'opening-hours' };
  function inputFor(name) {
    var key = String(name || '').replace(/^(body|properties)\./, '').replace(/\.\d+$/, '');
    if (FIELD_INPUT[key]) { return doc.getElementById(FIELD_INPUT[key]); }
    var el = field(key);
    if (el && el.length !== undefined && !el.tagName) { el = el[0]; }  // checkbox group
    return el && el.tagName ? el : null;
  }
  function clearFieldError(name) {
    var input = inputFor(name);
    if (!input) { return; }
    input.classList.remove('invalid');
    var note = input.parentNode.querySelector('.field-error');
    if (note) { note.parentNode.removeChild(note); }
  }
  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (n) { n.parentNode.removeChild(n); });
    Array.prototype.forEach.call(form.querySelectorAll('.invalid'), function (n) {
      if (n !== hours) { n.classList.remove('invalid'); }
    });
  }
  function fieldError(name, text) {
    var input = inputFor(name);
    if (!input) { return; }
    input.classList.add('invalid');
    var holder = input.closest('label') || input.parentNode;
    A.el('span', 'field-error', text, holder);
  }

  /* ---- saving ---- */
  function formBody() {
    function text(name) { return field(name).value.trim(); }
    var amenities = Array.prototype.filter.call(form.querySelectorAll('input[name="amenities"]'),
      function (c) { return c.checked; }).map(function (c) { return c.value; });
    var body = {
      name: text('name'), external_id: text('external_id') || null, address: text('address'),
      district: text('district'), host_type: field('host_type').value, host_org: text('host_org'),
      amenities: amenities, opening_hours: text('opening_hours'), phone: text('phone'),
      status: field('status').value, notes: field('notes').value.trim(),
      entry: field('entry').value || null,
      no_smartphone_ok: field('no_smartphone_ok').value === '' ? null : field('no_smartphone_ok').value === 'true'
    };
    if (state.point) { body.lon = state.point[0]; body.lat = state.point[1]; }
    if (state.moved) { body.geocoded = false; }  // a person placed it: no longer a guess
    return body;
  }

  function setBusy(busy) {
    state.busy = busy;
    saveButton.disabled = busy;
    saveButton.textContent = busy ? '保存中…' : '保存';
  }

  function localTime(iso) {  // in the service's time zone, as on the server-rendered pages
    try {
      return new Date(iso).toLocaleString('zh-CN', { timeZone: C.tz, hour12: false,
        year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    } catch (e) { return String(iso).replace('T', ' ').slice(0, 16); }
  }

  function conflict(res) {
    var current = res.data && res.data.current_version;
    box.textContent = '';
    var div = A.el('div', 'msg error conflict', null, box);
    div.id = 'conflict';
    A.el('strong', null, '保存失败：此驿站已被其他人修改。', div);
    A.el('span', null, '您编辑的是版本 ' + state.version + (current ? '，现在已是版本 ' + current : '') +
      '。为避免覆盖别人的修改，您的修改没有保存。请重新加载最新内容后再修改（可先复制您要保留的内容）。', div);
    var who = A.el('div', 'sub', null, div);
    var again = A.el('button', 'primary', '重新加载最新内容', div);
    again.type = 'button';
    again.id = 'reload-latest';
    again.addEventListener('click', function () { state.dirty = false; window.location.reload(); });
    A.request('GET', C.urls.api + '/' + state.id + '/history').then(function (h) {
      var entries = h.ok && h.data && h.data.entries;
      if (!entries || !entries.length) { return; }
      var last = entries[entries.length - 1];
      who.textContent = '最近一次修改：' + last.actor + '，' + localTime(last.at) +
        (last.changed && last.changed.length ? '（' + last.changed.map(A.fieldLabel).join('、') + '）' : '');
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (readOnly || state.busy) { return; }
    clearErrors();
    var body = formBody();
    if (!body.name) { fieldError('name', '请填写驿站名称'); message('error', '请填写驿站名称。'); return; }
    if (!state.point) { message('error', '请在地图上点击放置驿站的位置，或填写经纬度。'); return; }
    setBusy(true);
    var request = state.id
      ? A.request('PATCH', C.urls.api + '/' + state.id, body, { 'If-Match': '"' + state.version + '"' })
      : A.request('POST', C.urls.api, body);
    request.then(function (res) {
      setBusy(false);
      if (res.status === 201 && res.data) {
        state.dirty = false;
        window.location.href = C.urls.edit + res.data.id + '?created=1';
        return;
      }
      if (res.ok && res.data) {
        state.version = res.data.properties.version;
        state.original = state.point.slice();
        state.moved = false;
        state.dirty = false;
        doc.getElementById('version').textContent = String(state.version);
        message('ok', '已保存（版本 ' + state.version + '）。');
        return;
      }
      if (res.status === 412) { conflict(res); return; }
      if (res.status === 422 && res.data && res.data.errors) {
        res.data.errors.forEach(function (e) { fieldError(e.field, e.message_zh || e.message); });
      }
      message('error', '保存失败：' + A.problemText(res));
    }, function () {
      setBusy(false);
      message('error', '网络错误，未能保存，请稍后重试。');
    });
  });

  var del = doc.getElementById('delete');
  if (del) {
    del.addEventListener('click', function () {
      if (state.busy || !window.confirm('确定删除驿站“' + field('name').value + '”吗？删除后可在修改历史中恢复。')) { return; }
      state.busy = true;
      A.request('DELETE', C.urls.api + '/' + state.id, undefined, { 'If-Match': '"' + state.version + '"' })
        .then(function (res) {
          state.busy = false;
          if (res.ok) { state.dirty = false; window.location.href = C.urls.list + '?deleted=' + state.id; return; }
          if (res.status === 412) { conflict(res); return; }
          message('error', '删除失败：' + A.problemText(res));
        }, function () { state.busy = false; message('error', '网络错误，未能删除。'); });
    });
  }

  /* 门口照片: a staff member's photo of the door, published at once (the server re-encodes it
   * and drops EXIF and GPS) and shown first on the riders' card. The upload makes a new
   * version of the station; when it is the only change since the form was loaded, the form
   * follows it, so a save afterwards is not refused as a conflict. */
  /** A change made from this page (a door photo, its removal, a check) made ``version``: when
   * it is the only change since the form was loaded, the form takes that version, so a save
   * afterwards is not refused as a conflict; a change by someone else meanwhile still is. */
  function follow(version) {
    if (version === state.version + 1) {
      state.version = version;
      doc.getElementById('version').textContent = String(state.version);
    }
  }
  function doorThumb(digest, thumb) { // as the server draws it: the photo, and 移除
    var fig = A.el('figure', 'door-thumb');
    fig.setAttribute('data-digest', digest);
    var img = A.el('img', null, null, fig);
    img.src = thumb;
    img.alt = '门口照片';
    A.el('button', 'link remove-photo', '移除', fig).type = 'button';
    return fig;
  }
  /* 移除: a wrong photo (another door, a rider's photo accepted by mistake) comes off the
   * station in a new version, If-Match the form's, which the form follows. */
  var strip = doc.getElementById('door-photo-strip');
  if (strip) {
    strip.addEventListener('click', function (ev) {
      var button = ev.target.closest ? ev.target.closest('button.remove-photo') : null;
      if (!button || button.disabled) { return; }
      if (!window.confirm('从驿站上移除这张照片？骑手将不再看到它；在修改历史中恢复旧版本可以找回。')) { return; }
      var fig = button.closest('figure'), note = doc.getElementById('door-photo-msg');
      button.disabled = true;
      A.request('DELETE', C.urls.api + '/' + state.id + '/photos/' + fig.getAttribute('data-digest'),
        undefined, { 'If-Match': '"' + state.version + '"' }).then(function (res) {
        if (!res.ok) {
          button.disabled = false;
          A.note(note, 'error', res.status === 412 ? '此驿站刚被其他人修改过，请刷新页面后再移除。'
            : '没有移除：' + A.problemText(res));
          return;
        }
        fig.remove();
        follow(res.data.station_version);
        if (!strip.querySelector('figure')) { A.el('p', 'sub', '还没有门口照片。', strip).id = 'no-photo'; }
        A.note(note, 'ok', '已移除（版本 ' + state.version + '）。');
      }, function () {
        button.disabled = false;
        A.note(note, 'error', '网络错误，没有移除，请稍后重试。');
      });
    });
  }

  var photoFile = doc.getElementById('door-photo-file');
  if (photoFile) {
    photoFile.addEventListener('change', function () {
      var url = C.urls.api + '/' + state.id + '/photos';
      A.uploadPhoto(photoFile, url, doc.getElementById('door-photo-msg'), function (data) {
        var none = doc.getElementById('no-photo');
        if (none) { none.remove(); }
        strip.insertBefore(doorThumb(data.digest, data.urls.thumb), strip.firstChild);
        follow(data.station_version);
        return '已上传（' + data.width + '×' + data.height + '），骑手页面会先显示这张门口照片。';
      });
    });
  }

  /* 标记已核查 from the editor (骑手反馈与核查): the check makes a new version of the station,
   * which the form follows as after a door photo.
   * What riders are now told is read back from the staff view of the votes. */
  A.done = A.done || {};
  A.done.editorChecked = function (button, res) {
    var box = doc.getElementById('evidence');
    var at = res && res.verified_at ? new Date(res.verified_at) : new Date();
    doc.getElementById('last-checked').textContent = '今天 ' + A.clock(at, box);
    button.disabled = false;
    follow(res.version);
    A.tell(button, 'ok', '已记录核查（版本 ' + res.version + '）。');
    A.request('GET', C.urls.api + '/' + state.id + '/confirmations?limit=1').then(function (r) {
      if (!r.ok || !r.data) { return; }
      var line = doc.getElementById('trust-now');
      line.className = 'trust-now level-' + r.data.confidence;
      line.textContent = '';
      A.el('b', null, r.data.confidence_zh, line);
      r.data.confidence_reasons.forEach(function (x) { line.appendChild(doc.createTextNode(' · ' + x.message_zh)); });
    });
  };

  // For tests and the curious: the map and the current marker (in the basemap's CRS).
  A.editor = { map: map, marker: function () { return marker; }, crs: mapCrs };
  if (/[?&]created=1\b/.test(window.location.search)) { message('ok', '已新增驿站（版本 ' + state.version + '）。'); }
  doc.documentElement.setAttribute('data-editor', 'ready');
})();
