"""The monthly report as unions send it upward: one line per station, visits served
(服务人次) by worker type, hand tallies, and a total line that adds up.

Written with openpyxl. Station names and districts are staff- or import-supplied text, so
every text cell is neutralised against formula injection: a value starting with ``=``,
``+``, ``-``, ``@`` (or a tab / carriage return) gets a leading apostrophe and is stored as
text, never as a formula, and characters XLSX cannot hold are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from stations.errors import FieldError, ValidationFailed
from stations.store.visit_stats import MonthlyRow
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = ["month_range", "neutralise", "write_monthly_xlsx", "MONTHLY_HEADER"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
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
            [
                FieldError(
                    "month", "must be YYYY-MM, e.g. 2026-11", text, None, "月份格式应为 2026-11"
                )
            ]
        )
    start = date(int(match[1]), int(match[2]), 1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end


def neutralise(value: str) -> str:
    """Text that a spreadsheet shows as typed and never evaluates."""
    value = _XLSX_ILLEGAL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_monthly_xlsx(
    path: str | Path, month: date, rows: Sequence[MonthlyRow], codes: dict[int, str]
) -> dict[str, int]:
    """Write the month's table to ``path``; returns the totals line (column → number)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"{month.year}年{month.month}月")
    sheet.freeze_panes = "A3"
    title = WriteOnlyCell(sheet, value=f"{month.year}年{month.month}月 暖心驿站服务人次统计")
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    header = []
    for name in MONTHLY_HEADER:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    totals = dict.fromkeys(MONTHLY_HEADER[3:], 0)
    for row in rows:
        numbers = [row.by_worker.get(k, 0) for k in WORKER_COLUMNS]
        numbers += [row.scans, row.tallied, row.total]
        for name, n in zip(MONTHLY_HEADER[3:], numbers, strict=True):
            totals[name] += n
        # Plain values (a cell object per value costs ~5x): neutralise() already keeps every
        # text from starting with a formula character, so openpyxl stores each as a string.
        sheet.append(
            [
                neutralise(row.name),
                neutralise(codes.get(row.station_id, "")),
                neutralise(row.district),
                *numbers,
            ]
        )
    bold = []
    for value in ["合计", "", "", *totals.values()]:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    book.save(str(path))
    return totals
