"""Property-based tests of the whole OpenAPI document with schemathesis, anonymous and signed in.

Every operation, every generated request (valid and invalid): no server error, and every
response — status, media type, headers, body — is one the document describes. The
"valid data must be accepted" check is left out on purpose: some rules cannot be written in
JSON Schema (opening-hours syntax, a bbox whose south is above its north), so a
schema-valid request may still be refused with a 422 problem that says why.

Bounded to stay quick: 25 examples per operation (explicit examples + random fuzzing; the
exhaustive "coverage" phase alone generates ~900 bodies for PUT/PATCH). The WeChat signature
endpoint talks to a local fake of WeChat's token/ticket API (no network in tests).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
)
# Analysis pages whose cost grows with radius x resolution (one request can take a minute):
# fuzzing them measures the CPU, not the contract; their own tests cover them.
SLOW = r"^/maps/(coverage|gaps)$"
# Likewise a plan: CBC proves optimality quickly up to ~200 new sites on the default area,
# then falls off a cliff (232: ~20 s, 260: minutes), so plans are fuzzed with at most this
# many. Only values the schema allows (1..500) are lowered: a negative case stays negative.
PLAN_SITES_MAX = 20


@schemathesis.hook("map_body")
def _small_plans(ctx: schemathesis.HookContext, body: Any) -> Any:
    operation = getattr(ctx, "operation", None)
    if operation is None or operation.path != "/api/v1/plan" or not isinstance(body, dict):
        return body
    sites = body.get("new_sites")
    whole = type(sites) is int or (type(sites) is float and sites.is_integer())  # 232.0 too
    if whole and PLAN_SITES_MAX < sites <= 500:
        return {**body, "new_sites": PLAN_SITES_MAX}
    return body


class _FakeWeChat(BaseHTTPRequestHandler):
    """WeChat's token and jsapi-ticket endpoints, answering like WeChat does."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = (
            {"access_token": "TOKEN", "expires_in": 7200}
            if "/token" in self.path
            else {"errcode": 0, "errmsg": "ok", "ticket": "TICKET", "expires_in": 7200}
        )
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(module_store_url: str) -> Iterator[tuple[Any, Staff]]:
    store = SqlStationStore(module_store_url)
    for i in range(3):
        store.create(make_station(external_id=f"YZ-{i}", lon=116.5 + i / 100), actor="seed")
    staff = add_staff(store)
    wechat = ThreadingHTTPServer(("127.0.0.1", 0), _FakeWeChat)
    threading.Thread(target=wechat.serve_forever, daemon=True).start()
    app = create_app(
        test_settings(
            wechat_app_id="wx0123456789abcdef",
            wechat_app_secret="secret",
            wechat_api_base=f"http://127.0.0.1:{wechat.server_address[1]}",
        ),
        store=store,
    )
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG), staff
    finally:
        from schemathesis.python.asgi import shutdown_lifespans

        shutdown_lifespans()
        wechat.shutdown()
        store.close()


@pytest.fixture(scope="module")
def api_schema(served: tuple[Any, Staff]) -> Any:
    return served[0]


@pytest.fixture(scope="module")
def token(served: tuple[Any, Staff]) -> str:
    return served[1].editor


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=SLOW)
_SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@_SETTINGS
def test_anonymous(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@_SETTINGS
def test_as_editor(case: Any, token: str) -> None:
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {token}"})
