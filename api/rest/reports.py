"""Rider reports: anyone may report a problem with a station; editors review the queue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from api.auth import EditorDep
from api.deps import CatalogDep, ReportsDep, SettingsDep, StoreDep, base_url
from api.http.paging import page_links
from api.http.rate_limit import rate_limited
from api.rest.schemas import ReportIn, ReportListOut, ReportOut, ReportReceipt
from stations.store.reports import REPORT_KINDS, Report

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["reports"])

#: Per client address: bursts of 10, then one a minute. Generous enough for riders sharing a
#: carrier-grade NAT address, tight enough that a script cannot bury the review queue.
REPORT_LIMIT = rate_limited("reports", per_hour=60, burst=10)


ReportId = Annotated[int, Path(ge=1, le=2**62)]


def _out(report: Report, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": report.id,
        "station_id": report.station_id,
        "station_name": names.get(report.station_id),
        "kind": report.kind,
        "kind_zh": REPORT_KINDS[report.kind],
        "text": report.text,
        "status": report.status,
        "count": report.count,
        "created_at": report.created_at.isoformat(),
        "last_seen_at": report.last_seen_at.isoformat(),
        "reviewed_by": report.reviewed_by,
        "reviewed_at": report.reviewed_at.isoformat() if report.reviewed_at else None,
        "station_version": report.station_version,
    }


def _names(store: Any, reports: list[Report]) -> dict[int, str]:
    return {s.id: s.data.name for s in store.get_many({r.station_id for r in reports})}


@router.post(
    "/stations/{station_id}/reports",
    status_code=201,
    response_model=ReportReceipt,
    dependencies=[Depends(REPORT_LIMIT)],
    summary="Report a problem with a station (anonymous; reviewed by staff)",
)
def submit_report(
    station_id: Annotated[int, Path(ge=1, le=2**62)],
    body: ReportIn,
    reports: ReportsDep,
) -> Any:
    report = reports.submit(station_id, body.kind, body.text or "")
    return {
        "id": report.id,
        "station_id": report.station_id,
        "kind": report.kind,
        "status": report.status,
        "message": "Thank you: staff will check and update the station.",
        "message_zh": "感谢反馈，工作人员核实后会更新驿站信息。",
    }


@router.get(
    "/reports", response_model=ReportListOut, summary="The review queue of rider reports (editor)"
)
def list_reports(
    request: Request,
    _user: EditorDep,
    reports: ReportsDep,
    store: StoreDep,
    settings: SettingsDep,
    status: Annotated[
        Literal["pending", "accepted", "dismissed"] | None,
        Query(description="pending 待处理 · accepted 已采纳 · dismissed 已驳回; default all"),
    ] = None,
    station_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    page, total = reports.list(status=status, station_id=station_id, limit=limit, offset=offset)
    names = _names(store, page)
    links = page_links(
        request,
        base_url(request, settings),
        offset=offset,
        limit=limit,
        returned=len(page),
        matched=total,
        media_type="application/json",
    )
    return {
        "reports": [_out(r, names) for r in page],
        "numberMatched": total,
        "numberReturned": len(page),
        "links": links,
    }


@router.post(
    "/reports/{report_id}/accept",
    response_model=ReportOut,
    summary="Accept a report; a 'closed' one marks the station temporarily closed (editor)",
)
def accept_report(
    report_id: ReportId, user: EditorDep, reports: ReportsDep, store: StoreDep, catalog: CatalogDep
) -> Any:
    report = reports.accept(report_id, reviewer=user.name, stations=store)
    if report.station_version is not None:
        catalog.refresh()
    return _out(report, _names(store, [report]))


@router.post(
    "/reports/{report_id}/dismiss",
    response_model=ReportOut,
    summary="Dismiss a report; the station stays as it is (editor)",
)
def dismiss_report(
    report_id: ReportId, user: EditorDep, reports: ReportsDep, store: StoreDep
) -> Any:
    report = reports.dismiss(report_id, reviewer=user.name)
    return _out(report, _names(store, [report]))
