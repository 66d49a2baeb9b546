"""Vector tiles from the catalog: decoded back with mapbox-vector-tile, checked against the
stations' own coordinates (a plain re-computation of Web Mercator, not the module's)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import mapbox_vector_tile
import numpy as np

from geodata.crs import from_wgs84
from stations.model import Station
from stations.tiles import CLUSTER_BELOW_ZOOM, EXTENT, TileIndex, tile_bounds
from tests.conftest import make_station

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def _stations(points: list[tuple[float, float]]) -> list[Station]:
    return [
        Station(i + 1, make_station(name=f"站{i}", lon=lon, lat=lat), 1, NOW, NOW)
        for i, (lon, lat) in enumerate(points)
    ]


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    n = 2**z
    fx = (lon + 180) / 360 * n
    r = math.radians(lat)
    fy = (1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n
    return int(fx), int(fy), (fx - int(fx)) * EXTENT, (fy - int(fy)) * EXTENT


def _decode(body: bytes) -> list[dict]:
    tile = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    return tile["stations"]["features"]


def test_single_stations_sit_where_web_mercator_puts_them() -> None:
    pts = [(116.5068, 39.7954), (116.5611, 39.7801), (121.47, 31.23)]
    index = TileIndex.build(_stations(pts), counter=1)
    z = 15
    for sid, (lon, lat) in enumerate(pts, 1):
        x, y, px, py = _tile_of(lon, lat, z)
        feats = [f for f in _decode(index.tile(z, x, y)) if f["properties"]["id"] == sid]
        assert len(feats) == 1
        gx, gy = feats[0]["geometry"]["coordinates"]
        assert abs(gx - px) <= 1 and abs(gy - py) <= 1
        assert feats[0]["properties"]["name"] == f"站{sid - 1}"
        west, south, east, north = tile_bounds(z, x, y)
        assert west <= lon < east and south <= lat < north


def test_low_zooms_cluster_and_counts_add_up() -> None:
    rng = np.random.default_rng(7)
    pts = list(zip(rng.uniform(116.3, 116.7, 3000), rng.uniform(39.7, 40.0, 3000), strict=True))
    index = TileIndex.build(_stations([(float(a), float(b)) for a, b in pts]), counter=1)
    for z in (3, 8, CLUSTER_BELOW_ZOOM - 1):
        n = 2**z
        xs = {_tile_of(lon, lat, z)[0] for lon, lat in pts}
        ys = {_tile_of(lon, lat, z)[1] for lon, lat in pts}
        total, features = 0, 0
        for x in range(min(xs), max(xs) + 1):
            for y in range(min(ys), max(ys) + 1):
                body = index.tile(z, x, y)
                if body:
                    feats = _decode(body)
                    features = max(features, len(feats))
                    total += sum(f["properties"]["count"] for f in feats)
        assert total == 3000, z  # every station counted once, in exactly one cluster
        assert features <= 64  # a tile's size does not grow with the station count
        assert n >= 1


def test_gcj02_tiles_shift_the_stations() -> None:
    lon, lat = 116.5068, 39.7954
    index = TileIndex.build(_stations([(lon, lat)]), counter=1)
    gx, gy = (float(v[0]) for v in from_wgs84([lon], [lat], "gcj02"))
    z = 17
    x, y, px, py = _tile_of(gx, gy, z)
    feats = _decode(index.tile(z, x, y, "gcj02"))
    assert len(feats) == 1
    fx, fy = feats[0]["geometry"]["coordinates"]
    assert abs(fx - px) <= 1 and abs(fy - py) <= 1
    wx, wy, _, _ = _tile_of(lon, lat, z)
    assert (wx, wy) != (x, y) or abs(fx - _tile_of(lon, lat, z)[2]) > 50  # hundreds of metres


def test_an_empty_tile_is_empty() -> None:
    index = TileIndex.build(_stations([(116.5, 39.8)]), counter=1)
    assert index.tile(10, 0, 0) == b""
    assert TileIndex.build([], counter=0).tile(0, 0, 0) == b""


def test_a_dense_tile_above_the_cluster_zoom_is_clustered_too() -> None:
    rng = np.random.default_rng(3)
    lon0, lat0 = 116.40, 39.90
    z = 14
    x, y, _, _ = _tile_of(lon0, lat0, z)
    west, south, east, north = tile_bounds(z, x, y)
    pts = [
        (float(a), float(b))
        for a, b in zip(
            rng.uniform(west + 1e-4, east - 1e-4, 1000),
            rng.uniform(south + 1e-4, north - 1e-4, 1000),
            strict=True,
        )
    ]
    index = TileIndex.build(_stations(pts), counter=1)
    feats = _decode(index.tile(z, x, y))
    assert sum(f["properties"]["count"] for f in feats) == 1000 and len(feats) <= 64
    few = TileIndex.build(_stations(pts[:50]), counter=1)
    assert {f["properties"]["count"] for f in _decode(few.tile(z, x, y))} == {1}


def _decoded(body: bytes) -> list[tuple[tuple[int, int], list[tuple[str, object]]]]:
    """A tile's features as sorted (position, sorted properties) pairs, for comparing."""
    if not body:
        return []
    return sorted(
        (tuple(f["geometry"]["coordinates"]), sorted(f["properties"].items()))
        for f in _decode(body)
    )


