"""Reading a sheet of hand tallies (编号, 日期, 人次) as staff keep them from paper registers.

Union staff write these in Excel, so the reader takes ``.xlsx`` and ``.csv`` (UTF-8, or
GB18030 as Chinese Excel saves it), dates as Excel dates or text (``2026-11-03``,
``2026/11/3``, ``2026年11月3日``, ``20261103``), and ``编号`` as either the station's public code
(on its poster) or the union's own number (``external_id``). Every bad row is reported at
once, Chinese first, with its row number as the spreadsheet shows it; nothing is written
unless every row is good.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ImportFailed
from stations.i18n import N_
from stations.visits.codes import normalise_code

__all__ = ["TallyRow", "read_tally_sheet", "resolve_tallies"]

_HEADERS = {
    "code": ("编号", "驿站编号", "code"),
    "day": ("日期", "date", "day"),
    "count": ("人次", "服务人次", "visits", "count"),
}
_TEXT_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
MAX_ROWS = 200_000


@dataclass(frozen=True)
class TallyRow:
    """One good line of the sheet: ``row`` is its number as the spreadsheet shows it."""

    row: int
    code: str
    day: date
    count: int


def _error(field: str, msgid: str, value: Any, row: int | None, **params: Any) -> FieldError:
    shown = None if value is None else str(value)[:40]
    return FieldError.from_catalog(field, msgid, shown, row, **params)


def _cells(path: Path) -> list[list[Any]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows = []
            for values in sheet.iter_rows(values_only=True):
                rows.append(list(values))
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows
        finally:
            book.close()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("gb18030")
        return [list(r) for r in csv.reader(io.StringIO(content))]
    raise ImportFailed([_error("file", N_("must be .xlsx or .csv"), path.name, None)])


def _parse_day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _TEXT_DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        return int(value)
    return None


def read_tally_sheet(path: str | Path) -> list[TallyRow]:
    """The good rows of the sheet at ``path``, or ``ImportFailed`` listing every bad one."""
    path = Path(path)
    rows = _cells(path)
    while rows and all(v in (None, "") for v in rows[0]):
        rows.pop(0)
    if not rows:
        raise ImportFailed([_error("file", N_("is empty"), path.name, None)])
    header = [str(v).strip() if v is not None else "" for v in rows[0]]
    where: dict[str, int] = {}
    errors: list[FieldError] = []
    for field, names in _HEADERS.items():
        found = [i for i, h in enumerate(header) if h.lower() in names]
        if not found:
            errors.append(
                _error(
                    field,
                    N_("column missing (header {first} or {last})"),
                    None,
                    1,
                    first=names[0],
                    last=names[-1],
                )
            )
        else:
            where[field] = found[0]
    if errors:
        raise ImportFailed(errors)
    if len(rows) > MAX_ROWS + 1:
        raise ImportFailed(
            [_error("file", N_("more than {limit} rows"), None, None, limit=MAX_ROWS)]
        )
    good: list[TallyRow] = []
    for number, values in enumerate(rows[1:], start=2):
        if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        cell = {f: values[i] if i < len(values) else None for f, i in where.items()}
        code_raw = "" if cell["code"] is None else str(cell["code"]).strip()
        if isinstance(cell["code"], float) and cell["code"].is_integer():
            code_raw = str(int(cell["code"]))
        day = _parse_day(cell["day"])
        count = _parse_count(cell["count"])
        if not code_raw:
            errors.append(_error("编号", N_("no station number"), None, number))
        if day is None:
            errors.append(_error("日期", N_("is not a date like 2026-11-03"), cell["day"], number))
        if count is None or count < 0:
            errors.append(
                _error("人次", N_("is not a whole number of visits"), cell["count"], number)
            )
        if code_raw and day is not None and count is not None and count >= 0:
            good.append(TallyRow(number, code_raw, day, count))
    if errors:
        raise ImportFailed(errors)
    return good


def resolve_tallies(
    rows: list[TallyRow],
    codes: Mapping[str, int],
    external_ids: Mapping[str, int],
    *,
    today: date | None = None,
) -> list[tuple[int, date, int]]:
    """``(station id, day, count)`` for each row, matching ``编号`` against public codes
    first, then the union's own numbers; ``ImportFailed`` lists every unmatched, future or
    repeated row.
    """
    out: list[tuple[int, date, int]] = []
    errors: list[FieldError] = []
    seen: dict[tuple[int, date], int] = {}
    for r in rows:
        normal = normalise_code(r.code)
        station_id = codes.get(normal) if normal else None
        if station_id is None:
            station_id = external_ids.get(r.code)
        if station_id is None:
            errors.append(
                _error(
                    "编号",
                    N_("matches no station's code or number"),
                    r.code,
                    r.row,
                    code=r.code[:40],
                )
            )
            continue
        if today is not None and r.day > today:
            errors.append(_error("日期", N_("is in the future"), r.day, r.row))
            continue
        first = seen.setdefault((station_id, r.day), r.row)
        if first != r.row:
            errors.append(
                _error("日期", N_("same station and day as row {first}"), r.day, r.row, first=first)
            )
            continue
        out.append((station_id, r.day, r.count))
    if errors:
        raise ImportFailed(errors)
    return out
