"""A union clerk's real sheet end to end: import, its deliberate mistakes, staff export, again.

The fixture (``data/clerk_sheet.csv`` in GBK and ``data/clerk_sheet.xlsx``, written by
``data/make_clerk_sheet.py``) has a title row, Chinese headers, AMap (GCJ-02) coordinates and
hand-typed hours. Exactly three mistakes are in it: swapped coordinates (sheet row 11), an
empty name (row 16) and one 编号 on two rows (19 and 28).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from geodata.distance import geodesic_m
from stations.errors import ImportFailed
from stations.io.exporting import export_stations
from stations.io.importing import plan_import, run_import
from stations.io.read import read_sheet
from stations.io.template import write_template
from stations.store.sql import SqlStationStore

DATA = Path(__file__).resolve().parent / "data"
SHEETS = ["clerk_sheet.csv", "clerk_sheet.xlsx"]
BAD = {11: {"lat"}, 16: {"name"}, 19: {"external_id"}, 28: {"external_id"}}


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copyfile(DATA / name, target)
    return target


@pytest.mark.parametrize("name", SHEETS)
def test_the_sheet_imports_with_exactly_its_deliberate_mistakes(
    store: SqlStationStore, tmp_path: Path, name: str
) -> None:
    path = _copy(name, tmp_path)
    report = plan_import(store, path, crs="gcj02")
    assert report.rows == 30 and report.added == 26 and report.invalid == 4
    found: dict[int, set[str]] = {}
    for e in report.errors:
        found.setdefault(e.row or 0, set()).add(e.field)
    assert found == BAD
    lines = {e.row: report.line(e) for e in report.errors}
    # Chinese first, the sheet's own header, the value and an example that works.
    assert lines[11].startswith("第 11 行「纬度」") and "经度和纬度是否填反了" in lines[11]
    assert "116.526734" in lines[11] and "示例：39.795432" in lines[11]
    assert lines[16].startswith("第 16 行「驿站名称」：必填") and "示例：" in lines[16]
    dup = [e for e in report.errors if e.field == "external_id"]
    assert "另见第 28 行" in report.line(dup[0]) and "另见第 19 行" in report.line(dup[1])
    # 停用 imports as 暂停开放, with a warning naming the hours column.
    suspended = [w for w in report.warnings if w.row == 31]
    assert suspended and report.line(suspended[0]).startswith("第 31 行「开放时间」")


@pytest.mark.parametrize("name", SHEETS)
def test_the_real_import_refuses_and_skip_invalid_writes_the_rest(
    store: SqlStationStore, tmp_path: Path, name: str
) -> None:
    path = _copy(name, tmp_path)
    with pytest.raises(ImportFailed):
        run_import(store, path, crs="gcj02")
    assert store.all() == []
    report = run_import(store, path, crs="gcj02", skip_invalid=True)
    assert report.added == 26 and len(store.all()) == 26
    # Neither row with the repeated 编号 was written.
    assert store.by_external_ids(["YZ-017"]) == {}
    # The rejects come back in the input's own format, with what is wrong.
    assert report.reject_path == path.with_name(f"clerk_sheet.rejected{path.suffix}")
    rejected = read_sheet(report.reject_path)
    assert len(rejected.rows) == 4
    stations = {s.data.external_id: s.data for s in store.all()}
    hours = stations["YZ-010"]
    assert hours.opening_hours == "08:30-12:00,14:30-18:00"
    assert hours.opening_hours_text == "上午8:30-12:00 下午14:30-18:00"
    assert stations["YZ-029"].status == "temporarily_closed"
    assert stations["YZ-016"].opening_hours == "18:00-02:00"


@pytest.mark.parametrize("name", SHEETS)
@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".gbk.csv"])
def test_staff_round_trip_changes_nothing(
    store: SqlStationStore, tmp_path: Path, name: str, suffix: str
) -> None:
    path = _copy(name, tmp_path)
    run_import(store, path, crs="gcj02", skip_invalid=True)
    # how to get in, and a staff check, as the console records them
    first, second = store.all()[:2]
    store.update(first.id, {"entry": "code_lock", "no_smartphone_ok": False}, actor="t")
    store.update(second.id, {"entry": "staffed", "no_smartphone_ok": True}, actor="t")
    checked = store.verify(second.id, actor="t")
    before = {s.id: s for s in store.all()}
    out = tmp_path / f"staff{suffix.replace('.gbk', '')}"
    export_stations(list(before.values()), out, crs="gcj02", layout="staff")
    if suffix == ".gbk.csv":  # what Excel in China saves it as
        out.write_bytes(out.read_text(encoding="utf-8-sig").encode("gbk"))
    sheet = read_sheet(out)
    header = sheet.columns
    assert header[:6] == ["编号", "驿站名称", "详细地址", "所属区域", "经度", "纬度"]
    rows = {str(r[header.index("系统ID")]): dict(zip(header, r, strict=False)) for r in sheet.rows}
    assert rows[str(first.id)]["进门方式"] == "密码锁"
    assert rows[str(first.id)]["无智能手机可用"] == "否"
    assert rows[str(second.id)]["进门方式"] == "有工作人员开门"
    assert rows[str(second.id)]["无智能手机可用"] == "是"
    # when staff last checked it, Beijing wall clock (a date cell in the XLSX), to be read
    beijing = checked.verified_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert str(rows[str(second.id)]["上次核查"])[:16].replace("T", " ") == beijing.strftime(
        "%Y-%m-%d %H:%M"
    )
    assert rows[str(first.id)]["上次核查"] == "从未"
    report = run_import(store, out, crs="gcj02")
    assert (report.added, report.updated, report.unchanged) == (0, 0, 26)
    after = {s.id: s for s in store.all()}
    assert {k: (v.version, v.data) for k, v in after.items()} == {
        k: (v.version, v.data) for k, v in before.items()
    }


def test_two_gcj02_conversions_keep_points_within_a_tenth_of_a_metre(
    store: SqlStationStore, tmp_path: Path
) -> None:
    """Import GCJ-02 (→ WGS-84), export GCJ-02, import again: the point has not moved."""
    path = _copy("clerk_sheet.xlsx", tmp_path)
    run_import(store, path, crs="gcj02", skip_invalid=True)
    first = {s.data.external_id: s.data for s in store.all()}
    out = tmp_path / "staff.xlsx"
    export_stations(store.all(), out, crs="gcj02", layout="staff")
    sheet = load_workbook(out).active
    gcj = {r[0]: (r[4], r[5]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    original = {r[1]: (float(r[4]), float(r[5])) for r in _fixture_rows()}
    for key, (lon, lat) in gcj.items():
        assert geodesic_m(lon, lat, *original[key]) < 0.1, key
    other = SqlStationStore(f"sqlite:///{tmp_path / 'second.db'}")
    try:
        run_import(other, out, crs="gcj02")
        for s in other.all():
            a = first[s.data.external_id]
            assert geodesic_m(a.lon, a.lat, s.data.lon, s.data.lat) < 0.1
    finally:
        other.close()


def _fixture_rows() -> list[tuple[str, ...]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_clerk_sheet", DATA / "make_clerk_sheet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [tuple(r) for r in module.rows() if r[2] and r[1] != "YZ-017" and r[1] != "YZ-009"]


def test_the_template_has_its_lists_and_its_example_is_valid_but_skipped(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = tmp_path / "模板.xlsx"
    write_template(path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["驿站", "填写说明"]
    ws = wb["驿站"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    lists = {}
    for dv in ws.data_validations.dataValidation:
        column = header[next(iter(dv.sqref.ranges)).min_col - 1]
        lists[column] = dv.formula1.strip('"').split(",")
    assert set(lists) == {"类型", "状态", "服务设施", "进门方式", "无智能手机可用"}
    assert (
        "快递网点" in lists["类型"] and "暂停开放" in lists["状态"] and "热水" in lists["服务设施"]
    )
    assert "密码锁" in lists["进门方式"] and lists["无智能手机可用"] == ["是", "否"]
    assert "上次核查" not in header and "系统ID" not in header  # only exports carry them
    assert ws.column_dimensions["B"].width >= 20
    guide = {r[0]: r[1] for r in wb["填写说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert all(h in guide for h in header) and "工作日" in guide["开放时间"]
    # The example row left in is no station: skipped, with a warning naming its row.
    report = run_import(store, path, crs="gcj02")
    assert report.added == 0 and not report.errors and store.all() == []
    assert [(w.row, w.field) for w in report.warnings] == [(2, "external_id")]
    assert report.line(report.warnings[0]).startswith("第 2 行「编号」：这是模板中的示例行，已跳过")
    # Written over, the same row is valid and imports.
    ws["B2"] = "泰河路工会驿站"
    wb.save(path)
    report = run_import(store, path, crs="gcj02")
    assert report.added == 1 and not report.errors and not report.warnings
    added = store.all()[0]
    assert (added.data.entry, added.data.no_smartphone_ok) == ("staffed", True)
