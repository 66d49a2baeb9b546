"""The organisation tree's table: add, list, find, and which organisation a user belongs to.

The tree's rules (what an organisation is, its name, "this or below") are
:mod:`stations.orgs.tree`; the scope check every station write runs is
:mod:`stations.orgs.scope`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from stations.errors import Conflict, NotFound
from stations.i18n import Message
from stations.orgs.scope import EVERYWHERE, ReadScope
from stations.orgs.tree import Org, check_name
from stations.store.repository import Repository
from stations.store.schema import ROOT_ORG_ID, orgs_table, users_table

__all__ = ["SqlOrgStore"]

_O = orgs_table


def _org(row: Any) -> Org:
    return Org(row.id, row.name, row.parent_id, row.path)


class SqlOrgStore(Repository):
    """Organisations in the station store's database."""

    def add(self, name: str, *, parent: str | int | None = None) -> Org:
        """A new organisation under ``parent`` (name or id; default the root)."""
        clean = check_name(name)
        with self._write() as conn, conn.begin():
            above = self._find(conn, parent if parent is not None else ROOT_ORG_ID)
            try:
                new_id = conn.execute(
                    insert(_O)
                    .values(name=clean, parent_id=above.id, path="", created_at=datetime.now(UTC))
                    .returning(_O.c.id)
                ).scalar_one()
            except IntegrityError as exc:
                raise Conflict(
                    Message("an organisation named {name!r} exists", name=clean)
                ) from exc
            conn.execute(update(_O).where(_O.c.id == new_id).values(path=f"{above.path}{new_id}/"))
            return self._find(conn, new_id)

    def _find(self, conn: Any, key: str | int) -> Org:
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            row = conn.execute(select(_O).where(_O.c.id == int(key))).first()
        else:
            row = conn.execute(select(_O).where(_O.c.name == key.strip())).first()
        if row is None:
            raise NotFound(Message("no organisation {key!r}", key=key))
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
        with self._write() as conn, conn.begin():
            target = self._find(conn, org)
            done = conn.execute(
                update(users).where(users.c.name == user.strip()).values(org_id=target.id)
            )
            if done.rowcount != 1:
                raise NotFound(Message("no user {user!r}", user=user))
        return target

    def user_org(self, user: str) -> Org:
        """The organisation a user belongs to (the root when unassigned)."""
        users = users_table
        with self.engine.connect() as conn:
            org_id = conn.execute(
                select(users.c.org_id).where(users.c.name == user.strip())
            ).scalar_one_or_none()
            if org_id is None:
                raise NotFound(Message("no user {user!r}", user=user))
            return self._find(conn, org_id)

    def read_scope(self, user: str | None) -> ReadScope:
        """What ``user`` sees by default: their organisation and everything below it.

        Anonymous readers (None), unknown names and the root's users see everything.
        """
        if user is None:
            return EVERYWHERE
        users = users_table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_O.c.id, _O.c.name, _O.c.path)
                .select_from(users.join(_O, _O.c.id == users.c.org_id))
                .where(users.c.name == user.strip())
            ).first()
            if row is None or row.id == ROOT_ORG_ID:
                return EVERYWHERE
            below = conn.execute(select(_O.c.id).where(_O.c.path.startswith(row.path)))
            return ReadScope(frozenset(below.scalars()), row.name, row.path)
