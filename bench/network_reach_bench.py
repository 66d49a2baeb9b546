"""Street-network reach benchmark, run by hand; every ratio is measured in this run.

    pip install -e '.[bench]'          # osmnx, networkx, igraph (baselines only)
    python bench/network_reach_bench.py [--side 450] [--skip-networkx] [--skip-igraph]
                                        [--osmnx-read]

The question: the 15-minute walk reach (1,125 m of street at 4.5 km/h) of each of the 98
E-Town stations (``stations/data/etown_demo.geojson``), on a Beijing-sized network.

Network: ``geodata.network.synthetic.city_grid`` — a ``side`` × ``side`` street grid at
100 m spacing, nodes jittered by ±15 m (450 → 202,500 nodes, a 45 km square over south-east
Beijing), written once as ``.osm.pbf`` and ``.osm`` and read back:

* ours: ``geodata.network.load_network`` (pyosmium) on the PBF and the XML;
* osmnx: ``osmnx.graph_from_xml`` (``simplify=False``, ``retain_all=True``) on the same XML,
  only with ``--osmnx-read`` (on the shared two-core machine it had not finished after
  50 minutes).  Without it the baseline graph is built osmnx-style from the same segments:
  a ``networkx.MultiDiGraph`` with both directions of every street, ``length`` in metres and
  node ``x``/``y``.

Reach, from the same source nodes (each station's nearest node, found by osmnx's
``distance.nearest_nodes``), for all 98 stations:

* ours: ``geodata.network.nodes_within`` — ``scipy.sparse.csgraph.dijkstra`` with ``limit``,
  each search on the part of the network within the limit as the crow flies;
* scipy on the whole network: one ``dijkstra(indices=98 sources, limit)`` call (what the
  local frame saves: initialising 98 city-sized distance arrays);
* igraph: ``Graph.distances`` from the 98 sources (igraph has no distance limit: each search
  covers the whole network), thresholded;
* networkx: ``networkx.ego_graph(G, n, radius=1125, distance="length")`` on the osmnx graph,
  one per station — the usual osmnx isochrone recipe (directed: osmnx stores both directions
  of a two-way street; ``undirected=True`` would copy the whole graph on every call).

The reached node sets must be identical (OSM ids).  Goal: ours ≥ 20× faster than
osmnx + networkx and ≤ 2 s for all 98.  Wall and process CPU times are shown; the machine
is shared, so CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geodata.network import load_network, nodes_within  # noqa: E402
from geodata.network.synthetic import city_grid  # noqa: E402
from geodata.reach import minutes_to_metres  # noqa: E402

LIMIT_M = minutes_to_metres(15, "walk")


def _stations() -> tuple[np.ndarray, np.ndarray]:
    data = json.loads((ROOT / "stations/data/etown_demo.geojson").read_text(encoding="utf-8"))
    pts = [f["geometry"]["coordinates"] for f in data["features"]]
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def _timed(fn: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


class _Rows(list[tuple[str, float, float, str]]):
    """Rows of the result table, each also printed when measured (a long run shows progress)."""

    def append(self, row: tuple[str, float, float, str]) -> None:
        print(f"  {row[0]}: {row[1]:.3f} s wall, {row[2]:.3f} s cpu {row[3]}", flush=True)
        super().append(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--side", type=int, default=450, help="grid nodes per side (450 → 202,500)")
    ap.add_argument("--skip-networkx", action="store_true")
    ap.add_argument("--skip-igraph", action="store_true")
    ap.add_argument("--osmnx-read", action="store_true", help="also time osmnx.graph_from_xml")
    args = ap.parse_args()
    rows = _Rows()
    slon, slat = _stations()
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.osm.pbf"  # imports and first calls out of the timings
        city_grid(5).write(str(warm))
        nodes_within(load_network(warm, "walk"), np.array([0]), LIMIT_M)
        grid, t_gen, _ = _timed(lambda: city_grid(args.side))
        pbf, xml = Path(tmp) / "city.osm.pbf", Path(tmp) / "city.osm"
        grid.write(str(pbf))
        grid.write(str(xml))
        del grid
        net, w, c = _timed(lambda: load_network(pbf, "walk"))
        rows.append(("read .osm.pbf — ours (pyosmium)", w, c, f"{net.n_nodes:,} nodes"))
        _, w, c = _timed(lambda: load_network(xml, "walk"))  # new file: read again
        rows.append(("read .osm — ours (pyosmium)", w, c, ""))
        print(
            f"network: {net.n_nodes:,} nodes, {net.n_edges:,} segments, "
            f"{net.edge_len.sum() / 1000:,.0f} km (generated in {t_gen:.1f} s); "
            f"{slon.size} stations; limit {LIMIT_M:.0f} m",
            flush=True,
        )
        import networkx as nx
        import osmnx as ox

        if args.osmnx_read:
            graph, w, c = _timed(lambda: ox.graph_from_xml(xml, simplify=False, retain_all=True))
            rows.append(("read .osm — osmnx graph_from_xml", w, c, f"{len(graph):,} nodes"))
        else:

            def build() -> nx.MultiDiGraph:
                g = nx.MultiDiGraph(crs="epsg:4326")
                g.add_nodes_from(
                    (int(o), {"x": x, "y": y})
                    for o, x, y in zip(
                        net.osm_id.tolist(), net.lon.tolist(), net.lat.tolist(), strict=True
                    )
                )
                u = net.osm_id[net.edge_u].tolist()
                v = net.osm_id[net.edge_v].tolist()
                length = net.edge_len.tolist()
                g.add_edges_from(
                    (a, b, {"length": d}) for a, b, d in zip(u, v, length, strict=True)
                )
                g.add_edges_from(
                    (b, a, {"length": d}) for a, b, d in zip(u, v, length, strict=True)
                )
                return g

            graph, w, c = _timed(build)
            rows.append(("build networkx graph (osmnx layout)", w, c, f"{len(graph):,} nodes"))
        src_osm = np.asarray(ox.distance.nearest_nodes(graph, slon, slat), dtype=np.int64)
        pos = {int(o): i for i, o in enumerate(net.osm_id.tolist())}
        src = np.array([pos[int(o)] for o in src_osm], dtype=np.intp)

        from geodata.network.routing import _local_frame

        _, w, c = _timed(lambda: (net.csr, _local_frame(net)))
        rows.append(("prepare: CSR matrix + node KD-tree (once per network)", w, c, ""))
        ours, w_ours, c_ours = _timed(lambda: nodes_within(net, src, LIMIT_M))
        sizes = [r.size for r in ours]
        rows.append(
            (
                "reach × 98 — ours (scipy dijkstra, limit)",
                w_ours,
                c_ours,
                f"{np.mean(sizes):.0f} nodes each",
            )
        )
        ours_sets = [set(net.osm_id[r].tolist()) for r in ours]
        from scipy.sparse.csgraph import dijkstra

        whole, w, c = _timed(lambda: dijkstra(net.csr, indices=src, limit=LIMIT_M))
        same = [
            set(net.osm_id[np.flatnonzero(np.isfinite(r))].tolist()) for r in whole
        ] == ours_sets
        rows.append(("reach × 98 — scipy dijkstra, whole network", w, c, f"same sets: {same}"))
        del whole

        if not args.skip_igraph:
            import igraph as ig

            g = ig.Graph(
                n=net.n_nodes,
                edges=np.column_stack([net.edge_u, net.edge_v]).tolist(),
                directed=False,
            )
            g.es["w"] = net.edge_len.tolist()
            d, w, c = _timed(lambda: np.asarray(g.distances(source=src.tolist(), weights="w")))
            same = all(
                set(net.osm_id[np.flatnonzero(row <= LIMIT_M)].tolist()) == s
                for row, s in zip(d, ours_sets, strict=True)
            )
            rows.append(("reach × 98 — igraph distances (no limit)", w, c, f"same sets: {same}"))
            del d

        if not args.skip_networkx:

            def ego() -> list[set[int]]:
                return [
                    set(
                        nx.ego_graph(
                            graph, int(n), radius=LIMIT_M, distance="length", undirected=True
                        ).nodes
                    )
                    for n in src_osm
                ]

            nx_sets, w_nx, c_nx = _timed(ego)
            same = nx_sets == ours_sets
            rows.append(
                ("reach × 98 — osmnx + networkx ego_graph", w_nx, c_nx, f"same sets: {same}")
            )
            rows.append(
                (
                    "ratio networkx / ours",
                    w_nx / w_ours,
                    c_nx / c_ours,
                    f"goal ≥ 20×; ours ≤ 2 s: {w_ours <= 2.0}",
                )
            )
    print("\n| step | wall s | cpu s | note |\n|---|---:|---:|---|")
    for name, w, c, note in rows:
        print(f"| {name} | {w:.3f} | {c:.3f} | {note} |")


if __name__ == "__main__":
    main()
