"""The geocoding cache on both engines: answers and misses kept, a newer answer replaces."""

from __future__ import annotations

from stations.store.geocode_cache import GeocodeCacheStore
from stations.store.sql import SqlStationStore


def test_answers_and_misses_are_kept_per_provider(store: SqlStationStore) -> None:
    cache = GeocodeCacheStore.beside(store)
    assert cache.get("baidu", "荣华中路10号") is None
    cache.put(
        "baidu",
        "荣华中路10号",
        {"lon": 116.5, "lat": 39.79, "address": "荣华中路", "candidates": 1},
    )
    cache.put("nominatim", "荣华中路10号", {"lon": None, "lat": None, "candidates": 3})
    assert cache.get("baidu", "荣华中路10号") == {
        "lon": 116.5,
        "lat": 39.79,
        "address": "荣华中路",
        "candidates": 1,
    }
    assert cache.get("nominatim", "荣华中路10号") == {
        "lon": None,
        "lat": None,
        "address": None,
        "candidates": 3,
    }
    cache.put("baidu", "荣华中路10号", {"lon": 116.6, "lat": 39.8, "candidates": 1})
    again = GeocodeCacheStore.beside(store).get("baidu", "荣华中路10号")
    assert again is not None and (again["lon"], again["lat"]) == (116.6, 39.8)
