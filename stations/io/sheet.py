"""The one shape every station file is read into."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ImportFailed

__all__ = ["Sheet", "file_error"]


@dataclass
class Sheet:
    """A station file as read: columns, the field each maps to, and the raw rows.

    ``rows[i][j]`` is the value of ``columns[j]`` in the row numbered ``row_numbers[i]``
    (sheet rows for CSV/XLSX — the header row is the row before the first data row —
    feature numbers from 1 for GeoJSON/GPKG). Raw values are kept so a reject file can
    give the clerk back exactly what they wrote.
    """

    path: Path
    format: str
    columns: list[str]
    fields: list[str | None]
    rows: list[list[Any]]
    row_numbers: list[int]
    encoding: str | None = None
    header_row: int | None = None
    warnings: list[FieldError] = field(default_factory=list)
    row_errors: dict[int, list[FieldError]] = field(default_factory=dict)

    @property
    def present(self) -> frozenset[str]:
        """The fields the file has a column for."""
        return frozenset(f for f in self.fields if f is not None)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(row number, {field: raw value})`` for every row, mapped columns only."""
        mapped = [(j, f) for j, f in enumerate(self.fields) if f is not None]
        for number, values in zip(self.row_numbers, self.rows, strict=True):
            width = len(values)
            yield number, {f: (values[j] if j < width else None) for j, f in mapped}


def file_error(path: Path, msgid: str, **params: Any) -> ImportFailed:
    """A whole-file failure (unreadable, wrong type, no header), naming the file.

    ``msgid`` is a catalog id, formatted with ``params`` in each reader's language.
    """
    error = FieldError.from_catalog("file", msgid, str(path), None, **params)
    return ImportFailed([error], f"cannot read {path.name}: {error.message}")
