"""Posters: the printed QR code, read back by a real decoder (zbar), is the station's URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from stations.errors import ConfigurationError, ValidationFailed
from stations.visits.poster import PosterStation, render_posters, station_url
from tests.stations.visits.visit_kit import stations_with_visits

PUBLIC = "https://yz.example.cn/warm"


def decoded_qr_codes(pdf: Path, scale: float = 2.0) -> list[list[str]]:
    """Each page of ``pdf`` rendered to pixels (PDFium) and its QR codes decoded (zbar)."""
    import pypdfium2
    from pyzbar.pyzbar import ZBarSymbol, decode

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        pages = []
        for page in document:
            image = page.render(scale=scale).to_pil().convert("L")
            pages.append([d.data.decode() for d in decode(image, symbols=[ZBarSymbol.QRCODE])])
        return pages
    finally:
        document.close()


def page_text(pdf: Path) -> list[str]:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


@pytest.mark.parametrize("size", ["a4", "a5", "sticker"])
def test_the_printed_qr_decodes_to_the_station_page(store, tmp_path: Path, size: str) -> None:
    visits, ids = stations_with_visits(store, 2)
    codes = visits.codes()
    items = [PosterStation(store.get(i), codes[i], station_url(PUBLIC, codes[i])) for i in ids]
    out = tmp_path / f"posters-{size}.pdf"
    assert render_posters(out, items, size) == 2
    pages = decoded_qr_codes(out, 1.0 if size == "a4" else 2.0)
    assert pages == [[f"{PUBLIC}/s/{codes[i]}"] for i in ids]
    assert visits.station_for_code(pages[1][0].rsplit("/", 1)[1]) == ids[1]


def test_the_poster_reads_in_chinese_and_escapes_station_text(store, tmp_path: Path) -> None:
    visits, ids = stations_with_visits(store, 1)
    station = store.update(
        ids[0],
        {"name": "<img src='/etc/passwd'/>驿站&", "opening_hours": "Mo-Fr 08:00-20:00; Sa off"},
        actor="test",
    )
    code = visits.code_for(ids[0])
    out = tmp_path / "poster.pdf"
    render_posters(out, [PosterStation(station, code, station_url(PUBLIC, code))])
    text = page_text(out)[0]
    assert "<img src='/etc/passwd'/>驿站&" in text
    assert "周一至周五 08:00–20:00，周六休息" in text  # as the station's page words them
    assert "热水、手机充电、卫生间" in text
    assert "不收集姓名、电话和位置" in text
    assert code in text


def test_a_poster_needs_the_public_address_and_a_known_size(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="STATIONS_PUBLIC_URL"):
        station_url(None, "ABCDEFGH")
    with pytest.raises(ValidationFailed):
        render_posters(tmp_path / "x.pdf", [], "a3")
