"""The one scope check of every station write, run inside the write's transaction.

A write's ``actor`` is a user name (API, console, ``--as USER`` on the command line) or a
system actor (``cli-import``, ``seed``: a process with direct database access, which no
scope could hold back anyway). A user may write a station when the station's organisation
is theirs or below it; a system actor may write any. Run inside the transaction, the check
sees the station's organisation as the write will change it (no check-then-act gap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, true

from stations.errors import Forbidden
from stations.i18n import Message
from stations.model import Station
from stations.store.schema import ROOT_ORG_ID, orgs_table, users_table

__all__ = ["EVERYWHERE", "ReadScope", "Scope", "guard", "scope_for", "org_path"]

_O = orgs_table
_U = users_table


@dataclass(frozen=True)
class Scope:
    """A user's reach: their organisation (``org_id``, ``path``) and everything below it."""

    user: str
    org_id: int
    org_name: str
    path: str

    def covers(self, path: str) -> bool:
        """True when the organisation at ``path`` is in this scope."""
        return path.startswith(self.path)


@dataclass(frozen=True)
class ReadScope:
    """What a reader sees by default: the stations of ``org_ids`` (None: the whole network).

    Writes are checked by :func:`guard`; reads are not refused, they are narrowed: analysis,
    exports, statistics and the console show a signed-in user their own organisation and
    everything below it (a roll-up of their subtree), the root's users and anonymous readers
    the whole network, so a single-district deployment (everyone in the root) sees what it
    always saw. Built once per request (``api.auth.ReaderScope``) from
    :meth:`stations.store.orgs.SqlOrgStore.read_scope` and handed to what reads stations.
    """

    org_ids: frozenset[int] | None = None
    org_name: str = ""
    #: The organisation's path (``/1/4/``): its subtree in SQL, however many it holds.
    path: str | None = None

    @property
    def whole(self) -> bool:
        """True when nothing is left out."""
        return self.org_ids is None

    @property
    def key(self) -> str:
        """Tells cached answers of different scopes apart."""
        return "*" if self.org_ids is None else ",".join(map(str, sorted(self.org_ids)))

    def includes(self, station: Station) -> bool:
        """Whether ``station`` belongs to an organisation in this scope."""
        return self.org_ids is None or station.org_id in self.org_ids

    def stations(self, stations: Iterable[Station]) -> list[Station]:
        """The stations in this scope, in their order."""
        if self.org_ids is None:
            return list(stations)
        ids = self.org_ids
        return [s for s in stations if s.org_id in ids]

    def station_clause(self, org_column: Any) -> Any:
        """A SQL condition on a stations ``org_id`` column: true in this scope."""
        if self.path is None:
            return true()
        return org_column.in_(select(_O.c.id).where(_O.c.path.startswith(self.path)))


#: Everything: anonymous readers, the root's users and the command line.
EVERYWHERE = ReadScope()


def scope_for(conn: Connection, actor: str) -> Scope | None:
    """The actor's scope, or None for a system actor (not a user): unrestricted."""
    row = conn.execute(
        select(_U.c.name, _O.c.id, _O.c.name.label("org"), _O.c.path)
        .select_from(_U.join(_O, _O.c.id == _U.c.org_id))
        .where(_U.c.name == actor)
    ).first()
    if row is None:
        return None
    return Scope(row.name, row.id, row.org, row.path)


def org_path(conn: Connection, org_id: int) -> tuple[str, str]:
    """``(path, name)`` of an organisation."""
    row = conn.execute(select(_O.c.path, _O.c.name).where(_O.c.id == org_id)).first()
    if row is None:  # a station whose organisation vanished: only the root may touch it
        return f"/{ROOT_ORG_ID}/?", f"#{org_id}"
    return row.path, row.name


def guard(
    conn: Connection,
    scope: Scope | None,
    org_id: int,
    *,
    station: int | str | None = None,
    row: int | None = None,
) -> None:
    """Forbidden unless ``scope`` reaches organisation ``org_id``.

    The reason (a catalog message) names the station (or the import row), its organisation
    and the user's.
    """
    if scope is None or org_id == scope.org_id:
        return
    path, name = org_path(conn, org_id)
    if scope.covers(path):
        return
    what = (
        Message("row {row}: station", row=row)
        if row is not None
        else Message("station {station}", station=station)
    )
    raise Forbidden(
        Message(
            "{what} belongs to {org}, outside {user_org} where {user} may write",
            what=what,
            org=name,
            user_org=scope.org_name,
            user=scope.user,
        ),
        org=name,
        user_org=scope.org_name,
    )
