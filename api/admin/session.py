"""Who is using the staff console, and the checks its own HTML forms need.

The console shares the API's session (the HttpOnly cookie set at login) and CSRF token: its
scripts call the JSON API with ``X-CSRF-Token``; its HTML forms (log out, upload, confirm an
import) carry the token as the ``csrf_token`` field and are checked with
``api.auth.check_csrf``. The login form itself comes before any session, so it is protected
by a double-submit token instead: a random value in a ``SameSite=Strict`` cookie scoped to the
login path, repeated in the form — a page on another site can post the form but can neither
read nor set that cookie, so it cannot log a member of staff into an account of its choosing.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.auth import SESSION_COOKIE, is_https
from api.deps import AccountsDep
from stations.store.accounts import Session, User, secret_digest

__all__ = [
    "CONSOLE_HOME",
    "LOGIN_CSRF_COOKIE",
    "LOGIN_PATH",
    "ConsoleDep",
    "ConsoleSession",
    "check_login_token",
    "clear_login_cookie",
    "console_session",
    "login_redirect",
    "new_login_token",
    "safe_next",
    "set_login_cookie",
]

CONSOLE_HOME = "/admin"
LOGIN_PATH = "/admin/login"
LOGIN_CSRF_COOKIE = "stations_login_csrf"
_LOGIN_TOKEN_TTL_S = 3600


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in member of staff on the console.

    ``owner`` identifies this session without being its secret (uploads are bound to it, so
    one person's pending import cannot be confirmed from another session).
    """

    user: User
    session: Session
    owner: str

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @property
    def can_edit(self) -> bool:
        return self.user.can("editor")


def console_session(request: Request, accounts: AccountsDep) -> ConsoleSession | None:
    """The console session of this request's cookie, or None (not signed in / expired)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    session = accounts.session(secret)
    if session is None:
        return None
    return ConsoleSession(session.user, session, secret_digest("console-owner:" + secret))


ConsoleDep = Annotated[ConsoleSession | None, Depends(console_session)]


def safe_next(value: object) -> str:
    """A console path to go to after logging in; anything else means the console's home."""
    if not isinstance(value, str) or len(value) > 500:
        return CONSOLE_HOME
    if (
        value != CONSOLE_HOME
        and not value.startswith(CONSOLE_HOME + "/")
        and not value.startswith(CONSOLE_HOME + "?")
    ):
        return CONSOLE_HOME
    if "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return CONSOLE_HOME
    if value.startswith(LOGIN_PATH):
        return CONSOLE_HOME
    return value


def login_redirect(request: Request) -> RedirectResponse:
    """303 to the login page, which comes back to this page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        f"{LOGIN_PATH}?next={quote(safe_next(target), safe='')}", status_code=303
    )


def new_login_token() -> str:
    """A fresh value for the login form's double-submit token (see ``set_login_cookie``)."""
    return secrets.token_urlsafe(24)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    """Set the cookie half of the login form's double-submit token."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=_LOGIN_TOKEN_TTL_S,
        path=LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_login_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        LOGIN_CSRF_COOKIE,
        path=LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def check_login_token(request: Request, sent: object) -> bool:
    """True when the login form's token matches its cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(cookie.encode(), sent.encode())
