"""The reject file ``--skip-invalid`` writes: the bad rows as the clerk wrote them, and why."""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stations.errors import FieldError
from stations.io.sheet import Sheet
from stations.io.write import write_csv, write_xlsx

_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

__all__ = ["REJECT_ERROR_COLUMN", "reject_path_for", "write_rejects"]

REJECT_ERROR_COLUMN = "错误 error"


def reject_path_for(path: str | os.PathLike[str]) -> Path:
    """Where ``skip_invalid`` saves the bad rows: beside the input, in its own format.

    ``站点.xlsx`` → ``站点.rejected.xlsx``, ``站点.csv`` → ``站点.rejected.csv``; GIS files
    (GeoJSON, GeoPackage) give their rows back as CSV, which a clerk can open.
    """
    p = Path(path)
    suffix = ".xlsx" if p.suffix.lower() == ".xlsx" else ".csv"
    return p.with_name(f"{p.stem}.rejected{suffix}")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def write_rejects(sheet: Sheet, bad_rows: set[int], errors: Sequence[FieldError]) -> Path:
    """The bad rows as the clerk wrote them, plus what is wrong (Chinese first)."""
    by_row: dict[int, list[str]] = defaultdict(list)
    headers = {f: c for c, f in zip(sheet.columns, sheet.fields, strict=True) if f and c}
    for e in errors:
        header = headers.get(e.field, e.field)
        zh = f"{e.message_zh} / " if e.message_zh else ""
        val = "" if e.value is None else f" ({e.value!r})"
        by_row[e.row or 0].append(f"{header}: {zh}{e.message}{val}")
    columns = [c or f"column {k + 1}" for k, c in enumerate(sheet.columns)]
    width = len(columns)
    rows = []
    for number, values in zip(sheet.row_numbers, sheet.rows, strict=True):
        if number not in bad_rows:
            continue
        cells = [_cell_text(v) for v in values[:width]] + [""] * (width - len(values))
        cells.append(f"第 {number} 行 row {number}: " + "; ".join(by_row.get(number, [])))
        rows.append(cells)
    target = reject_path_for(sheet.path)
    if target.suffix == ".xlsx":
        clean = [[_XLSX_ILLEGAL.sub("", c) for c in row] for row in rows]
        write_xlsx(target, [*columns, REJECT_ERROR_COLUMN], clean, sheet_name="无效行")
    else:
        write_csv(target, [*columns, REJECT_ERROR_COLUMN], rows)
    return target
