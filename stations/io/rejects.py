"""The reject file ``--skip-invalid`` writes: the bad rows as the clerk wrote them, and why."""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stations.errors import FieldError
from stations.io.sheet import Sheet
from stations.io.write import write_csv

__all__ = ["REJECT_ERROR_COLUMN", "reject_path_for", "write_rejects"]

REJECT_ERROR_COLUMN = "错误 error"


def reject_path_for(path: str | os.PathLike[str]) -> Path:
    """Where ``skip_invalid`` saves the bad rows: ``<stem>.rejected.csv`` beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}.rejected.csv")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def write_rejects(sheet: Sheet, bad_rows: set[int], errors: Sequence[FieldError]) -> Path:
    """The bad rows as the clerk wrote them, plus what is wrong, in Excel-friendly CSV."""
    by_row: dict[int, list[str]] = defaultdict(list)
    for e in errors:
        zh = f"{e.message_zh} / " if e.message_zh else ""
        val = "" if e.value is None else f" ({e.value!r})"
        by_row[e.row or 0].append(f"{e.field}: {zh}{e.message}{val}")
    columns = [c or f"column {k + 1}" for k, c in enumerate(sheet.columns)]
    width = len(columns)
    rows = []
    for number, values in zip(sheet.row_numbers, sheet.rows, strict=True):
        if number not in bad_rows:
            continue
        cells = [_cell_text(v) for v in values[:width]] + [""] * (width - len(values))
        cells.append(f"row {number}: " + "; ".join(by_row.get(number, [])))
        rows.append(cells)
    target = reject_path_for(sheet.path)
    write_csv(target, [*columns, REJECT_ERROR_COLUMN], rows)
    return target
