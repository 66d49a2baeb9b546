/* 照片审核 (/admin/photos): after 采用 / 拒绝 (admin.js posts with the CSRF token), the card
 * says what happened and loses its buttons; no page reload, so the next photo stays in view. */
(function () {
  'use strict';
  var A = window.WarmAdmin;
  var LABELS = { published: '已采用', rejected: '已拒绝' };
  A.done = A.done || {};
  A.done.photo = function (button, photo) {
    var card = button.closest('.photo-card');
    if (!card || !photo) { return; }
    var state = card.querySelector('.photo-state');
    state.textContent = '';
    A.el('span', 'rstatus rstatus-' + photo.status, LABELS[photo.status] || photo.status, state);
    if (photo.reviewed_by) { A.el('span', 'sub', ' ' + photo.reviewed_by, state); }
    var actions = card.querySelector('.photo-actions');
    if (actions) { actions.parentNode.removeChild(actions); }
    card.classList.add('reviewed');
    card.setAttribute('data-status', photo.status);
    // said on the card itself: on a phone the page's message area is far above the card
    A.tell(card, 'ok', photo.status === 'published'
      ? '已采用照片 ' + photo.id + '：显示在驿站首位（版本 ' + photo.station_version + '，已记入修改历史）。'
      : '已拒绝照片 ' + photo.id + '，不会显示给骑手，驿站保持不变。');
    // one fewer waiting: the menu's count follows without a reload
    var badge = document.querySelector('.main-nav a[href="/admin/photos"] .badge');
    if (badge) {
      var left = parseInt(badge.textContent, 10) - 1;
      if (left > 0) { badge.textContent = String(left); } else { badge.remove(); }
    }
  };
})();
