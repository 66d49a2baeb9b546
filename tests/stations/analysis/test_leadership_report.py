"""The leadership report: an A4 PDF with the Chinese text embedded, and an XLSX with the same
figures, from the demo stations."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from geodata.areas import load_area
from stations.analysis.leadership import build_report, write_leadership_report
from stations.demo import demo_store
from stations.errors import ValidationFailed


@pytest.fixture(scope="module")
def data():
    store, keep = demo_store()
    try:
        yield build_report(store.all(), load_area(None), demand="etown-synthetic", new_sites=3)
    finally:
        store.close()
        if keep is not None:
            keep.cleanup()


def test_pdf_is_a4_with_title_kpis_gaps_and_sites(data, tmp_path: Path) -> None:
    pdf = write_leadership_report(tmp_path / "覆盖报告.pdf", data)
    head = pdf.read_bytes()[:8]
    assert head.startswith(b"%PDF-")
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    for want in (
        "户外劳动者暖心驿站覆盖报告",
        "北京经济技术开发区",
        "交叉覆盖率",
        "夜间覆盖率",
        "空白区",
        "建议新增站点",
        "GCJ-02",
    ):
        assert want in text
    info = subprocess.run(
        [shutil.which("pdfinfo") or "pdfinfo", str(pdf)], capture_output=True, text=True
    ).stdout
    assert "595.276 x 841.89" in info  # A4 in points
    assert data.kpis[0][1] in text and data.sites and data.gaps


def test_xlsx_has_the_same_figures(data, tmp_path: Path) -> None:
    book = load_workbook(write_leadership_report(tmp_path / "r.xlsx", data))
    kpi = book["指标 KPI"]
    values = {row[0].value: row[1].value for row in kpi.iter_rows(min_row=5, max_row=9)}
    assert values == {k[0]: k[1] for k in data.kpis}
    assert book["空白区 gaps"].max_row == len(data.gaps) + 1
    assert book["建议新站点 sites"]["E2"].value == data.sites[0]["GCJ-02"]
    assert "地图 map" in book.sheetnames
    with pytest.raises(ValidationFailed):
        write_leadership_report(tmp_path / "r.docx", data)
