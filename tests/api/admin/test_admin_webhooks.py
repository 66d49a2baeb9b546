"""The console's webhook page: admins see each receiver's last delivery and failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from stations.store.webhooks import SqlWebhookStore
from tests.api.admin.test_admin_console import login
from tests.api.staff_kit import add_staff, test_settings


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Any, SqlWebhookStore]]:
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    hooks = SqlWebhookStore.beside(store)
    app = create_app(test_settings(webhooks_enabled=False), store=store)
    with TestClient(app, follow_redirects=False) as client:
        yield client, staff, hooks
    store.close()


def test_admins_see_deliveries_and_failures(env: Any) -> None:
    client, staff, hooks = env
    made, _ = hooks.add("https://platform.example/hook?a=<b>", actor="admin-zhang")
    assert hooks.claim(made.id, "me", timedelta(seconds=30)) is not None
    hooks.failed(made.id, "me", 503, "HTTP 503: <busy>", datetime.now(UTC) + timedelta(minutes=1))
    login(client, staff.admin_name)
    page = client.get("/admin/webhooks")
    assert page.status_code == 200
    assert "https://platform.example/hook?a=&lt;b&gt;" in page.text  # escaped
    assert "HTTP 503: &lt;busy&gt;" in page.text and 'href="/admin/webhooks"' in page.text
    client.post("/admin/logout", data={})
    client.cookies.clear()
    login(client, staff.editor_name)
    assert client.get("/admin/webhooks").status_code == 403
    assert 'href="/admin/webhooks"' not in client.get("/admin").text
