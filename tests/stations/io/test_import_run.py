"""Running an import: all-or-nothing, rejects, idempotent re-import, matching, duplicates."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from geodata.crs import from_wgs84
from stations.errors import ImportFailed
from stations.io.importing import plan_import, reject_path_for, run_import
from stations.model import Region
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

HEADER = [
    "编号",
    "名称",
    "地址",
    "经度",
    "纬度",
    "类型",
    "服务设施",
    "开放时间",
    "联系电话",
    "备注",
]


def row(ext: str, name: str, lon: Any = 116.5068, lat: Any = 39.7954, **kw: Any) -> list[Any]:
    """One union-sheet row in ``HEADER`` order; ``None`` coordinates leave the cells empty."""
    values = {
        "编号": ext,
        "名称": name,
        "地址": "北京市大兴区荣华中路10号",
        "经度": "" if lon is None else str(lon),
        "纬度": "" if lat is None else str(lat),
        "类型": "快递网点",
        "服务设施": "热水、手机充电",
        "开放时间": "Mo-Su 08:00-22:00",
        "联系电话": "010-67856789",
        "备注": "",
    }
    values.update(kw)
    return [values[h] for h in HEADER]


def sheet(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def spread(k: int) -> tuple[float, float]:
    """Points ~1 km apart, so no two rows look like duplicates."""
    return 116.45 + 0.012 * k, 39.75 + 0.009 * (k % 5)


def good_rows(n: int) -> list[list[Any]]:
    return [row(f"YZ-{k:03d}", f"驿站{k}号", *spread(k)) for k in range(1, n + 1)]


def test_any_invalid_row_refuses_the_whole_file(store: SqlStationStore, tmp_path: Path) -> None:
    rows = good_rows(3)
    rows.insert(1, row("YZ-900", "", 116.5, 39.8))  # sheet row 3: no name
    rows.append(
        row("YZ-901", "坏", "abc", 95, 类型="银河", 服务设施="热水、魔法", 开放时间="Mo-Fr 25:00")
    )  # sheet row 6
    path = sheet(tmp_path / "s.csv", rows)
    with pytest.raises(ImportFailed) as info:
        run_import(store, path)
    assert store.all() == []
    found = {(e.row, e.field) for e in info.value.errors}
    assert found == {
        (3, "name"),
        (6, "lon"),
        (6, "lat"),
        (6, "host_type"),
        (6, "amenities"),
        (6, "opening_hours"),
    }
    lines = [str(e) for e in info.value.errors]
    assert "row 6, lon: is not a number (value 'abc')" in lines
    assert any("魔法" in line for line in lines)
    report = info.value.report
    assert (report.added, report.invalid, report.written) == (3, 2, False)
    assert "nothing was written" in str(info.value)
    assert "未写入任何数据" in info.value.text("zh-CN")


def test_skip_invalid_writes_good_rows_and_saves_the_bad_ones(
    store: SqlStationStore, tmp_path: Path
) -> None:
    rows = good_rows(2) + [row("YZ-009", "坏站", "abc", 39.8, 联系电话="007")]
    path = sheet(tmp_path / "union.csv", rows)
    report = run_import(store, path, skip_invalid=True)
    assert (report.added, report.invalid) == (2, 1)
    assert len(store.all()) == 2
    assert report.reject_path == reject_path_for(path) == tmp_path / "union.rejected.csv"
    raw = report.reject_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    with open(report.reject_path, encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == [*HEADER, "错误 error"]
    assert len(got) == 2
    assert got[1][:5] == ["YZ-009", "坏站", "北京市大兴区荣华中路10号", "abc", "39.8"]
    assert got[1][8] == "007"
    assert "row 4" in got[1][-1] and "经度" in got[1][-1] and "不是数字" in got[1][-1]
    # The clerk fixes the reject file and imports it: the error column is ignored.
    got[1][3] = "116.61"
    fixed = sheet(tmp_path / "fixed.csv", got[1:], header=got[0])
    again = run_import(store, fixed)
    assert again.added == 1 and again.warnings == []


def _features() -> list[dict[str, Any]]:
    """Two good stations, one without a name, one with a line for a point."""
    good = [
        {"编号": f"YZ-{k}", "名称": f"驿站{k}", "开放时间": "全天", "服务设施": "热水"}
        for k in (1, 2)
    ]
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [116.45, 39.75]},
            "properties": good[0],
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [116.47, 39.76]},
            "properties": good[1],
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [116.49, 39.77]},
            "properties": {"编号": "YZ-3", "名称": "", "开放时间": "全天", "服务设施": "热水"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[116.5, 39.7], [116.6, 39.8]]},
            "properties": {"编号": "YZ-4", "名称": "线站", "开放时间": "全天", "服务设施": "热水"},
        },
    ]


def test_skip_invalid_on_geojson_saves_the_bad_features_as_geojson(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = tmp_path / "union.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": _features()}, ensure_ascii=False),
        encoding="utf-8",
    )
    report = run_import(store, path, skip_invalid=True)
    assert (report.added, report.invalid) == (2, 2)
    assert report.reject_path == tmp_path / "union.rejected.geojson"
    doc = json.loads(report.reject_path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    first, second = doc["features"]
    assert first["geometry"] == {"type": "Point", "coordinates": [116.49, 39.77]}
    assert first["properties"]["编号"] == "YZ-3" and first["properties"]["名称"] is None
    assert (
        "名称" in first["properties"]["错误 error"] and "必填" in first["properties"]["错误 error"]
    )
    assert second["geometry"] is None and second["properties"]["名称"] == "线站"
    assert "几何类型必须是点" in second["properties"]["错误 error"]
    # Fixed in QGIS and imported again: the error property is ignored.
    first["properties"]["名称"] = "驿站3"
    fixed = tmp_path / "fixed.geojson"
    fixed.write_text(json.dumps({"type": "FeatureCollection", "features": [first]}), "utf-8")
    again = run_import(store, fixed)
    assert again.added == 1 and again.warnings == []
    assert sorted(s.external_id or "" for s in store.all()) == ["YZ-1", "YZ-2", "YZ-3"]


def test_skip_invalid_on_gpkg_saves_the_bad_features_as_gpkg(
    store: SqlStationStore, tmp_path: Path
) -> None:
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import shape

    features = _features()
    gdf = gpd.GeoDataFrame(
        [f["properties"] for f in features],
        geometry=[shape(f["geometry"]) for f in features],
        crs="EPSG:4326",
    )
    path = tmp_path / "union.gpkg"
    gdf.to_file(path, layer="stations", driver="GPKG")
    report = run_import(store, path, skip_invalid=True)
    assert (report.added, report.invalid) == (2, 2)
    assert report.reject_path == tmp_path / "union.rejected.gpkg"
    back = pyogrio.read_dataframe(report.reject_path)
    assert back.crs.to_epsg() == 4326
    assert list(back["编号"]) == ["YZ-3", "YZ-4"]
    assert (back.geometry.iloc[0].x, back.geometry.iloc[0].y) == (116.49, 39.77)
    assert back.geometry.iloc[1] is None
    assert "必填" in back["错误 error"].iloc[0] and "几何类型" in back["错误 error"].iloc[1]


def test_reimport_is_idempotent_and_updates_in_place(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = sheet(tmp_path / "s.csv", good_rows(4))
    first = run_import(store, path, actor="clerk")
    assert (first.added, first.updated, first.unchanged) == (4, 0, 0)
    before = {s.external_id: s for s in store.all()}
    counter = store.change_counter()

    second = run_import(store, path)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 4)
    assert store.change_counter() == counter  # no write at all
    assert {s.external_id: s.version for s in store.all()} == dict.fromkeys(before, 1)

    rows = good_rows(4)
    rows[2] = row("YZ-003", "驿站3号（已搬迁）", *spread(3), 联系电话="13800138000")
    third = run_import(store, sheet(tmp_path / "s2.csv", rows), actor="clerk2")
    assert (third.added, third.updated, third.unchanged) == (0, 1, 3)
    after = {s.external_id: s for s in store.all()}
    assert len(after) == 4
    moved = after["YZ-003"]
    assert moved.id == before["YZ-003"].id and moved.version == 2
    assert (moved.name, moved.phone) == ("驿站3号（已搬迁）", "13800138000")
    entry = store.history(moved.id)[-1]
    assert (entry.action, entry.actor, entry.before["phone"]) == (
        "import",
        "clerk2",
        "010-67856789",
    )


def test_dry_run_and_plan_write_nothing(store: SqlStationStore, tmp_path: Path) -> None:
    path = sheet(tmp_path / "s.csv", good_rows(3) + [row("YZ-X", "", 1, 2)])
    for report in (run_import(store, path, dry_run=True), plan_import(store, path)):
        assert (report.added, report.invalid, report.dry_run, report.written) == (3, 1, True, False)
        assert report.summary_lines()[1:5] == [
            "新增 added: 3",
            "更新 updated: 0",
            "未变 unchanged: 0",
            "无效 invalid: 1",
        ]
        assert report.summary_lines()[-1] == "试运行，未写入任何数据 dry run: nothing written"
    assert store.all() == [] and not reject_path_for(path).exists()


def test_duplicate_external_id_in_the_file_is_an_error_for_both_rows(
    store: SqlStationStore, tmp_path: Path
) -> None:
    rows = good_rows(3)
    rows[2][0] = "YZ-001"
    with pytest.raises(ImportFailed) as info:
        run_import(store, sheet(tmp_path / "s.csv", rows))
    dup = [(e.row, e.field) for e in info.value.errors]
    assert dup == [(2, "external_id"), (4, "external_id")]
    assert "also row 4" in info.value.errors[0].message


def test_gcj02_file_is_stored_as_wgs84(store: SqlStationStore, tmp_path: Path) -> None:
    wgs = (116.5068123, 39.7954321)
    gcj = from_wgs84(*wgs, "gcj02")
    assert abs(gcj[0] - wgs[0]) > 1e-3  # the offset is real (hundreds of metres)
    path = sheet(tmp_path / "s.csv", [row("YZ-1", "a", repr(gcj[0]), repr(gcj[1]))])
    run_import(store, path, crs="gcj02")
    [s] = store.all()
    assert s.lon == pytest.approx(wgs[0], abs=1e-9) and s.lat == pytest.approx(wgs[1], abs=1e-9)
    # Re-importing the same GCJ-02 sheet converts identically: unchanged.
    assert run_import(store, path, crs="gcj02").unchanged == 1


def test_unknown_crs_is_refused(store: SqlStationStore, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="unknown crs"):
        run_import(store, sheet(tmp_path / "s.csv", good_rows(1)), crs="epsg:3857")


def test_columns_the_file_lacks_keep_their_stored_values(
    store: SqlStationStore, tmp_path: Path
) -> None:
    run_import(store, sheet(tmp_path / "s.csv", good_rows(2)))
    hours = sheet(
        tmp_path / "hours.csv", [["YZ-001", "24/7"], ["YZ-002", ""]], header=["编号", "开放时间"]
    )
    report = run_import(store, hours)
    assert report.updated == 2
    s1, s2 = sorted(store.all(), key=lambda s: s.external_id or "")
    assert (s1.opening_hours, s1.phone, s1.amenities) == (
        "24/7",
        "010-67856789",
        ("hot_water", "charging"),
    )
    assert s2.opening_hours == ""  # an empty cell in a present column clears the field
    assert (s2.lon, s2.lat) == spread(2)


def test_rows_match_by_external_id_then_by_store_id(store: SqlStationStore, tmp_path: Path) -> None:
    plain = store.create(make_station(name="无编号驿站", lon=116.40, lat=39.90), actor="t")
    tagged = store.create(make_station(name="有编号驿站", external_id="YZ-7"), actor="t")
    header = ["id", "external_id", "name", "lon", "lat"]
    path = sheet(
        tmp_path / "s.csv",
        [
            [plain.id, "", "无编号驿站（改）", 116.40, 39.90],  # by id
            [999, "YZ-7", "有编号驿站（改）", 116.5068, 39.7954],  # external id wins over id
            [12345, "", "新驿站", 116.6, 39.7],  # unknown id: created
        ],
        header=header,
    )
    report = run_import(store, path)
    assert (report.added, report.updated) == (1, 2)
    assert store.get(plain.id).name == "无编号驿站（改）"
    assert store.get(tagged.id).name == "有编号驿站（改）"
    assert any(w.field == "id" and "belongs to station" in w.message for w in report.warnings)
    assert len(store.all()) == 3


def test_two_rows_matching_one_station_are_refused(store: SqlStationStore, tmp_path: Path) -> None:
    s = store.create(make_station(external_id="YZ-1"), actor="t")
    path = sheet(
        tmp_path / "s.csv",
        [[s.id, "", "a", 116.5, 39.8], ["", "YZ-1", "b", 116.5, 39.8]],
        header=["id", "external_id", "name", "lon", "lat"],
    )
    with pytest.raises(ImportFailed) as info:
        run_import(store, path)
    assert {(e.row, e.field) for e in info.value.errors} == {(2, "id"), (3, "id")}


def test_bad_id_cell_is_reported(store: SqlStationStore, tmp_path: Path) -> None:
    path = sheet(
        tmp_path / "s.csv", [["x1", "a", 116.5, 39.8]], header=["id", "name", "lon", "lat"]
    )
    with pytest.raises(ImportFailed) as info:
        run_import(store, path)
    [err] = info.value.errors
    assert (err.row, err.field, err.value) == (2, "id", "x1")


def test_deleted_station_in_the_sheet_is_restored_with_a_warning(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = sheet(tmp_path / "s.csv", good_rows(1))
    run_import(store, path)
    [s] = store.all()
    store.delete(s.id, actor="t")
    report = run_import(store, path)
    assert report.updated == 1 and "restores deleted station" in report.warnings[-1].message
    assert [x.id for x in store.all()] == [s.id]


def test_probable_duplicates_are_flagged_not_refused(
    store: SqlStationStore, tmp_path: Path
) -> None:
    # 0.0001° of latitude is ~11 m; 0.001° is ~111 m.
    rows = [
        row("A1", "北京银行 亦庄支行", 116.5, 39.8),
        row("A2", "北京银行亦庄支行。", 116.5, 39.8001),  # same name after normalising, 11 m
        row("A3", "北京银行亦庄支行", 116.5, 39.801),  # same name, 111 m: not flagged
        row("A4", "中石化加油站", 116.5, 39.80005),  # 5 m, different name
    ]
    report = run_import(store, sheet(tmp_path / "s.csv", rows))
    assert report.added == 4
    dups = [w for w in report.warnings if "duplicate" in w.message]
    assert [(w.row, w.field) for w in dups] == [(3, "name")]
    assert "row 2" in dups[0].message and "11." in dups[0].message

    # The same sheet without the union's numbers would create copies: flagged against the store.
    again = [r[1:] for r in rows[:1]]
    report = run_import(store, sheet(tmp_path / "noid.csv", again, header=HEADER[1:]))
    ids = {s.external_id: s.id for s in store.all()}
    dups = sorted(w.message for w in report.warnings if "duplicate" in w.message)
    assert dups == [
        f"probable duplicate of station {ids['A1']} ('北京银行 亦庄支行', 0.0 m apart)",
        f"probable duplicate of station {ids['A2']} ('北京银行亦庄支行。', 11.1 m apart)",
    ]


def test_points_outside_the_region_are_warnings(store: SqlStationStore, tmp_path: Path) -> None:
    etown = Region(west=116.4, south=39.7, east=116.7, north=39.9)
    path = sheet(tmp_path / "s.csv", [row("A", "a", 116.5, 39.8), row("B", "b", 121.47, 31.23)])
    report = run_import(store, path, region=etown)
    assert report.added == 2
    [w] = report.warnings
    assert (w.row, w.field) == (3, "lon/lat")


def test_address_without_coordinates_hints_at_geocoding(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = sheet(tmp_path / "s.csv", [row("A", "a", None, None)])
    report = plan_import(store, path)
    assert report.invalid == 1
    assert {e.field for e in report.errors} == {"lon", "lat"}
    assert any("--geocode" in w.message for w in report.warnings)


def test_progress_reaches_the_total(store: SqlStationStore, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    run_import(
        store,
        sheet(tmp_path / "s.csv", good_rows(250)),
        progress=lambda done, total: calls.append((done, total)),
    )
    totals = {t for _, t in calls}
    assert len(totals) == 1 and calls[-1][0] == calls[-1][1] == totals.pop()
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert 3 < len(calls) <= 110  # a bar's worth of updates, not one per row


def test_a_sheet_read_in_the_wrong_crs_is_refused_not_moved(
    store: SqlStationStore, tmp_path: Path
) -> None:
    """A GCJ-02 staff sheet imported again without ``--crs gcj02`` would move every station
    by the offset (~500 m here): each such row is refused, naming the option that reads it."""
    wgs = [spread(k) for k in range(3)]
    gcj = [tuple(float(v) for v in from_wgs84(lon, lat, "gcj02")) for lon, lat in wgs]
    rows = [row(f"YZ-{k}", f"驿站{k}", *gcj[k]) for k in range(3)]
    path = sheet(tmp_path / "amap.csv", rows)
    assert run_import(store, path, crs="gcj02").added == 3
    before = {s.external_id: (s.lon, s.lat, s.version) for s in store.all()}
    with pytest.raises(ImportFailed) as info:
        run_import(store, path)  # forgot --crs gcj02
    errors = info.value.errors
    assert [(e.row, e.field) for e in errors] == [(2, "lon/lat"), (3, "lon/lat"), (4, "lon/lat")]
    assert "--crs gcj02" in errors[0].message and "gcj02" in errors[0].text("zh-CN")
    # the console's clerk is told which choice of its import page reads it
    assert "“坐标系”选 GCJ-02（高德、腾讯地图）" in errors[0].text("zh-CN")
    assert "choose GCJ-02 (AMap, Tencent Maps)" in errors[0].message
    assert errors[0].value == (round(gcj[0][0], 7), round(gcj[0][1], 7))
    assert {s.external_id: (s.lon, s.lat, s.version) for s in store.all()} == before
    # Read as written, nothing changes; a station that really moved is still an update.
    assert run_import(store, path, crs="gcj02").unchanged == 3
    moved = from_wgs84(wgs[1][0] + 0.006, wgs[1][1], "gcj02")
    rows[1] = row("YZ-1", "驿站1", *(float(v) for v in moved))
    report = run_import(store, sheet(tmp_path / "moved.csv", rows), crs="gcj02")
    assert (report.updated, report.unchanged, report.errors) == (1, 2, [])


def test_month_and_date_hours_import_and_unreadable_ones_are_explained(
    store: SqlStationStore, tmp_path: Path
) -> None:
    """Month lists and dotted dates are stored as OSM month selectors, kept as written; a
    cell that is still unreadable names the header, the row, the value, what was not
    understood and two forms that work, Chinese first."""
    path = sheet(
        tmp_path / "s.csv",
        [
            row(
                "YZ-001",
                "甲",
                *spread(1),
                开放时间="5.1-9.30 每天 8:00-20:00；10.1-4.30 周一至周五 9:00-17:00",
            ),
            row("YZ-002", "乙", *spread(2), 开放时间="1月、2月 9:00-16:00"),
            row("YZ-003", "丙", *spread(3), 开放时间="5月、7月 看情况"),
            row("YZ-004", "丁", *spread(4), 开放时间="5.1-9.30"),
        ],
    )
    report = plan_import(store, path)
    lines = {e.row: report.line(e) for e in report.errors}
    assert sorted(lines) == [4, 5] and report.invalid == 2
    assert lines[4].startswith("第 4 行「开放时间」：开放时间无法识别：无法识别“看情况”")
    assert lines[5].startswith("第 5 行「开放时间」：开放时间无法识别：“5.1-9.30”后面缺少开放时间")
    for line in lines.values():
        assert "“周一至周五 9:00-18:00，节假日休息”或“每天 8:00-20:00”" in line
    assert "填写的值：5月、7月 看情况" in lines[4] and "填写的值：5.1-9.30" in lines[5]
    report = run_import(store, path, skip_invalid=True)
    stored = {s.external_id: s for s in store.all()}
    assert set(stored) == {"YZ-001", "YZ-002"}
    assert stored["YZ-001"].opening_hours == (
        "May 01-Sep 30 08:00-20:00; Oct 01-Apr 30 Mo-Fr 09:00-17:00"
    )
    assert stored["YZ-001"].opening_hours_text.startswith("5.1-9.30 每天")
    assert (stored["YZ-002"].opening_hours, stored["YZ-002"].opening_hours_text) == (
        "Jan,Feb 09:00-16:00",
        "1月、2月 9:00-16:00",
    )
