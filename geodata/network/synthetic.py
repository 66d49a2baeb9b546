"""Street networks the project generates instead of downloading: for tests and benchmarks.

* :func:`river_grid` — a 1 km street grid cut by a 200 m river with one foot/road bridge at
  its east end and a motorway bridge (closed to walkers and e-bikes) in the middle.  A station
  on the south bank reaches the north bank across the water in a straight line, but not on
  foot within 15 minutes: the walk goes round by the bridge.
* :func:`city_grid` — a jittered grid of any size (e.g. 450 × 450 nodes ≈ a 45 km square,
  Beijing-sized) for the reach benchmark.

Both return plain nodes and ways for :func:`geodata.network.osm.write_osm`, so the files
are real ``.osm`` / ``.osm.pbf`` read through the same reader as a city extract.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geodata.projection import lonlat_to_metric, metric_to_lonlat, utm_crs_for

__all__ = ["SyntheticNetwork", "city_grid", "river_grid"]

#: South-west corner of the generated networks: inside E-Town (亦庄).
ORIGIN = (116.49, 39.78)


@dataclass
class SyntheticNetwork:
    """Nodes ``(id, lon, lat)`` and ways ``(id, node ids, tags)``, plus named places."""

    origin: tuple[float, float]
    nodes: list[tuple[int, float, float]] = field(default_factory=list)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    places: dict[str, tuple[float, float]] = field(default_factory=dict)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        """WGS-84 lon/lat of a point ``x`` m east and ``y`` m north of the origin."""
        crs = utm_crs_for(*self.origin)
        ox, oy = lonlat_to_metric([self.origin[0]], [self.origin[1]], crs)
        lon, lat = metric_to_lonlat([ox[0] + x], [oy[0] + y], crs)
        return float(lon[0]), float(lat[0])

    def write(self, path: str) -> str:
        """Write it as an OSM file (format from the name); returns the path."""
        from geodata.network.osm import write_osm

        write_osm(path, self.nodes, self.ways)
        return path


def _grid_nodes(
    net: SyntheticNetwork, xs: np.ndarray, ys: np.ndarray, start_id: int
) -> dict[tuple[int, int], int]:
    crs = utm_crs_for(*net.origin)
    ox, oy = lonlat_to_metric([net.origin[0]], [net.origin[1]], crs)
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    lon, lat = metric_to_lonlat(gx.ravel() + ox[0], gy.ravel() + oy[0], crs)
    ids: dict[tuple[int, int], int] = {}
    k = start_id
    for (x, y), lo, la in zip(
        zip(gx.ravel().tolist(), gy.ravel().tolist(), strict=True),
        lon.tolist(),
        lat.tolist(),
        strict=True,
    ):
        ids[(round(x), round(y))] = k
        net.nodes.append((k, lo, la))
        k += 1
    return ids


def river_grid(origin: tuple[float, float] = ORIGIN) -> SyntheticNetwork:
    """A 1 km × 1 km street grid (100 m blocks) with a river between y = 400 m and 600 m.

    Streets: east–west rows at y = 0…400 (south bank) and 600…1000 (north bank), north–south
    columns at x = 0…1000 on each bank.  Crossings: a street bridge (东桥) at x = 1000 and a
    motorway bridge at x = 500 that neither walkers nor e-bikes may use.  ``places`` names
    ``sw_bank`` (0, 400), ``across`` (0, 600), ``bridge_s`` (1000, 400), ``bridge_n``
    (1000, 600) and ``river_mid`` (0, 500).
    """
    net = SyntheticNetwork(origin)
    xs = np.arange(0, 1001, 100)
    south = np.arange(0, 401, 100)
    north = np.arange(600, 1001, 100)
    ids = _grid_nodes(net, xs, np.concatenate([south, north]), 1)
    wid = 1000
    row_names = {400: "滨河南路", 600: "滨河北路"}
    for y in np.concatenate([south, north]).tolist():
        name = row_names.get(y, f"{'南' if y < 500 else '北'}{y // 100}街")
        net.ways.append(
            (wid, [ids[(x, y)] for x in xs.tolist()], {"highway": "residential", "name": name})
        )
        wid += 1
    for x in xs.tolist():
        for bank, ys in (("南", south), ("北", north)):
            net.ways.append(
                (
                    wid,
                    [ids[(x, y)] for y in ys.tolist()],
                    {"highway": "residential", "name": f"{bank}{x // 100}号路"},
                )
            )
            wid += 1
    net.ways.append(
        (wid, [ids[(1000, 400)], ids[(1000, 600)]], {"highway": "tertiary", "name": "东桥"})
    )
    net.ways.append(
        (
            wid + 1,
            [ids[(500, 400)], ids[(500, 600)]],
            {"highway": "motorway", "name": "京津塘高速"},
        )
    )
    # the river itself: not a street, must be ignored by the reader
    r0, r1 = 900_000, 900_001
    lo0, la0 = net.lonlat(-100, 500)
    lo1, la1 = net.lonlat(1100, 500)
    net.nodes += [(r0, lo0, la0), (r1, lo1, la1)]
    net.ways.append((wid + 2, [r0, r1], {"waterway": "river", "name": "凉水河"}))
    for name, (x, y) in {
        "sw_bank": (0, 400),
        "across": (0, 600),
        "bridge_s": (1000, 400),
        "bridge_n": (1000, 600),
        "river_mid": (0, 500),
    }.items():
        net.places[name] = net.lonlat(x, y)
    return net


def city_grid(
    n_side: int = 450,
    spacing_m: float = 100.0,
    origin: tuple[float, float] = (116.30, 39.65),
    jitter_m: float = 15.0,
    seed: int = 7,
) -> SyntheticNetwork:
    """An ``n_side`` × ``n_side`` grid of streets, nodes jittered by up to ``jitter_m``.

    The jitter breaks the exact ties of a regular grid, so two routing engines that agree
    on every shortest path also agree on which nodes lie within a limit.
    """
    rng = np.random.default_rng(seed)
    net = SyntheticNetwork(origin)
    crs = utm_crs_for(*origin)
    ox, oy = lonlat_to_metric([origin[0]], [origin[1]], crs)
    i, j = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="xy")
    x = i.ravel() * spacing_m + rng.uniform(-jitter_m, jitter_m, i.size) + ox[0]
    y = j.ravel() * spacing_m + rng.uniform(-jitter_m, jitter_m, j.size) + oy[0]
    lon, lat = metric_to_lonlat(x, y, crs)
    ids = np.arange(1, i.size + 1).reshape(n_side, n_side)  # [row j, column i]
    net.nodes = list(zip(ids.ravel().tolist(), lon.tolist(), lat.tolist(), strict=True))
    wid = 10_000_000
    for r in range(n_side):
        net.ways.append((wid, ids[r, :].tolist(), {"highway": "residential", "name": f"纬{r}路"}))
        net.ways.append(
            (wid + 1, ids[:, r].tolist(), {"highway": "residential", "name": f"经{r}路"})
        )
        wid += 2
    return net
