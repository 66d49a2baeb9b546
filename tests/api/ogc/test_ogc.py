"""OGC API – Features at /ogc: document shapes, paging, filters, negotiation, escaping, and
a real OGC client (OWSLib) reading it from a live server.

One store per module (on SQLite, then on PostgreSQL + PostGIS), filled with a small grid of
E-Town stations whose attributes cycle, so every expected subset below is computed from the
data, never written out by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ogc.openapi import downgrade_openapi
from api.settings import Settings
from stations.model import Station
from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, start_server

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SCRIPT = "<script>alert(1)</script>"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
AMENITY_SETS = (
    ["hot_water", "charging"],
    ["toilet"],
    ["hot_water", "toilet", "wifi"],
    ["microwave"],
)
STATUSES = ("open", "open", "temporarily_closed", "closed")
HOSTS = ("bank", "express_depot", "union_office")
ITEMS = "/ogc/collections/stations/items"


def _fill(store: SqlStationStore) -> list[Station]:
    created = []
    for i in range(25):
        created.append(
            store.create(
                make_station(
                    name=f"亦庄驿站{i:02d}",
                    address=f"北京市大兴区科创{i % 7}街{i}号",
                    lon=116.45 + (i % 5) * 0.021,
                    lat=39.75 + (i // 5) * 0.017,
                    amenities=AMENITY_SETS[i % 4],
                    status=STATUSES[i % 4],
                    host_type=HOSTS[i % 3],
                ),
                actor="test",
            )
        )
    created.append(
        store.create(
            make_station(name=SCRIPT, notes='"><img src=x onerror=1>', lon=116.53, lat=39.81),
            actor="test",
        )
    )
    return created


@pytest.fixture(scope="module")
def ogc_store(module_store_url: str) -> Iterator[SqlStationStore]:
    store = SqlStationStore(module_store_url)
    _fill(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def stations(ogc_store: SqlStationStore) -> list[Station]:
    return ogc_store.all()


@pytest.fixture(scope="module")
def client(ogc_store: SqlStationStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), store=ogc_store)) as c:
        yield c


@pytest.fixture(scope="module")
def live(ogc_store: SqlStationStore) -> Iterator[LiveServer]:
    server, stop = start_server(create_app(Settings(), store=ogc_store))
    try:
        yield server
    finally:
        stop()


def _rels(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for lk in doc["links"]:
        out.setdefault(lk["rel"], []).append(lk)
    return out


def _path_of(href: str) -> str:
    parts = urlsplit(href)
    assert parts.scheme == "http" and parts.netloc == "testserver", href
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _ids(fc: dict[str, Any]) -> list[int]:
    return [f["id"] for f in fc["features"]]


# -- documents -----------------------------------------------------------------------------
def test_landing_page_links_are_absolute_and_resolve(client: TestClient) -> None:
    for path in ("/ogc", "/ogc/"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        doc = r.json()
        rels = _rels(doc)
        assert {
            "self",
            "alternate",
            "service-desc",
            "service-doc",
            "conformance",
            "data",
        } <= rels.keys()
        descs = {lk["type"]: lk["href"] for lk in rels["service-desc"]}
        assert descs["application/vnd.oai.openapi+json;version=3.0"] == "http://testserver/ogc/api"
        assert (
            descs["application/vnd.oai.openapi+json;version=3.1"]
            == "http://testserver/openapi.json"
        )
    for lk in doc["links"]:
        followed = client.get(_path_of(lk["href"]))
        assert followed.status_code == 200, lk
        served = followed.headers["content-type"].split(";")[0]
        if lk["href"].endswith("/openapi.json"):  # FastAPI's own route says application/json
            assert served == "application/json"
        else:
            assert served == lk["type"].split(";")[0], lk


def test_conformance_lists_the_classes_implemented(client: TestClient) -> None:
    r = client.get("/ogc/conformance")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    tiles = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
    assert set(r.json()["conformsTo"]) == {
        CONF + c for c in ("core", "geojson", "html", "oas30")
    } | {tiles + c for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")}


def test_collection_documents_describe_the_data(
    client: TestClient, stations: list[Station]
) -> None:
    lons = [s.data.lon for s in stations]
    lats = [s.data.lat for s in stations]
    expected_bbox = [min(lons), min(lats), max(lons), max(lats)]
    listing = client.get("/ogc/collections")
    assert listing.status_code == 200
    assert listing.headers["content-type"] == "application/json"
    [from_list] = listing.json()["collections"]
    one = client.get("/ogc/collections/stations")
    assert one.status_code == 200
    col = one.json()
    for doc in (from_list, col):
        assert doc["id"] == "stations"
        assert doc["title"] == "暖心驿站 Warm stations"
        assert doc["itemType"] == "feature"
        assert doc["crs"] == [CRS84]
        assert doc["extent"]["spatial"]["bbox"] == [pytest.approx(expected_bbox, abs=1e-7)]
        assert doc["extent"]["spatial"]["crs"] == CRS84
        assert "temporal" not in doc["extent"]
        items = {lk["type"]: lk["href"] for lk in _rels(doc)["items"]}
        assert items["application/geo+json"] == "http://testserver" + ITEMS
        assert items["text/html"] == "http://testserver" + ITEMS + "?f=html"


def test_empty_collection_has_no_extent(store_url: str) -> None:
    store = SqlStationStore(store_url)
    try:
        with TestClient(create_app(Settings(), store=store)) as c:
            assert "extent" not in c.get("/ogc/collections/stations").json()
            fc = c.get(ITEMS).json()
            assert (fc["numberMatched"], fc["numberReturned"], fc["features"]) == (0, 0, [])
            assert set(_rels(fc)) == {"self", "alternate", "collection"}
    finally:
        store.close()


def test_unknown_collection_and_feature_are_404_problems(
    client: TestClient, stations: list[Station]
) -> None:
    missing = max(s.id for s in stations) + 1000
    for path in (
        "/ogc/collections/roads",
        "/ogc/collections/roads/items",
        f"/ogc/collections/roads/items/{stations[0].id}",
        f"{ITEMS}/{missing}",
        f"{ITEMS}/not-a-number",
        f"{ITEMS}/{2**70}",
        f"{ITEMS}/0{stations[0].id}",
        f"{ITEMS}/%20{stations[0].id}",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404
    assert "the only collection is 'stations'" in client.get("/ogc/collections/x").json()["detail"]


# -- items ---------------------------------------------------------------------------------
def test_items_pages_through_every_station_with_links(
    client: TestClient, stations: list[Station]
) -> None:
    r = client.get(ITEMS)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    seen: list[int] = []
    page, pages = r.json(), 0
    while True:
        pages += 1
        rels = _rels(page)
        assert page["type"] == "FeatureCollection"
        assert page["numberMatched"] == len(stations)
        assert page["numberReturned"] == len(page["features"]) <= 10
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", page["timeStamp"])
        assert rels["collection"][0]["href"] == "http://testserver/ogc/collections/stations"
        assert rels["self"][0]["type"] == "application/geo+json"
        assert rels["alternate"][0]["type"] == "text/html"
        assert ("prev" in rels) == (pages > 1)
        seen += _ids(page)
        if "next" not in rels:
            break
        page = client.get(_path_of(rels["next"][0]["href"])).json()
    assert pages == -(-len(stations) // 10)
    assert seen == sorted(s.id for s in stations)
    # prev of the last page is the page before it
    prev = client.get(_path_of(_rels(page)["prev"][0]["href"])).json()
    assert _ids(prev) == seen[(pages - 2) * 10 : (pages - 1) * 10]


def test_offset_and_limit_select_the_right_slice(
    client: TestClient, stations: list[Station]
) -> None:
    ids = sorted(s.id for s in stations)
    fc = client.get(ITEMS, params={"limit": 4, "offset": 7}).json()
    assert _ids(fc) == ids[7:11]
    rels = _rels(fc)
    assert parse_qs(urlsplit(rels["next"][0]["href"]).query) == {"limit": ["4"], "offset": ["11"]}
    assert parse_qs(urlsplit(rels["prev"][0]["href"]).query) == {"limit": ["4"], "offset": ["3"]}
    past = client.get(ITEMS, params={"offset": len(ids) + 5}).json()
    assert past["features"] == [] and past["numberMatched"] == len(ids)
    assert "next" not in _rels(past)


def test_limit_above_the_maximum_is_lowered_not_refused(
    client: TestClient, stations: list[Station]
) -> None:
    fc = client.get(ITEMS, params={"limit": 50_000}).json()
    assert fc["numberReturned"] == len(stations)
    assert parse_qs(urlsplit(_rels(fc)["self"][0]["href"]).query)["limit"] == ["1000"]


def test_bbox_selects_the_stations_inside(client: TestClient, stations: list[Station]) -> None:
    box = (116.47, 39.76, 116.52, 39.80)
    expected = sorted(
        s.id for s in stations if box[0] <= s.data.lon <= box[2] and box[1] <= s.data.lat <= box[3]
    )
    assert 0 < len(expected) < len(stations)
    fc = client.get(ITEMS, params={"bbox": ",".join(map(str, box)), "limit": 100}).json()
    assert _ids(fc) == expected and fc["numberMatched"] == len(expected)
    for f in fc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"bbox": "116.4,39.7,0,116.6,39.9,100"}, "bbox"),
        ({"bbox": "116.4,39.7,116.6"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "116.4,39.9,116.6,39.7"}, "bbox"),
        (
            {
                "bbox": "116.4,39.7,116.6,39.9",
                "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
            },
            "bbox-crs",
        ),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "crs"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2026-01-01/2026-02-01/2026-03-01"}, "datetime"),
        ({"amenity": "jacuzzi"}, "amenity"),
        ({"status": "maybe"}, "status"),
        ({"f": "xml"}, "f"),
    ],
)
def test_invalid_parameter_values_are_400_problems(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    r = client.get(ITEMS, params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 400
    assert [e["field"] for e in body["errors"]] == [field]
    if params.get("bbox", "").count(",") == 5:
        assert "3-D" in body["detail"] and "minx,miny,maxx,maxy" in body["detail"]


def test_valid_datetime_and_crs84_are_accepted(client: TestClient, stations: list[Station]) -> None:
    for params in (
        {"datetime": "2026-11-24T08:00:00Z"},
        {"datetime": "2026-01-01T00:00:00Z/.."},
        {"datetime": "../2026-01-01T00:00:00+08:00"},
        {"crs": CRS84, "bbox-crs": CRS84, "bbox": "116,39,117,40"},
    ):
        r = client.get(ITEMS, params=params)
        assert r.status_code == 200, (params, r.text)
        assert r.json()["numberMatched"] == len(stations)


def test_property_filters_match_the_data(client: TestClient, stations: list[Station]) -> None:
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"amenity": "hot_water"}, lambda s: "hot_water" in s.data.amenities),
        (
            {"amenity": ["hot_water", "toilet"]},
            lambda s: {"hot_water", "toilet"} <= set(s.data.amenities),
        ),
        ({"status": "closed"}, lambda s: s.data.status == "closed"),
        ({"host_type": "bank"}, lambda s: s.data.host_type == "bank"),
        (
            {"host_type": "bank", "status": "open"},
            lambda s: s.data.host_type == "bank" and s.data.status == "open",
        ),
        ({"q": "科创3街"}, lambda s: "科创3街" in s.data.address),
    ]
    for params, keep in cases:
        expected = sorted(s.id for s in stations if keep(s))
        assert 0 < len(expected) < len(stations), params
        fc = client.get(ITEMS, params={**params, "limit": 1000}).json()
        assert _ids(fc) == expected, params
        assert fc["numberMatched"] == len(expected)


def test_unknown_parameters_are_ignored_and_kept_in_links(client: TestClient) -> None:
    plain = client.get(ITEMS, params={"limit": 5}).json()
    noisy = client.get(ITEMS, params={"limit": 5, "SERVICE": "WFS", "_": "123"})
    assert noisy.status_code == 200
    assert _ids(noisy.json()) == _ids(plain)
    nxt = parse_qs(urlsplit(_rels(noisy.json())["next"][0]["href"]).query)
    assert nxt["SERVICE"] == ["WFS"] and nxt["_"] == ["123"] and nxt["offset"] == ["5"]


def test_single_item_matches_the_store(client: TestClient, stations: list[Station]) -> None:
    s = stations[3]
    r = client.get(f"{ITEMS}/{s.id}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    f = r.json()
    assert f["type"] == "Feature" and f["id"] == s.id
    assert f["geometry"]["coordinates"] == pytest.approx([s.data.lon, s.data.lat], abs=1e-7)
    p = f["properties"]
    assert (p["name"], p["address"], p["amenities"], p["status"], p["host_type"]) == (
        s.data.name,
        s.data.address,
        list(s.data.amenities),
        s.data.status,
        s.data.host_type,
    )
    rels = _rels(f)
    assert rels["self"][0]["href"].startswith(f"http://testserver{ITEMS}/{s.id}")
    assert rels["collection"][0]["href"] == "http://testserver/ogc/collections/stations"


def test_head_is_answered_like_get_without_a_body(live: LiveServer) -> None:
    import httpx

    for path, media in ((ITEMS, "application/geo+json"), ("/ogc/", "application/json")):
        r = httpx.head(live.url + path, timeout=10)
        assert r.status_code == 200 and r.content == b""
        assert r.headers["content-type"] == media


# -- negotiation and HTML ------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/stations", ITEMS]
)
def test_format_negotiation(client: TestClient, path: str) -> None:
    def kind(**kw: Any) -> str:
        r = client.get(path, **kw)
        assert r.status_code == 200
        assert "Accept" in r.headers["vary"]
        return r.headers["content-type"].split(";")[0]

    json_type = "application/geo+json" if path == ITEMS else "application/json"
    assert kind() == json_type
    assert kind(headers={"Accept": "*/*"}) == json_type
    assert kind(headers={"Accept": "application/json"}) == json_type
    assert kind(headers={"Accept": BROWSER_ACCEPT}) == "text/html"
    assert kind(headers={"Accept": "text/html;q=0.5, application/json"}) == json_type
    assert kind(headers={"Accept": BROWSER_ACCEPT}, params={"f": "json"}) == json_type
    assert kind(headers={"Accept": "application/json"}, params={"f": "html"}) == "text/html"


def test_html_pages_escape_station_text_and_query(
    client: TestClient, stations: list[Station]
) -> None:
    evil = next(s for s in stations if s.data.name == SCRIPT)
    pages = [
        client.get(ITEMS, params={"f": "html", "limit": 1000}),
        client.get(f"{ITEMS}/{evil.id}", params={"f": "html"}),
        client.get(ITEMS, params={"f": "html", "q": SCRIPT, '"><script>x()</script>': '"><b>'}),
    ]
    for r in pages:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in r.headers["content-security-policy"]
        text = r.text
        assert "<script" not in text.lower()
        assert "<img" not in text and "<b>" not in text
        assert "http://" not in text.replace("http://testserver/", "").replace(
            "http://www.opengis.net/", ""
        )  # nothing loaded from elsewhere
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].text
    assert "&quot;&gt;&lt;img src=x onerror=1&gt;" in pages[1].text
    assert "1 of 1 matching stations" in pages[2].text  # the q filter found the station


def test_html_items_page_lists_the_page_of_stations(
    client: TestClient, stations: list[Station]
) -> None:
    text = client.get(ITEMS, params={"f": "html", "limit": 3, "offset": 3}).text
    for s in sorted(stations, key=lambda s: s.id)[3:6]:
        assert f"{ITEMS}/{s.id}?f=html" in text and s.data.name in text
        assert f"<td>{', '.join(s.data.amenities)}</td>" in text
    assert f"3 of {len(stations)} matching stations" in text
    assert ">next</a>" in text and ">prev</a>" in text


# -- OpenAPI 3.0 ---------------------------------------------------------------------------
def test_api_definition_is_valid_openapi_30(client: TestClient) -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator, validate

    r = client.get("/ogc/api")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    assert doc["openapi"] == "3.0.3"
    validate(doc, cls=OpenAPIV30SpecValidator)
    for path in (
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/{collectionId}/items/{featureId}",
    ):
        assert path in doc["paths"]
    params = {
        p["name"]
        for p in doc["paths"]["/ogc/collections/{collectionId}/items"]["get"]["parameters"]
    }
    assert {
        "collectionId",
        "limit",
        "offset",
        "bbox",
        "datetime",
        "amenity",
        "status",
        "host_type",
        "q",
        "f",
    } <= params
    # FastAPI's own document is 3.1 and is NOT valid 3.0: the rewrite is what makes it so.
    source = client.get("/openapi.json").json()
    assert source["openapi"].startswith("3.1")
    with pytest.raises(Exception):  # noqa: B017 - any validation error will do
        validate({**source, "openapi": "3.0.3"}, cls=OpenAPIV30SpecValidator)


def test_downgrade_rewrites_31_constructs() -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator, validate

    schema = {
        "type": "object",
        "properties": {
            "ref_or_null": {
                "anyOf": [{"$ref": "#/components/schemas/P"}, {"type": "null"}],
                "title": "R",
            },
            "int_or_null": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
            "pos": {"type": "number", "exclusiveMinimum": 0, "examples": [3.5]},
            "kind": {"const": "Point"},
            "pair": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]},
            "either": {"type": ["string", "null"]},
        },
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "summary": "s"},
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": schema}},
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"P": {"type": "string"}}},
    }
    out = downgrade_openapi(doc)
    assert doc["openapi"] == "3.1.0"  # the input is left alone
    validate(out, cls=OpenAPIV30SpecValidator)
    props = out["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "properties"
    ]
    assert props["ref_or_null"] == {
        "allOf": [{"$ref": "#/components/schemas/P"}],
        "nullable": True,
        "title": "R",
    }
    assert props["int_or_null"] == {"type": "integer", "minimum": 1, "nullable": True}
    assert props["pos"] == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "example": 3.5,
    }
    assert props["kind"] == {"enum": ["Point"]}
    assert props["pair"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
    }
    assert props["either"] == {"type": "string", "nullable": True}


# -- a real OGC client ---------------------------------------------------------------------
def test_owslib_reads_the_service(live: LiveServer, stations: list[Station]) -> None:
    from owslib.ogcapi.features import Features  # type: ignore[import-untyped]

    api = Features(live.url + "/ogc", timeout=10)
    assert {lk["rel"] for lk in api.links} >= {"service-desc", "conformance", "data"}
    assert api.api()["openapi"] == "3.0.3"
    assert CONF + "core" in api.conformance()["conformsTo"]
    assert CONF + "geojson" in api.conformance()["conformsTo"]
    assert api.feature_collections() == ["stations"]
    assert [c["id"] for c in api.collections()["collections"]] == ["stations"]
    col = api.collection("stations")
    assert col["title"] == "暖心驿站 Warm stations"
    assert col["crs"] == [CRS84]

    by_id = {s.id: s for s in stations}
    ids = sorted(by_id)

    def check(fc: dict[str, Any]) -> None:
        for f in fc["features"]:
            s = by_id[f["id"]]
            assert f["geometry"]["coordinates"] == pytest.approx([s.data.lon, s.data.lat], abs=1e-7)
            assert f["properties"]["name"] == s.data.name
            assert f["properties"]["amenities"] == list(s.data.amenities)

    first = api.collection_items("stations", limit=7)
    assert [f["id"] for f in first["features"]] == ids[:7]
    assert first["numberMatched"] == len(ids) and first["numberReturned"] == 7
    check(first)
    nxt = api.collection_items("stations", limit=7, offset=7)
    assert [f["id"] for f in nxt["features"]] == ids[7:14]
    check(nxt)
    next_href = _rels(first)["next"][0]["href"]
    assert next_href.startswith(live.url) and "offset=7" in next_href

    box = [116.47, 39.76, 116.52, 39.80]
    inside = sorted(
        s.id for s in stations if box[0] <= s.data.lon <= box[2] and box[1] <= s.data.lat <= box[3]
    )
    boxed = api.collection_items("stations", bbox=box, limit=100)
    assert [f["id"] for f in boxed["features"]] == inside
    check(boxed)

    one = api.collection_item("stations", str(ids[5]))
    assert one["id"] == ids[5]
    check({"features": [one]})
    with pytest.raises(RuntimeError):  # OWSLib raises on a 404
        api.collection_item("stations", str(ids[-1] + 1000))
