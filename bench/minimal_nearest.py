"""The second baseline of ``nearest_bench.py --http``: a minimal nearest endpoint.

What a competent engineer would write in an afternoon, with none of the service's speed
work: a FastAPI app with one route declared the ordinary way (FastAPI validates each query
parameter), scipy's ``cKDTree`` over the stations' ECEF points, the candidates re-ranked
by geodesic metres with pyproj, open-now asked of each hit, and the answer serialised per
request by orjson. No middleware.

It answers the SAME bytes as ``/api/v1/nearest?lat=&lon=&k=`` (the bench checks that on
fresh points), so the two are compared for equal work: each station's static feature (its
properties, geometry and navigation links) is rendered by the service's own formatter the
first time the station is asked for (with its open-now state, which also decides the
schedule-only trust members), and kept in a cache of the same bound as the service's
fragment cache; per request only ``distance_m`` is set. The bench's store has no rider
confirmations, so the service's trust overlay changes nothing either.

Run by the bench as a child process::

    python -m bench.minimal_nearest serve --host 127.0.0.1 --port P --workers 1

with ``STATIONS_DATABASE_URL`` naming the store the service reads.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__all__ = ["create_app", "main"]

_CACHE_MAX = 16_384  # as the service's fragment cache (stations.features)
_OVERFETCH = 8  # chord order is geodesic order but for micrometres: a few spare candidates


def _ecef(lon: np.ndarray, lat: np.ndarray, a: float, e2: float) -> tuple[np.ndarray, ...]:
    """Points on the ellipsoid as Earth-centred metres: chords there rank as geodesics do."""
    lam, phi = np.radians(lon), np.radians(lat)
    normal = a / np.sqrt(1.0 - e2 * np.sin(phi) ** 2)
    return (
        normal * np.cos(phi) * np.cos(lam),
        normal * np.cos(phi) * np.sin(lam),
        normal * (1.0 - e2) * np.sin(phi),
    )


def create_app(database_url: str) -> Any:
    """The minimal app over the stations of ``database_url``."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - bench only
        raise SystemExit("the minimal baseline needs orjson: pip install -e '.[bench]'") from None
    from fastapi import FastAPI, Query, Response
    from pyproj import Geod
    from scipy.spatial import cKDTree

    from stations.features import features
    from stations.hours import is_open
    from stations.search import Hit
    from stations.store.sql import SqlStationStore

    store = SqlStationStore(database_url)
    stations = list(store.all())
    store.close()
    lon = np.array([s.data.lon for s in stations])
    lat = np.array([s.data.lat for s in stations])
    ids = np.array([s.id for s in stations], dtype=np.int64)
    geod = Geod(ellps="WGS84")
    tree = cKDTree(np.column_stack(_ecef(lon, lat, geod.a, geod.es)))
    cache: OrderedDict[tuple[int, bool | None], dict[str, Any]] = OrderedDict()
    app = FastAPI()

    def static(keys: list[tuple[int, bool | None]]) -> list[dict[str, Any]]:
        """Each (position, open-now) key's feature, rendered by the service's formatter
        the first time (open-now decides the schedule-only trust members too)."""
        missing = [key for key in keys if key not in cache]
        if missing:
            rendered = features(
                [Hit(stations[p], 0.0, state) for p, state in missing], "wgs84", navigation=True
            )
            for key, feature in zip(missing, rendered, strict=True):
                cache[key] = feature
            while len(cache) > _CACHE_MAX:
                cache.popitem(last=False)
        return [cache[key] for key in keys]

    @app.get("/nearest")
    async def nearest(
        lat: float = Query(ge=-90, le=90),
        lon: float = Query(ge=-180, le=180),
        k: int = Query(5, ge=1, le=50),
    ) -> Response:
        q = _ecef(np.array([lon]), np.array([lat]), geod.a, geod.es)
        _, found = tree.query(np.column_stack(q)[0], k=min(k + _OVERFETCH, len(stations)))
        found = np.atleast_1d(found)
        metres = geod.inv(
            np.full(found.size, lon), np.full(found.size, lat), lon_of[found], lat_of[found]
        )[2]
        order = np.lexsort((ids[found], metres))[:k]
        positions = found[order].tolist()
        now = datetime.now().astimezone()
        keys = [
            (p, is_open(stations[p].data.opening_hours, stations[p].data.status, now))
            for p in positions
        ]
        out = []
        for feature, d in zip(static(keys), metres[order].tolist(), strict=True):
            props = dict(feature["properties"])
            props["distance_m"] = round(d, 2)
            out.append({**feature, "properties": props})
        body = {"type": "FeatureCollection", "features": out, "numberReturned": len(out)}
        return Response(orjson.dumps(body), media_type="application/geo+json")

    @app.get("/readyz")
    async def readyz() -> dict[str, Any]:
        return {"status": "ready", "pid": os.getpid(), "stations": len(stations)}

    lon_of, lat_of = lon, lat
    return app


def main(argv: list[str] | None = None) -> None:
    """``serve --host H --port P --workers 1``: the arguments the bench's Server passes."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, choices=[1], default=1)
    args = parser.parse_args(argv)
    app = create_app(os.environ["STATIONS_DATABASE_URL"])
    # As ``stations serve`` runs the service: same uvicorn options, access log included.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=True)


if __name__ == "__main__":
    main()
