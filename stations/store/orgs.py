"""The organisation tree: add, list, find, and which organisation a user belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from stations.errors import ConfigurationError, Conflict, FieldError, NotFound, ValidationFailed
from stations.store.engine import WRITE, make_engine, migrate
from stations.store.schema import ROOT_ORG_ID, orgs_table, users_table

__all__ = ["Org", "SqlOrgStore"]

_O = orgs_table


@dataclass(frozen=True)
class Org:
    """One organisation in the tree; ``path`` lists its ancestors' ids (``/1/4/9/``)."""

    id: int
    name: str
    parent_id: int | None
    path: str

    @property
    def depth(self) -> int:
        """How far below the root (the root is 0)."""
        return self.path.count("/") - 2

    def is_under(self, other: Org) -> bool:
        """Whether this organisation is ``other`` or below it."""
        return self.path.startswith(other.path)


def _org(row: Any) -> Org:
    return Org(row.id, row.name, row.parent_id, row.path)


class SqlOrgStore:
    """Organisations in the station store's database."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        if engine is None:
            if url is None:
                raise ValueError("give a database URL or an engine")
            engine = make_engine(url)
            migrate(engine)
        self.engine = engine

    @classmethod
    def beside(cls, store: object) -> SqlOrgStore:
        """The organisation store sharing a station store's database (and its engine)."""
        engine = getattr(store, "engine", None)
        if not isinstance(engine, Engine):
            raise ConfigurationError(f"{type(store).__name__} has no SQL engine for orgs")
        return cls(engine=engine)

    def add(self, name: str, *, parent: str | int | None = None) -> Org:
        """A new organisation under ``parent`` (name or id; default the root)."""
        clean = name.strip()
        if not clean or len(clean) > 100:
            raise ValidationFailed(
                [FieldError("name", "1 to 100 characters", name, None, "名称须为 1 至 100 个字符")]
            )
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            above = self._find(conn, parent if parent is not None else ROOT_ORG_ID)
            try:
                new_id = conn.execute(
                    insert(_O)
                    .values(name=clean, parent_id=above.id, path="", created_at=datetime.now(UTC))
                    .returning(_O.c.id)
                ).scalar_one()
            except IntegrityError as exc:
                raise Conflict(f"机构名已存在 / an organisation named {clean!r} exists") from exc
            conn.execute(update(_O).where(_O.c.id == new_id).values(path=f"{above.path}{new_id}/"))
            return self._find(conn, new_id)

    def _find(self, conn: Any, key: str | int) -> Org:
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            row = conn.execute(select(_O).where(_O.c.id == int(key))).first()
        else:
            row = conn.execute(select(_O).where(_O.c.name == key.strip())).first()
        if row is None:
            raise NotFound(f"没有这个机构 / no organisation {key!r}")
        return _org(row)

    def get(self, key: str | int) -> Org:
        """One organisation by id or name; ``NotFound`` if there is none."""
        with self.engine.connect() as conn:
            return self._find(conn, key)

    def list(self) -> list[Org]:
        """Every organisation, parents before children (ordered by path)."""
        with self.engine.connect() as conn:
            orgs = [_org(r) for r in conn.execute(select(_O))]
        return sorted(orgs, key=lambda o: [int(p) for p in o.path.strip("/").split("/")])

    def assign_user(self, user: str, org: str | int) -> Org:
        """Put a user in an organisation (their scope becomes it and everything below)."""
        users = users_table
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            target = self._find(conn, org)
            done = conn.execute(
                update(users).where(users.c.name == user.strip()).values(org_id=target.id)
            )
            if done.rowcount != 1:
                raise NotFound(f"没有这个用户 / no user {user!r}")
        return target

    def user_org(self, user: str) -> Org:
        """The organisation a user belongs to (the root when unassigned)."""
        users = users_table
        with self.engine.connect() as conn:
            org_id = conn.execute(
                select(users.c.org_id).where(users.c.name == user.strip())
            ).scalar_one_or_none()
            if org_id is None:
                raise NotFound(f"没有这个用户 / no user {user!r}")
            return self._find(conn, org_id)
