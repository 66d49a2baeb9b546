/* The console's 服务人次 dashboard: numbers from /api/v1/stats/visits/dashboard, charts by
 * Chart.js (vendored, served by us), hand tallies through the JSON API. Station names reach
 * the DOM through textContent only (WarmAdmin.el). */
(function () {
  'use strict';
  var A = window.WarmAdmin;
  var doc = document;
  var RED = '#b3261e', BLUE = '#1971c2', GREY = '#adb5bd';

  function text(id, value) { doc.getElementById(id).textContent = String(value); }
  function rows(tableId, items, build) {
    var body = doc.querySelector('#' + tableId + ' tbody');
    body.textContent = '';
    if (!items.length) {
      var tr = A.el('tr', null, null, body);
      A.el('td', 'empty', '没有数据', tr).colSpan = 3;
    }
    items.forEach(function (item) { build(A.el('tr', null, null, body), item); });
  }
  function stationCell(tr, item) {
    var td = A.el('td', 'name', null, tr);
    var a = A.el('a', null, item.name, td);
    a.href = '/admin/stations/' + encodeURIComponent(item.id);
  }
  function posterLink(tr, item) {
    var a = A.el('a', null, '海报', A.el('td', 'row-actions', null, tr));
    a.href = '/api/v1/stations/' + encodeURIComponent(item.id) + '/poster.pdf';
  }

  function draw(board) {
    var scans = 0, tallied = 0;
    board.daily.forEach(function (d) { scans += d.scans; tallied += d.tallied; });
    text('t-total', scans + tallied);
    text('t-scans', scans);
    text('t-tallied', tallied);
    text('t-idle', board.idle_count);
    text('idle-note', board.idle_count > board.idle.length ? '（共 ' + board.idle_count + ' 个，显示前 ' + board.idle.length + ' 个）' : '');
    rows('busiest', board.busiest, function (tr, item) {
      stationCell(tr, item);
      A.el('td', 'num', item.visits, tr);
      posterLink(tr, item);
    });
    rows('idle', board.idle, function (tr, item) {
      stationCell(tr, item);
      A.el('td', null, item.district || '—', tr);
      posterLink(tr, item);
    });
    if (!window.Chart) { return; }
    var days = board.daily.map(function (d) { return d.day.slice(5); });
    new window.Chart(doc.getElementById('chart-daily'), {
      type: 'bar',
      data: { labels: days, datasets: [
        { label: '扫码签到', data: board.daily.map(function (d) { return d.scans; }), backgroundColor: RED },
        { label: '手工登记', data: board.daily.map(function (d) { return d.tallied; }), backgroundColor: GREY }
      ] },
      options: { animation: false, responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
    new window.Chart(doc.getElementById('chart-workers'), {
      type: 'doughnut',
      data: { labels: board.by_worker.map(function (w) { return w.label; }),
        datasets: [{ data: board.by_worker.map(function (w) { return w.visits; }),
          backgroundColor: ['#d9480f', '#1971c2', '#2b8a3e', '#7048e8', '#f59f00', '#868e96', '#ced4da'] }] },
      options: { animation: false, responsive: true }
    });
    new window.Chart(doc.getElementById('chart-hours'), {
      type: 'bar',
      data: { labels: board.by_hour.map(function (_n, h) { return h + '时'; }),
        datasets: [{ label: '扫码签到', data: board.by_hour, backgroundColor: BLUE }] },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } } }
    });
  }

  function load() {
    A.request('GET', '/api/v1/stats/visits/dashboard?days=30').then(function (res) {
      if (!res.ok) { A.flash('error', A.problemText(res)); return; }
      doc.body.setAttribute('data-dashboard', 'ready');
      draw(res.data);
    });
  }

  var tally = doc.getElementById('tally-form');
  if (tally) {
    tally.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var f = tally.elements;
      var url = '/api/v1/stations/' + encodeURIComponent(f.station.value) + '/tallies/' + encodeURIComponent(f.day.value);
      A.request('PUT', url, { count: Number(f.count.value) }).then(function (res) {
        if (!res.ok) { A.flash('error', A.problemText(res)); return; }
        A.flash('ok', '已保存：驿站 ' + res.data.station_id + '，' + res.data.day + '，' + res.data.count + ' 人次。');
        window.location.reload();
      });
    });
  }
  var poster = doc.getElementById('poster-form');
  poster.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = poster.elements;
    window.location.href = '/api/v1/stations/' + encodeURIComponent(f.station.value) + '/poster.pdf?size=' + encodeURIComponent(f.size.value);
  });
  load();
}());
