"""The store's small interface: what the rest of the code may ask of persistence.

Modelled on pygeoapi's provider base: callers (search, import, API) depend on this class,
never on SQL, so SQLite and PostgreSQL + PostGIS stay interchangeable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stations.model import Station, StationData

__all__ = ["HistoryEntry", "StationStore", "ImportPlanRow"]


@dataclass(frozen=True)
class HistoryEntry:
    """One change: who did what when, with the whole record before and after."""

    id: int
    station_id: int
    version: int
    action: str  # create | update | delete | restore | import | verify
    actor: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    seq: int | None = None  # position in the change feed (commit order); see ``feed``


@dataclass(frozen=True)
class ImportPlanRow:
    """A validated row to write: ``station_id`` None means create, else update in place.

    ``desired_id`` asks a created station to keep the id it had in an exported file (so
    import(export(x)) reproduces ids); it is honoured when that id is free.
    """

    data: StationData
    station_id: int | None = None
    desired_id: int | None = None
    row: int | None = None  # the file's row number, for errors that name it


class StationStore(ABC):
    """Persistence of stations and their history. Every write is one transaction."""

    @abstractmethod
    def get(self, station_id: int, *, include_deleted: bool = False) -> Station:
        """The station, or ``NotFound``."""

    @abstractmethod
    def all(self) -> list[Station]:
        """Every live (not deleted) station, ordered by id: what the in-memory index loads."""

    @abstractmethod
    def by_external_ids(self, external_ids: Iterable[str]) -> dict[str, Station]:
        """Stations (deleted ones included) keyed by external id, for import matching."""

    @abstractmethod
    def create(self, data: StationData, *, actor: str, org_id: int | None = None) -> Station:
        """A new station in ``org_id`` (default: the actor's organisation).

        Every write checks the actor's organisation scope (``stations.orgs.scope.guard``)
        inside its transaction: ``Forbidden`` when the station is outside it.
        """

    @abstractmethod
    def update(
        self,
        station_id: int,
        changes: Mapping[str, Any],
        *,
        actor: str,
        expected_version: int | None = None,
        org_id: int | None = None,
    ) -> Station:
        """Apply ``changes`` (field → raw value, validated against the merged record).

        With ``expected_version`` a stale version raises ``PreconditionFailed`` and writes
        nothing; without it the read-modify-write is still atomic (no lost updates). With
        ``org_id`` the station moves to that organisation: the actor's scope must reach both
        the station's organisation and the new one (``Forbidden`` otherwise).
        """

    @abstractmethod
    def delete(
        self, station_id: int, *, actor: str, expected_version: int | None = None
    ) -> Station:
        """Delete a station (kept with its history, restorable)."""

    @abstractmethod
    def restore(
        self,
        station_id: int,
        *,
        actor: str,
        version: int | None = None,
        expected_version: int | None = None,
    ) -> Station:
        """Undelete, or with ``version`` bring back the record as it was at that version.

        ``expected_version`` guards like in ``update``: stale → ``PreconditionFailed``.
        """

    @abstractmethod
    def verify(self, station_id: int, *, actor: str, at: datetime | None = None) -> Station:
        """Record a staff member's on-site check (sets ``verified_at``, a new version)."""

    @abstractmethod
    def unverify(self, station_id: int, *, actor: str, version: int) -> Station:
        """Take back the on-site check that made ``version`` (a tap by mistake): ``verified_at``
        as it was before it, in a new version. ``PreconditionFailed`` when the station was
        checked again (or the check taken back) since; ``Conflict`` when ``version`` was not a
        check.
        """

    @abstractmethod
    def authorise(self, station_id: int, *, actor: str) -> Station:
        """The station if ``actor``'s organisation scope reaches it, else ``Forbidden``."""

    @abstractmethod
    def history(self, station_id: int) -> list[HistoryEntry]:
        """Every change of one station, oldest first."""

    @abstractmethod
    def apply_import(self, rows: Sequence[ImportPlanRow], *, actor: str) -> tuple[int, int]:
        """Write all rows in ONE transaction (all or nothing); returns (created, updated)."""

    @abstractmethod
    def change_counter(self) -> int:
        """A number that grows with every write, cheap to poll from other processes."""

    @abstractmethod
    def changes_since(self, counter: int) -> list[tuple[int, int]]:
        """``(change id, station id)`` of every write after ``counter``, in change order."""

    @abstractmethod
    def feed(self, after: int, limit: int) -> list[HistoryEntry]:
        """Up to ``limit`` changes numbered after ``after``, in commit order (``seq``).

        What a reader sees is always a prefix of the numbering: no change can later appear
        with a number below one already read, so a follower resuming from the last number it
        saw misses nothing and sees nothing twice.
        """

    @abstractmethod
    def feed_head(self) -> int:
        """The number of the last committed change (0 when none)."""

    @abstractmethod
    def feed_changes(self, after: int) -> list[tuple[int, int]]:
        """``(feed number, station id)`` of every change numbered after ``after``, in commit
        order: :meth:`feed` without the records, for a reader that re-reads the stations.
        """

    @abstractmethod
    def wait_for_change(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` for a write by any process; True if one may have happened.

        PostgreSQL: ``LISTEN`` (a trigger notifies on commit). SQLite: ``PRAGMA data_version``,
        which changes when another connection commits. A False is a hint, not a promise:
        callers still poll ``change_counter`` now and then.
        """

    @abstractmethod
    def get_many(self, station_ids: Iterable[int]) -> list[Station]:
        """Those stations, deleted ones included (so a reader can drop them)."""

    @abstractmethod
    def close(self) -> None:
        """Release the store's connections."""
