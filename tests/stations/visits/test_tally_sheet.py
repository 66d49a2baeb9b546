"""Hand tallies from a sheet (编号, 日期, 人次): every bad row named in Chinese, all or nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from stations.errors import ImportFailed
from stations.visits.tally_sheet import read_tally_sheet, resolve_tallies
from tests.stations.visits.visit_kit import stations_with_visits


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_xlsx_and_csv_forms_are_read(tmp_path: Path) -> None:
    xlsx = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["编号", "日期", "人次"],
            ["abcd-efgh", datetime(2026, 11, 3), 12],
            ["YZ-001", "2026年11月4日", "7"],
        ],
    )
    csv = tmp_path / "t.csv"
    csv.write_bytes("编号,日期,人次\nYZ-001,2026/11/5,3\n,,\n".encode("gb18030"))
    rows = read_tally_sheet(xlsx) + read_tally_sheet(csv)
    assert [(r.row, r.code, r.day, r.count) for r in rows] == [
        (2, "abcd-efgh", date(2026, 11, 3), 12),
        (3, "YZ-001", date(2026, 11, 4), 7),
        (2, "YZ-001", date(2026, 11, 5), 3),
    ]


def test_every_bad_row_is_reported_in_chinese(tmp_path: Path) -> None:
    sheet = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["编号", "日期", "人次"],
            ["", "2026-11-03", 1],
            ["YZ-1", "11月3号", 2],
            ["YZ-1", "2026-11-03", -4],
        ],
    )
    with pytest.raises(ImportFailed) as caught:
        read_tally_sheet(sheet)
    # The row is the error's own (shown before the message), not repeated inside it.
    messages = [(e.row, e.message_zh) for e in caught.value.errors]
    assert messages == [
        (2, "编号为空"),
        (3, "日期无法识别，请写成 2026-11-03"),
        (4, "人次须为非负整数"),
    ]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    sheet = write_xlsx(tmp_path / "cols.xlsx", [["编号", "人数"], ["YZ-1", 3]])
    with pytest.raises(ImportFailed) as caught:
        read_tally_sheet(sheet)
    assert [e.message_zh for e in caught.value.errors] == ["缺少“日期”列", "缺少“人次”列"]


def test_codes_and_union_numbers_resolve_and_nothing_is_written_on_error(
    store, tmp_path: Path
) -> None:
    visits, ids = stations_with_visits(store, 2)
    codes = visits.codes()
    sheet = write_xlsx(
        tmp_path / "mixed.xlsx",
        [
            ["编号", "日期", "人次"],
            [codes[ids[0]], "2026-11-03", 12],
            ["YZ-002", "2026-11-03", 5],
            ["YZ-999", "2026-11-03", 1],
            [codes[ids[0]], "2026-11-03", 2],
        ],
    )
    by_code = {c: i for i, c in codes.items()}
    external = {s.external_id: s.id for s in store.all()}
    with pytest.raises(ImportFailed) as caught:
        resolve_tallies(read_tally_sheet(sheet), by_code, external)
    assert [(e.row, e.message_zh) for e in caught.value.errors] == [
        (4, "编号“YZ-999”没有对应的驿站"),
        (5, "与第 2 行是同一驿站同一天"),
    ]
    assert visits.tallies() == []
    good = resolve_tallies(read_tally_sheet(sheet)[:2], by_code, external)
    assert visits.set_tallies(good, actor="clerk") == 2
    assert visits.set_tallies([(ids[0], date(2026, 11, 3), 20)], actor="clerk") == 1
    assert [(t.station_id, t.count) for t in visits.tallies()] == [(ids[0], 20), (ids[1], 5)]
