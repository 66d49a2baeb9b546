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


def _refuse(path: Path, message: str, zh: str, value: Any = None) -> ImportFailed:
    return ImportFailed(
        [FieldError("file", message, value, None, zh)], f"refused {path.name}: {message}"
    )


def check_size(path: Path, limits: SheetLimits) -> None:
    """The file itself is not larger than ``max_file_bytes``."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        mb = limits.max_file_bytes / 2**20
        raise _refuse(
            path,
            f"the file is {size / 2**20:.1f} MB; at most {mb:g} MB can be imported",
            f"文件过大（{size / 2**20:.1f} MB），最多可导入 {mb:g} MB，请拆分后分批导入",
            size,
        )


def check_archive(path: Path, limits: SheetLimits) -> None:
    """An .xlsx whose members would inflate too far, or too steeply, is refused unread."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(
            path, f"not a readable .xlsx workbook ({exc})", "无法读取 Excel 文件"
        ) from exc
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        mb = limits.max_uncompressed_bytes / 2**20
        raise _refuse(
            path,
            f"the workbook inflates to {total / 2**20:.0f} MB; at most {mb:g} MB is read",
            f"Excel 文件解压后有 {total / 2**20:.0f} MB，超过上限 {mb:g} MB，请删去无关的工作表或拆分文件",
            total,
        )
    for m in members:
        if m.file_size > _SMALL_MEMBER and m.file_size > limits.max_ratio * max(m.compress_size, 1):
            ratio = m.file_size / max(m.compress_size, 1)
            raise _refuse(
                path,
                f"{m.filename} is compressed {ratio:.0f}:1 (more than {limits.max_ratio:g}:1): "
                "refused as a possible zip bomb",
                f"Excel 文件压缩比异常（{ratio:.0f}:1），疑似压缩炸弹，已拒绝",
                m.filename,
            )


def bounded(
    path: Path, rows: Iterable[tuple[int, Sequence[Any]]], limits: SheetLimits
) -> Iterator[tuple[int, Sequence[Any]]]:
    """``rows`` passed through, refused past ``max_rows`` or ``max_columns``, stoppable."""
    stop = limits.should_stop
    for count, (number, values) in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise _refuse(
                path,
                f"more than {limits.max_rows} rows; split the file",
                f"行数超过 {limits.max_rows} 行，请拆分后分批导入",
                count,
            )
        if len(values) > limits.max_columns:
            # Trailing empty cells (a formatted but empty column far right) are harmless.
            last = max((j for j, v in enumerate(values) if v not in (None, "")), default=-1)
            if last >= limits.max_columns:
                raise _refuse(
                    path,
                    f"row {number} has more than {limits.max_columns} columns",
                    f"第 {number} 行超过 {limits.max_columns} 列",
                    last + 1,
                )
            values = values[: limits.max_columns]
        if stop is not None and count % _CHECK_EVERY == 0 and stop():
            raise ImportCancelled(
                [FieldError("file", "the import was cancelled", None, None, "导入已取消")],
                "cancelled",
            )
        yield number, values
