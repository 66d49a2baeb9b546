"""The poster at a station's door: its name, a QR code to ``/s/{code}``, hours in Chinese,
what it offers, and how to use it — A4 (default), A5, or a small sticker.

ReportLab draws it (pure Python, vector output, no browser or Pango needed) with the Debian
CJK font WenQuanYi Micro Hei (``fonts-wqy-microhei``; its TrueType outlines embed in a PDF,
which Noto CJK's CFF outlines do not with ReportLab). segno makes the QR code and the
modules are drawn as vector squares, so the code prints sharp at any size.

Station text is staff- or import-supplied: ReportLab's ``Paragraph`` reads a markup
language (``<img src=…>`` would open a local file), so every value is XML-escaped first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from stations.errors import ConfigurationError, FieldError, ValidationFailed
from stations.hours import hours_zh
from stations.i18n import Message
from stations.model import Station
from stations.vocabulary import AMENITIES

__all__ = ["POSTER_SIZES", "PosterStation", "render_posters", "station_url"]

#: Page sizes in millimetres (width, height).
POSTER_SIZES: dict[str, tuple[float, float]] = {
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "sticker": (70.0, 100.0),
}

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)
_FONT = "WQYMicroHei"

_HOW_TO = (
    "微信扫一扫上方二维码，打开本驿站页面。",
    "点“签到”记一次到访：匿名，不收集姓名、电话和位置。",
    "喝水、热饭、充电、歇脚，请爱护设施，用后归位。",
    "页面上可导航到附近其他驿站，也可反馈问题。",
)


@dataclass(frozen=True)
class PosterStation:
    """What a poster shows of one station."""

    station: Station
    code: str
    url: str


def station_url(public_url: str | None, code: str) -> str:
    """The address the QR code holds: ``{STATIONS_PUBLIC_URL}/s/{code}``."""
    if not public_url:
        raise ConfigurationError(
            Message(
                "STATIONS_PUBLIC_URL is not set: a poster's QR code needs the public address "
                "of the service"
            )
        )
    return f"{public_url.rstrip('/')}/s/{code}"


def _font_path() -> str:
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise ConfigurationError(
        Message("no Chinese font for posters: install the Debian package fonts-wqy-microhei")
    )


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, _font_path(), subfontIndex=0))


def _draw_qr(canvas: Any, url: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares, ``size`` points wide with its quiet zone."""
    import segno

    qr = segno.make(url, error="m", micro=False)
    rows = list(qr.matrix_iter(scale=1, border=4))
    module = size / len(rows)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):  # one rectangle per run of dark modules
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(
                    x + start * module, y + size - (r + 1) * module, (c - start) * module, module
                )
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)


def _para(
    canvas: Any,
    text: str,
    x: float,
    top: float,
    width: float,
    size: float,
    *,
    bold_color: bool = False,
    leading: float | None = None,
    center: bool = False,
) -> float:
    """Draw escaped, CJK-wrapped text from ``top`` down; returns the new top."""
    from reportlab.lib.enums import TA_CENTER, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    style = ParagraphStyle(
        "p",
        fontName=_FONT,
        fontSize=size,
        leading=leading or size * 1.35,
        wordWrap="CJK",
        alignment=TA_CENTER if center else TA_LEFT,
        textColor="#b3261e" if bold_color else "#1f1f1f",
    )
    para = Paragraph(escape(text), style)
    _w, h = para.wrap(width, 10_000)
    para.drawOn(canvas, x, top - h)
    return top - h


def _poster_page(canvas: Any, item: PosterStation, size: str) -> None:
    from reportlab.lib.units import mm

    width_mm, height_mm = POSTER_SIZES[size]
    w, h = width_mm * mm, height_mm * mm
    s = item.station
    scale = w / (210 * mm)
    margin = (14 if size != "sticker" else 5) * mm
    inner = w - 2 * margin
    canvas.setFillColorRGB(0.70, 0.15, 0.12)
    band = (34 if size != "sticker" else 14) * mm * (scale if size != "sticker" else 1)
    canvas.rect(0, h - band, w, band, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    if size == "sticker":
        canvas.setFont(_FONT, 11)
        canvas.drawCentredString(w / 2, h - 9 * mm, "暖心驿站 · 扫码签到")
        top = h - band - 3 * mm
        top = _para(canvas, s.name, margin, top, inner, 9, center=True)
        qr = min(inner, top - 16 * mm)
        _draw_qr(canvas, item.url, (w - qr) / 2, top - qr - 2 * mm, qr)
        canvas.setFillColorRGB(0.1, 0.1, 0.1)
        canvas.setFont(_FONT, 8)
        canvas.drawCentredString(w / 2, top - qr - 7 * mm, f"编号 {item.code}")
        canvas.drawCentredString(w / 2, 5 * mm, "微信扫一扫 · 匿名签到")
        return
    canvas.setFont(_FONT, 26 * scale)
    canvas.drawCentredString(w / 2, h - band + 12 * mm * scale, "户外劳动者暖心驿站")
    top = h - band - 8 * mm * scale
    top = _para(canvas, s.name, margin, top, inner, 24 * scale, bold_color=True, center=True)
    qr = 92 * mm * scale
    top -= 4 * mm * scale
    _draw_qr(canvas, item.url, (w - qr) / 2, top - qr, qr)
    top -= qr + 2 * mm * scale
    top = _para(
        canvas,
        f"微信扫一扫 · 签到 · 导航　　编号 {item.code}",
        margin,
        top,
        inner,
        12 * scale,
        center=True,
    )
    top -= 5 * mm * scale
    amenities = "、".join(AMENITIES.get(a, a) for a in s.amenities) or "以现场为准"
    lines = [
        # as every answer and the station's own page word them (the clerk's text first)
        ("开放时间", hours_zh(s.opening_hours, s.opening_hours_text) or "以现场公示为准"),
        ("提供服务", amenities),
        ("地　　址", s.address or "—"),
    ]
    if s.phone:
        lines.append(("联系电话", s.phone))
    for label, value in lines:
        top = _para(canvas, f"【{label}】{value}", margin, top, inner, 13 * scale) - 2 * mm * scale
    top -= 3 * mm * scale
    top = _para(canvas, "怎么用", margin, top, inner, 14 * scale, bold_color=True)
    for n, step in enumerate(_HOW_TO, start=1):
        top = _para(canvas, f"{n}. {step}", margin, top, inner, 12 * scale)
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.setFont(_FONT, 8 * scale)
    host = f"承办：{s.host_org}　" if s.host_org else ""
    canvas.drawCentredString(w / 2, 8 * mm * scale, f"{host}{item.url}")


def render_posters(path: str | Path, items: Sequence[PosterStation], size: str = "a4") -> int:
    """Write one page per station to the PDF at ``path``; returns the page count."""
    if size not in POSTER_SIZES:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "size", "must be a poster size: {valid}", size, valid=", ".join(POSTER_SIZES)
                )
            ]
        )
    if not items:
        raise ValidationFailed([FieldError.from_catalog("station", "no station to print")])
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    _register_font()
    width_mm, height_mm = POSTER_SIZES[size]
    canvas = Canvas(str(path), pagesize=(width_mm * mm, height_mm * mm))
    canvas.setTitle("暖心驿站二维码海报")
    canvas.setCreator("Warm Stations")
    for item in items:
        _poster_page(canvas, item, size)
        canvas.showPage()
    canvas.save()
    return len(items)
