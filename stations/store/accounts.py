"""Staff accounts: who may change station data, and how they prove it.

Reads are public; writes need a user with the ``editor`` (or ``admin``) role. Programs prove
who they are with an API token, people using the staff console with a password and then a
session cookie. Secrets are never stored: API tokens and session ids are high-entropy random
strings, so one SHA-256 is enough to keep them safe at rest (a leaked table gives nothing
usable); passwords are low-entropy, so they get a salted, memory-hard scrypt hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from stations.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from stations.i18n import Message
from stations.store.repository import Repository
from stations.store.schema import api_tokens_table, sessions_table, storable_id, users_table

__all__ = [
    "ROLES",
    "TOKEN_PREFIX",
    "AccountStore",
    "ApiToken",
    "Session",
    "SqlAccountStore",
    "User",
    "hash_password",
    "role_at_least",
    "secret_digest",
    "verify_password",
]

#: Roles in increasing power; each includes what the ones before it may do.
ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
#: API tokens start with this, so a leaked one is recognisable (e.g. by secret scanners).
TOKEN_PREFIX = "wst_"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # scrypt cost grows with input; refuse absurd lengths up front
NAME_LIMIT = 100  # the history's ``actor`` column

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def role_at_least(role: str, needed: str) -> bool:
    """True when ``role`` may do what ``needed`` may (admin ⊇ editor ⊇ viewer)."""
    return ROLES.index(role) >= ROLES.index(needed)


def secret_digest(secret: str) -> str:
    """SHA-256 hex of a token or session id: what the database keeps instead of the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A salted scrypt hash, self-describing (``scrypt$n$r$p$salt$hash``) so costs can rise."""
    _check_password(password)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a ``hash_password`` result."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Checked against when the user does not exist, so a login takes as long either way and
# response times do not reveal which names are accounts.
_DUMMY_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(b'0' * 16)}${_b64(b'0' * 32)}"


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "password",
                    "must be {low} to {high} characters long",
                    low=MIN_PASSWORD,
                    high=MAX_PASSWORD,
                )
            ]
        )


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > NAME_LIMIT or any(ord(ch) < 32 or ch == "\x7f" for ch in clean):
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "name", "must be 1 to {limit} printable characters", name[:40], limit=NAME_LIMIT
                )
            ]
        )
    return clean


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "role", "must be a role: {valid}", role, valid=", ".join(ROLES)
                )
            ]
        )
    return role


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class User:
    """A staff member; ``name`` is what the change history records as the actor."""

    id: int
    name: str
    role: str
    created_at: datetime
    disabled: bool = False
    has_password: bool = False

    def can(self, needed: str) -> bool:
        """True when this user is active and has at least the ``needed`` role."""
        return not self.disabled and role_at_least(self.role, needed)


@dataclass(frozen=True)
class ApiToken:
    """A token's public description (never its secret)."""

    id: int
    user_name: str
    label: str
    prefix: str
    created_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class Session:
    """A console login: the user and the CSRF token every form of the session must carry."""

    user: User
    csrf_token: str
    expires_at: datetime


