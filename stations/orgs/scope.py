"""The one scope check of every station write, run inside the write's transaction.

A write's ``actor`` is a user name (API, console, ``--as USER`` on the command line) or a
system actor (``cli-import``, ``seed``: a process with direct database access, which no
scope could hold back anyway). A user may write a station when the station's organisation
is theirs or below it; a system actor may write any. Run inside the transaction, the check
sees the station's organisation as the write will change it (no check-then-act gap).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from stations.errors import Forbidden
from stations.store.schema import ROOT_ORG_ID, orgs_table, users_table

__all__ = ["Scope", "guard", "scope_for", "org_path"]

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

    The reason names the station (or the import row), its organisation and the user's, in
    Chinese first, then English.
    """
    if scope is None or org_id == scope.org_id:
        return
    path, name = org_path(conn, org_id)
    if scope.covers(path):
        return
    what_zh = f"第 {row} 行的驿站" if row is not None else f"驿站 {station}"
    what_en = f"row {row}: station" if row is not None else f"station {station}"
    raise Forbidden(
        f"{what_zh}属于「{name}」，不在「{scope.user}」所属机构「{scope.org_name}」的管辖范围内 / "
        f"{what_en} belongs to {name}, outside {scope.org_name} where {scope.user} may write",
        org=name,
        user_org=scope.org_name,
    )
