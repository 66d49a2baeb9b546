"""A synthetic national station network and rider query points, for scale benchmarks.

合成数据，非真实驿站 — made-up stations for load and scale tests, not real ones.

Why it exists: the service must hold a whole country's network (100,000+ stations) in one
process and answer riders from it. A uniform random scatter is the wrong test: real stations
crowd into the cities, most of them into the big ones, and riders ask from where stations
are dense. So stations are allocated to ~90 Chinese cities in proportion to their population
and scattered around each city's centre and a few sub-centres (districts), with the spread
growing with the city's size; rider query points are drawn near stations, so the query load
follows the same density.

City centres (WGS-84) and populations in :data:`CITIES` are **approximate, written from
memory** (urban populations in millions, rounded): good enough to shape a realistic load,
not a gazetteer. Every other field — names, addresses, phones — is invented but has the shape
union sheets have (Chinese names and addresses, host organisations, the contract's codes), and
is valid under the import contract (``stations import`` takes the CSV as written).

Deterministic: the same ``n`` and ``seed`` give the same rows on every machine (numpy's
PCG64 generator and fixed rounding).

Used by ``scripts/make_national.py`` (writes the files) and ``bench/scale_bench.py``.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CITIES",
    "CSV_HEADER",
    "City",
    "allocate",
    "import_with_cli",
    "national_stations",
    "read_queries_csv",
    "rider_queries",
    "write_queries_csv",
    "write_stations_csv",
]


@dataclass(frozen=True)
class City:
    """A city: its code (the external-id prefix), names, centre (WGS-84) and population."""

    code: str
    name: str
    province: str
    lon: float
    lat: float
    population_m: float

    @property
    def spread_km(self) -> float:
        """Standard deviation of the core scatter: a 20-million city spreads ~10 km."""
        return 1.2 + 2.0 * math.sqrt(self.population_m)


# Approximate centres and urban populations (millions), from memory; see the module doc.
# Municipalities carry the municipality as their province (北京市 → "北京市朝阳区…").
CITIES: tuple[City, ...] = (
    City("BJ", "北京", "北京市", 116.407, 39.904, 21.9),
    City("SH", "上海", "上海市", 121.474, 31.230, 24.9),
    City("GZ", "广州", "广东省", 113.264, 23.129, 18.7),
    City("SZ", "深圳", "广东省", 114.058, 22.543, 17.6),
    City("CQ", "重庆", "重庆市", 106.551, 29.563, 16.0),
    City("CD", "成都", "四川省", 104.066, 30.572, 21.2),
    City("TJ", "天津", "天津市", 117.200, 39.084, 13.9),
    City("WH", "武汉", "湖北省", 114.305, 30.593, 13.7),
    City("XA", "西安", "陕西省", 108.940, 34.341, 13.0),
    City("HZ", "杭州", "浙江省", 120.155, 30.274, 12.4),
    City("NJ", "南京", "江苏省", 118.797, 32.060, 9.5),
    City("ZZ", "郑州", "河南省", 113.625, 34.747, 12.8),
    City("CS", "长沙", "湖南省", 112.939, 28.228, 10.4),
    City("SY", "沈阳", "辽宁省", 123.431, 41.806, 9.1),
    City("QD", "青岛", "山东省", 120.383, 36.067, 10.3),
    City("JN", "济南", "山东省", 117.121, 36.651, 9.4),
    City("HF", "合肥", "安徽省", 117.227, 31.821, 9.6),
    City("DG", "东莞", "广东省", 113.752, 23.021, 10.5),
    City("FS", "佛山", "广东省", 113.122, 23.021, 9.6),
    City("SU", "苏州", "江苏省", 120.585, 31.299, 12.9),
    City("HEB", "哈尔滨", "黑龙江省", 126.535, 45.803, 9.9),
    City("DL", "大连", "辽宁省", 121.615, 38.914, 7.5),
    City("KM", "昆明", "云南省", 102.833, 24.880, 8.5),
    City("NN", "南宁", "广西壮族自治区", 108.366, 22.817, 8.9),
    City("FZ", "福州", "福建省", 119.296, 26.074, 8.4),
    City("XM", "厦门", "福建省", 118.089, 24.480, 5.3),
    City("SJZ", "石家庄", "河北省", 114.514, 38.042, 11.2),
    City("CC", "长春", "吉林省", 125.324, 43.817, 9.1),
    City("NC", "南昌", "江西省", 115.858, 28.683, 6.4),
    City("GY", "贵阳", "贵州省", 106.630, 26.647, 6.0),
    City("TY", "太原", "山西省", 112.549, 37.870, 5.4),
    City("WX", "无锡", "江苏省", 120.312, 31.491, 7.5),
    City("NB", "宁波", "浙江省", 121.550, 29.874, 9.6),
    City("WZ", "温州", "浙江省", 120.699, 27.994, 9.6),
    City("CZ", "常州", "江苏省", 119.974, 31.811, 5.3),
    City("QZ", "泉州", "福建省", 118.676, 24.874, 8.8),
    City("LZ", "兰州", "甘肃省", 103.834, 36.061, 4.4),
    City("UR", "乌鲁木齐", "新疆维吾尔自治区", 87.617, 43.826, 4.1),
    City("HH", "呼和浩特", "内蒙古自治区", 111.749, 40.842, 3.5),
    City("YC", "银川", "宁夏回族自治区", 106.231, 38.487, 2.9),
    City("XN", "西宁", "青海省", 101.778, 36.617, 2.5),
    City("LS", "拉萨", "西藏自治区", 91.117, 29.647, 0.9),
    City("HK", "海口", "海南省", 110.199, 20.044, 2.9),
    City("SAY", "三亚", "海南省", 109.512, 18.253, 1.0),
    City("ZH", "珠海", "广东省", 113.577, 22.271, 2.5),
    City("ZS", "中山", "广东省", 113.392, 22.517, 4.4),
    City("HUZ", "惠州", "广东省", 114.416, 23.111, 6.0),
    City("ST", "汕头", "广东省", 116.682, 23.354, 5.5),
    City("JM", "江门", "广东省", 113.082, 22.579, 4.8),
    City("ZJ", "湛江", "广东省", 110.359, 21.271, 7.0),
    City("XZ", "徐州", "江苏省", 117.285, 34.205, 9.0),
    City("NT", "南通", "江苏省", 120.894, 31.981, 7.7),
    City("YZ", "扬州", "江苏省", 119.413, 32.394, 4.6),
    City("SX", "绍兴", "浙江省", 120.580, 30.030, 5.3),
    City("JX", "嘉兴", "浙江省", 120.755, 30.746, 5.4),
    City("JH", "金华", "浙江省", 119.647, 29.079, 7.1),
    City("TZ", "台州", "浙江省", 121.421, 28.656, 6.6),
    City("YT", "烟台", "山东省", 121.448, 37.464, 7.1),
    City("WF", "潍坊", "山东省", 119.161, 36.707, 9.4),
    City("LY", "临沂", "山东省", 118.356, 35.104, 11.0),
    City("ZB", "淄博", "山东省", 118.055, 36.813, 4.7),
    City("TS", "唐山", "河北省", 118.180, 39.630, 7.7),
    City("BD", "保定", "河北省", 115.465, 38.874, 11.5),
    City("HD", "邯郸", "河北省", 114.539, 36.625, 9.4),
    City("LYA", "洛阳", "河南省", 112.454, 34.619, 7.1),
    City("NY", "南阳", "河南省", 112.528, 32.991, 9.7),
    City("XY", "襄阳", "湖北省", 112.122, 32.009, 5.3),
    City("YCH", "宜昌", "湖北省", 111.286, 30.692, 4.0),
    City("ZZH", "株洲", "湖南省", 113.134, 27.828, 3.9),
    City("HY", "衡阳", "湖南省", 112.572, 26.894, 6.6),
    City("GL", "桂林", "广西壮族自治区", 110.290, 25.274, 4.9),
    City("LZH", "柳州", "广西壮族自治区", 109.416, 24.326, 4.2),
    City("MY", "绵阳", "四川省", 104.679, 31.467, 4.9),
    City("NCH", "南充", "四川省", 106.111, 30.837, 5.6),
    City("ZY", "遵义", "贵州省", 106.927, 27.725, 6.6),
    City("QJ", "曲靖", "云南省", 103.796, 25.490, 5.8),
    City("BT", "包头", "内蒙古自治区", 109.840, 40.658, 2.7),
    City("DT", "大同", "山西省", 113.300, 40.077, 3.1),
    City("AS", "鞍山", "辽宁省", 122.995, 41.108, 3.3),
    City("JL", "吉林", "吉林省", 126.549, 43.838, 3.6),
    City("DQ", "大庆", "黑龙江省", 125.103, 46.589, 2.8),
    City("QQ", "齐齐哈尔", "黑龙江省", 123.918, 47.354, 4.1),
    City("BJI", "宝鸡", "陕西省", 107.237, 34.362, 3.3),
    City("XYA", "咸阳", "陕西省", 108.709, 34.330, 4.2),
    City("WHU", "芜湖", "安徽省", 118.433, 31.352, 3.6),
    City("GZH", "赣州", "江西省", 114.935, 25.831, 9.0),
    City("JJ", "九江", "江西省", 116.001, 29.705, 4.6),
    City("KS", "喀什", "新疆维吾尔自治区", 75.990, 39.470, 0.7),
)

#: Column headers of the written CSV: the contract's English field names.
CSV_HEADER: tuple[str, ...] = (
    "external_id",
    "name",
    "address",
    "district",
    "lon",
    "lat",
    "host_type",
    "host_org",
    "amenities",
    "opening_hours",
    "phone",
    "status",
    "notes",
)

_ROADS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "长江路",
    "黄河路",
    "朝阳路",
    "青年路",
    "光明路",
    "幸福路",
    "团结路",
    "友谊路",
    "东风路",
    "工业路",
    "科技路",
    "创业路",
    "迎宾大道",
    "学府路",
    "体育路",
    "北京路",
    "南京路",
    "延安路",
    "复兴路",
    "民主路",
    "育才路",
    "花园路",
    "滨河路",
    "沿江大道",
    "世纪大道",
    "金融街",
    "商业街",
    "站前路",
    "府前街",
    "振兴路",
    "繁荣路",
    "发展大道",
    "环城路",
    "中心大街",
    "健康路",
    "丰收路",
    "园林路",
    "开元路",
    "秀水街",
    "春晖路",
    "锦绣路",
    "长安街",
    "天府大道",
    "红星路",
    "金桥路",
    "兴业街",
)
_ROAD_SIDES = ("", "", "", "东", "西", "南", "北", "中")
_DISTRICTS = (
    "高新区",
    "经开区",
    "城东区",
    "城西区",
    "城南区",
    "城北区",
    "新城区",
    "老城区",
    "滨江区",
    "开发区",
    "港区",
    "北湖区",
    "南湖区",
    "东湖区",
    "西湖区",
    "新区",
)
_STREETS = ("街道", "镇")

# host type → (weight, organisations, name suffix)
_HOSTS: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "express_depot": (
        0.30,
        (
            "顺丰速运",
            "京东物流",
            "中通快递",
            "圆通速递",
            "韵达快递",
            "申通快递",
            "中国邮政",
            "极兔速递",
        ),
        ("营业部", "网点", "分拨中心"),
    ),
    "bank": (
        0.15,
        (
            "中国工商银行",
            "中国建设银行",
            "中国农业银行",
            "中国银行",
            "交通银行",
            "招商银行",
            "中国邮政储蓄银行",
            "兴业银行",
        ),
        ("支行", "营业厅"),
    ),
    "convenience_store": (
        0.15,
        ("美宜佳", "便利蜂", "罗森", "全家", "易捷便利店", "苏宁小店", "见福便利店"),
        ("店",),
    ),
    "gas_station": (0.08, ("中国石化", "中国石油"), ("加油站",)),
    "union_office": (0.12, ("总工会", "社区工会联合会", "园区工会"), ("职工服务中心",)),
    "community_center": (0.12, ("社区服务中心", "社区党群服务中心"), ("",)),
    "government": (0.05, ("街道办事处", "政务服务中心"), ("",)),
    "other": (0.03, ("美团骑手之家", "饿了么骑士驿站", "公园管理处"), ("",)),
}

# (probability a station has it) per amenity code.
_AMENITY_P: dict[str, float] = {
    "drinking_water": 0.90,
    "hot_water": 0.85,
    "microwave": 0.50,
    "fridge": 0.15,
    "charging": 0.80,
    "toilet": 0.60,
    "seating": 0.85,
    "air_conditioning": 0.60,
    "heating": 0.40,
    "first_aid": 0.70,
    "wifi": 0.50,
    "umbrella": 0.30,
    "repair_tools": 0.20,
    "reading": 0.30,
}

_HOURS_COMMON = (
    ("24/7", 0.15),
    ("Mo-Su 08:00-22:00", 0.30),
    ("Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00", 0.20),
    ("Mo-Su 07:00-21:00", 0.15),
    ("Mo-Sa 08:30-18:00", 0.10),
    ("Mo-Fr 09:00-17:00", 0.10),
)
_HOURS_BANK = (
    ("Mo-Fr 09:00-17:00", 0.50),
    ("Mo-Fr 09:00-17:00; Sa,Su 09:30-16:00", 0.40),
    ("Mo-Su 09:00-17:00", 0.10),
)
_STATUS = (("open", 0.92), ("temporarily_closed", 0.05), ("closed", 0.03))
_NOTES = (
    ("", 0.90),
    ("扫码开门的智慧驿站", 0.04),
    ("工作日中午人多，请错峰", 0.03),
    ("夏季提供防暑降温药品", 0.03),
)

_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON_EQ = 111.320


def allocate(n: int, cities: Sequence[City] = CITIES) -> list[int]:
    """Stations per city, proportional to population, summing exactly to ``n``.

    Largest-remainder rounding: each city gets the floor of its share and the leftover
    stations go to the largest fractional parts (ties to the earlier city), so the total is
    exact and the result does not depend on floating-point summation order.
    """
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    total = sum(c.population_m for c in cities)
    shares = [n * c.population_m / total for c in cities]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(cities)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _pick(rng: np.random.Generator, table: Sequence[tuple[str, float]], size: int) -> np.ndarray:
    values = np.array([v for v, _ in table], dtype=object)
    weights = np.array([w for _, w in table], float)
    return values[rng.choice(len(values), size=size, p=weights / weights.sum())]


def _scatter(rng: np.random.Generator, city: City, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` points around the city: 65 % a Gaussian core, 35 % around district sub-centres.

    Offsets are drawn in kilometres and converted with the local scale of a degree (a degree
    of longitude shrinks with cos(latitude)); they are capped at 3.5 spreads so no station
    lands absurdly far out.
    """
    spread = city.spread_km
    subs = 1 + int(city.population_m // 2.5)
    sub_r = spread * rng.uniform(0.6, 2.2, subs)
    sub_a = rng.uniform(0, 2 * math.pi, subs)
    sub_xy = np.column_stack([sub_r * np.cos(sub_a), sub_r * np.sin(sub_a)])
    in_core = rng.random(m) < 0.65
    which = rng.integers(0, subs, m)
    centre = np.where(in_core[:, None], 0.0, sub_xy[which])
    scale = np.where(in_core, spread, spread / 3.0)
    xy = centre + rng.normal(size=(m, 2)) * scale[:, None]
    r = np.hypot(xy[:, 0], xy[:, 1])
    cap = 3.5 * spread
    xy *= np.minimum(1.0, cap / np.maximum(r, 1e-9))[:, None]
    lat = city.lat + xy[:, 1] / _KM_PER_DEG_LAT
    lon = city.lon + xy[:, 0] / (_KM_PER_DEG_LON_EQ * np.cos(np.radians(city.lat)))
    return lon, lat


def national_stations(n: int = 100_000, seed: int = 2024) -> list[dict[str, str]]:
    """``n`` synthetic stations over China's cities, as CSV rows keyed by :data:`CSV_HEADER`.

    Parameters
    ----------
    n : int
        How many stations. They are allocated to :data:`CITIES` by population
        (:func:`allocate`), so a small ``n`` only reaches the big cities.
    seed : int
        Seed of the random generator: the same ``n`` and ``seed`` give the same rows.

    Returns
    -------
    list of dict
        One row per station with every contract field as text: ``external_id`` unique
        (``<city code>-<6 digits>``, e.g. ``BJ-000123``), Chinese name and address, the
        contract's host-type, amenity and status codes, ``opening_hours`` in OSM syntax,
        ``lon``/``lat`` in WGS-84 with 6 decimals (~0.1 m).
    """
    rng = np.random.default_rng(seed)
    host_codes = list(_HOSTS)
    host_w = np.array([_HOSTS[h][0] for h in host_codes])
    amenity_codes = list(_AMENITY_P)
    amenity_p = np.array([_AMENITY_P[a] for a in amenity_codes])
    rows: list[dict[str, str]] = []
    for city, m in zip(CITIES, allocate(n, CITIES), strict=True):
        if m == 0:
            continue
        lon, lat = _scatter(rng, city, m)
        hosts = rng.choice(len(host_codes), size=m, p=host_w / host_w.sum())
        has = rng.random((m, len(amenity_codes))) < amenity_p
        status = _pick(rng, _STATUS, m)
        notes = _pick(rng, _NOTES, m)
        hours = _pick(rng, _HOURS_COMMON, m)
        bank_hours = _pick(rng, _HOURS_BANK, m)
        roads = rng.integers(0, len(_ROADS), m)
        sides = rng.integers(0, len(_ROAD_SIDES), m)
        numbers = rng.integers(1, 999, m)
        districts = rng.integers(0, len(_DISTRICTS), m)
        streets = rng.integers(0, len(_STREETS), m)
        orgs = rng.integers(0, 1 << 30, m)
        suffixes = rng.integers(0, 1 << 30, m)
        phone_kind = rng.random(m)
        phones = rng.integers(0, 10**9, m)
        prefix = (
            city.province
            if city.province.endswith("市") and city.province[:-1] == city.name
            else f"{city.province}{city.name}市"
        )
        for i in range(m):
            host = host_codes[hosts[i]]
            _, org_list, suffix_list = _HOSTS[host]
            road = _ROADS[roads[i]]
            road = road[:-1] + _ROAD_SIDES[sides[i]] + road[-1] if len(road) == 3 else road
            district = _DISTRICTS[districts[i]]
            org = org_list[orgs[i] % len(org_list)]
            suffix = suffix_list[suffixes[i] % len(suffix_list)]
            place = f"{road}{numbers[i]}号" if host in ("community_center", "government") else road
            if host == "union_office":
                host_org = f"{city.name}市{district}{org}"
                name = f"{district}{road}{suffix}暖心驿站"
            elif host in ("community_center", "government"):
                host_org = f"{road}{_STREETS[streets[i]]}{org}"
                name = f"{host_org}暖心驿站"
            else:
                host_org = org
                name = f"{org}{city.name}{place}{suffix}暖心驿站"
            codes = [amenity_codes[j] for j in np.flatnonzero(has[i])]
            if not codes:
                codes = ["drinking_water"]
            if phone_kind[i] < 0.6:
                phone = f"1{3 + phones[i] % 7}{phones[i]:09d}"
            elif phone_kind[i] < 0.85:
                phone = f"{phones[i] % 10**8:08d}"
            else:
                phone = ""
            rows.append(
                {
                    "external_id": f"{city.code}-{i + 1:06d}",
                    "name": name,
                    "address": f"{prefix}{district}{road}{numbers[i]}号",
                    "district": district,
                    "lon": f"{lon[i]:.6f}",
                    "lat": f"{lat[i]:.6f}",
                    "host_type": host,
                    "host_org": host_org,
                    "amenities": ";".join(codes),
                    "opening_hours": str(bank_hours[i] if host == "bank" else hours[i]),
                    "phone": phone,
                    "status": str(status[i]),
                    "notes": str(notes[i]),
                }
            )
    return rows


def rider_queries(stations: Sequence[dict[str, str]], n: int = 10_000, seed: int = 7) -> np.ndarray:
    """``n`` rider positions (lon, lat) near the stations, shaped like the real query load.

    A rider asks from where riders work, and they work where stations are dense: each query
    picks a station at random (so busy cities get proportionally more queries) and moves
    away from it by an exponentially distributed distance (mean 800 m, capped at 5 km) in a
    random direction.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``: longitude, latitude (WGS-84), rounded to 6 decimals.
    """
    if not stations:
        raise ValueError("no stations to place riders near")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(stations), n)
    lon0 = np.array([float(stations[i]["lon"]) for i in pick])
    lat0 = np.array([float(stations[i]["lat"]) for i in pick])
    dist_km = np.minimum(rng.exponential(0.8, n), 5.0)
    bearing = rng.uniform(0, 2 * math.pi, n)
    lat = lat0 + dist_km * np.cos(bearing) / _KM_PER_DEG_LAT
    lon = lon0 + dist_km * np.sin(bearing) / (_KM_PER_DEG_LON_EQ * np.cos(np.radians(lat0)))
    return np.round(np.column_stack([lon, lat]), 6)


