"""A rider's "我在这里" tap: checked, placed, stored, weighed, and queued for staff if need be.

The one entry point the API (and anything else) calls. It reads the station from the
catalog (the open-now of the moment is part of the vote, rule 3 of
:mod:`stations.trust.rules`), measures the geodesic distance from the phone's position given
in the page's CRS, stores the vote through :class:`~stations.store.confirmations.
SqlConfirmationStore`, applies it to this process's :class:`~stations.trust.board.TrustBoard`
at once (the rider's next look shows it), and when rule 4 holds files a ``closed`` report in
the existing review queue — in the vote's own transaction when the queue is in the votes'
database (the store decides rule 4 on the station's recent votes in that transaction, see
:mod:`stations.store.confirmations`), otherwise in a transaction of its own after the vote.
The stored station is never changed here.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from geodata.crs import crs_name, to_wgs84
from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from stations.errors import FieldError, ValidationFailed
from stations.model import Station
from stations.search import StationCatalog
from stations.store.confirmations import (
    LOOKBACK,
    PendingVote,
    Recorded,
    SqlConfirmationStore,
)
from stations.store.reports import ReportStore, SqlReportStore, validate_report
from stations.trust.board import TrustBoard
from stations.trust.device import check_device_id, device_hash
from stations.trust.rules import ONSITE_RADIUS_M, STATES, Confidence, Vote
from stations.vocabulary import UnknownCode, normalise_code

__all__ = [
    "AUTO_REPORT_TEXT",
    "PRUNE_EVERY_S",
    "ConfirmationIn",
    "Receipt",
    "TrustService",
    "parse_confirmation",
]

#: The text of the report rule 4 files (always the same, so repeats count on one row).
AUTO_REPORT_TEXT = "多位骑手在现场反映关门或进不去（24 小时内 3 人以上，系统自动提交）"
_FIELDS = ("state", "lat", "lon", "crs", "amenity")
#: How often :meth:`TrustService.refresh` prunes the board and the expired claims.
PRUNE_EVERY_S = 600.0


@dataclass(frozen=True)
class ConfirmationIn:
    """A checked confirmation body; ``lon``/``lat`` already WGS-84 (None: no position)."""

    state: str
    lon: float | None
    lat: float | None
    amenity: str | None = None


class Receipt(NamedTuple):
    """What the rider is told back."""

    id: int
    station_id: int
    state: str
    onsite: bool
    distance_m: float | None
    confidence: Confidence
    queued: bool


def _number(
    raw: Mapping[str, Any], name: str, bound: float, errors: list[FieldError]
) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(FieldError.from_catalog(name, "is not a number", str(value)[:40]))
        return None
    number = float(value)
    if not math.isfinite(number) or not -bound <= number <= bound:
        errors.append(
            FieldError.from_catalog(
                name, "must be between -{bound} and {bound}", value, bound=f"{bound:g}"
            )
        )
        return None
    return number


def parse_confirmation(raw: Any) -> ConfirmationIn:
    """Check a JSON body ``{"state", "lat", "lon", "crs", "amenity"}``; all errors at once."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed([FieldError.from_catalog("body", "must be a JSON object")])
    errors: list[FieldError] = []
    for name in sorted(set(raw) - set(_FIELDS)):
        errors.append(
            FieldError.from_catalog(
                name, "unknown field; valid fields: {fields}", fields=", ".join(_FIELDS)
            )
        )
    state = raw.get("state")
    if state not in STATES:
        valid = ", ".join(f"{k} ({v})" for k, v in STATES.items())
        errors.append(
            FieldError.from_catalog(
                "state", "must be a state: {valid}", str(state)[:40], valid=valid
            )
        )
    lat = _number(raw, "lat", 90.0, errors)
    lon = _number(raw, "lon", 180.0, errors)
    if (lat is None) != (lon is None) and not errors:
        errors.append(FieldError.from_catalog("lat/lon", "give both or neither"))
    raw_crs = raw.get("crs") or "wgs84"
    try:
        crs = crs_name(raw_crs)
    except GeodataError as exc:
        errors.append(FieldError.of(exc, str(raw_crs)[:20]))
        crs = "wgs84"
    amenity = raw.get("amenity")
    if amenity is not None:
        if state != "broken":
            errors.append(
                FieldError.from_catalog("amenity", "only goes with state broken", amenity)
            )
        else:
            try:
                amenity = normalise_code("amenity", str(amenity))
            except UnknownCode as exc:
                errors.append(exc.error("amenity", str(amenity)[:40]))
    if errors:
        raise ValidationFailed(errors)
    if lon is not None and lat is not None:
        x, y = to_wgs84(lon, lat, crs)
        lon, lat = float(x), float(y)
    return ConfirmationIn(str(state), lon, lat, amenity)


