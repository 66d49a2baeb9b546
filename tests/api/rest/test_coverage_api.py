"""The coverage, gaps and plan endpoints over the demo data; bad input is a problem, not a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), demo=True)) as c:
        yield c


def test_coverage_summary_and_catchments(client: TestClient) -> None:
    body = client.get("/api/v1/coverage", params={"radius_m": 800}).json()
    assert body["n_stations"] == 93  # open demo stations only
    assert 0 < body["covered_area_share"] < 1
    assert len(body["stations"]) == 93
    walk = client.get("/api/v1/coverage", params={"minutes": 15, "speed": "walk"}).json()
    assert walk["radius_m"] == pytest.approx(1125)
    assert walk["covered_weight_share"] > body["covered_weight_share"]


def test_gaps_are_ranked_geojson(client: TestClient) -> None:
    r = client.get("/api/v1/gaps", params={"radius_m": 500, "demand": "etown-synthetic"})
    assert r.headers["content-type"].startswith("application/geo+json")
    feats = r.json()["features"]
    weights = [f["properties"]["uncovered_weight"] for f in feats]
    assert weights == sorted(weights, reverse=True)
    assert feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_plan_with_candidates_and_default(client: TestClient) -> None:
    cands = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.60, 39.83]},
                "properties": {"name": "台湖银行"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.505, 39.795]},
                "properties": {"name": "核心区便利店"},
            },
        ],
    }
    r = client.post(
        "/api/v1/plan",
        json={"new_sites": 1, "radius_m": 500, "candidates": cands, "min_gain_pct": 0},
    )
    assert r.status_code == 200, r.text
    assert r.json()["sites"][0]["label"] == "台湖银行"
    auto = client.post(
        "/api/v1/plan", json={"new_sites": 3, "radius_m": 500, "min_gain_pct": 0}
    ).json()
    gains = [s["marginal_gain"] for s in auto["sites"]]
    assert len(gains) == 3 and gains == sorted(gains, reverse=True)
    # by default, uniform demand proposes no negligible site and says why in Chinese
    plain = client.post("/api/v1/plan", json={"new_sites": 3, "radius_m": 500}).json()
    assert plain["sites"] == [] and plain["negligible_sites"] == 3
    assert any("均匀" in line for line in plain["explanation_zh"])
    assert plain["reach"] == {"kind": "straight_line", "radius_m": 500.0}


def test_coverage_counts_double_cover_at_a_time_and_what_if(client: TestClient) -> None:
    base = client.get("/api/v1/coverage", params={"radius_m": 500}).json()
    assert 0 < base["double_covered_weight_share"] < base["covered_weight_share"]
    night = client.get("/api/v1/coverage", params={"radius_m": 500, "at": "2026-12-08T03:00"})
    assert night.status_code == 200, night.text
    n = night.json()
    assert n["n_stations"] < base["n_stations"] and n["at"].startswith("2026-12-08T03:00")
    rule = client.get("/api/v1/coverage", params={"rule": "double15"}).json()
    assert rule["reach"] == {"kind": "straight_line", "radius_m": 1000.0}
    odd = client.get("/api/v1/coverage", params={"at": "0001-01-01T00:00:00+14:00"})
    assert odd.status_code == 422 and "at" in odd.text
    bad = client.get("/api/v1/coverage", params={"close": "nope-404"})
    assert bad.status_code == 422 and "nope-404" in bad.text
    gaps = client.get("/api/v1/gaps", params={"radius_m": 500, "crs": "gcj02", "limit": 5})
    feats = gaps.json()["features"]
    assert all(f["properties"]["area_km2"] <= 1.0 for f in feats)
    assert all(f["properties"]["centre_crs"] == "gcj02" for f in feats)
    assert feats[0]["properties"]["centre_lon"] != feats[0]["properties"]["centroid_lon"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"new_sites": 5, "radius_m": -1}, "radius_m"),
        ({"new_sites": 0}, "new_sites"),
        ({"radius_m": 500}, "new_sites"),
        (
            {
                "new_sites": 3,
                "candidates": {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [116.6, 39.8]},
                        }
                    ],
                },
            },
            "new_sites",
        ),
        (
            {
                "new_sites": 1,
                "area": {
                    "type": "Polygon",
                    "coordinates": [
                        [[116.5, 39.7], [116.6, 39.8], [116.6, 39.7], [116.5, 39.8], [116.5, 39.7]]
                    ],
                },
            },
            "area",
        ),
        ({"new_sites": 1, "area": {"type": "Polygon", "coordinates": []}}, "area"),
    ],
)
def test_bad_plan_input_is_a_problem(client: TestClient, body: dict, field: str) -> None:
    r = client.post("/api/v1/plan", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.json()


def test_report_downloads_as_pdf_and_xlsx(client: TestClient) -> None:
    pdf = client.get("/api/v1/coverage/report", params={"new_sites": 2})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    xlsx = client.get("/api/v1/coverage/report", params={"format": "xlsx", "new_sites": 0})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/api/v1/coverage/report", params={"format": "doc"}).status_code == 422


def test_a_bad_area_is_told_in_the_readers_language(client: TestClient) -> None:
    """A self-intersecting area drawn by staff: Chinese for zh-CN, English otherwise, with
    GEOS's location of the fault in both."""
    bowtie = [[[116.5, 39.7], [116.6, 39.8], [116.6, 39.7], [116.5, 39.8], [116.5, 39.7]]]
    body = {"new_sites": 1, "area": {"type": "Polygon", "coordinates": bowtie}}
    zh = client.post("/api/v1/plan", json=body, headers={"Accept-Language": "zh-CN"})
    en = client.post("/api/v1/plan", json=body, headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 422
    assert zh.headers["content-language"] == "zh-CN" and en.headers["content-language"] == "en"
    assert (zh.json()["title"], en.json()["title"]) == ("地理参数有误", "Invalid geographic input")
    assert zh.json()["detail"].startswith(
        "area：区域第 1 个要素不是有效的多边形：Self-intersection"
    )
    assert en.json()["detail"].startswith(
        "area feature 1 is not a valid polygon: Self-intersection"
    )
    (error,) = en.json()["errors"]
    assert error["field"] == "area" and error["message_zh"].startswith("区域第 1 个要素")