class AccountStore(ABC):
    """Users, API tokens and console sessions. Every write is one transaction."""

    @abstractmethod
    def add_user(self, name: str, role: str, *, password: str | None = None) -> User:
        """Create a user; ``Conflict`` when the name is taken."""

    @abstractmethod
    def get_user(self, name: str) -> User:
        """The user, or ``NotFound``."""

    @abstractmethod
    def users(self) -> list[User]: ...

    @abstractmethod
    def set_role(self, name: str, role: str) -> User: ...

    @abstractmethod
    def set_password(self, name: str, password: str) -> None:
        """Set the console password; ends the user's sessions (a reset locks out old logins)."""

    @abstractmethod
    def disable_user(self, name: str) -> User:
        """Stop a user: tokens and sessions stop working; history keeps the name."""

    @abstractmethod
    def create_token(self, user_name: str, *, label: str = "") -> tuple[ApiToken, str]:
        """A new token for the user: its description and the secret, which is never shown
        again (only its hash is stored).
        """

    @abstractmethod
    def tokens(self, user_name: str | None = None) -> list[ApiToken]: ...

    @abstractmethod
    def revoke_token(self, token: int | str) -> ApiToken:
        """Revoke by id or by the secret itself; ``NotFound`` when no such token."""

    @abstractmethod
    def revoke_user_tokens(self, user_name: str) -> int:
        """Revoke every token of a user; returns how many were live."""

    @abstractmethod
    def user_for_token(self, secret: str) -> User | None:
        """The active user a live token belongs to, else None."""

    @abstractmethod
    def authenticate(self, name: str, password: str) -> User | None:
        """The active user when the password is right, else None (same time either way)."""

    @abstractmethod
    def start_session(self, user: User, *, ttl: timedelta) -> tuple[str, Session]:
        """A console session: the cookie secret (stored only hashed) and the session."""

    @abstractmethod
    def session(self, secret: str) -> Session | None:
        """The live session of a cookie value, else None."""

    @abstractmethod
    def end_session(self, secret: str) -> None: ...


_U = users_table
_K = api_tokens_table
_S = sessions_table


def _user(row: Any) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        name=m["name"],
        role=m["role"],
        created_at=_utc(m["created_at"]),
        disabled=m["disabled_at"] is not None,
        has_password=bool(m["password_hash"]),
    )