class TrustService:
    """Confirmations end to end; built once per process (the composition root)."""

    def __init__(
        self,
        confirmations: SqlConfirmationStore,
        catalog: StationCatalog,
        board: TrustBoard,
        reports: ReportStore | None = None,
        *,
        radius_m: float = ONSITE_RADIUS_M,
    ) -> None:
        self.confirmations = confirmations
        self.catalog = catalog
        self.board = board
        self.reports = reports
        self.radius_m = radius_m
        self._prune_at = 0.0  # when refresh() next tidies the board and the claims
        # The report's text as the queue stores it, when the vote's transaction can file it.
        self._report: str | None = None
        if (
            isinstance(reports, SqlReportStore)
            and reports.write_engine is confirmations.write_engine
        ):
            self._report = validate_report("closed", AUTO_REPORT_TEXT)[1]

    def load(self) -> int:
        """Fill the board with the last window's votes (at start)."""
        highest = self.confirmations.highest_id()
        return self.board.load(self.confirmations.recent(), lookback=LOOKBACK, highest=highest)

    def refresh(self, now: float | None = None) -> int:
        """Pull votes stored by other processes since the last pull; how many were new.

        Only votes this process has not applied are read (its own are applied as they are
        written): those above the highest id applied, and the ids below it still awaited
        (see :mod:`stations.trust.cursor`).

        Every :data:`PRUNE_EVERY_S` it also tidies: the board forgets votes past the window
        and the store deletes once-an-hour claims whose hour has passed (each process does
        it on its own clock; a second delete finds nothing).
        """
        now = time.time() if now is None else now
        if now >= self._prune_at:
            self._prune_at = now + PRUNE_EVERY_S
            self.board.prune(now)
            self.confirmations.prune_claims(now)
        after, holes = self.board.wanted()
        added = self.board.add(self.confirmations.since(after, now, holes=holes), now=now)
        self.board.expire(now)  # only holes this pull has just asked for
        return added

    def confirm(
        self, station_id: int, raw: Any, device_id: str | None, *, now: float | None = None
    ) -> Receipt:
        """Record one rider's tap (see the module docstring); raises the domain's errors."""
        station, vote, distance = self._vote(station_id, raw, device_id, now)
        stored = self.confirmations.record(self._pending(station_id, vote, distance))
        receipt = self._weigh(station, vote, stored, distance)
        if receipt.queued and self._report is None:
            self._queue(station_id)
        return receipt

    async def confirm_async(
        self, station_id: int, raw: Any, device_id: str | None, *, now: float | None = None
    ) -> Receipt:
        """:meth:`confirm` for a coroutine: the event loop serves other requests while the
        vote's batch commits (group commit on PostgreSQL).
        """
        station, vote, distance = self._vote(station_id, raw, device_id, now)
        stored = await self.confirmations.record_async(self._pending(station_id, vote, distance))
        receipt = self._weigh(station, vote, stored, distance)
        if receipt.queued and self._report is None:  # a queue elsewhere: its own transaction
            await asyncio.to_thread(self._queue, station_id)
        return receipt

    def _pending(self, station_id: int, vote: Vote, distance: float | None) -> PendingVote:
        """The vote as the store takes it: the report it may file, and how far this process's
        board already holds the stored votes (the store reads back only those above).
        """
        return PendingVote(
            station_id, vote, distance, self._report_for(vote), self.board.held_through
        )

    def _report_for(self, vote: Vote) -> str | None:
        """The report the vote's transaction files if rule 4 then holds: only a contradicting
        state cast on site can tip it (and the queue must be the votes' database's).
        """
        if self._report is not None and vote.state in ("closed", "locked") and vote.onsite:
            return self._report
        return None

    def _vote(
        self, station_id: int, raw: Any, device_id: str | None, now: float | None
    ) -> tuple[Station, Vote, float | None]:
        body = parse_confirmation(raw)
        device = device_hash(self.confirmations.salt(), check_device_id(device_id))
        station = self.catalog.get(station_id)
        now = time.time() if now is None else now
        scheduled = self.catalog.open_now(station, datetime.fromtimestamp(now, UTC))
        distance = None
        if body.lon is not None and body.lat is not None:
            distance = float(geodesic_m(body.lon, body.lat, station.data.lon, station.data.lat))
        onsite = distance is not None and distance <= self.radius_m
        return station, Vote(now, body.state, device, onsite, scheduled, body.amenity), distance

    def _weigh(
        self, station: Station, vote: Vote, stored: Recorded, distance: float | None
    ) -> Receipt:
        """The stored vote applied to the board, and the station's confidence after it;
        queued: the report its transaction filed, or (a queue elsewhere) the one to file now.
        """
        now = vote.at
        self.board.add(stored.recent, now=now, pulled=False)
        confidence = self.board.confidence(station, vote.scheduled, now)
        if self._report is not None:
            queued = stored.queued
        else:
            queued = bool(
                confidence.queue
                and vote.state in ("closed", "locked")
                and vote.onsite
                and self.reports is not None
            )
        return Receipt(
            stored.row.id, station.id, vote.state, vote.onsite, distance, confidence, queued
        )

    def _queue(self, station_id: int) -> None:
        if self.reports is not None:
            self.reports.submit(station_id, "closed", AUTO_REPORT_TEXT)
