"""Property-based tests of the whole OpenAPI document with schemathesis, anonymous and signed in.

Every operation, every generated request (valid and invalid): every response — status, media
type, headers, body — is one the document describes, and no 5xx of any kind unless the
operation documents that very status (``default`` does not count): the 503 of the WeChat
signature endpoint when the service has no Official Account credentials, the 503 of
``/readyz`` and of the routes that need an unreachable store. A 500 is always a failure.
The "valid data must be accepted" check is left out on purpose: some rules cannot be written
in JSON Schema (opening-hours syntax, a bbox whose south is above its north), so a
schema-valid request may still be refused with a 422 problem that says why.

The schema is read from an app built at collection time (its document does not depend on the
store) and each test sends its cases to the app its fixtures built, on each engine: the
"lazy" ``schemathesis.pytest.from_fixture`` loader sets a private pytest attribute that
pytest 9 no longer has.

Bounded to stay quick: 25 examples per operation (explicit examples + random fuzzing; the
exhaustive "coverage" phase alone generates ~900 bodies for PUT/PATCH), and every request
must answer within ``RESPONSE_LIMIT_S``. The WeChat signature endpoint talks to a local fake of
WeChat's token/ticket API (no network in tests); one more run has no WeChat credentials.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
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

#: A request slower than this fails the run (the busy 2-core machine included).
RESPONSE_LIMIT_S = 20.0
#: The same for the analysis API (a meeting report renders a map and a PDF); under their own
#: wall-clock limit (STATIONS_ANALYSIS_TIME_LIMIT_S) they answer 503 at worst.
ANALYSIS_LIMIT_S = 60.0


@schemathesis.check
def no_undocumented_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Any 5xx fails unless this operation lists that exact status; a 500 always fails."""
    status = response.status_code
    if status < 500:
        return None
    documented = {str(code) for code in case.operation.definition.raw.get("responses", {})}
    if status == 500 or str(status) not in documented:
        raise AssertionError(
            f"{case.operation.label} answered {status}, which it does not document: "
            f"{response.text[:300]}"
        )
    return None


