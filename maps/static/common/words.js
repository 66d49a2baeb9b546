/* Warm Stations: what a station's properties say in a rider's words, for the pages that
 * build their cards in the browser (the /embed card, the full map's popup). One copy of each
 * rule here; the pages the server renders itself (/s/{code}, the poster) say the same from
 * Python — maps/station_page.py's dial_uri, stations.vocabulary.entry_words — and
 * tests/maps/test_js_words.py checks in Chromium that both give the same words.
 *
 * window.WarmWords = {dial, entryText, riderReasons}. Plain strings out; the pages put them
 * in the DOM with textContent. */
(function () {
  'use strict';

  /* The tel: link of a phone field's first number, an extension after a pause:
   * "010-67870686 转 8001；138…" → "tel:010-67870686,8001"; null when it has no digit. */
  function dial(phone) {
    if (phone == null) return null;
    var first = String(phone).split(/[;；,，、\/]/)[0].trim()
      .replace(/(\d)\s*(?:转|分机|ext\.?|x)\s*(?=\d)/i, '$1,');
    var n = first.replace(/[^0-9+\-,]/g, '');
    return /[0-9]/.test(n) ? 'tel:' + n : null;
  }

  /* How to get in: "扫码进门，需要智能手机"; '' when nothing is recorded. ``entries`` maps
   * entry codes to their Chinese labels (the page's config carries the vocabulary's). */
  function entryText(p, entries) {
    var out = [], label = p.entry && entries && entries[p.entry];
    if (label) out.push(label);
    if (p.no_smartphone_ok === true) out.push('不用智能手机也能进');
    if (p.no_smartphone_ok === false) out.push('需要智能手机');
    return out.join('，');
  }

  /* What riders (and staff checks) said, in Chinese, the deciding reason first; without the
   * schedule's own reason, which the open/closed badge beside it already says. */
  function riderReasons(p) {
    return (p.confidence_reasons || []).filter(function (r) {
      return r.code !== 'schedule' && r.code !== 'no_hours' && r.message_zh;
    }).map(function (r) { return r.message_zh; });
  }

  window.WarmWords = { dial: dial, entryText: entryText, riderReasons: riderReasons };
}());
