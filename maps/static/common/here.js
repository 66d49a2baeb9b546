/* "我在这里": a rider at the door says what they see (开着 / 关着 / 进不去 / 设施坏了) and the page
 * POSTs /api/v1/stations/{id}/confirmations. One control for every page that shows a station:
 * the /embed card and the /s/{code} page a poster's QR code opens. Each page says where the
 * rider is (where) and what to do once a tap is stored (after). Station values reach the DOM
 * through textContent only. Sets html[data-here] to onsite | remote | refused when a tap ends;
 * after an on-site tap it offers one photo of the door to go with it (photoOffer). */
(function () {
  'use strict';
  var doc = document, root = doc.documentElement;
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function deviceId() { // random, kept on this phone only; the server stores a salted hash
    var key = 'warm-device', id = null;
    try { id = localStorage.getItem(key); } catch (e) { /* private mode: a new id per visit */ }
    if (!id || !/^[A-Za-z0-9_-]{8,128}$/.test(id)) {
      var a = new Uint8Array(16);
      (window.crypto || window.msCrypto).getRandomValues(a);
      id = Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
      try { localStorage.setItem(key, id); } catch (e) { /* ignore */ }
    }
    return id;
  }

  function browserFix(fresh) { // the browser's own position (WGS-84); fresh: none kept from before
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject(new Error('unsupported')); return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        resolve({ lon: pos.coords.longitude, lat: pos.coords.latitude, crs: 'wgs84' });
      }, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: fresh ? 0 : 60000 });
    });
  }

  var STATES = [['open', '开着'], ['closed', '关着'], ['locked', '进不去'], ['broken', '设施坏了']];
  // Stations this page has stored a tap for: the hour rule refuses the next tap (a double tap,
  // a change of mind), and that refusal must not read as if the first one were lost.
  var stored = {};

  /* opts: station (id), amenities (codes, for 设施坏了), labels ({code: 中文}), api (the stations
   * URL prefix, e.g. '/api/v1/stations/'), crs (of the position sent), where() → Promise of
   * {lon, lat, crs} or null, convert(lon, lat, from, to) → [lon, lat] (when where's CRS may
   * differ), after(answer, [message, class]) → optional Promise, run once a tap is stored. */
  function box(opts) {
    var wrap = el('div', 'here'), row = el('div', 'here-btns'), msg = el('p', 'here-msg');
    wrap.setAttribute('data-station', String(opts.station));
    wrap.appendChild(el('div', 'here-title', '我在这里，看到驿站：'));
    msg.setAttribute('role', 'status');
    STATES.forEach(function (h) {
      var b = el('button', 'here-' + h[0], h[1]);
      b.type = 'button';
      b.setAttribute('data-state', h[0]);
      b.addEventListener('click', function () {
        if (h[0] === 'broken' && opts.amenities && opts.amenities.length) { pickAmenity(); return; }
        send(h[0], null);
      });
      row.appendChild(b);
    });
    wrap.appendChild(row);
    wrap.appendChild(msg);

    function pickAmenity() {
      var old = wrap.querySelector('.here-amen');
      if (old) { old.remove(); return; }
      var pick = el('div', 'here-amen');
      opts.amenities.forEach(function (code) {
        var b = el('button', null, (opts.labels && opts.labels[code]) || code);
        b.type = 'button';
        b.addEventListener('click', function () { pick.remove(); send('broken', code); });
        pick.appendChild(b);
      });
      wrap.insertBefore(pick, msg);
    }
    function say(text, cls) { msg.textContent = text; msg.className = 'here-msg ' + (cls || ''); }
    function busy(on) {
      Array.prototype.forEach.call(wrap.querySelectorAll('button'), function (b) { b.disabled = on; });
    }
    function send(state, amenity) {
      busy(true);
      say('正在提交…');
      root.removeAttribute('data-here');
      opts.where().then(function (fix) {
        var body = { state: state, crs: opts.crs };
        if (fix) {
          var c = fix.crs === opts.crs || !opts.convert ? [fix.lon, fix.lat]
            : opts.convert(fix.lon, fix.lat, fix.crs, opts.crs);
          body.lon = Number(c[0].toFixed(7)); body.lat = Number(c[1].toFixed(7));
        }
        if (amenity) body.amenity = amenity;
        return fetch(opts.api + encodeURIComponent(opts.station) + '/confirmations', { method: 'POST',
          credentials: 'omit', headers: { 'Content-Type': 'application/json', 'X-Device-Id': deviceId() },
          body: JSON.stringify(body) });
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          busy(false);
          if (r.ok) {
            stored[String(opts.station)] = true;
            say(d.message_zh || '谢谢！已记录', d.onsite ? 'ok' : 'far');
            return Promise.resolve(opts.after ? opts.after(d, [msg.textContent, msg.className]) : null)
              .catch(function () { /* the message stays */ })
              .then(function () {
                // after() may have drawn the station again: offer the photo in the box now shown
                var live = wrap.isConnected ? wrap
                  : doc.querySelector('.here[data-station="' + String(opts.station) + '"]');
                if (d.onsite && d.id && live) photoOffer(live, opts, d.id);
                root.setAttribute('data-here', d.onsite ? 'onsite' : 'remote');
              });
          }
          if (r.status === 429 && stored[String(opts.station)]) {
            say('您刚才的反馈已记录，谢谢！同一驿站一小时内只记一次。', 'ok');
          } else if (r.status === 429) say(d.detail_zh || '提交太频繁，请稍后再试', 'err');
          else if (r.status === 404) say('该驿站不存在或已撤销', 'err');
          else say('提交失败（错误 ' + r.status + '），请稍后再试', 'err');
          root.setAttribute('data-here', 'refused');
        });
      }).catch(function () { busy(false); say('网络不通，提交失败，请稍后再试', 'err'); });
    }
    return wrap;
  }

  /* After an on-site tap, one photo of the door may go with that confirmation: POST
   * …/photos/rider with its id (the server re-encodes it, drops EXIF and GPS, and holds it
   * for staff review). Sets html[data-photo] to sent | refused. */
  function photoOffer(wrap, opts, confirmationId) {
    if (wrap.querySelector('.here-photo')) return;
    var box = el('div', 'here-photo'), label = el('label', 'here-photo-btn', '拍一张门口照片（审核后显示）');
    var input = doc.createElement('input'), msg = el('p', 'here-photo-msg');
    input.type = 'file';
    input.accept = 'image/jpeg,image/png,image/webp';
    input.setAttribute('capture', 'environment');
    input.className = 'here-photo-file';
    label.appendChild(input);
    msg.setAttribute('role', 'status');
    box.appendChild(label);
    box.appendChild(msg);
    wrap.appendChild(box);
    function say(text, cls) { msg.textContent = text; msg.className = 'here-photo-msg ' + (cls || ''); }
    function refused(text) {
      input.disabled = false;
      input.value = '';
      say(text, 'err');
      root.setAttribute('data-photo', 'refused');
    }
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var form = new FormData();
      form.append('file', file);
      form.append('confirmation_id', String(confirmationId));
      input.disabled = true;
      root.removeAttribute('data-photo');
      say('正在上传照片…');
      fetch(opts.api + encodeURIComponent(opts.station) + '/photos/rider', { method: 'POST',
        credentials: 'omit', headers: { 'X-Device-Id': deviceId() }, body: form }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (!r.ok) {
            var e = d.errors && d.errors[0];
            refused((e && e.message_zh) || d.detail_zh || '照片上传失败（错误 ' + r.status + '），请稍后再试');
            return;
          }
          say(d.message_zh || '谢谢！照片将在工作人员审核后显示。', 'ok');
          box.removeChild(label); // one photo per confirmation
          root.setAttribute('data-photo', 'sent');
        });
      }).catch(function () { refused('网络不通，照片没有发出，请稍后再试'); });
    });
  }

  window.WarmHere = { box: box, deviceId: deviceId, browserFix: browserFix };
}());