def _random_tiles(index: TileIndex, rng: np.random.Generator, per_zoom: int) -> list[tuple]:
    """Tiles around random stations at every zoom 2-18, plus an empty one per zoom."""
    out = []
    for z in range(2, 19):
        for i in rng.integers(0, len(index), per_zoom).tolist():
            x, y, _, _ = _tile_of(float(index.lon[i]), float(index.lat[i]), z)
            out.append((z, x, y))
        out.append((z, 0, 0))
    return out


def test_fast_tiles_decode_to_the_library_encoded_reference() -> None:
    """The service's tiles (Morton runs, pre-summed cells, own protobuf writer) against
    the plain scan encoded by mapbox-vector-tile, with and without a filter and open states,
    on clustered cities (dense tiles past the cluster zoom included) in both CRSs."""
    rng = np.random.default_rng(18)
    centres = [(116.40, 39.90), (121.47, 31.23), (113.26, 23.13), (104.07, 30.67)]
    pts = []
    for k in range(4000):
        lon0, lat0 = centres[k % len(centres)]
        spread = 0.002 if k % 5 == 0 else 0.3  # a fifth in a few hundred metres
        pts.append((lon0 + rng.normal(0, spread), lat0 + rng.normal(0, spread)))
    index = TileIndex.build(_stations(pts), counter=1)
    keep = rng.random(len(pts)) < 0.4
    states = rng.integers(-1, 2, len(pts)).astype(np.int8)
    tiles = _random_tiles(index, rng, 6)
    for crs in ("wgs84", "gcj02"):
        for options in ({}, {"states": states}, {"keep": keep, "states": states}):
            for z, x, y in tiles:
                fast = index.tile(z, x, y, crs, variant=(crs, len(options)), **options)
                reference = index.reference_tile(z, x, y, crs, **options)
                assert _decoded(fast) == _decoded(reference), (crs, z, x, y, options.keys())
                if options:  # unnamed: each filtered tile sums its own run
                    assert _decoded(index.tile(z, x, y, crs, **options)) == _decoded(reference)


def test_a_filter_drops_stations_and_states_ride_along() -> None:
    pts = [(116.5068, 39.7954), (116.5069, 39.7955)]
    index = TileIndex.build(_stations(pts), counter=1)
    x, y, _, _ = _tile_of(*pts[0], 16)
    states = np.array([1, -1], np.int8)
    both = _decode(index.tile(16, x, y, states=states, variant="all"))
    assert sorted((f["properties"]["id"], f["properties"]["open"]) for f in both) == [
        (1, 1),
        (2, -1),
    ]
    one = _decode(index.tile(16, x, y, keep=np.array([False, True]), variant="second"))
    assert [f["properties"]["id"] for f in one] == [2]
    # Clustered zooms: the filtered cells count only what passes.
    x, y, _, _ = _tile_of(*pts[0], 5)
    assert [f["properties"]["count"] for f in _decode(index.tile(5, x, y))] == [2]
    filtered = _decode(index.tile(5, x, y, keep=np.array([True, False]), variant="first"))
    assert [(f["properties"]["count"], f["properties"]["id"]) for f in filtered] == [(1, 1)]


def test_the_varint_table_writes_what_plain_leb128_writes() -> None:
    """The precomputed small varints (and the arithmetic past them) against the plain loop,
    across the one- and two-byte boundaries, large ids and negative int64s."""
    from stations.tiles.pbf import _varint

    def plain(value: int) -> bytes:
        value &= (1 << 64) - 1
        out = bytearray()
        while True:
            byte, value = value & 0x7F, value >> 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                return bytes(out)

    for v in [*range(0, 20_000), 2**21 - 1, 2**21, 2**35 + 7, 2**62, -1, -2, -(2**40)]:
        assert _varint(v) == plain(v), v
