"""Console login and logout: a password exchanged for an HttpOnly session cookie.

``POST /api/v1/auth/login`` takes JSON or an HTML form. It answers with the session's CSRF
token (JavaScript sends it back as ``X-CSRF-Token``; server-rendered forms embed it as the
``csrf_token`` field), or — for a form that names a ``next`` page — redirects there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.auth import (
    SESSION_COOKIE,
    SESSION_TTL,
    PrincipalDep,
    clear_session_cookie,
    set_session_cookie,
)
from api.deps import AccountsDep
from api.http.params import inline_schema, parse_model, read_json
from api.http.rate_limit import rate_limited
from api.rest.schemas import LoginIn, SessionOut
from stations.errors import Unauthorized
from stations.i18n import Message
from stations.store.accounts import Session, User

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

#: Per client address: 10 attempts, then one every 6 seconds — slows password guessing.
LOGIN_LIMIT = rate_limited("login", per_hour=600, burst=10)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_LOGIN_FORM = {
    "type": "object",
    "required": ["name", "password"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "password": {"type": "string", "minLength": 1, "maxLength": 1024},
        "next": {
            "type": "string",
            "maxLength": 500,
            "description": "Same-site path to go to after logging in (303)",
        },
    },
}
_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": inline_schema(LoginIn)},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_FORM},
        },
    }
}


def _safe_next(value: Any) -> str | None:
    """A same-site path to redirect to; anything that could leave the site is ignored."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(ch) < 32 for ch in value) or len(value) > 500:
        return None
    return value


def _session_out(user: User, session: Session | None) -> dict[str, Any]:
    return {
        "user": {"name": user.name, "role": user.role},
        "csrf_token": session.csrf_token if session else None,
        "expires_at": session.expires_at.isoformat() if session else None,
    }


@router.post(
    "/login",
    response_model=SessionOut,
    openapi_extra=_LOGIN_BODY,
    dependencies=[Depends(LOGIN_LIMIT)],
    responses={303: {"description": "Logged in; going to the form's `next` page"}},
    summary="Log in to the staff console (sets the session cookie)",
)
async def login(request: Request, accounts: AccountsDep) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    target = None
    if media in _FORM_TYPES:
        form = await request.form()
        raw = {k: v for k, v in form.items() if k in ("name", "password")}
        target = _safe_next(form.get("next"))
    else:
        raw = await read_json(request)
    credentials = parse_model(LoginIn, raw)
    user = await run_in_threadpool(accounts.authenticate, credentials.name, credentials.password)
    if user is None:
        raise Unauthorized(Message("wrong name or password, or the account is disabled"))
    secret, session = await run_in_threadpool(accounts.start_session, user, ttl=SESSION_TTL)
    response: Response
    if target is not None:
        response = RedirectResponse(target, status_code=303)
    else:
        response = JSONResponse(_session_out(user, session))
    set_session_cookie(response, request, secret)
    return response


@router.get(
    "/session",
    response_model=SessionOut,
    summary="Who is signed in, and the CSRF token for the console's scripts",
)
def current_session(found: PrincipalDep) -> Any:
    return _session_out(found.user, found.session)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="End the console session (needs the CSRF token)",
)
def logout(request: Request, accounts: AccountsDep, found: PrincipalDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if found.session is not None and secret:
        accounts.end_session(secret)
    response = Response(status_code=204)
    clear_session_cookie(response, request)
    return response
