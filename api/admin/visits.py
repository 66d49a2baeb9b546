"""The console's 服务人次 pages: the dashboard (charts drawn by Chart.js, served by us), hand
tallies, the monthly spreadsheet and door posters."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.admin.render import NO_STORE, console_page
from api.admin.session import ConsoleDep, login_redirect
from api.deps import SettingsDep, StoreDep, VisitsDep, base_url
from stations.i18n import Message
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/visits")
def visits_page(request: Request, cs: ConsoleDep, visits: VisitsDep) -> Response:
    if cs is None:
        return login_redirect(request)
    today = datetime.now(ZoneInfo(visits.policy.tz)).date()
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # last month
    return console_page(
        request,
        cs,
        "visits.html",
        active="visits",
        title=Message("Visits"),
        today=today.isoformat(),
        default_month=month,
        worker_columns=WORKER_COLUMNS,
    )


@router.get("/visits/monthly.xlsx")
def monthly_xlsx(
    request: Request,
    cs: ConsoleDep,
    visits: VisitsDep,
    month: Annotated[str, Query(max_length=7)],
) -> Response:
    if cs is None:
        return login_redirect(request)
    from stations.store.visit_stats import VisitStats
    from stations.visits.monthly import month_range, write_monthly_lines

    start, end = month_range(month)
    visits.ensure_codes()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "monthly.xlsx"
        write_monthly_lines(out, start, VisitStats(visits.engine).monthly_lines(start, end))
        data = out.read_bytes()
    name = f"{start:%Y-%m}-visits.xlsx"
    return Response(
        data,
        media_type=_XLSX,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/visits/posters.pdf")
def all_posters(
    request: Request,
    cs: ConsoleDep,
    visits: VisitsDep,
    store: StoreDep,
    settings: SettingsDep,
    size: Literal["a4", "a5", "sticker"] = "a4",
) -> Response:
    if cs is None:
        return login_redirect(request)
    from stations.visits.poster import PosterStation, render_posters, station_url

    codes = visits.codes()
    stations = {s.id: s for s in store.get_many(codes)}
    root = base_url(request, settings)
    items = [
        PosterStation(stations[i], codes[i], station_url(root, codes[i])) for i in sorted(codes)
    ]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "posters.pdf"
        render_posters(out, items, size)
        data = out.read_bytes()
    return Response(
        data,
        media_type="application/pdf",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="posters-{size}.pdf"'},
    )
