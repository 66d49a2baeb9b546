"""What an import found and did, and the progress ticks it gives while working."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stations.errors import FieldError
from stations.i18n import both, translate

__all__ = ["EXAMPLES", "ImportReport", "ProgressCallback", "Ticker", "problem_line"]

#: A value that works, per field: shown with every problem of that field.
EXAMPLES: dict[str, str] = {
    "external_id": "YZ-001",
    "name": "荣华中路工会驿站",
    "lon": "116.512345",
    "lat": "39.795432",
    "host_type": "工会",
    "amenities": "热水、手机充电、卫生间",
    "status": "正常开放",
    "phone": "010-67856789",
    "id": "（新驿站留空）",
}


def problem_line(error: FieldError, headers: dict[str, str]) -> str:
    """``第 5 行「纬度」：必须在 -90 到 90 之间…；填写的值：116.5；示例：39.795432 / row 5, …``."""
    header = headers.get(error.field, error.field)
    if error.field == "lon/lat" and "lon" in headers:
        header = f"{headers['lon']}/{headers.get('lat', 'lat')}"
    zh = "zh-CN"
    where = (
        translate("row {ref}", zh, ref=error.row)
        if error.row is not None
        else translate("file", zh)
    )
    value = (
        "" if error.value in (None, "") else translate("; value: {value}", zh, value=error.value)
    )
    example = EXAMPLES.get(error.field)
    hint = (
        translate("; e.g. {example}", zh, example=example)
        if example and error.field in headers
        else ""
    )
    return f"{where}「{header}」：{error.text(zh)}{value}{hint} / {error}"


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
    #: field → the sheet's own column header, so messages name ``开放时间``, not a field.
    headers: dict[str, str] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        """The counts, one per line, Chinese first (``新增 added: 3``; :mod:`stations.i18n`)."""
        fmt = self.format.upper() + (f", {self.encoding}" if self.encoding else "")
        lines = [
            f"{both('file')}: {self.path.name} ({fmt}), {self.rows} {both('rows')}",
            f"{both('added')}: {self.added}",
            f"{both('updated')}: {self.updated}",
            f"{both('unchanged')}: {self.unchanged}",
            f"{both('invalid')}: {self.invalid}",
        ]
        if self.geocoded:
            lines.append(f"{both('geocoded')}: {self.geocoded}（{both('please check them')}）")
        if self.warnings:
            lines.append(f"{both('warnings')}: {len(self.warnings)}")
        if self.reject_path is not None:
            # The file's name only: the console must never show a server path.
            lines.append(f"{both('rejected rows saved to')}: {self.reject_path.name}")
        if self.dry_run:
            lines.append(both("dry run: nothing written"))
        elif not self.written:
            lines.append(both("nothing written"))
        return lines

    def detail_lines(self, limit: int | None = None) -> list[str]:
        """Errors then warnings, one per line, Chinese first (every one unless ``limit``)."""
        lines: list[str] = []
        for title, items in ((both("errors"), self.errors), (both("warnings"), self.warnings)):
            if not items:
                continue
            lines.append(f"{title}:")
            shown = items if limit is None else items[:limit]
            lines.extend(f"  {self.line(item)}" for item in shown)
            if len(items) > len(shown):
                more = len(items) - len(shown)
                lines.append(f"  … {both('and {n} more', n=more)}")
        return lines

    def line(self, error: FieldError) -> str:
        """One problem, Chinese first, naming the sheet's header and showing an example."""
        return problem_line(error, self.headers)


class Ticker:
    """Calls ``progress(done, total)`` about a hundred times over an import, not per row."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.total = 1
        self.done = 0
        self._next = 0

    def start(self, total: int) -> None:
        """Begin counting ``total`` steps."""
        self.total = max(total, 1)
        self._next = 0
        self.advance(0)

    def advance(self, k: int = 1) -> None:
        """Count ``k`` more steps done and tell the progress callback."""
        self.done += k
        if self.callback is not None and (self.done >= self._next or self.done >= self.total):
            self.callback(min(self.done, self.total), self.total)
            self._next = self.done + max(-(-self.total // 100), 1)
