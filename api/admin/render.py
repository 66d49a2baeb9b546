"""Rendering the staff console's pages: Jinja2 with autoescape, and JSON for its scripts.

Everything a page shows that came from a user — station fields typed in the console or
imported from a clerk's spreadsheet, rider report text, user names — goes through Jinja2's
autoescape. Data the scripts need travels in a ``<script type="application/json">`` block
(``json_script``: ``<``, ``>`` and ``&`` escaped, so no value can end the block) and the
scripts put values into the DOM with ``textContent`` only. No page has an inline script, so
the service's ``script-src 'self'`` policy holds without exceptions.

The pages' own words come from the gettext catalogs of :mod:`stations.i18n` through Jinja2's
i18n extension (``{{ _("…") }}``, ``{% trans %}``), one environment per language with that
language's catalog installed, so ``pybabel extract -F babel.cfg`` finds every string and a
test holds both catalogs complete. The console is Chinese; a staff member may switch it to
English (:data:`LANG_COOKIE`), which the browser's ``Accept-Language`` never does on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from api.admin.session import ConsoleSession
from maps.assets import asset_url
from stations.hours import hours_zh
from stations.i18n import LANGUAGES, translations
from stations.store.reports import REPORT_KINDS, REPORT_STATUSES
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES, distance_words

__all__ = [
    "ACTION_LABELS",
    "FIELD_LABELS",
    "LANG_COOKIE",
    "NO_STORE",
    "console_language",
    "console_page",
    "json_script",
    "local_time",
    "render_page",
]

_TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Console pages carry a CSRF token and staff-only data: never cached, never indexed.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}

#: The cookie that holds a staff member's choice of console language (``zh-CN`` or ``en``).
LANG_COOKIE = "console_lang"

#: Station field → Chinese label (form labels, history, import errors).
FIELD_LABELS: Mapping[str, str] = {
    "id": "系统ID",
    "external_id": "编号",
    "name": "名称",
    "address": "地址",
    "district": "区县/街道",
    "lon": "经度",
    "lat": "纬度",
    "lon/lat": "经纬度",
    "host_type": "承办单位类型",
    "host_org": "承办单位",
    "amenities": "服务设施",
    "opening_hours": "开放时间",
    "opening_hours_text": "开放时间（原文）",
    "phone": "电话",
    "status": "状态",
    "notes": "备注",
    "geocoded": "地理编码",
    "entry": "进门方式",
    "no_smartphone_ok": "无智能手机可用",
    "photos": "照片",
    "file": "文件",
    "crs": "坐标系",
}

#: History action → Chinese label.
ACTION_LABELS: Mapping[str, str] = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "restore": "恢复",
    "import": "导入",
    "verify": "核查",
    "unverify": "撤销核查",
}


def json_script(value: Any) -> Markup:
    """``value`` as JSON safe to place inside ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script-data context


def local_time(value: datetime | str | None, tz: str = "Asia/Shanghai") -> str:
    """``2025-01-31 14:05`` in the service's time zone (staff read local wall-clock time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(tz))
    return value.strftime("%Y-%m-%d %H:%M")


def _label(value: Any, table: Mapping[str, str]) -> str:
    if value is None:
        return ""
    return table.get(str(value), str(value))


def console_language(request: Request) -> str:
    """The console's language for this request: the staff member's choice, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


@cache
def _env(lang: str) -> Environment:
    """The environment for one language (``babel.cfg`` extracts with the same options)."""
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        lang=lang,
        asset=asset_url,
        AMENITIES=AMENITIES,
        HOST_TYPES=HOST_TYPES,
        ENTRY_METHODS=ENTRY_METHODS,
        STATUSES=STATUSES,
        REPORT_KINDS=REPORT_KINDS,
        REPORT_STATUSES=REPORT_STATUSES,
        FIELD_LABELS=FIELD_LABELS,
        ACTION_LABELS=ACTION_LABELS,
    )
    env.filters.update(
        json_script=json_script,
        local_time=local_time,
        label=_label,
        hours_zh=hours_zh,
        distance_words=distance_words,
    )
    return env


def render_page(
    template: str, *, lang: str = LANGUAGES[0], status: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``api/admin/templates/<template>`` in ``lang`` as an uncacheable HTML response."""
    html = _env(lang).get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def console_page(
    request: Request,
    cs: ConsoleSession,
    template: str,
    *,
    active: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A signed-in console page: the navigation, the user, the CSRF token and the count of
    rider reports waiting for review (editors only) around ``context``."""
    pending = photos_pending = 0
    if cs.can_edit:
        services = request.app.state.services
        pending = services.reports.list(status="pending", limit=1)[1]
        if services.photos is not None:
            photos_pending = services.photos.records.count("pending")
    settings = request.app.state.services.settings
    return render_page(
        template,
        lang=console_language(request),
        status=status,
        here=request.url.path,
        user=cs.user,
        csrf=cs.csrf_token,
        can_edit=cs.can_edit,
        can_admin=cs.user.can("admin"),
        active=active,
        pending=pending,
        photos_pending=photos_pending,
        tz=settings.timezone,
        **context,
    )
