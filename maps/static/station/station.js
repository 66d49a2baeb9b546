/* The /s/{code} page: choose a worker type (optional) and check in, anonymously; and the
   "我在这里" control of common/here.js (loaded before this file), as on the /embed card.
   The device id is a random value kept in this phone's storage; the server keeps only a
   keyed hash of it, to count one visit per phone per station within the window. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('station-config').textContent);
  var button = document.getElementById('checkin');
  var result = document.getElementById('result');
  var chosen = null;

  function store(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      window.localStorage.setItem(key, value);
    } catch (e) { /* storage off (private mode): the id lives for this page only */ }
    return value;
  }
  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  var device = store('ws-device') || store('ws-device', randomId()) || randomId();

  var chips = document.querySelectorAll('.s-workers .chip');
  function choose(code) {
    chosen = code;
    Array.prototype.forEach.call(chips, function (c) {
      c.setAttribute('aria-pressed', c.getAttribute('data-worker') === code ? 'true' : 'false');
    });
    if (code) store('ws-worker', code);
  }
  Array.prototype.forEach.call(chips, function (c) {
    c.addEventListener('click', function () {
      var code = c.getAttribute('data-worker');
      choose(chosen === code ? null : code);
    });
  });
  choose(store('ws-worker'));

  function say(text, kind) {
    result.textContent = text;
    result.className = kind;
  }
  function time(iso) {
    var d = new Date(iso);
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    say('正在签到…', '');
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/checkins');
    xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.setRequestHeader('X-Device-Id', device);
    xhr.timeout = 15000;
    xhr.onload = function () {
      button.disabled = false;
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 200 || xhr.status === 201) {
        if (body.counted) say('签到成功，谢谢！歇一会儿再出发。', 'ok');
        else say('您刚签到过，' + time(body.next_count_at) + ' 前不重复计数。', 'again');
      } else if (xhr.status === 429) {
        say('签到太频繁了，请稍后再试。', 'error');
      } else {
        say((body.detail_zh || body.detail || '签到失败') + '（' + xhr.status + '）', 'error');
      }
    };
    xhr.onerror = xhr.ontimeout = function () {
      button.disabled = false;
      say('网络不好，签到没有成功，请再点一次。', 'error');
    };
    xhr.send(JSON.stringify({ code: cfg.code, worker_type: chosen }));
  });

  // After a tap, the card says what the station's answer now says (the receipt carries the
  // same confidence and reasons), as the server wrote it (maps/station_page.py's _trust_line).
  var LEVEL = { confirmed: ['trust ok', ''], doubtful: ['trust bad', '可能不开放'] };
  function showTrust(d) {
    var badge = document.getElementById('state'); // open by its hours: doubt turns it amber
    if (/\bopen\b/.test(badge.className) || badge.textContent === '按时间应营业') {
      var doubted = d.confidence === 'doubtful';
      badge.className = 'badge ' + (doubted ? 'unknown' : 'open');
      badge.textContent = doubted ? '按时间应营业' : '营业中';
    }
    var reasons = (d.confidence_reasons || []).map(function (r) { return r.message_zh; }).filter(Boolean);
    var line = document.getElementById('trust');
    if (!reasons.length) {
      if (line) line.parentNode.removeChild(line);
      return;
    }
    if (!line) { // after the badge's line, where the server puts it
      line = document.createElement('div');
      line.id = 'trust';
      badge.parentNode.parentNode.insertBefore(line, badge.parentNode.nextSibling);
    }
    var lv = LEVEL[d.confidence] || ['trust', ''];
    line.className = lv[0];
    line.textContent = '';
    if (lv[1]) {
      var b = document.createElement('b');
      b.textContent = lv[1] + ' · ';
      line.appendChild(b);
    }
    line.appendChild(document.createTextNode(reasons.join('；')));
  }

  var here = document.getElementById('here');
  if (here && window.WarmHere) {
    here.insertBefore(window.WarmHere.box({
      station: cfg.station, amenities: cfg.amenities, labels: cfg.labels,
      api: '/api/v1/stations/', crs: 'wgs84',
      // at the door: the phone's own position, or none if the rider declines
      where: function () { return window.WarmHere.browserFix(true).catch(function () { return null; }); },
      after: showTrust
    }), here.firstChild);
  }
}());
