/* Warm Stations staff console (/admin): shared helpers for every page.
 *
 * Hand-written, no framework, no inline scripts (the console's CSP is script-src 'self').
 * Every value that came from a user reaches the DOM through textContent (el()), never
 * innerHTML. Writes go to the JSON API with the session cookie and the X-CSRF-Token header
 * read from <meta name="csrf-token">. */
(function () {
  'use strict';
  var doc = document;
  var A = window.WarmAdmin = window.WarmAdmin || {};
  var meta = doc.querySelector('meta[name="csrf-token"]');
  A.csrf = meta ? meta.getAttribute('content') : '';

  var FIELDS = {
    name: '名称', external_id: '编号', address: '地址', district: '区县/街道', lon: '经度',
    lat: '纬度', 'lon/lat': '经纬度', host_type: '承办单位类型', host_org: '承办单位',
    amenities: '服务设施', opening_hours: '开放时间', phone: '电话', status: '状态',
    notes: '备注', geocoded: '地理编码', entry: '进门方式', no_smartphone_ok: '不用智能手机也能进',
    file: '照片'
  };
  A.fieldLabel = function (field) {
    var key = String(field || '').replace(/^(body|properties)\./, '').replace(/\.\d+$/, '');
    return FIELDS[key] || key;
  };

  /** Create an element with a class and text (as text, never markup), appended to parent. */
  A.el = function (tag, cls, text, parent) {
    var node = doc.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  };

  /** fetch() a JSON API: resolves to {status, ok, data, etag} (data: parsed JSON or null). */
  A.request = function (method, url, body, extra) {
    var headers = { 'Accept': 'application/json, application/geo+json, application/problem+json' };
    var form = typeof FormData !== 'undefined' && body instanceof FormData; // a file upload
    if (method !== 'GET') { headers['X-CSRF-Token'] = A.csrf; }
    if (body !== undefined && !form) { headers['Content-Type'] = 'application/json'; }
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    return fetch(url, {
      method: method, headers: headers, credentials: 'same-origin',
      body: body === undefined ? undefined : form ? body : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: r.status, ok: r.ok, data: data, etag: r.headers.get('ETag') };
      });
    });
  };

  /** A problem+json answer as one Chinese sentence for the member of staff. */
  A.problemText = function (res) {
    var d = res.data || {};
    if (res.status === 401) { return '登录已过期，请重新登录后再试。'; }
    if (res.status === 403) {
      if (/CSRF/.test(d.detail || '')) { return '页面已过期，请刷新页面后再试。'; }
      /* Outside the editor's organisation: the reason names both organisations. */
      if (d.org && (d.detail_zh || d.detail)) { return String(d.detail_zh || d.detail); }
      return '您的账号没有执行此操作的权限。';
    }
    if (res.status === 429) { return '操作太频繁，请稍后再试。'; }
    if (d.errors && d.errors.length) {
      return d.errors.map(function (e) {
        return (e.row ? '第 ' + e.row + ' 行 ' : '') + A.fieldLabel(e.field) + '：' + (e.message_zh || e.message);
      }).join('；');
    }
    if (d.detail_zh || d.detail) { return String(d.detail_zh || d.detail); }
    return '请求失败（HTTP ' + res.status + '）。';
  };

  /** Say ``text`` in a row's own message line (``kind``: ok, error or none), keeping its
   * other classes. */
  A.note = function (box, kind, text) {
    box.classList.remove('ok', 'error');
    if (kind) { box.classList.add(kind); }
    box.textContent = text;
  };

  /** Say ``text`` where the person is looking: in the message line of the row or card that
   * ``near`` is in (on a phone, the page's message area may be a long way above), else in
   * the page's message area. */
  A.tell = function (near, kind, text) {
    var holder = near && near.closest ? near.closest('li, .photo-card, .evidence') : null;
    var box = holder && holder.querySelector('.row-msg');
    if (box) { A.note(box, kind, text); } else { A.flash(kind, text); }
  };

  /** Replace the message area's content with one message; returns the message element. */
  A.flash = function (kind, text, box) {
    box = box || doc.getElementById('flash');
    box.textContent = '';
    return A.el('div', 'msg ' + kind, text, box);
  };

  var STATUS_LABELS = { pending: '待处理', accepted: '已采纳', dismissed: '已驳回' };

  function reportDone(button, report) {
    var row = button.closest('tr');
    if (row && report) {
      var cells = row.querySelectorAll('td');
      var cell = cells[cells.length - 2], actions = cells[cells.length - 1];
      cell.textContent = '';
      A.el('span', 'rstatus rstatus-' + report.status, STATUS_LABELS[report.status] || report.status, cell);
      A.el('div', 'sub', report.reviewed_by || '', cell);
      actions.textContent = '';
      row.classList.add('reviewed');
    }
    var name = (report && report.station_name) || '';
    if (report && report.status === 'accepted' && report.station_version) {
      A.flash('ok', '已采纳：驿站“' + name + '”已设为暂停开放（版本 ' + report.station_version + '，已记入修改历史）。');
    } else if (report && report.status === 'accepted') {
      A.flash('ok', '已采纳反馈 ' + report.id + '，驿站信息未自动修改；如需修改请编辑驿站。');
    } else if (report) {
      A.flash('ok', '已驳回反馈 ' + report.id + '，驿站保持不变。');
    }
  }

  /* What a data-post button does once its POST succeeded, by its data-done name (a page's
   * own script may add one); without one the page reloads. */
  A.done = A.done || {};
  A.done.report = reportDone;

  /* HH:MM of ``at`` in the round's time zone (the stations' local time, as the page prints
   * its other times), not the phone's: a phone set to another zone would say another hour. */
  function clock(at, row) {
    var list = row && row.closest('[data-tz]');
    var tz = (list && list.getAttribute('data-tz')) || 'Asia/Shanghai';
    try {
      return new Intl.DateTimeFormat('zh-CN', { timeZone: tz, hour: '2-digit', minute: '2-digit',
        hourCycle: 'h23' }).format(at);
    } catch (e) {
      return ('0' + at.getHours()).slice(-2) + ':' + ('0' + at.getMinutes()).slice(-2);
    }
  }
  A.clock = clock;

  /** Send the photo chosen in ``input`` to a staff upload ``url`` (published at once: the
   * server re-encodes it and drops EXIF and GPS), saying how it went in ``note``; after a
   * success, ``done(answer)`` gives the words. A refused photo is told its own reason. */
  A.uploadPhoto = function (input, url, note, done) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var form = new FormData();
    form.append('file', file);
    input.disabled = true;
    A.note(note, '', '正在上传照片…');
    A.request('POST', url, form).then(function (res) {
      input.disabled = false;
      input.value = '';
      if (!res.ok) {
        var errors = (res.data && res.data.errors) || [];
        var own = errors.length === 1 && errors[0].field === 'file' && errors[0].message_zh;
        A.note(note, 'error', '照片没有上传：' + (own ? own + '。' : A.problemText(res)));
        return;
      }
      A.note(note, 'ok', done(res.data));
    }, function () {
      input.disabled = false;
      A.note(note, 'error', '网络错误，照片没有上传，请稍后重试。');
    });
  };

  /* 拍门口照片 on the re-check round: a stop due for want of a door photo takes one on the
   * spot, as the station editor does; the stop then drops its 缺少门口照片 reason. */
  doc.addEventListener('change', function (ev) {
    var input = ev.target;
    if (!input.getAttribute || !input.getAttribute('data-upload')) { return; }
    var row = input.closest('li'), note = row && row.querySelector('.row-msg');
    if (!note) { return; }
    A.uploadPhoto(input, input.getAttribute('data-upload'), note, function (data) {
      var tag = row.querySelector('.reason-no_photo');
      if (tag) { tag.remove(); }
      input.closest('.stop-photo').remove();
      return '✓ 已上传门口照片（' + data.width + '×' + data.height + '），骑手页面会先显示它。';
    });
  });

  /* 标记已核查 on the re-check round: the stop stays where it is (no reload: the round is
   * not re-solved under the staff member's thumb), shows the check, and keeps only what a
   * visit does not settle (a rider report waits in its queue; a photo must be uploaded):
   * the page marks the others data-settled (stations.trust.recheck.SETTLED_BY_VISIT). What
   * the check hides stays in the page, so 撤销 (a tap by mistake) can put it back. */
  A.done.checked = function (button, res) {
    var row = button.closest('li');
    var link = row && row.querySelector('.stop-main a');
    var name = link ? link.textContent : '';
    var at = res && res.verified_at ? new Date(res.verified_at) : new Date();
    var hhmm = clock(at, row);
    var left = [];
    if (row) {
      Array.prototype.forEach.call(row.querySelectorAll('.reason[data-settled]'), function (tag) { tag.hidden = true; });
      Array.prototype.forEach.call(row.querySelectorAll('.reason:not([hidden])'), function (tag) { left.push(tag.textContent); });
      var last = row.querySelector('.last-checked');
      if (last) { last.setAttribute('data-before', last.textContent); last.textContent = '今天 ' + hhmm; }
      row.classList.add('checked');
      button.hidden = true;
      var mark = A.el('span', 'checked-mark');
      A.el('span', '', '✓ 已核查 ' + hhmm, mark);
      var undo = A.el('button', 'undo-check', '撤销', mark);
      undo.type = 'button';
      undo.setAttribute('data-version', String(res.version));
      button.parentNode.insertBefore(mark, button);
    }
    A.tell(row, 'ok', '已记录核查：' + name + '。' + (left.length ? '仍需处理：' + left.join('、') + '。' : ''));
  };

  /* 撤销 after 标记已核查: the check is taken back (DELETE …/checked, If-Match: the version the
   * check made; a later check or undoing by someone else wins) and the stop looks as it did
   * before the tap. If the server's answer is not what the page showed before the tap
   * (another member of staff checked it meanwhile), the page is read again instead. */
  doc.addEventListener('click', function (ev) {
    var undo = ev.target.closest ? ev.target.closest('button.undo-check') : null;
    if (!undo || undo.disabled) { return; }
    var row = undo.closest('li'), button = row.querySelector('.checked-btn');
    var link = row.querySelector('.stop-main a'), name = link ? link.textContent : '';
    undo.disabled = true;
    A.request('DELETE', button.getAttribute('data-post'), undefined,
      { 'If-Match': '"' + undo.getAttribute('data-version') + '"' }).then(function (res) {
      if (!res.ok) {
        undo.disabled = false;
        A.tell(row, 'error', '没有撤销：' + A.problemText(res));
        return;
      }
      var before = row.getAttribute('data-verified') || '';
      var now = (res.data && res.data.verified_at) || '';
      if ((before ? Date.parse(before) : 0) !== (now ? Date.parse(now) : 0)) {
        window.location.reload();
        return;
      }
      Array.prototype.forEach.call(row.querySelectorAll('.reason[hidden]'), function (tag) { tag.hidden = false; });
      var last = row.querySelector('.last-checked');
      if (last && last.hasAttribute('data-before')) { last.textContent = last.getAttribute('data-before'); }
      row.classList.remove('checked');
      undo.closest('.checked-mark').remove();
      button.hidden = false;
      button.disabled = false;
      A.tell(row, 'ok', '已撤销核查：' + name + '。');
    }, function () {
      undo.disabled = false;
      A.tell(row, 'error', '网络错误，没有撤销，请稍后重试。');
    });
  });

  /* On a phone the menu is one sideways-scrolling row: bring the current page's entry into
   * view (it may be several screens to the right). */
  var nav = doc.querySelector('.main-nav'), here = nav && nav.querySelector('a.active');
  if (here && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = Math.max(0, here.offsetLeft - nav.offsetLeft - (nav.clientWidth - here.offsetWidth) / 2);
  }

  /* The re-check round's "打印路线单" button (no inline script under the console's CSP). */
  doc.addEventListener('click', function (ev) {
    if (ev.target.closest && ev.target.closest('[data-print]')) { window.print(); }
  });

  /* Buttons that POST to the API: data-post (URL), data-if-match, data-confirm, data-done. */
  doc.addEventListener('click', function (ev) {
    var button = ev.target.closest ? ev.target.closest('[data-post]') : null;
    if (!button || button.disabled) { return; }
    ev.preventDefault();
    var question = button.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { return; }
    var headers = {};
    var ifMatch = button.getAttribute('data-if-match');
    if (ifMatch) { headers['If-Match'] = ifMatch; }
    button.disabled = true;
    A.request('POST', button.getAttribute('data-post'), undefined, headers).then(function (res) {
      if (!res.ok) {
        button.disabled = false;
        A.tell(button, 'error', res.status === 412 ? '此驿站刚被其他人修改过，请刷新页面后再操作。'
          : res.status === 409 ? (res.data && res.data.detail_zh) || '此反馈已被其他人处理，请刷新页面。'
          : A.problemText(res));
        return;
      }
      var done = A.done[button.getAttribute('data-done')];
      if (done) { done(button, res.data); } else { window.location.reload(); }
    }, function () {
      button.disabled = false;
      A.tell(button, 'error', '网络错误，请稍后重试。');
    });
  });

  /* Upload and confirm forms: one submission only (a double click must not import twice). */
  doc.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.classList || !(form.classList.contains('confirm-form') || form.classList.contains('upload-form'))) { return; }
    if (form.getAttribute('data-sent')) { ev.preventDefault(); return; }
    form.setAttribute('data-sent', '1');
    var button = form.querySelector('button[type="submit"]');
    if (button) { button.classList.add('busy'); }
  });
})();
