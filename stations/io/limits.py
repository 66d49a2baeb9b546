"""Limits on what a station file may make the reader do: no zip bomb, no endless sheet.

An .xlsx is a zip archive of XML. A 680 KB workbook can inflate to 200 MB of sheet XML and
keep a worker parsing for minutes in hundreds of MB, and an upload keeps being parsed after
its sender has gone. So before a single cell is read, the archive's members are checked
(total uncompressed size and compression ratio, from the central directory — and
:class:`zipfile.ZipExtFile` never yields more than a member's declared size, so a lying
header cannot get past it); then, *while* rows stream in, their count and width are checked
against :class:`SheetLimits`, and ``should_stop`` is polled so a caller (the console, when
the client disconnects) can end the read. CSV and GeoJSON are bounded by file size first.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ImportFailed

__all__ = [
    "DEFAULT_LIMITS",
    "ImportCancelled",
    "SheetLimits",
    "check_archive",
    "check_size",
    "bounded",
]


@dataclass(frozen=True)
class SheetLimits:
    """What one import may read. The defaults fit a national list (186k stations) with room."""

    max_file_bytes: int = 200 * 2**20
    max_uncompressed_bytes: int = 400 * 2**20
    max_ratio: float = 100.0
    max_rows: int = 500_000
    max_columns: int = 200
    should_stop: Callable[[], bool] | None = None


DEFAULT_LIMITS = SheetLimits()
_CHECK_EVERY = 512
# A member this small is never a bomb, whatever its ratio (shared strings of one repeated word).
_SMALL_MEMBER = 2**20


class ImportCancelled(ImportFailed):
    """The caller asked the read to stop (the uploader went away)."""

    status = 499
    title = "Import cancelled"


def _refuse_file(path: Path, msgid: str, value: Any = None, **params: Any) -> ImportFailed:
    error = FieldError.from_catalog("file", msgid, value, None, **params)
    return ImportFailed([error], f"refused {path.name}: {error.message}")


def check_size(path: Path, limits: SheetLimits) -> None:
    """The file itself is not larger than ``max_file_bytes``."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        mb = limits.max_file_bytes / 2**20
        raise _refuse_file(
            path,
            "the file is {size} MB; at most {limit} MB can be imported",
            size,
            size=f"{size / 2**20:.1f}",
            limit=f"{mb:g}",
        )


def check_archive(path: Path, limits: SheetLimits) -> None:
    """An .xlsx whose members would inflate too far, or too steeply, is refused unread."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse_file(path, "not a readable .xlsx workbook ({error})", error=exc) from exc
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        mb = limits.max_uncompressed_bytes / 2**20
        raise _refuse_file(
            path,
            "the workbook inflates to {size} MB; at most {limit} MB is read",
            total,
            size=f"{total / 2**20:.0f}",
            limit=f"{mb:g}",
        )
    for m in members:
        if m.file_size > _SMALL_MEMBER and m.file_size > limits.max_ratio * max(m.compress_size, 1):
            ratio = m.file_size / max(m.compress_size, 1)
            raise _refuse_file(
                path,
                "{member} is compressed {ratio}:1 (more than {limit}:1): "
                "refused as a possible zip bomb",
                m.filename,
                member=m.filename,
                ratio=f"{ratio:.0f}",
                limit=f"{limits.max_ratio:g}",
            )


def bounded(
    path: Path, rows: Iterable[tuple[int, Sequence[Any]]], limits: SheetLimits
) -> Iterator[tuple[int, Sequence[Any]]]:
    """``rows`` passed through, refused past ``max_rows`` or ``max_columns``, stoppable."""
    stop = limits.should_stop
    for count, (number, values) in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise _refuse_file(
                path, "more than {limit} rows; split the file", count, limit=limits.max_rows
            )
        if len(values) > limits.max_columns:
            # Trailing empty cells (a formatted but empty column far right) are harmless.
            last = max((j for j, v in enumerate(values) if v not in (None, "")), default=-1)
            if last >= limits.max_columns:
                raise _refuse_file(
                    path,
                    "row {number} has more than {limit} columns",
                    last + 1,
                    number=number,
                    limit=limits.max_columns,
                )
            values = values[: limits.max_columns]
        if stop is not None and count % _CHECK_EVERY == 0 and stop():
            raise ImportCancelled(
                [FieldError.from_catalog("file", "the import was cancelled")],
                "cancelled",
            )
        yield number, values
