"""What OGC API – Features means by its query parameters, on top of ``api.http.params``.

Parsing is the shared module's (``parse_bbox``, ``field_errors``, the filter and ``at``
dependencies); this module holds only where the standard's semantics differ from the rest of
the API. OGC API – Features Core says an invalid parameter value is a **400** (the rest of
this API answers 422), a ``limit`` above the maximum is lowered rather than refused, ``crs``
and ``bbox-crs`` are URIs of which only CRS84 is served, a 3-D bbox is refused by name, the
``datetime`` parameter must be understood even by a service whose features have no time, and
``f`` or ``Accept`` chooses HTML or JSON. ``OgcRoute`` gives a router those semantics without
touching the app-wide error mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from enum import StrEnum
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from api.http.params import field_errors, parse_bbox
from api.ogc.documents import CRS84
from stations.errors import FieldError, ValidationFailed

__all__ = [
    "MAX_LIMIT",
    "InvalidParameter",
    "OgcFormat",
    "OgcRoute",
    "check_bbox",
    "check_crs",
    "check_datetime",
    "wants_html",
]

#: The largest page; a larger ``limit`` is lowered to it (OGC /req/core/fc-limit-response).
MAX_LIMIT = 1000


class InvalidParameter(ValidationFailed):
    """A query parameter with an invalid value: OGC API Core wants 400, not 422."""

    status = 400
    title = "Invalid query parameter"


class OgcRoute(APIRoute):
    """Turns parameter validation failures of a route into ``InvalidParameter`` (400).

    Both kinds: FastAPI's own (``limit=0``, ``f=xml``) and the domain's ``ValidationFailed``
    raised by shared dependencies (an unknown amenity code, a malformed bbox).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = field_errors(exc.errors(), where="query", inputs=True)
                raise InvalidParameter(errors) from None
            except ValidationFailed as exc:
                if isinstance(exc, InvalidParameter):
                    raise
                raise InvalidParameter(exc.errors) from None

        return route_handler


class OgcFormat(StrEnum):
    json = "json"
    html = "html"


# Specificity of each media range for the two families served; the most specific wins.
_HTML_TYPES = {"text/html": 2, "application/xhtml+xml": 2, "text/*": 1, "*/*": 0}
_JSON_TYPES = {"application/json": 2, "application/geo+json": 2, "application/*": 1, "*/*": 0}


def _q_for(ranges: list[tuple[str, float]], types: dict[str, int]) -> float:
    """The quality the Accept ranges give a type family (most specific range wins)."""
    best = (-1, 0.0)
    for media, q in ranges:
        spec = types.get(media)
        if spec is not None and (spec, q) > best:
            best = (spec, q)
    return best[1]


def wants_html(request: Request, f: OgcFormat | None) -> bool:
    """``f`` decides when given; else HTML only if ``Accept`` prefers it over JSON.

    So browsers (``text/html,…,*/*;q=0.8``) get HTML while curl, OWSLib and QGIS (``*/*``
    or JSON types) get JSON.
    """
    if f is not None:
        return f is OgcFormat.html
    ranges = []
    for part in request.headers.get("accept", "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    html_q = _q_for(ranges, _HTML_TYPES)
    return html_q > 0 and html_q > _q_for(ranges, _JSON_TYPES)


def check_crs(name: str, value: str | None) -> None:
    """Only CRS84 is served (no Part 2): another ``crs``/``bbox-crs`` is refused, not ignored,
    since ignoring it would silently answer in the wrong coordinates."""
    if value is not None and value != CRS84:
        raise InvalidParameter(
            [FieldError.from_catalog(name, "only CRS84 ({crs}) is supported", value, crs=CRS84)]
        )


def check_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """A CRS84 ``minx,miny,maxx,maxy`` box (minx > maxx crosses the antimeridian)."""
    if bbox is not None and len(bbox.split(",")) == 6:
        raise InvalidParameter(
            [
                FieldError.from_catalog(
                    "bbox",
                    "a 3-D bbox (6 numbers) is not supported: stations have no height; give "
                    "minx,miny,maxx,maxy in CRS84 longitude/latitude",
                    bbox,
                )
            ]
        )
    return parse_bbox(bbox)


def check_datetime(value: str | None) -> None:
    """Accept an RFC 3339 instant or interval (``a/b``, ``..`` or empty for an open end)."""
    if value is None:
        return
    parts = value.split("/")
    ok = len(parts) in (1, 2)
    for part in parts if ok else []:
        if len(parts) == 2 and part in ("", ".."):
            continue
        try:
            datetime.fromisoformat(part)
        except ValueError:
            ok = False
    if not ok:
        raise InvalidParameter(
            [
                FieldError.from_catalog(
                    "datetime",
                    "must be an RFC 3339 date-time or interval, e.g. "
                    "2026-01-01T00:00:00Z or 2026-01-01T00:00:00Z/..",
                    value,
                )
            ]
        )
