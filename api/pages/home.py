"""``/``: where the service's pages start, Chinese first.

The address ``stations serve`` prints is the first thing a newcomer, a union clerk or an
editor opens; without this it answered a JSON 404. Riders arrive at ``/embed`` from a menu
or a poster instead, so this page only points the way: no script, no data, nothing to keep
up to date but the list below.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

__all__ = ["LINKS", "router"]

router = APIRouter(tags=["pages"])

#: (path, Chinese, English): the pages a visitor may be looking for.
LINKS: tuple[tuple[str, str, str], ...] = (
    ("/embed", "附近的暖心驿站（骑手手机页，可嵌入微信）", "Nearest stations (rider page, WeChat)"),
    ("/maps/stations", "驿站地图", "Station map"),
    ("/maps/coverage", "覆盖范围", "Coverage"),
    ("/maps/gaps", "服务空白区", "Gaps in coverage"),
    ("/admin", "工作人员后台（需登录）", "Staff console (sign-in)"),
    ("/docs", "接口文档", "API documentation"),
    ("/ogc", "OGC API", "OGC API landing page"),
)

_CSS = (
    "body{font:16px/1.6 system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;"
    "max-width:36em;margin:0 auto;padding:16px;color:#212529}"
    "h1{font-size:22px;margin:8px 0}li{margin:10px 0}a{color:#1971c2}small{color:#868e96}"
)


def _page() -> str:
    items = "".join(
        f'<li><a href="{path}">{zh}</a><br><small>{en}</small></li>' for path, zh, en in LINKS
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>暖心驿站地图 Warm Stations</title><style>{_CSS}</style></head><body>"
        "<h1>暖心驿站地图 <small>Warm Stations</small></h1>"
        "<p>为外卖骑手、快递员、环卫工人等户外劳动者找到最近的、正在开放的暖心驿站。</p>"
        f"<ul>{items}</ul></body></html>"
    )


_HTML = _page()
_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}


@router.get("/", response_class=HTMLResponse, summary="Where the pages start (Chinese first)")
def home() -> HTMLResponse:
    return HTMLResponse(_HTML, headers=_HEADERS)
