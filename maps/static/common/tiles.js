/* Warm Stations: station markers from the service's vector tiles.
 *
 * A tiny Mapbox Vector Tile reader (points only: the station tiles hold nothing else) and a
 * Leaflet grid layer that fetches /api/v1/tiles/stations/{z}/{x}/{y}.mvt for the tiles in
 * view and turns each feature into a Leaflet layer made by the page (a marker with its
 * popup, or a cluster), removed again when its tile leaves the view. The tiles arrive in the
 * page's CRS (GCJ-02 for AMap), so nothing is converted here.
 *
 * WarmTiles.markers(map, {url: function (coords) -> string, make: function (props, latlng),
 *   onChange: function (stations shown, markers drawn)}) → the grid layer (already on the map); .redraw() reloads
 *   every tile (after the url function's answer changed, e.g. a filter).
 * window.__warmTiles records when the first marker was drawn (for the benchmark and tests).
 */
(function () {
  'use strict';
  var WT = window.WarmTiles = window.WarmTiles || {};
  var utf8 = typeof TextDecoder !== 'undefined' ? new TextDecoder('utf-8') : null;

  function Reader(bytes) { this.b = bytes; this.p = 0; }
  Reader.prototype.varint = function () {
    var v = 0, mul = 1, byte;
    do { byte = this.b[this.p++]; v += (byte & 0x7f) * mul; mul *= 128; } while (byte & 0x80);
    return v;
  };
  Reader.prototype.bytes = function () {
    var n = this.varint(), start = this.p;
    this.p += n;
    return this.b.subarray(start, start + n);
  };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) { this.varint(); } else if (wire === 2) { this.p += this.varint(); }
    else if (wire === 1) { this.p += 8; } else if (wire === 5) { this.p += 4; }
    else { throw new Error('unsupported protobuf wire type ' + wire); }
  };
  Reader.prototype.done = function () { return this.p >= this.b.length; };

  function zigzag(n) { return n % 2 ? -(n + 1) / 2 : n / 2; }
  function text(bytes) {
    if (utf8) { return utf8.decode(bytes); }
    return decodeURIComponent(escape(String.fromCharCode.apply(null, bytes)));
  }

  function readValue(bytes) {
    var r = new Reader(bytes), v = null, view;
    while (!r.done()) {
      var tag = r.varint(), field = Math.floor(tag / 8);
      if (field === 1) { v = text(r.bytes()); }
      else if (field === 2) { view = new DataView(r.b.buffer, r.b.byteOffset + r.p, 4); v = view.getFloat32(0, true); r.p += 4; }
      else if (field === 3) { view = new DataView(r.b.buffer, r.b.byteOffset + r.p, 8); v = view.getFloat64(0, true); r.p += 8; }
      else if (field === 4 || field === 5) { v = r.varint(); }
      else if (field === 6) { v = zigzag(r.varint()); }
      else if (field === 7) { v = !!r.varint(); }
      else { r.skip(tag & 7); }
    }
    return v;
  }

  function packed(r) {
    var sub = new Reader(r.bytes()), out = [];
    while (!sub.done()) { out.push(sub.varint()); }
    return out;
  }

  /** Decode a tile: {layerName: {extent, features: [{properties, points: [[x, y], …]}]}}. */
  WT.decode = function (bytes) {
    var tile = new Reader(bytes), layers = {};
    while (!tile.done()) {
      var tag = tile.varint();
      if (tag !== 26) { tile.skip(tag & 7); continue; }
      var r = new Reader(tile.bytes()), name = '', extent = 4096, keys = [], values = [], raw = [];
      while (!r.done()) {
        var t = r.varint(), f = Math.floor(t / 8);
        if (f === 1) { name = text(r.bytes()); }
        else if (f === 2) { raw.push(r.bytes()); }
        else if (f === 3) { keys.push(text(r.bytes())); }
        else if (f === 4) { values.push(readValue(r.bytes())); }
        else if (f === 5) { extent = r.varint(); }
        else { r.skip(t & 7); }
      }
      var features = raw.map(function (bytes) {
        var fr = new Reader(bytes), tags = [], geometry = [], props = {};
        while (!fr.done()) {
          var ft = fr.varint(), ff = Math.floor(ft / 8);
          if (ff === 2) { tags = packed(fr); } else if (ff === 4) { geometry = packed(fr); } else { fr.skip(ft & 7); }
        }
        for (var i = 0; i + 1 < tags.length; i += 2) { props[keys[tags[i]]] = values[tags[i + 1]]; }
        var points = [], x = 0, y = 0, j = 0;
        while (j < geometry.length) {
          var cmd = geometry[j] & 7, count = Math.floor(geometry[j] / 8);
          j += 1;
          for (var c = 0; c < count && cmd !== 7; c += 1) {
            x += zigzag(geometry[j]); y += zigzag(geometry[j + 1]);
            j += 2;
            if (cmd === 1) { points.push([x, y]); }
          }
        }
        return { properties: props, points: points };
      });
      layers[name] = { extent: extent, features: features };
    }
    return layers;
  };

  // idle: every tile of the view has been fetched and drawn (Leaflet's load event).
  var stats = window.__warmTiles = window.__warmTiles || { firstMarkerAt: null, drawn: 0, idle: false };

  var Grid = L.GridLayer.extend({
    createTile: function (coords, done) {
      var tile = document.createElement('div');
      var self = this, key = this._tileCoordsToKey(coords);
      var ctrl = window.AbortController ? new AbortController() : null;
      tile._wsAbort = ctrl;
      fetch(this._url(coords), { credentials: 'same-origin', signal: ctrl ? ctrl.signal : undefined })
        .then(function (r) {
          if (r.status === 204) { return null; }
          if (!r.ok) { throw new Error('HTTP ' + r.status); }
          return r.arrayBuffer();
        }).then(function (buf) {
          if (self._tiles[key] && self._tiles[key].el === tile) {
            self._place(key, coords, buf ? WT.decode(new Uint8Array(buf)).stations : null);
          }
          done(null, tile);
        }, function (err) {
          if (!err || err.name !== 'AbortError') { self.fire('stationerror', { error: err }); }
          done(err, tile);
        });
      return tile;
    },
    _place: function (key, coords, layer) {
      var made = [], shown = 0;
      if (layer) {
        var size = this.options.tileSize, extent = layer.extent;
        for (var i = 0; i < layer.features.length; i += 1) {
          var f = layer.features[i];
          for (var k = 0; k < f.points.length; k += 1) {
            var p = f.points[k];
            // A station near an edge is in the buffer of its neighbours too: drawn once,
            // by the tile it lies in.
            if (p[0] < 0 || p[1] < 0 || p[0] >= extent || p[1] >= extent) { continue; }
            var at = this._map.unproject(L.point((coords.x + p[0] / extent) * size,
              (coords.y + p[1] / extent) * size), coords.z);
            var m = this.options.make(f.properties, at);
            if (m) {
              this._group.addLayer(m);
              made.push(m);
              shown += f.properties.count || 1;
            }
          }
        }
      }
      if (made.length) {
        if (stats.firstMarkerAt === null) { stats.firstMarkerAt = performance.now(); }
        stats.drawn += made.length;
      }
      this._made[key] = { layers: made, shown: shown };
      this._changed();
    },
    _drop: function (key) {
      var got = this._made[key];
      if (!got) { return; }
      for (var i = 0; i < got.layers.length; i += 1) { this._group.removeLayer(got.layers[i]); }
      delete this._made[key];
      this._changed();
    },
    _changed: function () {
      var total = 0;
      for (var key in this._made) {
        if (Object.prototype.hasOwnProperty.call(this._made, key)) { total += this._made[key].shown; }
      }
      if (this.options.onChange) { this.options.onChange(total); }
    }
  });

  WT.markers = function (map, options) {
    var grid = new Grid({ maxNativeZoom: 18, maxZoom: 20, updateWhenZooming: false, keepBuffer: 1 });
    grid._url = options.url;
    grid._made = {};
    grid._group = L.layerGroup().addTo(map);
    grid.options.make = options.make;
    grid.options.onChange = options.onChange;
    grid.on('tileunload', function (e) {
      if (e.tile && e.tile._wsAbort) { e.tile._wsAbort.abort(); }
      grid._drop(grid._tileCoordsToKey(e.coords));
    });
    grid.on('loading', function () { stats.idle = false; });
    grid.on('load', function () { stats.idle = true; });
    grid.on('remove', function () { map.removeLayer(grid._group); });
    grid.on('add', function () { if (!map.hasLayer(grid._group)) { grid._group.addTo(map); } });
    return grid.addTo(map);
  };
}());