@schemathesis.check
def answers_in_time(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every answer within ``RESPONSE_LIMIT_S``: a hang fails the run instead of stalling it."""
    if response.elapsed > RESPONSE_LIMIT_S:
        raise AssertionError(f"{case.operation.label} took {response.elapsed:.1f} s")
    return None


@schemathesis.check
def analysis_answers_in_time(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every analysis answer within ``ANALYSIS_LIMIT_S``."""
    if response.elapsed > ANALYSIS_LIMIT_S:
        raise AssertionError(f"{case.operation.label} took {response.elapsed:.1f} s")
    return None


def _blank_once_sent(value: Any) -> bool:
    """True when a generated query value reaches the wire as an empty string."""
    if value is None or value == "":
        return True
    if isinstance(value, dict):
        return all(_blank_once_sent(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_blank_once_sent(v) for v in value)
    return False


@schemathesis.check
def negative_data_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' negative-data check, except where the schema-violating value was sent as
    an empty query value (``amenity=``): an empty list item is skipped by design (``codes``),
    and the value the check thinks it sent is not what reached the app."""
    if any(_blank_once_sent(v) for v in (case.query or {}).values()):
        return None
    if case.operation.path == "/embed" and response.status_code == 200:
        # A rider opening a mangled link gets the page with a Chinese notice, not a JSON
        # problem: that notice is how /embed refuses a value, so it must be on the page.
        if EMBED_NOTICE in response.text:
            return None
    return negative_data_rejection(ctx, response, case)


EMBED_NOTICE = "链接中的参数有误"


CHECKS = [
    no_undocumented_server_error,
    answers_in_time,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejected,
]
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
)
# Analysis pages whose cost grows with radius x resolution (one request can take a minute):
# fuzzing them measures the CPU, not the contract; their own tests cover them.
# The meeting report (four coverage runs, gaps, a plan, a drawn map, a PDF) likewise.
SLOW = r"^/maps/(coverage|gaps)$|^/api/v1/coverage/report$"
# The analysis API: fuzzed with fewer examples, anonymously only (the caller's role does not
# change what they compute), so the run stays bounded.
ANALYSIS = r"^/api/v1/(coverage|gaps|plan)$"
# Likewise a plan: CBC proves optimality quickly up to ~200 new sites on the default area,
# then falls off a cliff (232: ~20 s, 260: minutes), so plans are fuzzed with at most this
# many. Only values the schema allows (1..500) are lowered: a negative case stays negative.
PLAN_SITES_MAX = 20
# A target share near 1 asks for every last cell of the area (hundreds of sites): the same.
PLAN_SHARE_MAX = 0.5
WECHAT_APP = {"wechat_app_id": "wx0123456789abcdef", "wechat_app_secret": "secret"}


@schemathesis.hook("map_body")
def _small_plans(ctx: schemathesis.HookContext, body: Any) -> Any:
    operation = getattr(ctx, "operation", None)
    if operation is None or operation.path != "/api/v1/plan" or not isinstance(body, dict):
        return body
    sites = body.get("new_sites")
    whole = type(sites) is int or (type(sites) is float and sites.is_integer())  # 232.0 too
    if whole and PLAN_SITES_MAX < sites <= 500:
        return {**body, "new_sites": PLAN_SITES_MAX}
    share = body.get("target_share")
    if type(share) in (int, float) and PLAN_SHARE_MAX < share <= 1:
        return {**body, "target_share": PLAN_SHARE_MAX}
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


def _document() -> dict[str, Any]:
    """The OpenAPI document, from an app that is built but never started (no store)."""
    return create_app(test_settings(**WECHAT_APP)).openapi()


schema = schemathesis.openapi.from_dict(_document(), config=CONFIG).exclude(path_regex=SLOW)
routine = schema.exclude(path_regex=ANALYSIS)


@pytest.fixture(scope="module")
def served(module_store_url: str) -> Iterator[tuple[FastAPI, FastAPI, Staff]]:
    """The app with WeChat (a local fake), the app without, and staff tokens: one store."""
    from schemathesis.python.asgi import shutdown_lifespans

    store = SqlStationStore(module_store_url)
    for i in range(3):
        store.create(make_station(external_id=f"YZ-{i}", lon=116.5 + i / 100), actor="seed")
    staff = add_staff(store)
    wechat = ThreadingHTTPServer(("127.0.0.1", 0), _FakeWeChat)
    threading.Thread(target=wechat.serve_forever, daemon=True).start()
    api_base = f"http://127.0.0.1:{wechat.server_address[1]}"
    app = create_app(test_settings(**WECHAT_APP, wechat_api_base=api_base), store=store)
    bare = create_app(test_settings(), store=store)
    try:
        yield app, bare, staff
    finally:
        shutdown_lifespans()  # the transport started each app's lifespan on its first request
        wechat.shutdown()
        store.close()


_SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@routine.parametrize()
@_SETTINGS
def test_anonymous(case: Any, served: tuple[FastAPI, FastAPI, Staff]) -> None:
    case.call_and_validate(checks=CHECKS, app=served[0])


@routine.parametrize()
@_SETTINGS
def test_as_editor(case: Any, served: tuple[FastAPI, FastAPI, Staff]) -> None:
    headers = Staff.bearer(served[2].editor)
    case.call_and_validate(checks=CHECKS, app=served[0], headers=headers)


@schema.include(path_regex=ANALYSIS).parametrize()
@settings(_SETTINGS, max_examples=8)
def test_analysis(case: Any, served: tuple[FastAPI, FastAPI, Staff]) -> None:
    checks = [c for c in CHECKS if c is not answers_in_time] + [analysis_answers_in_time]
    case.call_and_validate(checks=checks, app=served[0], timeout=ANALYSIS_LIMIT_S + 10)


@schema.include(path_regex=r"^/api/v1/wechat/").parametrize()
@_SETTINGS
def test_without_wechat_credentials(case: Any, served: tuple[FastAPI, FastAPI, Staff]) -> None:
    """The documented 503 (the page then uses the browser's location), nothing else 5xx."""
    case.call_and_validate(checks=CHECKS, app=served[1])
