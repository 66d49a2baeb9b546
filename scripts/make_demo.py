"""Generate the synthetic E-Town demo data set (``stations/data/etown_demo.geojson``).

The E-Town union has opened 98 warm stations for the express and logistics trade; its own list
is not part of this project, so the demo ships a *synthetic* stand-in of the same shape: 98 stations inside the approximate service area (``geodata/data/etown_area.geojson``),
denser in the core around 荣华中路, hosted mostly by express depots, one inside a Bank of Beijing
branch, with varied amenities, hours and statuses. Positions are drawn around anchor points on
real E-Town road names so that each address names a road near its station.

The output is deterministic: a fixed seed, no network, and a fixed JSON layout, so running the
script again reproduces the shipped file byte for byte (``tests/stations/test_demo_data.py``
checks that). Change the seed or the tables here and re-run to regenerate the file.

Usage::

    python scripts/make_demo.py [--output PATH] [--area PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj import Geod
from shapely import Polygon, contains_xy
from shapely.geometry import shape

__all__ = ["SEED", "STATION_COUNT", "build_demo", "dumps_demo", "main"]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_AREA = REPO / "geodata" / "data" / "etown_area.geojson"
DEFAULT_OUTPUT = REPO / "stations" / "data" / "etown_demo.geojson"

SEED = 20240612
STATION_COUNT = 98
#: Minimum spacing between generated stations (the tests require at least 20 m).
MIN_SPACING_M = 60.0
#: Spread of stations around their road anchor (Rayleigh scale, metres).
ANCHOR_SPREAD_M = 380.0
#: Share of stations placed uniformly over the area rather than around a road anchor …
BACKGROUND_SHARE = 0.08
#: … but no farther than this from a road anchor, so that the address names a nearby road.
BACKGROUND_MAX_ROAD_M = 1500.0
#: The E-Town core (荣华中路 / 荣京东街), where the head-office stations are.
CORE = (116.505, 39.795)

DATASET_NAME = "亦庄暖心驿站演示数据（合成）"
DATASET_NOTE = "合成演示数据，非工会官方名单 / synthetic demo data, not the union's official list"

_GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- the geography


@dataclass(frozen=True)
class Road:
    """A named road with one anchor point near which stations on it are placed."""

    name: str
    lon: float
    lat: float
    weight: float
    town: str = ""  # a town prefix for the address (e.g. 旧宫镇), empty inside E-Town proper


def _kechuang_streets() -> list[Road]:
    # 科创一街 … 科创十四街 run across 路东区; anchors spaced along a NW–SE line.
    numerals = "一二三四五六七八九十"
    names = [f"科创{numerals[i]}街" for i in range(10)]
    names += [f"科创十{numerals[i]}街" for i in range(4)]
    start, end = (116.534, 39.803), (116.590, 39.770)
    roads = []
    for i, name in enumerate(names):
        f = i / (len(names) - 1)
        lon = start[0] + f * (end[0] - start[0])
        lat = start[1] + f * (end[1] - start[1])
        roads.append(Road(name, round(lon, 4), round(lat, 4), 0.6))
    return roads


#: Anchor points on real E-Town road names (approximate positions); weight = relative density.
ROADS: tuple[Road, ...] = (
    Road("荣华中路", 116.506, 39.795, 3.0),
    Road("荣华南路", 116.512, 39.786, 3.0),
    Road("荣京东街", 116.500, 39.801, 3.0),
    Road("荣昌东街", 116.514, 39.800, 3.0),
    Road("宏达中路", 116.509, 39.790, 3.0),
    Road("文化园西路", 116.497, 39.795, 2.5),
    Road("景园街", 116.508, 39.803, 2.5),
    Road("宏达北路", 116.498, 39.808, 2.0),
    Road("永昌北路", 116.519, 39.797, 2.0),
    Road("永昌南路", 116.523, 39.787, 2.0),
    Road("康定街", 116.493, 39.789, 1.5),
    Road("天华街", 116.489, 39.803, 1.5),
    Road("万源街", 116.484, 39.796, 1.5),
    Road("西环南路", 116.488, 39.785, 1.5),
    Road("北环东路", 116.515, 39.810, 1.5),
    Road("东环中路", 116.528, 39.800, 1.5),
    Road("地盛北街", 116.520, 39.776, 1.5),
    Road("地盛中路", 116.527, 39.770, 1.0),
    Road("同济南路", 116.531, 39.781, 1.5),
    Road("运成街", 116.536, 39.791, 1.0),
    Road("博兴一路", 116.537, 39.772, 1.0),
    Road("博兴六路", 116.546, 39.762, 1.0),
    Road("兴海路", 116.552, 39.770, 1.0),
    Road("经海路", 116.560, 39.782, 2.0),
    Road("经海二路", 116.566, 39.790, 1.0),
    Road("经海三路", 116.571, 39.796, 1.0),
    Road("景盛南四街", 116.563, 39.758, 1.0),
    Road("旧宫东路", 116.462, 39.812, 1.0, town="旧宫镇"),
    *_kechuang_streets(),
)


def district_of(lon: float, lat: float) -> str:
    """Return 大兴区 or 通州区 for a point, by an approximate dividing line.

    E-Town straddles the two districts: the core, 旧宫 and 瀛海 are in Daxing; 马驹桥, 台湖 and
    much of 路东区 east of the expressway are in Tongzhou. The line from (116.535, 39.85) to
    (116.555, 39.72) stands in for the real, much more ragged boundary.
    """
    (x1, y1), (x2, y2) = (116.535, 39.85), (116.555, 39.72)
    boundary_lon = x1 + (lat - y1) / (y2 - y1) * (x2 - x1)
    return "通州区" if lon > boundary_lon else "大兴区"


# --------------------------------------------------------------------------- the hosts

#: How many stations of each brand-hosted type, placed along roads; express depots are the
#: trade's own network. Institutions (unions, communities, government, other) come from
#: :data:`PLACES_BY_HOST`, one station each.
ROAD_HOST_COUNTS: dict[str, int] = {
    "express_depot": 40,
    "bank": 12,
    "convenience_store": 12,
    "gas_station": 6,
}

#: Express brands → (weight, kinds of outlet they name).
EXPRESS_BRANDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "京东物流": (3.0, ("配送站", "营业部")),
    "顺丰速运": (3.0, ("营业部", "营业点")),
    "中通快递": (1.5, ("网点", "分部")),
    "圆通速递": (1.5, ("网点", "分部")),
    "韵达快递": (1.5, ("网点", "分部")),
    "申通快递": (1.0, ("网点",)),
    "极兔速递": (1.0, ("网点",)),
    "中国邮政": (1.0, ("邮政所", "投递站")),
    "菜鸟驿站": (1.5, ("站",)),
}

BANKS: dict[str, float] = {
    "中国工商银行": 2.0,
    "中国建设银行": 2.0,
    "中国农业银行": 1.5,
    "中国银行": 1.5,
    "交通银行": 1.0,
    "中国邮政储蓄银行": 1.0,
    "招商银行": 1.0,
    "中信银行": 0.5,
}

CONVENIENCE: dict[str, float] = {"便利蜂": 3.0, "7-ELEVEn": 2.0, "好邻居": 2.0, "物美": 2.0}
GAS: dict[str, float] = {"中国石化": 2.0, "中国石油": 1.0}

#: The one station inside a Bank of Beijing branch: (name, host_org).
BANK_OF_BEIJING = ("北京银行亦庄支行暖心驿站", "北京银行")


@dataclass(frozen=True)
class Place:
    """A named institution with an approximate location, matched to the nearest station."""

    name: str
    host_org: str
    lon: float
    lat: float


#: The E-Town union's own office, in the core; it is station YZ-001.
UNION_HQ = Place("开发区总工会职工服务中心暖心驿站", "北京经济技术开发区总工会", 116.507, 39.797)
#: Street, town and park unions (the E-Town union's own office is :data:`UNION_HQ`).
UNION_PLACES: tuple[Place, ...] = (
    Place("荣华街道工会服务站暖心驿站", "荣华街道总工会", 116.505, 39.801),
    Place("博兴街道工会服务站暖心驿站", "博兴街道总工会", 116.527, 39.779),
    Place("亦庄镇总工会职工之家暖心驿站", "亦庄镇总工会", 116.490, 39.792),
    Place("旧宫镇总工会职工之家暖心驿站", "旧宫镇总工会", 116.459, 39.811),
    Place("马驹桥镇总工会职工之家暖心驿站", "马驹桥镇总工会", 116.558, 39.752),
    Place("路东区园区联合工会暖心驿站", "路东区园区联合工会", 116.565, 39.785),
    Place("生物医药园联合工会暖心驿站", "生物医药园联合工会", 116.540, 39.770),
)

COMMUNITY_PLACES: tuple[Place, ...] = tuple(
    Place(f"{c}社区党群服务中心暖心驿站", f"{c}社区居委会", lon, lat)
    for c, lon, lat in (
        ("天宝园", 116.505, 39.800),
        ("文化园", 116.495, 39.796),
        ("林肯公园", 116.490, 39.806),
        ("星岛嘉园", 116.508, 39.785),
        ("泰河园", 116.520, 39.791),
        ("鹿海园", 116.530, 39.775),
        ("富源里", 116.485, 39.790),
        ("亦城茗苑", 116.535, 39.785),
        ("德茂", 116.461, 39.808),
        ("金桥", 116.560, 39.762),
    )
)

GOVERNMENT_PLACES: tuple[Place, ...] = (
    Place("开发区政务服务中心暖心驿站", "北京经济技术开发区政务服务中心", 116.508, 39.793),
    Place("荣华街道便民服务中心暖心驿站", "荣华街道办事处", 116.503, 39.803),
    Place("博兴街道便民服务中心暖心驿站", "博兴街道办事处", 116.530, 39.778),
    Place("亦庄镇便民服务中心暖心驿站", "亦庄镇人民政府", 116.488, 39.790),
    Place("旧宫镇便民服务中心暖心驿站", "旧宫镇人民政府", 116.463, 39.813),
    Place("马驹桥镇便民服务中心暖心驿站", "马驹桥镇人民政府", 116.555, 39.756),
)

OTHER_PLACES: tuple[Place, ...] = (
    Place("博大公园服务中心暖心驿站", "博大公园管理处", 116.512, 39.792),
    Place("通明湖公园服务中心暖心驿站", "通明湖公园管理处", 116.553, 39.790),
    Place("亦创国际会展中心暖心驿站", "亦创国际会展中心", 116.520, 39.782),
    Place("生物医药园物业服务中心暖心驿站", "生物医药园物业服务中心", 116.542, 39.766),
)

#: Institutions are placed at their own location (and named after it); brands along roads.
PLACES_BY_HOST: dict[str, tuple[Place, ...]] = {
    "union_office": (UNION_HQ, *UNION_PLACES),
    "community_center": COMMUNITY_PLACES,
    "government": GOVERNMENT_PLACES,
    "other": OTHER_PLACES,
}

# --------------------------------------------------------------------------- services

AMENITY_CODES: tuple[str, ...] = (
    "drinking_water",
    "hot_water",
    "microwave",
    "fridge",
    "charging",
    "toilet",
    "seating",
    "air_conditioning",
    "heating",
    "first_aid",
    "wifi",
    "umbrella",
    "repair_tools",
    "reading",
)

#: Base probability that a station offers each amenity.
AMENITY_BASE: dict[str, float] = {
    "drinking_water": 0.85,
    "hot_water": 0.93,
    "microwave": 0.55,
    "fridge": 0.2,
    "charging": 0.9,
    "toilet": 0.82,
    "seating": 0.85,
    "air_conditioning": 0.6,
    "heating": 0.55,
    "first_aid": 0.6,
    "wifi": 0.4,
    "umbrella": 0.35,
    "repair_tools": 0.25,
    "reading": 0.25,
}

#: Per host type, amenities whose probability differs from the base.
AMENITY_BY_HOST: dict[str, dict[str, float]] = {
    "express_depot": {"repair_tools": 0.5, "microwave": 0.65, "toilet": 0.75, "wifi": 0.25},
    "bank": {"wifi": 0.8, "air_conditioning": 0.95, "heating": 0.9, "reading": 0.45},
    "union_office": {"microwave": 0.9, "reading": 0.8, "fridge": 0.5, "first_aid": 0.9},
    "convenience_store": {"microwave": 0.95, "toilet": 0.5, "umbrella": 0.6, "seating": 0.7},
    "gas_station": {"toilet": 1.0, "repair_tools": 0.5, "hot_water": 1.0},
    "community_center": {"reading": 0.8, "microwave": 0.8, "toilet": 0.95, "first_aid": 0.85},
    "government": {"toilet": 1.0, "wifi": 0.7, "reading": 0.6, "air_conditioning": 0.95},
    "other": {"toilet": 0.9},
}

#: Per host type, weighted opening-hours choices in OpenStreetMap syntax.
HOURS_BY_HOST: dict[str, tuple[tuple[str, float], ...]] = {
    "express_depot": (
        ("Mo-Su 08:00-20:00", 4.0),
        ("Mo-Su 07:30-21:00", 3.0),
        ("Mo-Sa 08:00-19:00", 2.0),
        ("Mo-Su 08:00-22:00", 1.5),
        ("24/7", 1.0),
    ),
    "bank": (
        ("Mo-Fr 09:00-17:00", 3.0),
        ("Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00", 3.0),
        ("Mo-Fr 09:00-17:00; Sa 09:00-16:00", 1.0),
    ),
    "union_office": (
        ("Mo-Fr 08:30-17:30", 2.0),
        ("Mo-Fr 09:00-17:00", 1.0),
        ("Mo-Su 08:00-22:00", 1.0),
    ),
    "convenience_store": (("24/7", 3.0), ("Mo-Su 07:00-23:00", 2.0)),
    "gas_station": (("24/7", 1.0),),
    "community_center": (
        ("Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00", 2.0),
        ("Mo-Su 08:00-22:00", 1.5),
        ("Mo-Fr 08:30-17:30; Sa 09:00-12:00", 1.0),
    ),
    "government": (
        ("Mo-Fr 09:00-17:00", 2.0),
        ("Mo-Fr 08:30-12:00,13:30-17:30", 1.0),
    ),
    "other": (("Mo-Su 06:00-22:00", 2.0), ("Mo-Su 08:00-20:00", 1.0)),
}

NOTES_TEMPORARILY_CLOSED = (
    "网点装修改造，暂停开放",
    "设备检修，暂停开放",
    "网点升级改造中，预计下月恢复",
    "人员调整，暂停开放",
    "配合道路施工，暂停开放",
)
NOTE_CLOSED = "网点搬迁，驿站已撤销"
NOTE_SMART = "扫码开门（智慧驿站）"

#: How riders get in, by host (weights): a bank branch or a depot has someone at the door, a
#: shop or a filling station is simply open, a government building checks an ID card. The
#: 24/7 "smart" depots open by scanning (their note says so).
ENTRY_BY_HOST: dict[str, dict[str, float]] = {
    "express_depot": {"staffed": 4.0, "open_door": 2.0},
    "bank": {"staffed": 3.0, "open_door": 1.0},
    "union_office": {"staffed": 2.0, "open_door": 1.0},
    "convenience_store": {"open_door": 1.0},
    "gas_station": {"open_door": 1.0},
    "community_center": {"open_door": 2.0, "staffed": 1.0},
    "government": {"face_or_id": 2.0, "staffed": 1.0},
    "other": {"open_door": 1.0, "code_lock": 1.0},
}
#: Share of stations whose entry the clerk has recorded (the field is new to their sheet).
ENTRY_RECORDED_SHARE = 0.75
#: Whether each entry method works without a smartphone (None: it depends, e.g. how the
#: lock's code is handed out).
NO_SMARTPHONE_BY_ENTRY: dict[str, bool | None] = {
    "open_door": True,
    "staffed": True,
    "face_or_id": True,
    "scan": False,
    "code_lock": None,
    "other": None,
}


# --------------------------------------------------------------------------- generation


def _load_area(path: Path) -> Polygon:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data.get("features", [])
    if len(features) != 1 or features[0]["geometry"]["type"] != "Polygon":
        raise SystemExit(f"{path}: expected one Polygon feature, found {len(features)} features")
    polygon = shape(features[0]["geometry"])
    if not polygon.is_valid:
        raise SystemExit(f"{path}: the service-area polygon is not valid")
    return polygon


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def _rayleigh_step(
    rng: random.Random, lon: float, lat: float, scale_m: float
) -> tuple[float, float]:
    """A random point around (lon, lat): uniform direction, Rayleigh distance (2-D Gaussian)."""
    azimuth = rng.uniform(0.0, 360.0)
    distance = scale_m * math.sqrt(-2.0 * math.log(1.0 - rng.random()))
    new_lon, new_lat, _ = _GEOD.fwd(lon, lat, azimuth, distance)
    return new_lon, new_lat


def _nearest_road(lon: float, lat: float) -> tuple[Road, float]:
    """The road anchor nearest to a point, and its distance in metres."""
    n = len(ROADS)
    _, _, dist = _GEOD.inv([lon] * n, [lat] * n, [r.lon for r in ROADS], [r.lat for r in ROADS])
    best = min(range(n), key=lambda i: dist[i])
    return ROADS[best], float(dist[best])


@dataclass
class _Layout:
    """Accepted station positions: inside the area and at least MIN_SPACING_M apart."""

    area: Polygon
    lons: list[float]
    lats: list[float]

    def accept(self, lon: float, lat: float) -> tuple[float, float] | None:
        lon, lat = round(lon, 7), round(lat, 7)  # check what will be written
        if not contains_xy(self.area, lon, lat):
            return None
        if self.lons:
            n = len(self.lons)
            _, _, dist = _GEOD.inv([lon] * n, [lat] * n, self.lons, self.lats)
            if min(dist) < MIN_SPACING_M:
                return None
        self.lons.append(lon)
        self.lats.append(lat)
        return lon, lat


@dataclass
class _Site:
    lon: float
    lat: float
    road: Road
    host_type: str
    place: Place | None  # the institution, for institution-hosted stations


def _place_sites(rng: random.Random, layout: _Layout) -> list[_Site]:
    """One station at (or within a few hundred metres of) each institution."""
    sites = []
    for host_type, places in PLACES_BY_HOST.items():
        for place in places:
            accepted = None
            while accepted is None:
                accepted = layout.accept(*_rayleigh_step(rng, place.lon, place.lat, 120.0))
            lon, lat = accepted
            sites.append(_Site(lon, lat, _nearest_road(lon, lat)[0], host_type, place))
    return sites


def _road_sites(rng: random.Random, layout: _Layout) -> list[_Site]:
    """Brand-hosted stations around weighted road anchors, plus a uniform background."""
    min_lon, min_lat, max_lon, max_lat = layout.area.bounds
    weights = [r.weight for r in ROADS]
    host_types = [t for t, n in ROAD_HOST_COUNTS.items() for _ in range(n)]
    sites = []
    for host_type in host_types:
        accepted = None
        while accepted is None:
            if rng.random() < BACKGROUND_SHARE:
                lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
                road, distance = _nearest_road(lon, lat)
                if distance > BACKGROUND_MAX_ROAD_M:
                    continue  # too far from any road the address could name
            else:
                road = rng.choices(ROADS, weights=weights)[0]
                lon, lat = _rayleigh_step(rng, road.lon, road.lat, ANCHOR_SPREAD_M)
            accepted = layout.accept(lon, lat)
        lon, lat = accepted
        sites.append(_Site(lon, lat, road, host_type, None))
    return sites


def _core_distance(site: _Site) -> float:
    return float(_GEOD.inv(CORE[0], CORE[1], site.lon, site.lat)[2])


def _address(rng: random.Random, district: str, road: Road, used: set[str]) -> str:
    while True:
        number = rng.randint(1, 88)
        key = f"{road.name}{number}"
        if key not in used:
            used.add(key)
            break
    style = rng.random()
    if style < 0.6:
        tail = f"{number}号"
    elif style < 0.85:
        tail = f"{number}号院{rng.randint(1, 12)}号楼"
    else:
        tail = f"{number}号1层"
    return f"北京市{district}{road.town}{road.name}{tail}"


def _amenities(rng: random.Random, host_type: str) -> list[str]:
    odds = {**AMENITY_BASE, **AMENITY_BY_HOST[host_type]}
    chosen = [code for code in AMENITY_CODES if rng.random() < odds[code]]
    if "hot_water" not in chosen and "drinking_water" not in chosen:
        chosen.insert(0, "hot_water")  # every station offers at least something to drink
    return [code for code in AMENITY_CODES if code in chosen]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = f"010-{rng.choice(('6785', '6786', '6787', '6788'))}{rng.randint(0, 9999):04d}"
        if phone not in used:
            used.add(phone)
            return phone


def _brand_host(rng: random.Random, host_type: str, road: Road, taken: set[str]) -> tuple[str, str]:
    """Name and host organisation of a brand-hosted station, unique among ``taken``."""
    area = "" if road.town else "亦庄"  # 旧宫东路 already says where it is
    for attempt in range(60):
        if host_type == "express_depot":
            brand = _weighted(rng, {b: w for b, (w, _) in EXPRESS_BRANDS.items()})
            kind = rng.choice(EXPRESS_BRANDS[brand][1])
            name = f"{brand}{area}{road.name}{kind}暖心驿站"
        elif host_type == "bank":
            brand = _weighted(rng, BANKS)
            name = f"{brand}北京{area}{road.name}支行暖心驿站"
        elif host_type == "convenience_store":
            brand = _weighted(rng, CONVENIENCE)
            shop = "便利店" if brand == "物美" else ""
            name = f"{brand}{shop}（{road.name}店）暖心驿站"
        elif host_type == "gas_station":
            brand = _weighted(rng, GAS)
            name = f"{brand}{area}{road.name}加油站暖心驿站"
        else:
            raise ValueError(f"host type {host_type!r} is not brand-hosted")
        if attempt >= 30:  # a busy road: number the outlets
            name = name.replace("暖心驿站", f"{attempt - 28}号暖心驿站")
        if name not in taken:
            taken.add(name)
            return name, brand
    raise RuntimeError(f"could not find a unique name for a {host_type} on {road.name}")


def build_demo(area: Polygon, seed: int = SEED) -> dict[str, Any]:
    """Build the demo FeatureCollection for ``area`` from ``seed``.

    Parameters
    ----------
    area : shapely.Polygon
        The service area (WGS-84 lon/lat); every station is placed inside it.
    seed : int
        Seed of the private random generator; the same seed gives the same data.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection labelled ``synthetic``, stations ``YZ-001`` … ``YZ-098``.
    """
    rng = random.Random(seed)
    # Its own generator, so the fields added later leave every earlier one as it was.
    entry_rng = random.Random(seed + 1)
    layout = _Layout(area, [], [])
    sites = _place_sites(rng, layout) + _road_sites(rng, layout)
    if len(sites) != STATION_COUNT:
        raise AssertionError(f"tables give {len(sites)} stations, not {STATION_COUNT}")
    # The union's own office is YZ-001; the rest are numbered in no particular order, as
    # stations joined the network.
    head, rest = sites[0], sites[1:]
    rng.shuffle(rest)
    sites = [head, *rest]

    # The Bank of Beijing station is its 亦庄支行, the bank station nearest the core.
    bank_of_beijing = min(
        (i for i, s in enumerate(sites) if s.host_type == "bank"),
        key=lambda i: _core_distance(sites[i]),
    )
    candidates = [i for i in range(1, STATION_COUNT) if i != bank_of_beijing]
    paused = rng.sample(candidates, 5)
    temporarily_closed, closed = set(paused[:4]), paused[4]
    open_ids = [i for i in candidates if i not in paused]
    no_hours = set(rng.sample([i for i in open_ids if sites[i].host_type == "express_depot"], 2))
    no_phone = set(rng.sample([i for i in open_ids if sites[i].host_type == "express_depot"], 3))
    institutions = [
        i for i in candidates if sites[i].host_type in ("union_office", "community_center")
    ]
    everything = set(rng.sample(institutions, 3)) | {0}

    taken_names = {p.name for places in PLACES_BY_HOST.values() for p in places}
    used_addresses: set[str] = set()
    used_phones: set[str] = set()
    features: list[dict[str, Any]] = []
    for i, site in enumerate(sites):
        host_type = site.host_type
        district = district_of(site.lon, site.lat)
        if i == bank_of_beijing:
            name, host_org = BANK_OF_BEIJING
        elif site.place is not None:
            name, host_org = site.place.name, site.place.host_org
        else:
            name, host_org = _brand_host(rng, host_type, site.road, taken_names)

        amenities = list(AMENITY_CODES) if i in everything else _amenities(rng, host_type)
        hours = "" if i in no_hours else _weighted(rng, dict(HOURS_BY_HOST[host_type]))
        status = "open"
        if i in temporarily_closed:
            status = "temporarily_closed"
            notes = rng.choice(NOTES_TEMPORARILY_CLOSED)
        elif i == closed:
            status = "closed"
            notes = NOTE_CLOSED
        elif i in no_hours:
            notes = "开放时间以网点公示为准"
        elif hours == "24/7" and host_type == "express_depot":
            notes = NOTE_SMART
        else:
            notes = _open_note(rng, host_type, amenities)
        entry, no_smartphone_ok = _entry(entry_rng, host_type, notes)

        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
                "properties": {
                    "external_id": f"YZ-{i + 1:03d}",
                    "name": name,
                    "address": _address(rng, district, site.road, used_addresses),
                    "district": district,
                    "host_type": host_type,
                    "host_org": host_org,
                    "amenities": amenities,
                    "opening_hours": hours,
                    "phone": "" if i in no_phone else _phone(rng, used_phones),
                    "status": status,
                    "notes": notes,
                    "entry": entry,
                    "no_smartphone_ok": no_smartphone_ok,
                },
            }
        )

    return {
        "type": "FeatureCollection",
        "name": DATASET_NAME,
        "synthetic": True,
        "note": DATASET_NOTE,
        "generator": f"scripts/make_demo.py (seed {seed})",
        "features": features,
    }


def _entry(rng: random.Random, host_type: str, notes: str) -> tuple[str, bool | None]:
    """``entry`` (blank: not recorded) and ``no_smartphone_ok`` (None: not recorded)."""
    if notes == NOTE_SMART:
        return "scan", NO_SMARTPHONE_BY_ENTRY["scan"]
    if rng.random() >= ENTRY_RECORDED_SHARE:
        return "", None
    entry = _weighted(rng, ENTRY_BY_HOST[host_type])
    return entry, NO_SMARTPHONE_BY_ENTRY[entry]


def _open_note(rng: random.Random, host_type: str, amenities: list[str]) -> str:
    """A short note for an open station, or none (most stations have none)."""
    if rng.random() > 0.3:
        return ""
    options = ["夏季提供防暑降温药品", "冬季提供姜茶和暖贴", "提供免费热饮"]
    if "repair_tools" in amenities:
        options.append("可借用打气筒、扳手")
    if "microwave" in amenities:
        options.append("用餐高峰请错峰使用微波炉")
    if host_type == "union_office":
        options.append("驿站设在二层职工之家")
    if host_type in ("bank", "express_depot"):
        options.append("位于网点一层东侧")
    return rng.choice(options)


# --------------------------------------------------------------------------- output


def _dump(value: Any, indent: int) -> str:
    """JSON with one member per line, but lists of scalars (coordinates, codes) on one line."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ",\n".join(
            f"{pad} {json.dumps(k, ensure_ascii=False)}: {_dump(v, indent + 1)}"
            for k, v in value.items()
        )
        return "{\n" + inner + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        inner = ",\n".join(f"{pad} {_dump(v, indent + 1)}" for v in value)
        return "[\n" + inner + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def dumps_demo(collection: dict[str, Any]) -> str:
    """Serialise the collection in the shipped layout (UTF-8 text, trailing newline)."""
    text = _dump(collection, 0) + "\n"
    if json.loads(text) != collection:  # the layout must never change the content
        raise AssertionError("serialisation changed the data")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Write the demo data set; ``--output`` and ``--area`` override the shipped paths."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="GeoJSON to write")
    parser.add_argument("--area", type=Path, default=DEFAULT_AREA, help="service-area GeoJSON")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    args = parser.parse_args(argv)
    collection = build_demo(_load_area(args.area), seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(dumps_demo(collection).encode("utf-8"))
    print(f"wrote {len(collection['features'])} stations to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
