/* Warm Stations: the network map from vector tiles (Leaflet + Leaflet.VectorGrid).
 *
 * Reads its settings from the #tile-config JSON block: the basemap's tile URLs and the station
 * tile URL template (already in the basemap's CRS: GCJ-02 tiles for AMap). Clusters (count > 1)
 * are drawn as larger orange circles and zoom in when tapped; a station shows its name.
 * window.__warmTiles records when the first marker was drawn (for the benchmark and tests).
 */
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('tile-config').textContent);
  var stats = window.__warmTiles = { firstMarkerAt: null, drawn: 0 };
  var map = L.map('map', { preferCanvas: true, maxZoom: 18 }).setView(config.center, config.zoom);
  config.basemap.forEach(function (layer) {
    L.tileLayer(layer.url, { subdomains: layer.subdomains || 'abc', maxZoom: 18, attribution: layer.attribution }).addTo(map);
  });

  function style(properties) {
    if (stats.firstMarkerAt === null) { stats.firstMarkerAt = performance.now(); }
    stats.drawn += 1;
    var count = properties.count || 1;
    if (count > 1) {
      return { radius: Math.min(24, 6 + 3 * Math.log(count) / Math.LN2), fill: true, fillColor: '#e67e22',
        fillOpacity: 0.8, color: '#ffffff', weight: 1 };
    }
    return { radius: 6, fill: true, fillColor: properties.status === 'open' ? '#2e7d32' : '#9e9e9e',
      fillOpacity: 0.9, color: '#ffffff', weight: 1 };
  }

  var stations = L.vectorGrid.protobuf(config.tiles, {
    rendererFactory: L.canvas.tile,
    interactive: true,
    maxNativeZoom: 18,
    vectorTileLayerStyles: { stations: style }
  }).addTo(map);

  stations.on('click', function (e) {
    var p = e.layer.properties || {};
    if ((p.count || 1) > 1) {
      map.setView(e.latlng, Math.min(map.getZoom() + 2, 18));
      return;
    }
    var box = document.createElement('div');
    var title = document.createElement('strong');
    title.textContent = p.name || '';
    box.appendChild(title);
    L.popup().setLatLng(e.latlng).setContent(box).openOn(map);
  });
})();
