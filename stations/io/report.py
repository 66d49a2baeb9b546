"""What an import found and did, and the progress ticks it gives while working."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stations.errors import FieldError

__all__ = ["ImportReport", "ProgressCallback", "Ticker"]

#: ``progress(done, total)``: called as the import advances (the CLI draws a bar with it).
ProgressCallback = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import found and did; ``summary_lines`` is what the CLI prints.

    ``errors`` lists every problem of every invalid row (rows numbered as in the sheet:
    header row 1, first data row 2; for GeoJSON/GPKG the feature number from 1).
    ``warnings`` holds what was accepted but deserves a look: points outside the service
    region, ignored columns, probable duplicates, restored stations.
    """

    path: Path
    format: str
    encoding: str | None = None
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    geocoded: int = 0
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    reject_path: Path | None = None
    dry_run: bool = True
    written: bool = False

    def summary_lines(self) -> list[str]:
        """The counts, one per line, Chinese first (``新增 added: 3``)."""
        fmt = self.format.upper() + (f", {self.encoding}" if self.encoding else "")
        lines = [
            f"文件 file: {self.path.name} ({fmt}), {self.rows} 行 rows",
            f"新增 added: {self.added}",
            f"更新 updated: {self.updated}",
            f"未变 unchanged: {self.unchanged}",
            f"无效 invalid: {self.invalid}",
        ]
        if self.geocoded:
            lines.append(f"地理编码 geocoded: {self.geocoded}（请核对位置 please check them）")
        if self.warnings:
            lines.append(f"警告 warnings: {len(self.warnings)}")
        if self.reject_path is not None:
            lines.append(f"无效行已保存到 rejected rows saved to: {self.reject_path}")
        if self.dry_run:
            lines.append("试运行，未写入任何数据 dry run: nothing written")
        elif not self.written:
            lines.append("未写入任何数据 nothing written")
        return lines

    def detail_lines(self, limit: int = 20) -> list[str]:
        """Errors then warnings, one per line, at most ``limit`` of each."""
        lines: list[str] = []
        for title, items in (("错误 errors", self.errors), ("警告 warnings", self.warnings)):
            if not items:
                continue
            lines.append(f"{title}:")
            lines.extend(f"  {item}" for item in items[:limit])
            if len(items) > limit:
                lines.append(f"  … 另有 {len(items) - limit} 条 and {len(items) - limit} more")
        return lines


class Ticker:
    """Calls ``progress(done, total)`` about a hundred times over an import, not per row."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.total = 1
        self.done = 0
        self._next = 0

    def start(self, total: int) -> None:
        self.total = max(total, 1)
        self._next = 0
        self.advance(0)

    def advance(self, k: int = 1) -> None:
        self.done += k
        if self.callback is not None and (self.done >= self._next or self.done >= self.total):
            self.callback(min(self.done, self.total), self.total)
            self._next = self.done + max(-(-self.total // 100), 1)
