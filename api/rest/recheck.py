"""Staff re-check rounds: the stations due for a visit, as a round (JSON or XLSX), and the
one-tap "checked" a staff member sends from the station's door."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from api.auth import EditorDep
from api.deps import ServicesDep
from stations.errors import ConfigurationError
from stations.io.formula import neutralise
from stations.trust.recheck import REASONS, Due, due_stations, visiting_order

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["recheck"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _trust(svc: Any) -> Any:
    if svc.trust is None:
        raise ConfigurationError("re-check rounds need the trust service")
    return svc.trust


def worklist(svc: Any, district: str | None) -> list[Due]:
    """Due stations of the catalog, ordered as a round (OR-Tools)."""
    trust = _trust(svc)
    catalog = svc.catalog
    now = datetime.now(UTC)
    pending, _ = svc.reports.list(status="pending", limit=100_000)
    board = trust.board

    def doubtful(station: Any) -> bool:
        if not board.votes(station.id):
            return False
        return board.confidence(station, catalog.open_now(station, now)).level == "doubtful"

    due = due_stations(
        catalog.all(),
        verified=trust.confirmations.verified(),
        doubtful=doubtful,
        reported={r.station_id for r in pending},
        now=now,
        district=district,
    )
    order = visiting_order([(d.station.data.lon, d.station.data.lat) for d in due])
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
    summary="Stations due for a staff visit, ordered as a round (editor)",
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
    district: Annotated[str | None, Query(max_length=60)] = None,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    rows = [_row(n, d) for n, d in enumerate(worklist(svc, district), start=1)]
    if format == "json":
        return {"stops": rows, "count": len(rows), "district": district}
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "核查路线"
    header = ["顺序", "系统ID", "编号", "名称", "地址", "区县", "原因", "上次核查", "经度", "纬度"]
    ws.append(header)
    for r in rows:
        ws.append(
            [
                r["stop"],
                r["id"],
                neutralise(r["external_id"] or ""),
                neutralise(r["name"]),
                neutralise(r["address"]),
                neutralise(r["district"]),
                "、".join(r["reasons_zh"]),
                r["verified_at"] or "从未",
                r["lon"],
                r["lat"],
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="recheck.xlsx"'},
    )


@router.post(
    "/stations/{station_id}/checked",
    summary="A staff member on site confirms the record (sets verified_at) (editor)",
)
def checked(
    station_id: Annotated[int, Path(ge=1, le=2**62)], _user: EditorDep, svc: ServicesDep
) -> Any:
    at = _trust(svc).confirmations.mark_verified(station_id)
    return {"station_id": station_id, "verified_at": at.isoformat(), "message_zh": "已记录核查"}