def write_stations_csv(path: str | os.PathLike[str], rows: Sequence[dict[str, str]]) -> Path:
    """Write rows as UTF-8 CSV with the contract's English headers; returns the path."""
    out = Path(path)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return out


def write_queries_csv(path: str | os.PathLike[str], points: np.ndarray) -> Path:
    """Write query points as a ``lon,lat`` CSV; returns the path."""
    out = Path(path)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lon", "lat"])
        writer.writerows((f"{lon:.6f}", f"{lat:.6f}") for lon, lat in points.tolist())
    return out


def read_queries_csv(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a ``lon,lat`` CSV written by :func:`write_queries_csv` into an ``(n, 2)`` array."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != ["lon", "lat"]:
            raise ValueError(f"{path}: expected the header lon,lat, found {header}")
        points = [(float(a), float(b)) for a, b in reader]
    return np.asarray(points, float).reshape(-1, 2)


def import_with_cli(
    cli: Sequence[str],
    csv_path: Path,
    url: str,
    *,
    cwd: Path | None = None,
    timeout_s: float = 1200,
) -> None:
    """Import ``csv_path`` into the database at ``url`` with the command ``cli`` (``stations``,
    or another checkout's), the way staff load a catalog; its output is raised if it fails."""
    env = dict(os.environ, STATIONS_DATABASE_URL=url)
    done = subprocess.run(
        [*cli, "import", str(csv_path)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        where = "" if cwd is None else f" in {cwd}"
        raise RuntimeError(f"import{where} failed:\n{done.stdout}\n{done.stderr}")
