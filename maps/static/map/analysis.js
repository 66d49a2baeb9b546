/* Warm Stations maps: coverage and gap layers from one JSON block of GeoJSON (already in
 * the page's CRS). WarmMap.analysisLayer(map, {config, data, part}) returns one layer;
 * WarmMap.analysisPage(map, {config}) adds the legend, summary and controls.
 */
(function () {
  'use strict';
  var WM = window.WarmMap;
  var el = WM.el;
  var parsed = {};

  function read(id) {
    if (!parsed[id]) { parsed[id] = WM.readJSON(id); }
    return parsed[id];
  }

  function fmt(x) {
    var n = Number(x);
    if (!isFinite(n)) { return ''; }
    if (Math.abs(n) >= 10) { return Math.round(n).toLocaleString('zh-CN'); }
    return String(Math.round(n * 1000) / 1000);
  }

  function lines(rows) {
    var div = el('div', 'ws-popup');
    rows.forEach(function (r, i) { el('div', i ? 'ws-row' : 'ws-title', r, div); });
    return div;
  }

  function siteIcon(rank, color) {
    var n = parseInt(rank, 10);
    return L.divIcon({
      className: 'ws-site-label', html: isNaN(n) ? '' : String(n),
      iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]
    });
  }

  var BUILD = {
    area: function (data, cfg) {
      return L.geoJSON(data.area, {
        interactive: false,
        style: { color: cfg.style.area, weight: 2.5, dashArray: '6 4', fill: false }
      });
    },
    cells: function (data, cfg) {
      // Thousands of hexagons: one canvas draws them far faster than one SVG path each.
      return L.geoJSON(data.cells, {
        renderer: L.canvas({ padding: 0.3 }),
        style: function (f) {
          var ramp = f.properties.covered ? cfg.colours.covered : cfg.colours.uncovered;
          var color = ramp[f.properties.c] || ramp[0];
          return { color: color, weight: 0.5, fillColor: color, fillOpacity: 0.55, opacity: 0.8 };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(lines([
            (f.properties.covered ? '已覆盖' : '未覆盖') + ' 网格',
            '需求 ' + fmt(f.properties.weight)
          ]), { sticky: true });
        }
      });
    },
    circles: function (data, cfg) {
      if (data.reach_areas && data.reach_areas.features.length) {
        // street isochrones: what each station reaches along the streets
        return L.geoJSON(data.reach_areas, {
          interactive: false,
          style: { color: cfg.style.circle, weight: 1, fillOpacity: 0.08 }
        });
      }
      var group = L.featureGroup();
      data.stations.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        L.circle([c[1], c[0]], {
          radius: cfg.radius_m, color: cfg.style.circle, weight: 1, fillOpacity: 0.06,
          interactive: false
        }).addTo(group);
      });
      return group;
    },
    stations: function (data, cfg) {
      return L.geoJSON(data.stations, {
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { radius: 4, color: '#fff', weight: 1.5,
            fillColor: cfg.style.station, fillOpacity: 1 });
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(el('span', null, f.properties.name || ''));
        }
      });
    },
    gaps: function (data, cfg) {
      var group = L.featureGroup();
      L.geoJSON(data.gaps, {
        style: { color: cfg.style.gap, weight: 2.5, fillOpacity: 0.05 },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(lines([
            '空白区 #' + p.rank,
            '未覆盖需求 ' + fmt(p.uncovered_weight),
            '面积 ' + Number(p.area_km2).toFixed(2) + ' km²',
            '网格 ' + p.cell_count + ' 个'
          ]));
        }
      }).addTo(group);
      data.gap_labels.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var n = parseInt(f.properties.rank, 10);
        L.marker([c[1], c[0]], { interactive: false, keyboard: false, icon: L.divIcon({
          className: 'ws-gap-label', html: isNaN(n) ? '' : '#' + n, iconSize: [30, 18],
          iconAnchor: [15, 9] }) }).addTo(group);
      });
      return group;
    },
    sites: function (data, cfg) {
      return L.geoJSON(data.sites, {
        pointToLayer: function (f, ll) {
          return L.marker(ll, { icon: siteIcon(f.properties.rank), zIndexOffset: 1000,
            title: '建议新站点 #' + f.properties.rank });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          var rows = ['建议新站点 #' + p.rank];
          if (p.added_weight !== undefined && p.added_weight !== null) {
            rows.push('新增覆盖需求 ' + fmt(p.added_weight));
          }
          if (p.added_share !== undefined && p.added_share !== null) {
            rows.push('占总需求 ' + (100 * p.added_share).toFixed(1) + '%');
          }
          if (p.cumulative_share !== undefined && p.cumulative_share !== null) {
            rows.push('加上前 ' + p.rank + ' 个新站后覆盖率 ' +
              (100 * p.cumulative_share).toFixed(1) + '%');
          }
          if (p.lon !== undefined && p.lat !== undefined) {
            rows.push('WGS-84 ' + Number(p.lon).toFixed(6) + ', ' + Number(p.lat).toFixed(6));
          }
          layer.bindPopup(lines(rows));
          WM.siteLayers = WM.siteLayers || {};
          WM.siteLayers[p.rank] = layer;
        }
      });
    }
  };

  WM.analysisLayer = function (map, options) {
    var cfg = read(options.config);
    var data = read(options.data);
    var layer = BUILD[options.part](data, cfg);
    WM.analysisLayers = WM.analysisLayers || {};
    WM.analysisLayers[options.part] = layer;
    return layer;
  };

  function addSummary(map, summary) {
    WM.control('topright', 'ws-summary', function (box) {
      var div = el('details', null, null, box);
      if (window.innerWidth >= 600) { div.open = true; }
      el('summary', null, summary.title, div);
      summary.lines.forEach(function (line) { el('p', null, line, div); });
      if (summary.sites.length) {
        el('p', 'ws-note', '建议新站点（点击定位）', div);
        var list = el('ol', 'ws-sites', null, div);
        summary.sites.forEach(function (s) {
          var li = el('li', null, null, list);
          var a = el('a', null, s.text, li);
          a.href = '#';
          L.DomEvent.on(a, 'click', function (e) {
            L.DomEvent.preventDefault(e);
            var layer = WM.siteLayers && WM.siteLayers[s.rank];
            if (!layer) { return; }
            map.setView(layer.getLatLng(), Math.max(map.getZoom(), 15));
            layer.openPopup();
          });
        });
      }
    }).addTo(map);
  }

  WM.analysisPage = function (map, options) {
    var cfg = read(options.config);
    WM.map = map;
    addSummary(map, cfg.summary);
    WM.addLocate(map, cfg.crs);
    WM.addFullscreen(map);
    WM.addLegend(map, cfg.legend);
    WM.addBasemapLinks(map, cfg.basemap_links);
    WM.fit(map, cfg.bounds);
  };
}());
