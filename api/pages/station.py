"""``/s/{code}``: the page a station's poster QR code opens (card, 签到, navigation)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, SettingsDep, StoreDep, TrustBoardDep, VisitsDep
from maps.station_page import render_station_page, station_page_csp
from stations.errors import NotFound
from stations.features import feature
from stations.search import Hit
from stations.visits.codes import normalise_code

__all__ = ["router"]

router = APIRouter(tags=["pages"])

_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _not_found(code: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>没有找到驿站</title></head><body>"
        f"<h1>没有找到编号为 {html.escape(code[:32])} 的驿站</h1>"
        '<p>驿站可能已撤销。<a href="/embed">查看附近的暖心驿站</a></p></body></html>'
    )
    return HTMLResponse(
        body, status_code=404, headers={**_HEADERS, "Content-Security-Policy": station_page_csp()}
    )


@router.get(
    "/s/{code}",
    response_class=HTMLResponse,
    responses={404: {"description": "No live station has this code (an HTML page)"}},
    summary="A station's own page, opened from the QR code on its poster (WeChat)",
)
def station_page(
    code: Annotated[str, Path(max_length=64)],
    visits: VisitsDep,
    store: StoreDep,
    catalog: CatalogDep,
    board: TrustBoardDep,
    settings: SettingsDep,
) -> HTMLResponse:
    clean = normalise_code(code)
    try:
        if clean is None:
            raise NotFound("no station has this code")
        station = store.get(visits.station_for_code(clean))
    except NotFound:
        return _not_found(code)
    now = datetime.now(UTC)
    # What every API answer says of the station: rider evidence and the last staff check.
    evidence = feature(Hit(station, None, catalog.open_now(station, now)), trust=board)
    page = render_station_page(
        station,
        clean,
        at=now,
        tz=settings.timezone,
        window_h=settings.visit_window_minutes / 60,
        evidence=evidence["properties"],
    )
    return HTMLResponse(page, headers={**_HEADERS, "Content-Security-Policy": station_page_csp()})
