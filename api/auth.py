"""Who is calling: API tokens, console sessions, roles and CSRF — as typed dependencies.

Programs send ``Authorization: Bearer <token>``; browsers on the staff console carry the
session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS) and prove every state-changing
request is their own with the session's CSRF token, sent as the ``X-CSRF-Token`` header (from
JavaScript) or the ``csrf_token`` form field (from a plain HTML form). A bearer token needs no
CSRF token: browsers never attach it by themselves.

Routes ask for ``CurrentUser`` (any role), ``EditorDep`` or ``AdminDep``. No credentials → 401
(with ``WWW-Authenticate: Bearer``), a role too weak → 403. Routes that read stations in bulk
ask for ``ReaderScope``: the caller's organisation and below (everything when anonymous).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import AccountsDep, OrgsDep
from stations.errors import Forbidden, Unauthorized
from stations.i18n import Message
from stations.orgs.scope import ReadScope
from stations.store.accounts import Session, User

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_TTL",
    "AdminDep",
    "CurrentUser",
    "EditorDep",
    "Principal",
    "PrincipalDep",
    "ReaderScope",
    "check_csrf",
    "clear_session_cookie",
    "is_https",
    "set_session_cookie",
]

SESSION_COOKIE = "stations_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_TTL = timedelta(hours=12)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared for the OpenAPI document (security schemes); parsing is done below, strictly.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="token", description="API token from `stations token create NAME`"
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="Staff console session from POST /api/v1/auth/login; "
    "writes also need the X-CSRF-Token header",
)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; ``session`` is None for bearer tokens."""

    user: User
    session: Session | None = None


def _principal(
    request: Request,
    accounts: AccountsDep,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _session: Annotated[str | None, Depends(_cookie)],
) -> Principal | None:
    # Sync: FastAPI runs it in the thread pool, so the database lookup never blocks the loop.
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(Message("the Authorization header must be 'Bearer <token>'"))
        user = accounts.user_for_token(token.strip())
        if user is None:
            raise Unauthorized(Message("the API token is unknown, revoked or its user disabled"))
        return Principal(user)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        session = accounts.session(secret)
        if session is None:
            raise Unauthorized(Message("the console session has expired; log in again"))
        return Principal(session.user, session)
    return None


async def check_csrf(request: Request, session: Session) -> None:
    """403 unless the request carries the session's CSRF token (header or form field)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        media = request.headers.get("content-type", "")
        if media.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise Forbidden(
            f"missing or wrong CSRF token: send the session's token as the "
            f"{CSRF_HEADER} header or the {CSRF_FIELD} form field"
        )


async def principal(
    request: Request, found: Annotated[Principal | None, Depends(_principal)]
) -> Principal:
    """The caller, CSRF-checked when a cookie session makes a state-changing request."""
    if found is None:
        raise Unauthorized(Message("log in, or send 'Authorization: Bearer <token>'"))
    if found.session is not None and request.method not in _SAFE_METHODS:
        await check_csrf(request, found.session)
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


async def current_user(found: PrincipalDep) -> User:
    return found.user


def _needs(role: str) -> Callable[[Principal], Awaitable[User]]:
    async def dependency(found: PrincipalDep) -> User:
        if not found.user.can(role):
            raise Forbidden(
                Message(
                    "this needs the {role} role; {user!r} is a {has}",
                    role=role,
                    user=found.user.name,
                    has=found.user.role,
                )
            )
        return found.user

    dependency.__name__ = f"require_{role}"
    return dependency


def reader_scope(request: Request, accounts: AccountsDep, orgs: OrgsDep) -> ReadScope:
    """The one place a request's read scope is decided: a signed-in caller (token or console
    session) sees their organisation and everything below it, an anonymous one the whole
    network (see :class:`stations.orgs.scope.ReadScope`).

    A bad or expired credential reads as anonymous here: the route's own authentication
    answers it (401, or the console's login page), and nothing but public data is shown
    without a user.
    """
    try:
        found = _principal(request, accounts, None, None)
    except Unauthorized:
        found = None
    return orgs.read_scope(found.user.name if found is not None else None)


#: What analysis, exports, statistics and the console show by default.
ReaderScope = Annotated[ReadScope, Depends(reader_scope)]
CurrentUser = Annotated[User, Depends(current_user)]
EditorDep = Annotated[User, Depends(_needs("editor"))]
AdminDep = Annotated[User, Depends(_needs("admin"))]


def is_https(request: Request) -> bool:
    """True for HTTPS, directly or behind a proxy that says so (X-Forwarded-Proto)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )
