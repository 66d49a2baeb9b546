"""The monthly report as unions send it upward: one line per station, visits served
(服务人次) by worker type, hand tallies, and a total line that adds up.

Written with XlsxWriter in ``constant_memory`` mode: each row goes to disk as it is written,
so 100,000 stations take the same memory as ten, and it is the faster of the two streaming
writers (openpyxl's ``write_only`` took about 1.75x as long for the same 100,000 rows).
Station names and districts are staff- or import-supplied text, so every text cell is
neutralised against formula injection: a value starting with ``=``, ``+``, ``-``, ``@`` (or
a tab / carriage return) gets a leading apostrophe, and it is written with
``write_string``, which stores text as text and never as a formula; characters XLSX cannot
hold are dropped.

Both paths to the file write the same lines with one writer: :func:`write_monthly_xlsx` from
the plain ``VisitStats.monthly`` rows, :func:`write_monthly_lines` from the lines
``VisitStats.monthly_lines`` streams out of the database (what the CLI and the console use).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

from stations.errors import FieldError, ValidationFailed
from stations.io import formula
from stations.store.visit_stats import MonthlyLine, MonthlyRow
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = [
    "MONTHLY_HEADER",
    "month_range",
    "monthly_line",
    "neutralise",
    "write_monthly_lines",
    "write_monthly_xlsx",
]

_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

MONTHLY_HEADER: tuple[str, ...] = (
    "驿站名称",
    "编号",
    "所在区域",
    *WORKER_COLUMNS.values(),
    "扫码签到小计",
    "手工登记",
    "服务人次合计",
)


def month_range(text: str) -> tuple[date, date]:
    """``YYYY-MM`` → (first day, first day of the next month); ``ValidationFailed`` else."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip()) if isinstance(text, str) else None
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationFailed(
            [FieldError.from_catalog("month", "must be YYYY-MM, e.g. 2026-11", text)]
        )
    start = date(int(match[1]), int(match[2]), 1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end


def neutralise(value: str) -> str:
    """Text that a spreadsheet shows as typed and never evaluates (the exports' own rule,
    :func:`stations.io.formula.neutralise`, after the characters XLSX cannot hold).
    """
    return formula.neutralise(_XLSX_ILLEGAL.sub("", value))


def monthly_line(row: MonthlyRow, codes: Mapping[int, str]) -> MonthlyLine:
    """The report's line for one :class:`MonthlyRow` (the plain path; ``VisitStats.
    monthly_lines`` returns the same lines straight from the database).
    """
    numbers = [row.by_worker.get(k, 0) for k in WORKER_COLUMNS]
    return (
        row.name,
        codes.get(row.station_id, ""),
        row.district,
        *numbers,
        row.scans,
        row.tallied,
        row.total,
    )


def write_monthly_xlsx(
    path: str | Path, month: date, rows: Sequence[MonthlyRow], codes: dict[int, str]
) -> dict[str, int]:
    """Write the month's table to ``path`` from :class:`MonthlyRow` objects (the plain
    path); returns the totals line (column → number).
    """
    _count, totals = write_monthly_lines(path, month, (monthly_line(r, codes) for r in rows))
    return totals


def write_monthly_lines(
    path: str | Path, month: date, lines: Iterable[MonthlyLine]
) -> tuple[int, dict[str, int]]:
    """Write the month's table to ``path``, each line as it arrives (``VisitStats.
    monthly_lines``: nothing per station is kept); returns how many stations and the totals
    line (column → number).
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Text is only ever written with write_string; these keep write() from guessing.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    count = 0
    try:
        sheet = book.add_worksheet(f"{month.year}年{month.month}月")
        sheet.freeze_panes(2, 0)
        title = book.add_format({"bold": True, "font_size": 14})
        bold = book.add_format({"bold": True})
        sheet.write_string(0, 0, f"{month.year}年{month.month}月 暖心驿站服务人次统计", title)
        for col, name in enumerate(MONTHLY_HEADER):
            sheet.write_string(1, col, name, bold)
        totals = [0] * (len(MONTHLY_HEADER) - 3)
        columns = range(3, len(MONTHLY_HEADER))
        write_string, write_number = sheet.write_string, sheet.write_number
        for r, line in enumerate(lines, start=2):
            write_string(r, 0, neutralise(line[0]))
            write_string(r, 1, neutralise(line[1]))
            write_string(r, 2, neutralise(line[2]))
            for col in columns:
                n = int(line[col])
                totals[col - 3] += n
                write_number(r, col, n)
            count += 1
        last = 2 + count
        sheet.write_string(last, 0, "合计", bold)
        for col, n in enumerate(totals, start=3):
            sheet.write_number(last, col, n, bold)
    finally:
        book.close()
    return count, dict(zip(MONTHLY_HEADER[3:], totals, strict=True))
