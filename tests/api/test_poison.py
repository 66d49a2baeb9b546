"""Poison sent to the API: each answer is a 4xx problem that says what was wrong, never a 500,
and the work it costs the server stays bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station


@pytest.fixture(scope="module")
def served(module_store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(module_store_url)
    store.create(make_station(external_id="YZ-001"), actor="t")
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff, store
    store.close()


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/ogc", "GET, HEAD"),
        ("/ogc/collections", "GET, HEAD"),
        ("/ogc/collections/stations/items", "GET, HEAD"),
        ("/ogc/collections/stations/items/1", "GET, HEAD"),
        ("/api/v1/stations", "GET, POST"),
    ],
)
def test_a_405_names_every_method_the_path_serves(
    served: tuple[TestClient, Staff, SqlStationStore], path: str, allow: str
) -> None:
    client = served[0]
    response = client.request("PUT" if path != "/api/v1/stations" else "DELETE", path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    for method in allow.split(", "):  # what it advertises is really served
        assert client.request(method, path, json={}).status_code != 405


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\ufeff"])
def test_bidi_or_zero_width_names_are_refused_on_every_write(
    served: tuple[TestClient, Staff, SqlStationStore], char: str
) -> None:
    client, staff, store = served
    before = store.change_counter()
    spoof = f"荣华中路{char}驿站"
    writes = [
        ("POST", "/api/v1/stations", {"name": spoof, "lon": 116.5, "lat": 39.8}, "name"),
        ("PATCH", "/api/v1/stations/1", {"address": spoof}, "address"),
        (
            "POST",
            "/api/v1/stations",
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.5, 39.8]},
                "properties": {"name": spoof},
            },
            "name",
        ),
    ]
    for method, path, body, field in writes:
        response = client.request(method, path, json=body, headers=staff.as_editor)
        assert response.status_code == 422, response.text
        (error,) = [e for e in response.json()["errors"] if e["field"] == field]
        assert f"U+{ord(char):04X}" in error["message"]
        assert "零宽" in error["message_zh"]
    assert store.change_counter() == before  # nothing written


DEEP = "[" * 2000 + "]" * 2000


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/login", "/api/v1/stations", "/api/v1/plan", "/api/v1/stations/1"]
)
@pytest.mark.parametrize("signed_in", [False, True])
def test_deeply_nested_json_is_a_400(
    served: tuple[TestClient, Staff, SqlStationStore], path: str, signed_in: bool
) -> None:
    client, staff, _store = served
    headers = {"Content-Type": "application/json", **(staff.as_editor if signed_in else {})}
    method = "PATCH" if path.endswith("/1") else "POST"
    for body in (DEEP, '{"name": ' + DEEP + "}", "[" * 100_000):
        started = time.perf_counter()
        response = client.request(method, path, content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "32" in response.json()["detail"]
        assert time.perf_counter() - started < 5  # refused before parsing: milliseconds


def test_brackets_inside_strings_do_not_count_as_nesting(
    served: tuple[TestClient, Staff, SqlStationStore],
) -> None:
    client, staff, _store = served
    name = '[[[[{{{{"\\' * 20  # 180 "brackets", all inside one string
    response = client.post(
        "/api/v1/stations", json={"name": name, "lon": 116.5, "lat": 39.8}, headers=staff.as_editor
    )
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["name"] == name


def test_json_bodies_have_their_own_size_limit(module_store_url: str) -> None:
    store = SqlStationStore(module_store_url)
    app = create_app(test_settings(max_json_bytes=10_000), store=store)
    body = json.dumps({"name": "站" * 20_000, "lon": 116.5, "lat": 39.8})
    with TestClient(app) as client:
        for headers in ({"Content-Type": "application/json"}, {"Content-Type": ""}):
            response = client.post("/api/v1/auth/login", content=body, headers=headers)
            assert response.status_code == 413
            assert "10000" in response.json()["detail"]
        # Not JSON: the upload limit (max_body_bytes) applies instead.
        response = client.post("/api/v1/auth/login", data={"name": "x" * 20_000, "password": "p"})
        assert response.status_code != 413
    store.close()
