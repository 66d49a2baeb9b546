"""Staff re-check rounds: the stations due for a visit, as a round (JSON or XLSX), and the
one-tap "checked" a staff member sends from the station's door."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from api.auth import EditorDep, ReaderScope
from api.deps import ServicesDep
from api.rest.station_input import parse_if_match
from api.rest.stations import IfMatch
from geodata.crs import CrsName, from_wgs84, to_wgs84
from stations.errors import (
    ConfigurationError,
    FieldError,
    PreconditionRequired,
    ValidationFailed,
)
from stations.hours.evaluate import local_naive
from stations.i18n import Message
from stations.io.write import write_xlsx
from stations.orgs.scope import EVERYWHERE, ReadScope
from stations.trust.recheck import REASONS, Due, due_stations, unsettled_doubt, visiting_order
from stations.trust.votes import Evidence, staff_votes

__all__ = ["router", "station_evidence"]

router = APIRouter(prefix="/api/v1", tags=["recheck"])


class CheckOut(BaseModel):
    """The station after a check (or its undoing)."""

    station_id: int
    verified_at: str | None = Field(description="When staff last checked it (null: never)")
    version: int = Field(description="The station's new version: send it as If-Match to undo")
    message_zh: str


class StopOut(BaseModel):
    """One stop of the round."""

    stop: int
    id: int
    external_id: str | None
    name: str
    address: str
    district: str
    lon: float
    lat: float
    reasons: list[str] = Field(description="never_verified, stale, doubtful, reported, no_photo")
    reasons_zh: list[str]
    verified_at: str | None


class RoundOut(BaseModel):
    stops: list[StopOut]
    count: int
    district: str | None
    start: dict[str, float] | None = Field(description="Where the round sets out (WGS-84)")


class VoteOut(BaseModel):
    id: int
    at: str
    state: Literal["open", "closed", "locked", "broken"]
    amenity: str | None
    said_zh: str = Field(description="关着, or 设施坏了（微波炉）")
    onsite: bool
    scheduled: bool | None = Field(description="What the published hours said then")
    phone: str = Field(description="A, B, …: the device, in the order first shown")


class EvidenceOut(BaseModel):
    station_id: int
    confidence: Literal["confirmed", "scheduled", "doubtful", "unknown"]
    confidence_zh: str
    confidence_reasons: list[dict[str, str]]
    phones: int = Field(description="How many different phones the votes came from")
    confirmations: list[VoteOut]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_HEADER = [
    "顺序",
    "系统ID",
    "编号",
    "名称",
    "地址",
    "区县",
    "原因",
    "上次核查",
    "高德经度（GCJ-02）",
    "高德纬度（GCJ-02）",
    "经度（WGS-84）",
    "纬度（WGS-84）",
]


def _on_amap(lon: float, lat: float) -> tuple[float, float]:
    """The stop where AMap (and the clerk's phone navigation) puts it: a WGS-84 point pasted
    into AMap lands some 500 m off in Beijing, so the sheet gives GCJ-02 first, labelled."""
    glon, glat = from_wgs84(lon, lat, "gcj02")
    return round(float(glon), 6), round(float(glat), 6)


def _trust(svc: Any) -> Any:
    if svc.trust is None:
        raise ConfigurationError("re-check rounds need the trust service")
    return svc.trust


def round_start(
    svc: Any,
    station: int | None,
    lon: float | None,
    lat: float | None,
    crs: str = "wgs84",
) -> tuple[float, float] | None:
    """Where the round sets out from (WGS-84): a chosen station (the union office, say) or a
    position in ``crs``; None: from the first stop. Says which field is wrong."""
    errors = []
    if (lon is None) != (lat is None):
        errors.append(FieldError.from_catalog("start_lon/start_lat", "give both or neither"))
    elif lon is not None and station is not None:
        errors.append(
            FieldError.from_catalog(
                "start_station", "give a start station or a start position, not both", station
            )
        )
    if errors:
        raise ValidationFailed(errors)
    if station is not None:
        s = svc.catalog.get(station)
        return (s.data.lon, s.data.lat)
    if lon is not None and lat is not None:
        x, y = to_wgs84(lon, lat, crs)
        return (float(x), float(y))
    return None


def worklist(
    svc: Any,
    district: str | None,
    start: tuple[float, float] | None = None,
    scope: ReadScope = EVERYWHERE,
) -> list[Due]:
    """Due stations of the catalog in ``scope``, ordered as a round (OR-Tools) from ``start``."""
    trust = _trust(svc)
    catalog = svc.catalog
    now = datetime.now(UTC)
    pending, _ = svc.reports.list(status="pending", limit=100_000)
    board = trust.board

    def doubtful(station: Any) -> bool:
        if not board.votes(station.id):
            return False
        confidence = board.confidence(station, catalog.open_now(station, now))
        return unsettled_doubt(confidence, station.verified_at)

    stations = scope.stations(catalog.all())
    due = due_stations(
        stations,
        verified={s.id: s.verified_at for s in stations},
        doubtful=doubtful,
        reported={r.station_id for r in pending},
        now=now,
        district=district,
    )
    order = visiting_order([(d.station.data.lon, d.station.data.lat) for d in due], start=start)
    return [due[i] for i in order]


def _row(n: int, d: Due) -> dict[str, Any]:
    s = d.station
    return {
        "stop": n,
        "id": s.id,
        "external_id": s.data.external_id,
        "name": s.data.name,
        "address": s.data.address,
        "district": s.data.district,
        "lon": s.data.lon,
        "lat": s.data.lat,
        "reasons": list(d.reasons),
        "reasons_zh": [REASONS[r] for r in d.reasons],
        "verified_at": d.verified_at.isoformat() if d.verified_at else None,
    }


@router.get(
    "/recheck",
    response_model=RoundOut,
    summary="Stations due for a staff visit, ordered as a round (editor)",
    description="The round leaves from `start_station` or (`start_lon`, `start_lat`) in "
    "`crs` and comes back to it (the solver's depot); without a start it begins at a stop.",
    responses={
        200: {
            "description": "The round as JSON, or as a workbook with `format=xlsx`",
            "content": {"application/json": {}, XLSX: {}},
        }
    },
)
def recheck(
    _user: EditorDep,
    svc: ServicesDep,
    scope: ReaderScope,
    district: Annotated[str | None, Query(max_length=60)] = None,
    format: Literal["json", "xlsx"] = "json",
    start_station: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="Set out from this station (e.g. the union office)"),
    ] = None,
    start_lon: Annotated[
        float | None, Query(ge=-180, le=180, description="Set out from here: longitude in `crs`")
    ] = None,
    start_lat: Annotated[
        float | None, Query(ge=-90, le=90, description="Set out from here: latitude in `crs`")
    ] = None,
    crs: Annotated[CrsName, Query(description="CRS of start_lon/start_lat")] = CrsName.wgs84,
) -> Any:
    start = round_start(svc, start_station, start_lon, start_lat, crs.value)
    due = worklist(svc, district, start, scope)
    rows = [_row(n, d) for n, d in enumerate(due, start=1)]
    if format == "json":
        return {
            "stops": rows,
            "count": len(rows),
            "district": district,
            "start": None if start is None else {"lon": start[0], "lat": start[1]},
        }
    zone = svc.settings.timezone
    table = [
        [
            r["stop"],
            r["id"],
            r["external_id"] or "",
            r["name"],
            r["address"],
            r["district"],
            "、".join(r["reasons_zh"]),
            local_naive(d.verified_at, zone).replace(second=0, microsecond=0)
            if d.verified_at
            else "从未",
            *_on_amap(r["lon"], r["lat"]),
            r["lon"],
            r["lat"],
        ]
        for r, d in zip(rows, due, strict=True)
    ]
    # Text cells (write_xlsx): a name starting with "=" stays that name, never a formula.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "recheck.xlsx")
        write_xlsx(path, _XLSX_HEADER, table, sheet_name="核查路线")
        with open(path, "rb") as fh:
            content = fh.read()
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="recheck.xlsx"'},
    )


def station_evidence(svc: Any, station_id: int, limit: int = 100) -> Evidence:
    """What riders said of a station, for staff deciding on a report: the confidence riders
    are shown now, and the latest votes (newest first), each phone a letter. NotFound for a
    station not in the catalog (deleted, or never)."""
    trust = _trust(svc)
    station = svc.catalog.get(station_id)
    confidence = trust.board.confidence(station, svc.catalog.open_now(station, datetime.now(UTC)))
    votes = staff_votes(trust.confirmations.for_station(station_id, limit=limit))
    return Evidence(station_id, confidence, votes)


@router.get(
    "/stations/{station_id}/confirmations",
    response_model=EvidenceOut,
    summary="A station's latest rider votes and the confidence riders see (editor)",
    description="Newest first. Devices are shown as letters (`phone`: A, B, …, in the order "
    "the list first shows each), so staff can tell several phones from one; no device hash "
    "leaves the service. `scheduled`: what the published hours said when the vote was cast "
    "(a 关着 outside them does not count against the station).",
)
def station_confirmations(
    station_id: Annotated[int, Path(ge=1, le=2**62)],
    _user: EditorDep,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many votes")] = 100,
) -> Any:
    return station_evidence(svc, station_id, limit).as_dict()


@router.post(
    "/stations/{station_id}/checked",
    response_model=CheckOut,
    summary="A staff member on site confirms the record (sets verified_at) (editor)",
)
def checked(
    station_id: Annotated[int, Path(ge=1, le=2**62)], user: EditorDep, svc: ServicesDep
) -> Any:
    station = svc.store.verify(station_id, actor=user.name)
    svc.catalog.refresh()  # this process's answers show it at once
    return _check_answer(station, "已记录核查")


@router.delete(
    "/stations/{station_id}/checked",
    response_model=CheckOut,
    summary="Take back an on-site check made by mistake (editor)",
    description="`If-Match` names the version the check made (its answer's `version`); "
    "`verified_at` goes back to what it was before. Other changes since (a door photo, an "
    "edit) stay; 412 when the station was checked again or the check taken back since, 409 "
    "when that version was not a check, 428 without If-Match. Both the check and its "
    "undoing stay in the history.",
)
def unchecked(
    station_id: Annotated[int, Path(ge=1, le=2**62)],
    user: EditorDep,
    svc: ServicesDep,
    if_match: IfMatch = None,
) -> Any:
    version = parse_if_match(if_match)
    if version is None:
        raise PreconditionRequired(
            Message('send If-Match: "N" with the version the check made (its answer\'s version)')
        )
    station = svc.store.unverify(station_id, actor=user.name, version=version)
    svc.catalog.refresh()
    return _check_answer(station, "已撤销核查")


def _check_answer(station: Any, message_zh: str) -> dict[str, Any]:
    return {
        "station_id": station.id,
        "verified_at": station.verified_at.isoformat() if station.verified_at else None,
        "version": station.version,
        "message_zh": message_zh,
    }
