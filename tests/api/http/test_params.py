"""The request parser's hot-route plumbing: the query-string split and the request-only route class."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import PlainTextResponse

from api.http.params import RequestRoute, query_pairs

_QUERY_TEXT = st.text(alphabet=st.sampled_from(list("ab=&%+;2F0 é骑")), max_size=30)


@given(_QUERY_TEXT)
def test_query_pairs_split_as_parse_qsl_does(query: str) -> None:
    assert query_pairs(query) == parse_qsl(query, keep_blank_values=True)


def test_query_pairs_decode_escapes_through_parse_qsl() -> None:
    assert query_pairs("amenity=%E7%83%AD%E6%B0%B4&q=a+b&k=") == [
        ("amenity", "热水"),
        ("q", "a b"),
        ("k", ""),
    ]


def test_a_request_route_calls_its_endpoint_with_the_request() -> None:
    router = APIRouter(route_class=RequestRoute)

    @router.get("/echo", summary="Echo the query")
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.scope["query_string"].decode())

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/echo?x=1").text == "x=1"
        assert client.get("/openapi.json").json()["paths"]["/echo"]["get"]["summary"] == (
            "Echo the query"
        )


def _declare(path: str, endpoint: object, **router_options: object) -> None:
    router = APIRouter(route_class=RequestRoute, **router_options)  # type: ignore[arg-type]
    router.get(path)(endpoint)  # type: ignore[arg-type]


def test_a_request_route_refuses_what_it_would_not_resolve() -> None:
    async def with_param(request: Request, k: int = 5) -> None: ...
    async def no_request() -> None: ...
    def not_async(request: Request) -> None: ...
    async def dependency() -> None: ...

    with pytest.raises(TypeError, match=r"/p: .*\['k'\]"):
        _declare("/p", with_param)
    with pytest.raises(TypeError, match="/n: "):
        _declare("/n", no_request)
    with pytest.raises(TypeError, match="/s: "):
        _declare("/s", not_async)

    async def only_request(request: Request) -> None: ...

    with pytest.raises(TypeError, match="/d: .*dependency"):
        _declare("/d", only_request, dependencies=[Depends(dependency)])
