"""The monthly table: scans by worker type plus hand tallies, totals that add up, and
station text that cannot become a formula."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from stations.errors import ValidationFailed
from stations.store.visit_stats import VisitStats
from stations.visits.monthly import (
    MONTHLY_HEADER,
    month_range,
    monthly_line,
    write_monthly_lines,
    write_monthly_xlsx,
)
from tests.stations.visits.visit_kit import stations_with_visits


def test_month_range() -> None:
    assert month_range("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(ValidationFailed):
        month_range("2026-13")


def test_scans_and_tallies_add_up_and_formulas_stay_text(store, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    visits, ids = stations_with_visits(store, 3)
    store.update(ids[2], {"name": '=HYPERLINK("http://x","y")'}, actor="test")
    codes = visits.codes()
    t = datetime(2026, 11, 10, 2, tzinfo=UTC)
    for n, worker in enumerate(["delivery", "delivery", "courier", None]):
        visits.check_in(codes[ids[0]], f"device-a-{n}", worker, at=t + timedelta(minutes=n))
    visits.check_in(codes[ids[1]], "device-b-0", "sanitation", at=t)
    visits.check_in(codes[ids[1]], "device-b-0", "sanitation", at=t + timedelta(minutes=3))
    visits.check_in(
        codes[ids[1]], "device-b-1", "ride_hailing", at=datetime(2026, 12, 1, 2, tzinfo=UTC)
    )
    visits.set_tallies(
        [(ids[0], date(2026, 11, 2), 10), (ids[2], date(2026, 11, 30), 7)], actor="c"
    )
    start, end = month_range("2026-11")
    rows = VisitStats(store.engine).monthly(start, end)
    out = tmp_path / "11月服务人次.xlsx"
    totals = write_monthly_xlsx(out, start, rows, codes)
    sheet = load_workbook(out).active
    table = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert tuple(table[0]) == MONTHLY_HEADER
    lines = {r[1]: r for r in table[1:-1]}
    col = {name: i for i, name in enumerate(MONTHLY_HEADER)}
    a, b, c = (lines[codes[i]] for i in ids)
    assert (a[col["外卖骑手"]], a[col["快递员"]], a[col["未填写"]], a[col["手工登记"]]) == (
        2,
        1,
        1,
        10,
    )
    assert a[col["服务人次合计"]] == 14
    assert b[col["环卫工人"]] == 1 and b[col["网约车司机"]] == 0 and b[col["服务人次合计"]] == 1
    assert c[col["服务人次合计"]] == 7
    assert c[0] == '\'=HYPERLINK("http://x","y")'
    assert sheet.cell(row=5, column=1).data_type == "s"
    last = table[-1]
    assert last[0] == "合计" and last[col["服务人次合计"]] == 22 == totals["服务人次合计"]
    for name in MONTHLY_HEADER[3:]:
        assert last[col[name]] == sum(r[col[name]] for r in table[1:-1])


def test_streamed_lines_match_the_plain_rows(store, tmp_path: Path) -> None:
    """The report's fast path (lines from the database, codes joined) against the plain one
    (MonthlyRow objects, codes looked up): the same lines, the same file."""
    from openpyxl import load_workbook

    from tests.conftest import make_station

    visits, ids = stations_with_visits(store, 4)
    codes = visits.codes()
    t = datetime(2026, 11, 10, 2, tzinfo=UTC)
    for n, worker in enumerate(["delivery", "courier", None, "other", "ride_hailing"]):
        sid = ids[n % 3]
        visits.check_in(codes[sid], f"device-{n}", worker, at=t + timedelta(days=n))
    visits.set_tallies([(ids[1], date(2026, 11, 3), 5), (ids[3], date(2026, 11, 4), 2)], actor="c")
    visits.check_in(codes[ids[0]], "device-dec", "sanitation", at=datetime(2026, 12, 2, tzinfo=UTC))
    store.delete(ids[2], actor="test")  # deleted, with visits: listed, without a code
    late = store.create(make_station(name="新驿站", lon=116.6), actor="test").id  # no code yet
    assert visits.ensure_codes() == 1 and visits.ensure_codes() == 0
    stats = VisitStats(store.engine)
    spans = [
        month_range("2026-11"),  # one month: its rows read as they are, no GROUP BY
        month_range("2026-12"),
        (date(2026, 11, 1), date(2027, 1, 1)),  # whole months, summed
        (date(2026, 11, 5), date(2026, 12, 3)),  # days, from the day roll-up
    ]
    for start, end in spans:
        rows = stats.monthly(start, end)
        plain = [monthly_line(r, visits.codes([r.station_id for r in rows])) for r in rows]
        fast = [tuple(line) for line in stats.monthly_lines(start, end)]
        assert fast == plain
        by_name = {line[0]: line for line in fast}
        assert by_name["新驿站"][1] == visits.code_for(late)
        # deleted: listed without a code while the span holds its visits (November's)
        assert by_name.get("驿站3", ("", ""))[1] == ""
        assert ("驿站3" in by_name) == (start < date(2026, 12, 1))
    start, end = month_range("2026-11")
    plain_file, fast_file = tmp_path / "plain.xlsx", tmp_path / "fast.xlsx"
    rows = stats.monthly(start, end)
    totals = write_monthly_xlsx(plain_file, start, rows, visits.codes())
    count, fast_totals = write_monthly_lines(fast_file, start, stats.monthly_lines(start, end))
    assert (count, fast_totals) == (len(rows), totals) and totals["服务人次合计"] == 12

    def cells(path: Path) -> list[tuple]:
        return list(load_workbook(path).active.iter_rows(values_only=True))

    assert cells(fast_file) == cells(plain_file)
