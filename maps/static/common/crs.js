/* Warm Stations: WGS-84 <-> GCJ-02 in the browser, the one JavaScript copy of geodata/crs.py.
 *
 * Loaded with a plain <script> tag before the page's own script (map pages, /embed, the staff
 * editor) and exposed as window.WarmCRS; no dependencies. Coordinates are [lon, lat] in degrees.
 * Same formula and constants as geodata/crs.py (Krasovsky a = 6378245.0,
 * ee = 0.00669342162296594323, the same China box): closed-form forward, and an inverse
 * iterated to ~1e-12 degrees instead of the 1-2 m one-step shortcut. Points outside the box
 * pass through unchanged both ways. BD-09 is not here because no page needs it.
 */
(function () {
  'use strict';
  var KA = 6378245.0, KEE = 0.00669342162296594323, PI = Math.PI;
  var TOLERANCE_DEG = 1e-12, MAX_ITERATIONS = 30;

  /** Whether a point lies outside the rough China box where GCJ-02 applies (NaN: outside). */
  function outOfChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  /* GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (no box test). */
  function offset(lon, lat) {
    var x = lon - 105, y = lat - 35, s = Math.sin;
    var c = (20 * s(6 * PI * x) + 20 * s(2 * PI * x)) * 2 / 3;
    var dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + c +
      (20 * s(PI * y) + 40 * s(PI * y / 3)) * 2 / 3 + (160 * s(PI * y / 12) + 320 * s(PI * y / 30)) * 2 / 3;
    var dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + c +
      (20 * s(PI * x) + 40 * s(PI * x / 3)) * 2 / 3 + (150 * s(PI * x / 12) + 300 * s(PI * x / 30)) * 2 / 3;
    var r = lat / 180 * PI, m = 1 - KEE * s(r) * s(r), sm = Math.sqrt(m);
    return [dLon * 180 / (KA / sm * Math.cos(r) * PI), dLat * 180 / (KA * (1 - KEE) / (m * sm) * PI)];
  }

  /** WGS-84 -> GCJ-02, as [lon, lat]. */
  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var d = offset(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  /** GCJ-02 -> WGS-84 by fixed-point iteration from the one-step guess (sub-millimetre). */
  function gcj02ToWgs84(lon, lat) {
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var d = offset(lon, lat), x = lon - d[0], y = lat - d[1];
    // Like geodata/crs.py, the iteration ignores the box so points just inside its edge converge.
    for (var i = 0; i < MAX_ITERATIONS; i++) {
      var f = offset(x, y), sx = x + f[0] - lon, sy = y + f[1] - lat;
      x -= sx; y -= sy;
      if (Math.abs(sx) < TOLERANCE_DEG && Math.abs(sy) < TOLERANCE_DEG) { break; }
    }
    return [x, y];
  }

  var NAMES = ['wgs84', 'gcj02'];

  /** A point from one CRS to another, both "wgs84" or "gcj02"; any other name throws. */
  function convert(lon, lat, from, to) {
    if (NAMES.indexOf(from) < 0 || NAMES.indexOf(to) < 0) {
      throw new Error('unknown crs ' + from + ' -> ' + to + ': expected wgs84 or gcj02');
    }
    if (from === to) { return [lon, lat]; }
    return from === 'wgs84' ? wgs84ToGcj02(lon, lat) : gcj02ToWgs84(lon, lat);
  }

  window.WarmCRS = {
    NAMES: NAMES.slice(),
    outOfChina: outOfChina,
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02ToWgs84: gcj02ToWgs84,
    convert: convert
  };
})();
