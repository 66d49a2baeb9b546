"""Reading the four file formats into one sheet shape: encodings, headers, geometry."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from stations.errors import ImportFailed
from stations.io.headers import HEADER_ALIASES, header_key, map_header
from stations.io.read import read_sheet

HEADER_ZH = ["编号", "驿站名称", "详细地址", "经度", "纬度", "服务设施", "开放时间", "联系电话"]
ROW_1 = [
    "001",
    "北京银行亦庄支行暖心驿站",
    "荣华中路10号",
    "116.5012345",
    "39.7912345",
    "热水、手机充电",
    "Mo-Fr 08:00-20:00",
    "01067856789",
]
ROW_2 = [
    "002",
    "顺丰亦庄站",
    "科创十三街",
    "116.52",
    "39.78",
    "饮用水;微波炉",
    "24/7",
    "13800138000",
]


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def as_dicts(sheet: Any) -> list[tuple[int, dict[str, Any]]]:
    return list(sheet.records())


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, reported: str) -> None:
    path = write_csv(tmp_path / "s.csv", [HEADER_ZH, ROW_1, ROW_2], encoding)
    sheet = read_sheet(path)
    assert sheet.encoding == reported
    rows = as_dicts(sheet)
    assert [n for n, _ in rows] == [2, 3]
    assert rows[0][1]["name"] == "北京银行亦庄支行暖心驿站"
    assert rows[0][1]["external_id"] == "001"  # text stays text: the zeros survive
    assert rows[1][1]["phone"] == "13800138000"


def test_utf16_tab_separated_text_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    text = "\t".join(HEADER_ZH) + "\r\n" + "\t".join(ROW_1) + "\r\n"
    path.write_bytes(text.encode("utf-16"))
    sheet = read_sheet(path)
    assert sheet.encoding == "utf-16"
    assert as_dicts(sheet)[0][1]["name"] == "北京银行亦庄支行暖心驿站"


def test_undecodable_csv_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name,lon,lat\n\x81\x30\xff\xff,1,2\n")
    with pytest.raises(ImportFailed, match="neither UTF-8 nor GBK"):
        read_sheet(path)


def test_every_documented_alias_maps_to_its_field() -> None:
    for name, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            assert map_header(alias) == name, alias
    assert len({header_key(a) for v in HEADER_ALIASES.values() for a in v}) == sum(
        len(v) for v in HEADER_ALIASES.values()
    ), "an alias maps to two fields"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("External ID", "external_id"),
        ("  LONGITUDE ", "lon"),
        ("Lng", "lon"),
        ("Y", "lat"),
        ("经度（GCJ-02）", "lon"),
        ("名称*", "name"),
        ("HOST-TYPE", "host_type"),
        ("Opening Hours", "opening_hours"),
        ("服务项目", "amenities"),
        ("区县", "district"),
        ("序号", None),
        ("联系人", None),
    ],
)
def test_headers_match_regardless_of_case_spaces_and_notes(header: str, field: str | None) -> None:
    assert map_header(header) == field


def test_title_rows_above_the_header_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["北京经济技术开发区暖心驿站一览表", "", ""],
            ["", "", ""],
            ["序号", *HEADER_ZH],
            ["1", *ROW_1],
            ["", "", "", "", "", "", "", "", ""],
            ["2", *ROW_2],
        ],
    )
    sheet = read_sheet(path)
    assert sheet.header_row == 3
    assert [n for n, _ in as_dicts(sheet)] == [4, 6]  # numbers as Excel shows them
    [warning] = sheet.warnings
    assert warning.field == "序号" and "ignored" in warning.message and warning.row == 3


def test_exported_extra_columns_are_ignored_silently(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["name", "lon", "lat", "version", "updated_at", "错误 error"],
            ["a", "1", "2", "3", "x", "y"],
        ],
    )
    sheet = read_sheet(path)
    assert sheet.warnings == []
    assert as_dicts(sheet) == [(2, {"name": "a", "lon": "1", "lat": "2"})]


def test_two_columns_for_one_field_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [["名称", "地址", "详细地址"], ["a", "b", "c"]])
    with pytest.raises(ImportFailed) as info:
        read_sheet(path)
    [err] = info.value.errors
    assert err.field == "详细地址" and "地址" in err.message and err.row == 1


def test_a_file_without_a_known_header_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [["foo", "bar"], ["1", "2"]])
    with pytest.raises(ImportFailed, match="no header row"):
        read_sheet(path)


@pytest.mark.parametrize("name", ["s.txt", "s.xls", "s"])
def test_unknown_extension_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("name,lon,lat\n")
    with pytest.raises(ImportFailed, match="unsupported file type"):
        read_sheet(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="file not found"):
        read_sheet(tmp_path / "nope.csv")


def test_semicolon_separated_csv(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('name;lon;lat;notes\n"a;b";1.5;2.5;"say ""hi"""\n', encoding="utf-8")
    assert as_dicts(read_sheet(path)) == [
        (2, {"name": "a;b", "lon": "1.5", "lat": "2.5", "notes": 'say "hi"'})
    ]


