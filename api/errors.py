"""Every error becomes an RFC 9457 ``application/problem+json`` document — mapped here only.

Domain code raises ``stations.errors`` / ``geodata.errors``; this module is the one place
that knows their HTTP shape. Clients never see a stack trace: unexpected errors are logged
and answered with a bare 500 problem.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.http.params import field_errors
from geodata.errors import GeodataError
from stations.errors import StationsError, Unauthorized, ValidationFailed, geodata_message
from stations.i18n import N_, Message, negotiate, translate
from stations.store.outage import UNAVAILABLE_ERRORS

__all__ = ["allowed_methods", "install_error_handlers", "problem"]

log = logging.getLogger("stations.api")
PROBLEM = "application/problem+json"


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem document; ``extra`` members (e.g. ``errors``) are added when not None."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def catalog_problem(status: int, title: str, why: Message) -> JSONResponse:
    """A problem answered outside the routes (the edge's limits) whose words come from the
    catalogs: the English detail, and its Chinese beside it as the domain's errors carry it,
    for the riders' pages."""
    extra: dict[str, Any] = {"detail_zh": why.text("zh-CN")}
    return problem(status, title, why.text("en"), **extra)


def _field_errors(exc: ValidationFailed) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors:
        item: dict[str, Any] = {"field": e.field, "message": e.message}
        if e.message_zh:
            item["message_zh"] = e.message_zh
        if e.row is not None:
            item["row"] = e.row
        if e.value is not None:
            plain = isinstance(e.value, int | str) or (
                isinstance(e.value, float) and math.isfinite(e.value)
            )
            item["value"] = e.value if plain else str(e.value)  # JSON has no NaN
        out.append(item)
    return out


def _language(request: Request) -> str:
    """The answer's language: ``Accept-Language`` decides; without one the JSON API answers
    in English and the riders' pages (``/embed``) in Chinese."""
    default = "zh-CN" if request.url.path.startswith("/embed") else "en"
    return negotiate(request.headers.get("accept-language"), default)


def _localised(
    lang: str, title: str, detail: str, errors: list[dict[str, Any]] | None
) -> tuple[str, str, dict[str, str]]:
    """Title and detail in ``lang`` (from the catalogs; field errors from their Chinese)."""
    if lang == "zh-CN":
        title = translate(title, lang)
        if errors:
            detail = "；".join(
                f"{e['field']}：{e.get('message_zh') or e['message']}" for e in errors
            )
    return title, detail, {"Content-Language": lang}


def _geodata_zh(exc: GeodataError) -> str | None:
    """A ``geodata`` error's Chinese, when it gave its catalog id."""
    message = geodata_message(exc)
    return None if message is None else message.text("zh-CN")


async def _stations_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StationsError)
    lang = _language(request)
    if exc.status == 500:
        log.error("server-side error: %s", exc)
        title, _, language = _localised(lang, exc.title, "", None)
        return problem(
            exc.status, title, "the server is misconfigured; see its log", headers=language
        )
    extra: dict[str, Any] = {k: v for k, v in exc.extra.items() if isinstance(v, int | str)}
    if isinstance(exc, ValidationFailed):
        extra["errors"] = _field_errors(exc)
    if exc.message is not None:  # from the catalogs: the riders' pages read its Chinese too
        extra["detail_zh"] = exc.text("zh-CN")
    title, _, headers = _localised(lang, exc.title, "", None)
    detail = exc.text(lang)
    # RFC 9110: a 401 says which scheme would work; a 503 says when to come back.
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="stations"'
    if isinstance(exc.extra.get("retry_after_s"), int):  # 429: when to try again
        headers["Retry-After"] = str(exc.extra["retry_after_s"])
    return problem(exc.status, title, detail, headers=headers, **extra)


async def _geodata_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GeodataError)
    errors: list[dict[str, Any]] | None = None
    zh = _geodata_zh(exc)
    if exc.field:
        errors = [{"field": exc.field, "message": str(exc)}]
        if zh:
            errors[0]["message_zh"] = zh
    title, detail, headers = _localised(
        _language(request), "Invalid geographic input", str(exc), errors if zh else None
    )
    return problem(422, title, detail, errors=errors, headers=headers)


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": e.field, "message": e.message, "message_zh": e.message_zh}
        for e in field_errors(exc.errors())
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    title, detail, headers = _localised(_language(request), "Invalid request", detail, errors)
    return problem(422, title, detail, errors=errors, headers=headers)


#: Methods probed for ``Allow`` (OPTIONS is CORS's, answered by its middleware).
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (``Allow`` of a 405, RFC 9110 15.5.6).

    Starlette answers a 405 with the methods of the *first* route whose path matched, so a
    path served by several routes (GET and its HEAD twin under ``/ogc``, GET and POST on
    ``/api/v1/stations``) advertised only one of them. Each method is asked of the routes
    (included routers too); only a 405 pays for it.
    """
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        allow = allowed_methods(request)
        if allow:
            headers = {**(headers or {}), "Allow": allow}
    title = {
        404: "Not found",
        405: "Method not allowed",
        401: "Unauthorized",
        403: "Forbidden",
        413: "Payload too large",
        429: "Too many requests",
    }
    return problem(
        exc.status_code,
        title.get(exc.status_code, "Error"),
        str(exc.detail),
        headers=headers,
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database refused or did not answer in time (lost, locked, timed out): a 503 the
    client may retry, never a 500, and the connection to the client stays open."""
    log.warning("store unavailable on %s %s: %s", request.method, request.url.path, exc)
    settings = getattr(getattr(request.app.state, "services", None), "settings", None)
    retry = max(1, math.ceil(settings.db_retry_after_s if settings is not None else 5))
    lang = _language(request)
    why = N_("the database did not answer in time; retry shortly")
    extra: dict[str, Any] = {"retry_after_s": retry, "detail_zh": translate(why, "zh-CN")}
    return problem(
        503,
        translate("Service unavailable", lang),
        translate(why, lang),
        headers={"Retry-After": str(retry), "Content-Language": lang},
        **extra,
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal server error", "an unexpected error occurred; it was logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StationsError, _stations_error)
    app.add_exception_handler(GeodataError, _geodata_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)
