"""Visits served: anonymous check-ins, staff hand tallies, and the statistics unions report.

Thin: parse, call ``stations.store.visits`` / ``visit_stats``, format. Check-ins are public
and rate-limited per client address (generous: riders share carrier-grade NAT addresses);
everything else needs a staff login or token, tallies the editor role.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth import CurrentUser, EditorDep, ReaderScope
from api.deps import SettingsDep, StoreDep, VisitsDep, base_url, services
from api.http.params import RequestRoute, inline_schema, json_body_doc, parse_model, read_json
from api.http.rate_limit import client_key
from api.services import Services
from stations.errors import ConfigurationError, FieldError, TooManyRequests, ValidationFailed
from stations.i18n import Message
from stations.store.visit_stats import StatsRow, VisitStats
from stations.store.visits import CheckinResult, SqlVisitStore, Tally
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["visits"])

StationId = Annotated[int, Path(ge=1, le=2**62)]
#: The widest span one statistics request may cover (ten years of days).
MAX_SPAN_DAYS = 3660
MAX_ROWS = 100_000


async def _checkin_limit(request: Request, svc: Services) -> None:
    """Per client address: ``checkin_rate_per_hour`` with bursts of ``checkin_burst``."""
    settings = svc.settings
    if settings.checkin_rate_per_hour <= 0:
        return
    limiter = svc.limiter
    client, rate = client_key(request.scope), settings.checkin_rate_per_hour / 3600.0
    if limiter.redis_url is None:  # counted here, without a coroutine
        wait = limiter.take_local("checkins", client, rate, settings.checkin_burst)
    else:
        wait = await limiter.take("checkins", client, rate=rate, burst=settings.checkin_burst)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            Message("too many check-ins from this address; retry in {seconds} s", seconds=seconds),
            retry_after_s=seconds,
        )


class CheckinIn(BaseModel):
    """A check-in: the code on the poster and, if the rider chose one, a worker type."""

    code: str = Field(max_length=64, description="The station's public code (on its poster)")
    worker_type: str | None = Field(
        default=None,
        max_length=32,
        description="delivery 外卖骑手 | courier 快递员 | sanitation 环卫工人 | "
        "ride_hailing 网约车司机 | other 其他",
    )


class CheckinOut(BaseModel):
    counted: bool
    station_id: int
    at: datetime
    next_count_at: datetime
    message_zh: str


def _receipt(result: CheckinResult) -> dict[str, Any]:
    message = "签到成功" if result.counted else "该设备在时间窗口内已签到，本次不重复计数"
    return {
        "counted": result.counted,
        "station_id": result.station_id,
        "at": result.at.isoformat(),
        "next_count_at": result.next_count_at.isoformat(),
        "message_zh": message,
    }


_DEVICE_HEADER = {
    "name": "x-device-id",
    "in": "header",
    "required": False,
    "description": "A random id the page keeps on the phone; stored only as a keyed hash",
    "schema": {"type": "string", "maxLength": 200},
}
_NO_STORE = {"Cache-Control": "no-store"}


async def check_in(request: Request) -> Response:
    # The riders' hot path, called straight by RequestRoute (no dependency resolution, no
    # response-model pass): the rate limit, one parse of the body, the device header read
    # once, then the visit store, on the event loop: the station comes from the catalog in
    # memory, and the check-in waits for its batch's commit without holding a thread.
    svc = services(request)
    await _checkin_limit(request, svc)
    body = parse_model(CheckinIn, await read_json(request))
    visits = svc.visits
    if visits is None:
        raise ConfigurationError("this store keeps no visits")
    device = request.headers.get("x-device-id")
    result = await visits.check_in_async(body.code, device, body.worker_type, svc.catalog)
    return JSONResponse(
        _receipt(result), status_code=201 if result.counted else 200, headers=_NO_STORE
    )


router.add_api_route(
    "/checkins",
    check_in,
    methods=["POST"],
    status_code=201,
    response_model=CheckinOut,
    route_class_override=RequestRoute,
    responses={
        200: {"description": "Already counted within the window (not counted again)"},
        429: {"description": "Too many check-ins from this address (Retry-After says when)"},
    },
    openapi_extra={
        "parameters": [_DEVICE_HEADER],
        **json_body_doc(inline_schema(CheckinIn), description="The poster's code"),
    },
    summary="Check in at a station (anonymous; one visit per device per station per window)",
)


# -- hand tallies ----------------------------------------------------------------------------


class TallyIn(BaseModel):
    count: int = Field(ge=0, le=100_000, description="Visits counted by hand on that day")


def _tally(t: Tally) -> dict[str, Any]:
    return {
        "station_id": t.station_id,
        "day": t.day.isoformat(),
        "count": t.count,
        "entered_by": t.entered_by,
        "updated_at": t.updated_at.isoformat(),
    }


@router.put(
    "/stations/{station_id}/tallies/{day}",
    summary="Set the visits counted by hand (paper register) for a station on a local day",
)
def put_tally(
    station_id: StationId, day: date, body: TallyIn, visits: VisitsDep, user: EditorDep
) -> Any:
    _not_future(day, visits)
    visits.set_tallies([(station_id, day, body.count)], actor=user.name)
    return _tally(visits.tallies(station_id=station_id, start=day, end=day + timedelta(days=1))[0])


@router.get("/stations/{station_id}/tallies", summary="A station's hand tallies, by day")
def get_tallies(
    station_id: StationId,
    visits: VisitsDep,
    _user: CurrentUser,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to", description="Inclusive")] = None,
) -> Any:
    stop = end + timedelta(days=1) if end is not None and end < date.max else None
    return {
        "tallies": [_tally(t) for t in visits.tallies(station_id=station_id, start=start, end=stop)]
    }


def _today(visits: SqlVisitStore) -> date:
    return datetime.now(ZoneInfo(visits.policy.tz)).date()


def _not_future(day: date, visits: SqlVisitStore) -> None:
    if day > _today(visits):
        raise ValidationFailed(
            [FieldError.from_catalog("day", "is in the future", day.isoformat())]
        )


# -- codes and posters -----------------------------------------------------------------------


@router.get("/stations/{station_id}/code", summary="A station's public code and page (staff)")
def station_code(
    station_id: StationId,
    visits: VisitsDep,
    settings: SettingsDep,
    request: Request,
    _user: CurrentUser,
) -> Any:
    code = visits.code_for(station_id)
    return {
        "station_id": station_id,
        "code": code,
        "url": f"{base_url(request, settings)}/s/{code}",
    }


@router.get(
    "/stations/{station_id}/poster.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The station's door poster with its QR code (staff)",
)
def station_poster(
    station_id: StationId,
    visits: VisitsDep,
    store: StoreDep,
    settings: SettingsDep,
    request: Request,
    _user: CurrentUser,
    size: Literal["a4", "a5", "sticker"] = "a4",
) -> Any:
    import tempfile
    from pathlib import Path as FilePath

    from stations.visits.poster import PosterStation, render_posters, station_url

    code = visits.code_for(station_id)
    station = store.get(station_id)
    item = PosterStation(station, code, station_url(base_url(request, settings), code))
    with tempfile.TemporaryDirectory() as folder:
        out = FilePath(folder) / "poster.pdf"
        render_posters(out, [item], size)
        data = out.read_bytes()
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="poster-{code}-{size}.pdf"',
            "Cache-Control": "no-store",
        },
    )


# -- statistics ------------------------------------------------------------------------------


def _span(start: date | None, end: date | None, visits: SqlVisitStore) -> tuple[date, date]:
    """``[from, to]`` inclusive → ``[start, stop)``; default the last 30 days."""
    end = end or _today(visits)
    start = start or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed(
            [FieldError.from_catalog("from", "is after 'to'", start.isoformat())]
        )
    if (end - start).days > MAX_SPAN_DAYS or end >= date.max:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "to", "spans more than {days} days", end.isoformat(), days=MAX_SPAN_DAYS
                )
            ]
        )
    return start, end + timedelta(days=1)


def _row(r: StatsRow) -> dict[str, Any]:
    return {
        "key": r.key,
        "label": r.label,
        "period": r.period.isoformat() if r.period else None,
        "visits": r.visits,
        "scans": r.scans,
        "tallied": r.tallied,
    }


@router.get(
    "/stats/visits",
    summary="Visits served (scans + hand tallies) per station, district, host type, "
    "worker type or hour of day; per day, ISO week or month (staff)",
    description="Districts and host types are those the stations had when each visit was "
    "counted (a station that moves to another district keeps its past visits in the old one).",
)
def visit_stats(
    visits: VisitsDep,
    _user: CurrentUser,
    scope: ReaderScope,
    group: Literal["station", "district", "host_type", "worker_type", "hour"] = "station",
    period: Literal["day", "week", "month", "all"] = "day",
    start: Annotated[date | None, Query(alias="from", description="First local day")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last local day (inclusive)")] = None,
) -> Any:
    first, stop = _span(start, end, visits)
    rows = VisitStats(visits.engine).visits(group, period, first, stop, scope)
    truncated = len(rows) > MAX_ROWS
    shown = rows[:MAX_ROWS]
    return {
        "group": group,
        "period": period,
        "from": first.isoformat(),
        "to": (stop - timedelta(days=1)).isoformat(),
        "total": {
            "visits": sum(r.visits for r in rows),
            "scans": sum(r.scans for r in rows),
            "tallied": sum(r.tallied for r in rows),
        },
        "truncated": truncated,
        "rows": [_row(r) for r in shown],
    }


@router.get(
    "/stats/visits/dashboard",
    summary="The console dashboard's numbers for the last `days` local days (staff)",
)
def visit_dashboard(
    visits: VisitsDep,
    _user: CurrentUser,
    scope: ReaderScope,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Any:
    board = VisitStats(visits.engine).dashboard(_today(visits), days=days, scope=scope)
    return {
        "from": board.start.isoformat(),
        "to": (board.end - timedelta(days=1)).isoformat(),
        "daily": [{"day": d.isoformat(), "scans": s, "tallied": t} for d, s, t in board.daily],
        "by_worker": [
            {"key": k, "label": WORKER_COLUMNS.get(k, "手工登记"), "visits": n}
            for k, n in board.by_worker.items()
        ],
        "by_hour": board.by_hour,
        "busiest": [{"id": i, "name": n, "visits": v} for i, n, v in board.busiest],
        "idle_count": board.idle_count,
        "idle": [{"id": i, "name": n, "district": d} for i, n, d in board.idle],
    }
