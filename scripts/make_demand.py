"""Generate geodata/data/etown_demand_synthetic.geojson — a SYNTHETIC E-Town demand layer.

合成示例数据，非真实统计 — made-up data for demos and tests, not statistics.

Why it exists: coverage and planning need "where riders spend their day"; no open data set
says that for E-Town.  This script places weighted demand points around approximate
positions of real kinds of places — office parks, residential compounds, delivery hubs and
restaurant streets — plus a thin background, clipped to the shipped service area.  Every
position below is approximate (hand-placed from public maps, WGS-84) and the weights are
invented; the file's metadata says so.

Deterministic: a fixed seed and fixed rounding give the same bytes on every run.

    python scripts/make_demand.py            # rewrites the file
    python scripts/make_demand.py --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geodata.areas import load_area  # noqa: E402

OUT = ROOT / "geodata" / "data" / "etown_demand_synthetic.geojson"
SEED = 20240601
FALLBACK_BBOX = (116.45, 39.72, 116.62, 39.84)  # used only if the area file is missing

# (name, kind, lon, lat, spread in metres, points, mean weight) — approximate places
HOTSPOTS: list[tuple[str, str, float, float, float, int, float]] = [
    ("亦庄核心区 荣华中路/荣京东街", "office", 116.507, 39.795, 700, 160, 6.0),
    ("博大大厦一带", "office", 116.510, 39.799, 350, 60, 5.0),
    ("京东总部 科创十一街", "office", 116.563, 39.786, 500, 130, 7.0),
    ("经海路产业园", "office", 116.553, 39.775, 800, 110, 4.0),
    ("同济南路工业区", "office", 116.533, 39.772, 700, 80, 3.0),
    ("大族广场 餐饮街", "restaurant", 116.512, 39.801, 300, 70, 8.0),
    ("荣京东街 餐饮商业", "restaurant", 116.514, 39.790, 300, 60, 7.0),
    ("亦庄文化园 商圈", "restaurant", 116.496, 39.803, 350, 50, 6.0),
    ("旧宫 居住区", "residential", 116.455, 39.805, 900, 130, 3.0),
    ("瀛海 居住区", "residential", 116.460, 39.765, 900, 110, 2.5),
    ("亦庄 经海路居住区", "residential", 116.545, 39.795, 700, 90, 2.5),
    ("次渠 居住区", "residential", 116.590, 39.806, 700, 80, 2.5),
    ("台湖 居住区", "residential", 116.600, 39.837, 800, 60, 2.0),
    ("马驹桥 物流园（快递分拨，示意）", "delivery_hub", 116.567, 39.748, 700, 100, 9.0),
    ("亦庄 快递分拨中心（示意）", "delivery_hub", 116.528, 39.763, 400, 60, 8.0),
    ("台湖 物流仓储（示意）", "delivery_hub", 116.612, 39.826, 500, 50, 6.0),
]
BACKGROUND_POINTS = 260
BACKGROUND_WEIGHT = 0.5


def _points(rng: np.random.Generator, area: shapely.Geometry) -> list[dict]:
    feats: list[dict] = []
    m_per_deg_lat = 111_000.0
    for _name, kind, lon, lat, spread, n, mean_w in HOTSPOTS:
        m_per_deg_lon = m_per_deg_lat * np.cos(np.radians(lat))
        dx = rng.normal(0.0, spread, size=n * 2)
        dy = rng.normal(0.0, spread, size=n * 2)
        x = lon + dx / m_per_deg_lon
        y = lat + dy / m_per_deg_lat
        w = rng.gamma(2.0, mean_w / 2.0, size=n * 2)
        inside = shapely.contains_xy(area, x, y)
        for xi, yi, wi in list(zip(x[inside], y[inside], w[inside], strict=True))[:n]:
            feats.append(_feature(xi, yi, wi, kind))
    minx, miny, maxx, maxy = area.bounds
    x = rng.uniform(minx, maxx, BACKGROUND_POINTS * 3)
    y = rng.uniform(miny, maxy, BACKGROUND_POINTS * 3)
    inside = shapely.contains_xy(area, x, y)
    for xi, yi in list(zip(x[inside], y[inside], strict=True))[:BACKGROUND_POINTS]:
        feats.append(_feature(xi, yi, BACKGROUND_WEIGHT, "background"))
    return feats


def _feature(lon: float, lat: float, weight: float, kind: str) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 5), round(float(lat), 5)]},
        "properties": {"weight": round(max(float(weight), 0.1), 1), "kind": kind},
    }


def build() -> str:
    """The file's exact text."""
    try:
        area = load_area()
    except Exception:  # the area file is written by another task; fall back to its bbox
        area = shapely.box(*FALLBACK_BBOX)
    rng = np.random.default_rng(SEED)
    doc = {
        "type": "FeatureCollection",
        "name": "etown_demand_synthetic",
        "metadata": {
            "synthetic": True,
            "label": "E-Town synthetic rider demand (SYNTHETIC) — 合成示例数据，非真实统计",
            "description": (
                "Made-up weighted demand points around approximate E-Town office parks, "
                "residential compounds, delivery hubs and restaurant streets, for demos and "
                "tests only. Positions are approximate, weights are invented."
            ),
            "generator": "scripts/make_demand.py",
            "seed": SEED,
            "crs": "WGS-84 (EPSG:4326)",
            "kinds": sorted({h[1] for h in HOTSPOTS} | {"background"}),
            "places": [{"name": h[0], "kind": h[1], "lon": h[2], "lat": h[3]} for h in HOTSPOTS],
        },
        "features": _points(rng, area),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    args = parser.parse_args()
    text = build()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date; run scripts/make_demand.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text.encode()) // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
