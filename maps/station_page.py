"""The page a poster's QR code opens (``/s/{code}``): one station's card, 签到, and the way
there — for a phone inside WeChat, one-handed, on a weak signal.

No map and no framework: the card is rendered here as HTML (so it shows with the first
paint, even before the script runs), styled by the embed page's stylesheet plus a few
lines of its own; ``static/station/station.js`` (2 KB) does the check-in and places the
我在这里 control the /embed card has (``static/common/here.js``, the same script), which
sends the phone's position with the tap so a rider at the door counts as on-site. Everything is
served by this service. Station text is HTML-escaped; the page's data reaches the script
only through a JSON block with ``<``, ``>`` and ``&`` escaped, read with ``textContent``.

The privacy line says what the check-in keeps: nothing but the station, the time, the
worker type chosen, and a keyed hash of a random id the page keeps in the phone's storage
(needed to count one visit per device per window).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from maps.assets import asset_url
from stations.hours import hours_zh, is_open
from stations.model import Station
from stations.navigation import navigation_links
from stations.photos.urls import photo_urls
from stations.visits.vocabulary import WORKER_TYPES
from stations.vocabulary import AMENITIES, HOST_TYPES, entry_words

__all__ = [
    "HERE_PRIVACY_LINE",
    "PRIVACY_LINE",
    "dial_uri",
    "render_station_page",
    "station_page_csp",
]

PRIVACY_LINE = (
    "签到是匿名的：不收集姓名、手机号和位置，设备只以加密摘要保存，"
    "用于{hours}小时内同一手机不重复计数。"
)


#: 我在这里 sends the phone's position; the server keeps only the distance to the station.
HERE_PRIVACY_LINE = "反馈时会用到手机位置，只保存与驿站的距离，用于判断是否在现场。"


def _json_for_html(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _state(station: Station, at: datetime, tz: str, confidence: object = None) -> tuple[str, str]:
    """(css class, Chinese words) for the badge, as the /embed card words it (``embed.js``'s
    ``badge``): outside its hours a station is 休息中; open by its hours but doubted by riders
    (``confidence`` doubtful), it is not shown green."""
    status = station.data.status
    if status == "temporarily_closed":
        return "shut", "暂停开放"
    if status == "closed":
        return "shut", "已关闭"
    try:
        now_open = is_open(station.data.opening_hours, status, at, tz)
    except Exception:  # hours the parser refuses: say we do not know, never crash the page
        now_open = None
    if now_open is None:
        return "unknown", "时间未知"
    if now_open and confidence == "doubtful":
        return "unknown", "按时间应营业"
    return ("open", "营业中") if now_open else ("shut", "休息中")


#: An extension after the number ("转 8001", "ext. 8001", "x8001"): only between digits.
_EXTENSION = re.compile(r"(\d)\s*(?:转|分机|ext\.?|x)\s*(?=\d)", re.IGNORECASE)


def dial_uri(phone: str) -> str | None:
    """The ``tel:`` link of a phone field's first number (``static/common/words.js``'s
    ``dial`` does the same in the browser; a test compares them): "010-67870686 转 8001；
    13800138000" dials 010-67870686, waits, then 8001."""
    first = re.split(r"[;；,，、/]", phone, maxsplit=1)[0]
    number = re.sub(r"[^0-9+\-,]", "", _EXTENSION.sub(r"\1,", first.strip()))
    return f"tel:{number}" if any(c.isdigit() for c in number) else None


#: The level words the /embed card puts before the reasons (``embed.js``'s ``LEVEL``): a
#: confirmed station needs none, its reason says it ("刚刚有骑手确认开放").
_LEVEL = {"confirmed": ("trust ok", ""), "doubtful": ("trust bad", "可能不开放")}


def _trust_line(evidence: Mapping[str, Any]) -> str:
    """What riders and the schedule say, as on the /embed card: "可能不开放 · 近 3 天 2 人反映关门"."""
    reasons = [r.get("message_zh") or "" for r in evidence.get("confidence_reasons") or ()]
    reasons = [r for r in reasons if r]
    if not reasons:
        return ""
    css, label = _LEVEL.get(str(evidence.get("confidence")), ("trust", ""))
    lead = f"<b>{html.escape(label)} · </b>" if label else ""
    return f'<div class="{css}" id="trust">{lead}{html.escape("；".join(reasons))}</div>'