def test_xlsx_prefers_the_stations_sheet_and_keeps_cell_types(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["这张表说明填写方法"])
    ws = wb.create_sheet("驿站")
    ws.append(["名称", "经度", "纬度", "联系电话", "编号", "已地理编码"])
    ws.append(["a", 116.5, 39.8, 13800138000, "007", True])
    wb.save(tmp_path / "s.xlsx")
    sheet = read_sheet(tmp_path / "s.xlsx")
    assert sheet.format == "xlsx"
    assert as_dicts(sheet) == [
        (
            2,
            {
                "name": "a",
                "lon": 116.5,
                "lat": 39.8,
                "phone": 13800138000,
                "external_id": "007",
                "geocoded": True,
            },
        )
    ]


def test_geojson_properties_and_point_geometry(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.5, 39.8]},
                "properties": {"名称": "a", "amenities": ["hot_water", "toilet"]},
            },
            {"type": "Feature", "geometry": None, "properties": {"名称": "b", "地址": "x路1号"}},
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
                "properties": {"名称": "c"},
            },
        ],
    }
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    sheet = read_sheet(path)
    rows = as_dicts(sheet)
    assert rows[0] == (
        1,
        {
            "name": "a",
            "amenities": ["hot_water", "toilet"],
            "address": None,
            "lon": 116.5,
            "lat": 39.8,
        },
    )
    assert rows[1][1]["lon"] is None and rows[1][1]["address"] == "x路1号"
    [err] = sheet.row_errors[3]
    assert err.field == "geometry" and "LineString" in err.message


def test_geojson_must_be_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "s.geojson"
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(ImportFailed, match="FeatureCollection"):
        read_sheet(path)


def test_gpkg_in_a_projected_crs_is_reprojected_to_wgs84(tmp_path: Path) -> None:
    import geopandas as gpd
    from pyproj import Transformer
    from shapely.geometry import Point

    # CGCS2000 / 3-degree Gauss-Kruger (EPSG:4547): what Chinese survey data often uses.
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(116.5068, 39.7954)
    gdf = gpd.GeoDataFrame(
        {"名称": ["a"], "编号": ["001"]}, geometry=[Point(x, y)], crs="EPSG:4547"
    )
    gdf.to_file(tmp_path / "s.gpkg", layer="other", driver="GPKG")
    sheet = read_sheet(tmp_path / "s.gpkg")
    [(number, row)] = as_dicts(sheet)
    assert number == 1 and row["name"] == "a" and row["external_id"] == "001"
    assert row["lon"] == pytest.approx(116.5068, abs=1e-6)
    assert row["lat"] == pytest.approx(39.7954, abs=1e-6)


def test_the_format_doc_lists_every_header_and_code() -> None:
    from stations.vocabulary import AMENITIES, HOST_TYPES, STATUSES

    doc = (Path(__file__).resolve().parents[3] / "docs" / "import-format.md").read_text(
        encoding="utf-8"
    )
    for aliases in HEADER_ALIASES.values():
        for alias in aliases:
            assert f"`{alias}`" in doc, alias
    for vocab in (AMENITIES, HOST_TYPES, STATUSES):
        for code, label in vocab.items():
            assert f"`{code}`" in doc and label in doc, code


def test_a_formula_in_a_column_the_import_reads_is_told_as_a_formula(tmp_path: Path) -> None:
    """A cell holding a formula reads as what Excel last showed (or as nothing, in a file
    never opened in Excel): "点我" from =HYPERLINK(…), or "required" for a cell the clerk
    sees filled. It is told as a formula, on its row and header; other rows still read,
    and a formula in a column the import ignores is left alone."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([*HEADER_ZH, "备用列"])
    ws.append([*ROW_1, "=1+1"])  # a working column of the clerk's own: ignored
    link = '=HYPERLINK("http://example.com","点我")'
    ws.append(["002", link, *ROW_2[2:], ""])
    path = tmp_path / "formula.xlsx"
    wb.save(path)
    sheet = read_sheet(path)
    assert sorted(sheet.row_errors) == [3]
    [error] = sheet.row_errors[3]
    assert error.field == "驿站名称" and error.row == 3
    assert "公式" in error.message_zh and "HYPERLINK" in error.message_zh
    assert "formula" in error.message


def test_a_workbook_of_plain_values_has_no_formula_errors(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (HEADER_ZH, ROW_1, ROW_2):
        ws.append(row)
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    assert read_sheet(path).row_errors == {}
