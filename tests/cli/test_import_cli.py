"""``stations import`` / ``export`` / ``template`` as a clerk meets them: Chinese first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli import main
from stations.store.sql import SqlStationStore

DATA = Path(__file__).resolve().parents[1] / "stations" / "io" / "data"


@pytest.fixture
def url(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    monkeypatch.setenv("COLUMNS", "200")
    return store_url


def _exit(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_dry_run_exits_as_the_real_run_and_lists_every_bad_row(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clerk_sheet.csv"
    shutil.copyfile(DATA / "clerk_sheet.csv", path)
    dry = _exit(["import", str(path), "--crs", "gcj02", "--dry-run"])
    dry_out = capsys.readouterr()
    real = _exit(["import", str(path), "--crs", "gcj02"])
    real_out = capsys.readouterr()
    assert dry == real == 1
    for text in (dry_out.err, real_out.err):
        for row in (11, 16, 19, 28):
            assert f"第 {row} 行「" in text
        assert "经度和纬度是否填反了" in text
    store = SqlStationStore(url)
    try:
        assert store.all() == []
    finally:
        store.close()


def test_a_sheet_with_headers_and_no_rows_warns_and_exits_1(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("编号,驿站名称,经度,纬度\n", encoding="utf-8")
    assert _exit(["import", str(path)]) == 1
    assert "没有数据行" in capsys.readouterr().err


def test_export_staff_and_template(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "clerk_sheet.xlsx"
    shutil.copyfile(DATA / "clerk_sheet.xlsx", sheet)
    assert _exit(["import", str(sheet), "--crs", "gcj02", "--skip-invalid"]) == 0
    assert (tmp_path / "clerk_sheet.rejected.xlsx").is_file()
    out = tmp_path / "out.csv"
    assert _exit(["export", str(out), "--layout", "staff", "--crs", "gcj02"]) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("编号,驿站名称,")
    assert _exit(["template", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "t.xlsx").is_file()


def test_flags_are_shown_as_flags(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert _exit(["import", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--dry-run" in text and "--dry-run <bool>" not in text
    line = next(ln for ln in text.splitlines() if "--dry-run" in ln)
    assert "<bool>" not in line and "退出码" in line
