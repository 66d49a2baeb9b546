"""Small data builders shared by the map tests: real stores, real catalogs, hostile names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from stations.search import StationCatalog
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

#: The ``map_store`` and ``map_catalog`` fixtures (``tests/maps/conftest.py``): ``(specs=None)``.
Stores = Callable[..., SqlStationStore]
Catalogs = Callable[..., StationCatalog]

#: Each field tries a different way out of its context; each sets a different flag if it runs.
XSS = {
    "name": '<img src=x onerror="window.__xss=1">',
    "address": "</script><script>window.__xss=2</script>",
    "host_org": "<b onmouseover=window.__xss=3>主办</b>",
    "notes": "<svg onload=window.__xss=4>",
    "phone": '010-1234"><script>window.__xss=5</script>',
}

#: A few E-Town stations with distinct states (open all day, office hours, paused, no hours).
STATIONS: list[dict[str, Any]] = [
    {
        "name": "荣华中路驿站",
        "lon": 116.5068,
        "lat": 39.7954,
        "opening_hours": "24/7",
        "amenities": ["hot_water", "charging", "toilet"],
        "phone": "010-67850392",
        "host_type": "bank",
        "host_org": "北京银行亦庄支行",
    },
    {
        "name": "科创街快递驿站",
        "lon": 116.5301,
        "lat": 39.7802,
        "opening_hours": "24/7",
        "amenities": ["drinking_water", "microwave"],
        "host_type": "express_depot",
    },
    {
        "name": "博兴路工会驿站",
        "lon": 116.4899,
        "lat": 39.8101,
        "opening_hours": "24/7",
        "amenities": ["hot_water", "wifi"],
        "status": "temporarily_closed",
        "host_type": "union_office",
    },
    {
        "name": "地盛北街驿站",
        "lon": 116.5152,
        "lat": 39.7655,
        "opening_hours": "",
        "amenities": ["hot_water", "seating"],
        "host_type": "convenience_store",
    },
]


def make_store(url: str, specs: list[dict[str, Any]] | None = None) -> SqlStationStore:
    """A store on the fresh database ``url`` (from the ``store_url``/``new_store_url``
    fixtures, so on each engine) holding ``specs``."""
    store = SqlStationStore(url)
    for spec in STATIONS if specs is None else specs:
        store.create(make_station(**spec), actor="test")
    return store


def make_catalog(url: str, specs: list[dict[str, Any]] | None = None) -> StationCatalog:
    return StationCatalog(make_store(url, specs))


_BLOCK = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)


def json_blocks(html: str) -> dict[str, Any]:
    """The page's JSON data blocks by id, parsed as the browser would."""
    return {m.group(1): json.loads(m.group(2)) for m in _BLOCK.finditer(html)}