def _verified_words(evidence: Mapping[str, Any], at: datetime) -> str:
    """ "12 天前工作人员核查" (whole days, as the /embed card says it), "" if never checked."""
    raw = evidence.get("verified_at")
    if not raw:
        return ""
    try:
        checked = datetime.fromisoformat(str(raw))
    except ValueError:
        return ""
    days = max(0, int((at - checked).total_seconds() // 86400))
    stale = "（已超过 90 天）" if evidence.get("freshness") == "stale" else ""
    return ("今天" if days == 0 else f"{days} 天前") + "工作人员核查" + stale


def station_page_csp() -> str:
    """Our own script and styles only; the check-in posts to this service."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self' https://*.qq.com https://servicewechat.com",
        ]
    )


def _door_photo(photos: tuple[str, ...]) -> str:
    """The door photo first, as on the embed card: WebP where the browser takes it, loaded
    lazily (a rider on a weak signal gets the words first), whole within its strip, and a tap
    opens it full size."""
    if not photos:
        return ""
    urls = {k: html.escape(v) for k, v in photo_urls(photos[0]).items()}
    return (
        f'<a class="door-link" href="{urls["url"]}" target="_blank" rel="noopener" '
        f'title="点击看大图"><picture class="door">'
        f'<source type="image/webp" srcset="{urls["thumb_webp"]}">'
        f'<img src="{urls["thumb"]}" loading="lazy" decoding="async" alt="驿站门口照片"></picture></a>'
    )


def render_station_page(
    station: Station,
    code: str,
    *,
    at: datetime,
    tz: str = "Asia/Shanghai",
    window_h: float = 2,
    evidence: Mapping[str, Any] | None = None,
) -> str:
    """The whole ``/s/{code}`` HTML page. ``evidence``: the station's answer's properties
    (its ``confidence`` with reasons, ``verified_at``, ``freshness``), said as the /embed
    card says them; without it the page speaks from the hours alone."""
    d = station.data
    esc = html.escape
    evidence = evidence or {}
    badge_class, badge_text = _state(station, at, tz, evidence.get("confidence"))
    amenities = (
        "".join(f'<li class="chip">{esc(AMENITIES.get(a, a))}</li>' for a in d.amenities)
        or '<li class="none">以现场为准</li>'
    )
    links = navigation_links(d.lon, d.lat, d.name, d.address)
    nav = "".join(
        f'<a class="go" href="{esc(links[key])}" target="_blank" rel="noopener">{label}</a>'
        for key, label in (("amap", "高德导航"), ("baidu", "百度导航"), ("tencent", "腾讯导航"))
        if key in links
    )
    workers = "".join(
        f'<button type="button" class="chip" data-worker="{esc(k)}" aria-pressed="false">'
        f"{esc(v)}</button>"
        for k, v in WORKER_TYPES.items()
    )
    hours_window = f"{window_h:g}"
    # the hours as every API answer words them (opening_hours_text), as the /embed card shows
    hours = hours_zh(d.opening_hours, d.opening_hours_text) or "以现场公示为准"
    rows = [("开放时间", hours), ("地址", d.address or "—")]
    entry = entry_words(d.entry, d.no_smartphone_ok)
    if entry:
        rows.append(("进门", entry))
    if d.host_org:
        rows.append(("提供单位", d.host_org))
    if d.notes:
        rows.append(("备注", d.notes))
    checked = _verified_words(evidence, at)
    if checked:
        rows.append(("核查", checked))
    details = "".join(f'<p><span class="label">{esc(k)}</span>{esc(v)}</p>' for k, v in rows)
    if d.phone:  # a tap calls, as on the /embed card
        tel = dial_uri(d.phone)
        number = f'<a href="{esc(tel)}">{esc(d.phone)}</a>' if tel else esc(d.phone)
        details += f'<p><span class="label">电话</span>{number}</p>'
    config = _json_for_html(
        {
            "code": code,
            "station": station.id,
            "window_h": window_h,
            "amenities": list(d.amenities),
            "labels": {a: AMENITIES.get(a, a) for a in d.amenities},
        }
    )
    host = HOST_TYPES.get(d.host_type, "")
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="referrer" content="strict-origin-when-cross-origin">
<title>{esc(d.name)} · 暖心驿站</title>
<link rel="stylesheet" href="{asset_url("app/embed/embed.css")}">
<link rel="stylesheet" href="{asset_url("app/station/station.css")}">
</head>
<body class="station-page">
<script type="application/json" id="station-config">{config}</script>
<header class="s-band">户外劳动者暖心驿站</header>
<section id="card" class="s-card">
  {_door_photo(d.photos)}<div class="top"><h1 class="name">{esc(d.name)}</h1></div>
  <p><span class="badge {badge_class}" id="state">{badge_text}</span>{esc(host)}</p>
  {_trust_line(evidence)}{details}
  <ul class="s-amen" aria-label="提供服务">{amenities}</ul>
</section>
<section class="s-checkin" aria-labelledby="checkin-title">
  <h2 id="checkin-title">签到</h2>
  <p class="hint">您是（可不选）：</p>
  <div class="s-workers" role="group" aria-label="职业">{workers}</div>
  <button type="button" id="checkin" class="go s-big">签到</button>
  <p id="result" role="status" aria-live="polite"></p>
  <p class="s-privacy" id="privacy">{esc(PRIVACY_LINE.format(hours=hours_window))}</p>
</section>
<section class="s-here" id="here" aria-label="我在这里">
  <p class="s-privacy">{esc(HERE_PRIVACY_LINE)}</p>
</section>
<section class="s-nav" aria-label="导航">
  <h2>到这里去</h2>
  <div class="s-links">{nav}</div>
  <p><a href="/embed?station={station.id}">查看附近其他驿站</a></p>
  <p class="s-code">驿站编号 {esc(code)}</p>
</section>
<script src="{asset_url("app/common/here.js")}"></script>
<script src="{asset_url("app/station/station.js")}"></script>
</body>
</html>
"""
