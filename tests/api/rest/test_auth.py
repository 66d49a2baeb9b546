"""Who may write: bearer tokens, roles, console login with session cookie and CSRF, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from cli import app as cli
from stations.store.accounts import SqlAccountStore
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station

NEW = {"name": "新驿站", "lon": 116.51, "lat": 39.79}


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(external_id="YZ-001"), actor="t")
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff, store
    store.close()


def _count(client: TestClient) -> int:
    return int(client.get("/api/v1/stations").json()["numberMatched"])


def test_reads_stay_public(env: Any) -> None:
    client, _staff, _store = env
    assert client.get("/api/v1/stations").status_code == 200
    assert client.get("/api/v1/stations/1").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wst_not-a-real-token"},
        {"Cookie": "stations_session=forged"},
    ],
    ids=["none", "basic", "empty-bearer", "unknown-token", "forged-cookie"],
)
def test_writes_without_valid_credentials_are_401(env: Any, headers: dict[str, str]) -> None:
    client, _staff, store = env
    for method, url in (
        ("POST", "/api/v1/stations"),
        ("PATCH", "/api/v1/stations/1"),
        ("PUT", "/api/v1/stations/1"),
        ("DELETE", "/api/v1/stations/1"),
        ("POST", "/api/v1/stations/1/restore"),
    ):
        body = NEW if method != "DELETE" else None
        r = client.request(method, url, json=body, headers=headers)
        assert r.status_code == 401, (method, url)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert store.get(1).version == 1 and _count(client) == 1


def test_viewer_is_403_editor_and_admin_may_write(env: Any) -> None:
    client, staff, store = env
    r = client.patch("/api/v1/stations/1", json={"phone": "1"}, headers=staff.as_viewer)
    assert r.status_code == 403 and "editor" in r.json()["detail"]
    assert client.delete("/api/v1/stations/1", headers=staff.as_viewer).status_code == 403
    assert store.get(1).version == 1
    assert client.post("/api/v1/stations", json=NEW, headers=staff.as_editor).status_code == 201
    assert client.post("/api/v1/stations", json=NEW, headers=staff.as_admin).status_code == 201
    actors = [e.actor for e in store.history(2) + store.history(3)]
    assert actors == [staff.editor_name, staff.admin_name]


def test_revoked_token_stops_working(env: Any) -> None:
    client, staff, store = env
    SqlAccountStore.beside(store).revoke_token(staff.editor)
    r = client.post("/api/v1/stations", json=NEW, headers=staff.as_editor)
    assert r.status_code == 401


def _login(client: TestClient, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/auth/login", json={"name": "编辑王芳", "password": PASSWORD}, **extra)
    assert r.status_code == 200, r.text
    return dict(r.json(), cookie=r.headers["set-cookie"])


def test_login_sets_httponly_samesite_cookie(env: Any) -> None:
    client, _staff, _store = env
    session = _login(client)
    cookie = session["cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert session["user"] == {"name": "编辑王芳", "role": "editor"}
    assert len(session["csrf_token"]) >= 32
    behind_tls = _login(client, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in behind_tls["cookie"].lower()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "编辑王芳", "password": "wrong password"},
        {"name": "nobody", "password": PASSWORD},
    ],
)
def test_bad_login_is_401_without_cookie(env: Any, body: dict[str, str]) -> None:
    client, _staff, _store = env
    r = client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 401 and "set-cookie" not in r.headers


def test_cookie_writes_need_the_csrf_token(env: Any) -> None:
    client, _staff, store = env
    csrf = _login(client)["csrf_token"]
    r = client.patch("/api/v1/stations/1", json={"phone": "110"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.patch(
        "/api/v1/stations/1", json={"phone": "110"}, headers={"X-CSRF-Token": csrf[:-1] + "x"}
    )
    assert r.status_code == 403
    assert store.get(1).version == 1
    r = client.patch("/api/v1/stations/1", json={"phone": "110"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["properties"]["phone"] == "110"
    assert store.history(1)[-1].actor == "编辑王芳"
    # reading the session is a safe request: no token needed, and it hands the token out
    assert client.get("/api/v1/auth/session").json()["csrf_token"] == csrf


def test_form_post_carries_csrf_field_and_logout_ends_session(env: Any) -> None:
    client, _staff, _store = env
    csrf = _login(client)["csrf_token"]
    assert client.post("/api/v1/auth/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/api/v1/auth/session").status_code == 200
    r = client.post("/api/v1/auth/logout", data={"csrf_token": csrf})
    assert r.status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/session").status_code == 401


def test_form_login_redirects_only_within_the_site(env: Any) -> None:
    client, _staff, _store = env
    form = {"name": "编辑王芳", "password": PASSWORD}
    r = client.post(
        "/api/v1/auth/login", data=dict(form, next="/admin/stations"), follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/stations"
    assert "stations_session=" in r.headers["set-cookie"]
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.post("/api/v1/auth/login", data=dict(form, next=target), follow_redirects=False)
        assert r.status_code == 200, target


def test_bearer_session_view(env: Any) -> None:
    client, staff, _store = env
    body = client.get("/api/v1/auth/session", headers=staff.as_viewer).json()
    assert body == {
        "user": {"name": "viewer-li", "role": "viewer"},
        "csrf_token": None,
        "expires_at": None,
    }


def test_login_attempts_are_rate_limited(env: Any) -> None:
    client, _staff, _store = env
    codes = [
        client.post(
            "/api/v1/auth/login", json={"name": "编辑王芳", "password": f"guess {i:04d}"}
        ).status_code
        for i in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    last = client.post("/api/v1/auth/login", json={"name": "编辑王芳", "password": PASSWORD})
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1


def test_cli_users_and_tokens(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    runner = CliRunner()
    r = runner.invoke(
        cli,
        ["users", "add", "赵六", "--role", "editor", "--password"],
        input="a long password\na long password\n",
    )
    assert r.exit_code == 0, r.output
    assert runner.invoke(cli, ["users", "add", "ro", "--role", "owner"]).exit_code != 0
    r = runner.invoke(cli, ["token", "create", "赵六", "--label", "QGIS"])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[0]
    assert token.startswith("wst_")
    listing = runner.invoke(cli, ["token", "list"]).stdout
    assert token not in listing and "赵六" in listing
    assert "赵六" in runner.invoke(cli, ["users", "list", "--json"]).stdout

    store = SqlStationStore(store_url)
    try:
        with TestClient(create_app(test_settings(), store=store)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert client.post("/api/v1/stations", json=NEW, headers=headers).status_code == 201
            login = client.post(
                "/api/v1/auth/login", json={"name": "赵六", "password": "a long password"}
            )
            assert login.status_code == 200
            r = runner.invoke(cli, ["token", "revoke", token])
            assert r.exit_code == 0, r.output
            assert client.post("/api/v1/stations", json=NEW, headers=headers).status_code == 401
    finally:
        store.close()