class SqlAccountStore(Repository, AccountStore):
    """Accounts in the same database as the stations (SQLite or PostgreSQL)."""

    # -- users -------------------------------------------------------------------------
    def _find(self, conn: Connection, name: str) -> Any:
        row = conn.execute(select(_U).where(_U.c.name == name.strip())).first()
        if row is None:
            raise NotFound(Message("no user named {name!r}", name=name))
        return row

    def add_user(self, name: str, role: str, *, password: str | None = None) -> User:
        clean = _check_name(name)
        _check_role(role)
        hashed = hash_password(password) if password is not None else None
        now = datetime.now(UTC)
        with self._write() as conn, conn.begin():
            try:
                new_id = conn.execute(
                    insert(_U)
                    .values(
                        name=clean,
                        role=role,
                        password_hash=hashed,
                        created_at=now,
                    )
                    .returning(_U.c.id)
                ).scalar_one()
            except IntegrityError as exc:
                raise Conflict(Message("a user named {name!r} already exists", name=clean)) from exc
        return User(new_id, clean, role, now, False, hashed is not None)

    def get_user(self, name: str) -> User:
        with self.engine.connect() as conn:
            return _user(self._find(conn, name))

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(_U).order_by(_U.c.name))]

    def set_role(self, name: str, role: str) -> User:
        _check_role(role)
        with self._write() as conn, conn.begin():
            row = self._find(conn, name)
            conn.execute(update(_U).where(_U.c.id == row.id).values(role=role))
            return _user(conn.execute(select(_U).where(_U.c.id == row.id)).one())

    def set_password(self, name: str, password: str) -> None:
        hashed = hash_password(password)
        with self._write() as conn, conn.begin():
            row = self._find(conn, name)
            conn.execute(update(_U).where(_U.c.id == row.id).values(password_hash=hashed))
            conn.execute(delete(_S).where(_S.c.user_id == row.id))

    def disable_user(self, name: str) -> User:
        now = datetime.now(UTC)
        with self._write() as conn, conn.begin():
            row = self._find(conn, name)
            conn.execute(
                update(_U)
                .where(_U.c.id == row.id, _U.c.disabled_at.is_(None))
                .values(disabled_at=now)
            )
            conn.execute(delete(_S).where(_S.c.user_id == row.id))
            return _user(conn.execute(select(_U).where(_U.c.id == row.id)).one())

    # -- API tokens --------------------------------------------------------------------
    def create_token(self, user_name: str, *, label: str = "") -> tuple[ApiToken, str]:
        label = label.strip()[:NAME_LIMIT]
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = secret[: len(TOKEN_PREFIX) + 6]
        now = datetime.now(UTC)
        with self._write() as conn, conn.begin():
            user = _user(self._find(conn, user_name))
            token_id = conn.execute(
                insert(_K)
                .values(
                    user_id=user.id,
                    label=label,
                    prefix=prefix,
                    token_hash=secret_digest(secret),
                    created_at=now,
                )
                .returning(_K.c.id)
            ).scalar_one()
        return ApiToken(token_id, user.name, label, prefix, now), secret

    def _token_query(self) -> Any:
        return select(
            _K.c.id, _K.c.label, _K.c.prefix, _K.c.created_at, _K.c.revoked_at, _U.c.name
        ).join(_U, _U.c.id == _K.c.user_id)

    @staticmethod
    def _token(row: Any) -> ApiToken:
        return ApiToken(
            row.id,
            row.name,
            row.label,
            row.prefix,
            _utc(row.created_at),
            row.revoked_at is not None,
        )

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        query = self._token_query().order_by(_K.c.id)
        if user_name is not None:
            query = query.where(_U.c.name == user_name.strip())
        with self.engine.connect() as conn:
            return [self._token(r) for r in conn.execute(query)]

    def revoke_token(self, token: int | str) -> ApiToken:
        where = (
            (_K.c.id == token)
            if isinstance(token, int)
            else (_K.c.token_hash == secret_digest(token))
        )
        with self._write() as conn, conn.begin():
            row = None
            if not isinstance(token, int) or storable_id(token):
                row = conn.execute(self._token_query().where(where)).first()
            if row is None:
                raise NotFound(Message("no such API token"))
            conn.execute(
                update(_K)
                .where(_K.c.id == row.id, _K.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return self._token(conn.execute(self._token_query().where(_K.c.id == row.id)).one())

    def revoke_user_tokens(self, user_name: str) -> int:
        with self._write() as conn, conn.begin():
            row = self._find(conn, user_name)
            result = conn.execute(
                update(_K)
                .where(_K.c.user_id == row.id, _K.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return int(result.rowcount)

    def user_for_token(self, secret: str) -> User | None:
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        query = (
            select(_U)
            .join(_K, _K.c.user_id == _U.c.id)
            .where(
                _K.c.token_hash == secret_digest(secret),
                _K.c.revoked_at.is_(None),
                _U.c.disabled_at.is_(None),
            )
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _user(row) if row is not None else None

    # -- console login and sessions ----------------------------------------------------
    def authenticate(self, name: str, password: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_U).where(_U.c.name == name.strip()[:NAME_LIMIT])).first()
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        ok = verify_password(password[:MAX_PASSWORD], stored)
        if row is None or not row.password_hash or not ok or row.disabled_at is not None:
            return None
        return _user(row)

    def start_session(self, user: User, *, ttl: timedelta) -> tuple[str, Session]:
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + ttl
        with self._write() as conn, conn.begin():
            conn.execute(delete(_S).where(_S.c.expires_at < now))  # sweep the expired
            conn.execute(
                insert(_S).values(
                    id=secret_digest(secret),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return secret, Session(user, csrf, expires)

    def session(self, secret: str) -> Session | None:
        if not secret or len(secret) > 200:
            return None
        query = (
            select(_U, _S.c.csrf_token, _S.c.expires_at)
            .join(_S, _S.c.user_id == _U.c.id)
            .where(_S.c.id == secret_digest(secret), _U.c.disabled_at.is_(None))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        expires = _utc(row.expires_at)
        if expires <= datetime.now(UTC):
            return None
        return Session(_user(row), row.csrf_token, expires)

    def end_session(self, secret: str) -> None:
        with self._write() as conn, conn.begin():
            conn.execute(delete(_S).where(_S.c.id == secret_digest(secret)))
