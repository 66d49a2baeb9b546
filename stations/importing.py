"""Importing a station file: validate every row, match against the store, write once.

The rules union staff rely on:

* **All or nothing.** Every row is validated before anything is written; one bad row and the
  import is refused with a report of *every* bad row (row, column, value, what is wrong), so
  the clerk fixes the sheet in one pass. ``skip_invalid`` writes the good rows instead and
  saves the bad ones to ``<stem>.rejected.csv`` beside the input.
* **Idempotent.** Rows match stations by ``external_id`` (the union's own number), else by
  the store ``id`` an export carries. A matched row whose data is unchanged is not written
  (no new version); a changed one is updated in place; the rest are created. Columns the file
  does not have keep their stored values; an empty cell in a column it has clears the field.
* **Coordinates** are converted from the file's CRS to WGS-84 before validation; rows with
  an address and no coordinates can be geocoded (:mod:`stations.geocoding`).
* **Probable duplicates** — near-identical names within 30 m, in the file or against the
  store — are flagged as warnings, never refused: two stations in one mall can be genuine.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

from geodata.crs import CRS_NAMES, to_wgs84
from stations.errors import FieldError, ImportFailed, NotFound, ValidationFailed
from stations.geocoding import Geocoder, geocode_addresses
from stations.model import EDITABLE_FIELDS, Region, Station, StationData, validate_station
from stations.store.base import ImportPlanRow, StationStore
from stations.tabular import Sheet, read_sheet, write_csv

__all__ = [
    "DUPLICATE_RADIUS_M",
    "ImportReport",
    "ProgressCallback",
    "plan_import",
    "reject_path_for",
    "run_import",
]

#: Two stations with near-identical names closer than this are flagged as probable duplicates.
DUPLICATE_RADIUS_M = 30.0
#: Names at least this similar (difflib ratio, after normalising) count as near-identical.
_NAME_SIMILARITY = 0.9
#: Coordinates closer than this (degrees, ~0.1 mm) are "unchanged": XLSX keeps 16 digits.
_COORD_EPS = 1e-9
_EARTH_R = 6_371_008.8
_GEOD = Geod(ellps="WGS84")
_REJECT_ERROR_COLUMN = "错误 error"

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


@dataclass
class _Plan:
    report: ImportReport
    sheet: Sheet
    rows: list[ImportPlanRow]
    bad_rows: set[int]
    ticker: _Ticker


class _Ticker:
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


def reject_path_for(path: str | os.PathLike[str]) -> Path:
    """Where ``skip_invalid`` saves the bad rows: ``<stem>.rejected.csv`` beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}.rejected.csv")


def plan_import(
    store: StationStore,
    path: str | os.PathLike[str],
    *,
    crs: str = "wgs84",
    region: Region | None = None,
    geocoder: Geocoder | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Read and validate ``path`` and report what an import would do; writes nothing.

    Geocoding results are cached in the store even here (asking twice costs quota).

    Parameters
    ----------
    store : StationStore
        Where rows are matched (by ``external_id``, else ``id``).
    path : path
        A .csv, .xlsx, .geojson or .gpkg file.
    crs : {"wgs84", "gcj02", "bd09"}
        The file's coordinate system; converted to WGS-84 before validation.
    region : Region, optional
        Points outside it become warnings.
    geocoder : Geocoder, optional
        Fills rows that have an address and no lon/lat.
    progress : callable, optional
        ``progress(done, total)``.

    Raises
    ------
    ImportFailed
        When the file as a whole cannot be read (type, encoding, header).
    """
    plan = _plan(store, path, crs=crs, region=region, geocoder=geocoder, progress=progress)
    plan.ticker.advance()
    return plan.report


def run_import(
    store: StationStore,
    path: str | os.PathLike[str],
    *,
    crs: str = "wgs84",
    dry_run: bool = False,
    skip_invalid: bool = False,
    actor: str = "import",
    region: Region | None = None,
    geocoder: Geocoder | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``path`` into ``store`` in one transaction; see the module doc for the rules.

    Parameters
    ----------
    dry_run : bool
        Only report (same as :func:`plan_import`).
    skip_invalid : bool
        Write the valid rows and save the invalid ones to :func:`reject_path_for`.
    actor : str
        Recorded in every history row this import writes.

    Other parameters are as in :func:`plan_import`.

    Raises
    ------
    ImportFailed
        Any invalid row without ``skip_invalid`` (nothing is written; ``errors`` lists every
        problem and ``report`` the counts), or a file that cannot be read.
    """
    plan = _plan(store, path, crs=crs, region=region, geocoder=geocoder, progress=progress)
    report = plan.report
    report.dry_run = dry_run
    if dry_run:
        plan.ticker.advance()
        return report
    if report.errors and not skip_invalid:
        exc = ImportFailed(
            report.errors,
            f"{report.path.name}: {report.invalid} invalid row(s), nothing was written "
            "(fix them, or use --skip-invalid to import the valid rows)",
        )
        exc.report = report  # type: ignore[attr-defined]
        raise exc
    if plan.bad_rows:
        report.reject_path = _write_rejects(plan.sheet, plan.bad_rows, report.errors)
    if plan.rows:
        store.apply_import(plan.rows, actor=actor)
    report.written = True
    plan.ticker.advance()
    return report


# -- the plan ----------------------------------------------------------------------------------


def _plan(
    store: StationStore,
    path: str | os.PathLike[str],
    *,
    crs: str,
    region: Region | None,
    geocoder: Geocoder | None,
    progress: ProgressCallback | None,
) -> _Plan:
    crs_name = crs.strip().lower()
    if crs_name not in CRS_NAMES:
        raise ImportFailed(
            [
                FieldError(
                    "crs",
                    f"unknown crs {crs!r}; valid: " + ", ".join(CRS_NAMES),
                    crs,
                    None,
                    "未知坐标系",
                )
            ]
        )
    sheet = read_sheet(path)
    report = ImportReport(sheet.path, sheet.format, sheet.encoding, rows=len(sheet.rows))
    report.warnings.extend(sheet.warnings)
    problems: dict[int, list[FieldError]] = defaultdict(list)
    for number, errs in sheet.row_errors.items():
        problems[number].extend(errs)

    numbers = sheet.row_numbers
    records: list[dict[str, Any]] = []
    ids: list[int | None] = []
    for number, record in sheet.records():
        ids.append(_parse_id(record.pop("id", None), number, problems))
        records.append(record)
    if crs_name != "wgs84" and {"lon", "lat"} <= sheet.present:
        _convert_coordinates(records, crs_name)

    lookup = _StoreLookup(store)
    matched = _match(records, ids, numbers, lookup, problems, report.warnings)
    absent = [f for f in EDITABLE_FIELDS if f not in sheet.present]
    if absent:
        for record, station in zip(records, matched, strict=True):
            if station is not None:
                stored = station.data
                for name in absent:
                    record[name] = getattr(stored, name)

    needs_point = [
        i
        for i, r in enumerate(records)
        if _blank(r.get("lon")) and _blank(r.get("lat")) and not _blank(r.get("address"))
    ]
    ticker = _Ticker(progress)
    ticker.start(len(records) + (len(needs_point) if geocoder else 0) + 1)
    geocode_failed: set[int] = set()
    if needs_point and geocoder is None:
        report.warnings.append(
            FieldError(
                "lon/lat",
                f"{len(needs_point)} row(s) have an address but no coordinates; "
                "import with --geocode to look them up",
                None,
                None,
                "部分行只有地址没有经纬度，可使用 --geocode 进行地理编码",
            )
        )
    elif needs_point and geocoder is not None:
        items = [(numbers[i], str(records[i]["address"])) for i in needs_point]
        found, errs = geocode_addresses(
            items, geocoder, store=store, progress=lambda _done: ticker.advance()
        )
        for i in needs_point:
            hit = found.get(numbers[i])
            if hit is not None:
                records[i]["lon"], records[i]["lat"] = hit.lon, hit.lat
                records[i]["geocoded"] = True
                report.geocoded += 1
        for err in errs:
            problems[err.row or 0].append(err)
            geocode_failed.add(err.row or 0)

    validated: list[StationData | None] = []
    for number, record in zip(numbers, records, strict=True):
        try:
            validated.append(
                validate_station(record, row=number, region=region, warnings=report.warnings)
            )
        except ValidationFailed as exc:
            errs = exc.errors
            if number in geocode_failed:  # the address error already says why
                errs = [e for e in errs if e.field not in ("lon", "lat")]
            problems[number].extend(errs)
            validated.append(None)
        ticker.advance()

    plan_rows: list[ImportPlanRow] = []
    bad_rows: set[int] = set()
    for number, data, station, file_id in zip(numbers, validated, matched, ids, strict=True):
        if data is None or problems.get(number):
            bad_rows.add(number)
            continue
        if station is None:
            plan_rows.append(ImportPlanRow(data, desired_id=file_id))
            report.added += 1
        elif station.deleted:
            plan_rows.append(ImportPlanRow(data, station.id))
            report.updated += 1
            report.warnings.append(
                FieldError(
                    "id",
                    f"restores deleted station {station.id}",
                    station.id,
                    number,
                    "恢复已删除的驿站",
                )
            )
        elif _same(data, station.data):
            report.unchanged += 1
        else:
            plan_rows.append(ImportPlanRow(data, station.id))
            report.updated += 1

    report.invalid = len(bad_rows)
    report.errors = [e for n in sorted(problems) for e in problems[n]]
    report.warnings.extend(_probable_duplicates(numbers, validated, matched, bad_rows, lookup))
    # Only the bad rows' raw cells are needed from here on (for the reject file): let the
    # rest go before the write, which is the memory peak of a large import.
    keep = [k for k, n in enumerate(numbers) if n in bad_rows]
    sheet.rows = [sheet.rows[k] for k in keep]
    sheet.row_numbers = [numbers[k] for k in keep]
    return _Plan(report, sheet, plan_rows, bad_rows, ticker)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def _same(a: StationData, b: StationData) -> bool:
    """Equal data, coordinates within ~0.1 mm (a re-imported XLSX must not bump versions)."""
    return (
        abs(a.lon - b.lon) <= _COORD_EPS
        and abs(a.lat - b.lat) <= _COORD_EPS
        and all(getattr(a, f) == getattr(b, f) for f in EDITABLE_FIELDS if f not in ("lon", "lat"))
    )


_WHOLE = re.compile(r"\d+(\.0*)?")


def _parse_id(value: Any, row: int, problems: dict[int, list[FieldError]]) -> int | None:
    """The store id an exported file carries; blank means "no id"."""
    if _blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()) and float(value) > 0:
        return int(float(value))
    problems[row].append(
        FieldError(
            "id",
            "must be a positive whole number (the id from an export); leave it empty "
            "for new stations",
            value,
            row,
            "必须是正整数（导出文件中的编号），新驿站请留空",
        )
    )
    return None


def _ext_key(value: Any) -> str | None:
    """The external id as validation will store it (so matching agrees with the write)."""
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def _convert_coordinates(records: list[dict[str, Any]], crs: str) -> None:
    """Convert every usable lon/lat pair to WGS-84 in one vectorised call.

    Values that are not in-range numbers are left as written so validation reports them.
    """
    lon = np.array([_number(r.get("lon")) for r in records], dtype=np.float64)
    lat = np.array([_number(r.get("lat")) for r in records], dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    index = np.flatnonzero(ok)
    if not len(index):
        return
    x, y = to_wgs84(lon[index], lat[index], crs)
    for k, i in enumerate(index.tolist()):
        records[i]["lon"] = float(x[k])
        records[i]["lat"] = float(y[k])


class _StoreLookup:
    """Store reads an import needs, each done at most once."""

    def __init__(self, store: StationStore) -> None:
        self.store = store
        self._all: list[Station] | None = None

    def all(self) -> list[Station]:
        if self._all is None:
            self._all = self.store.all()
        return self._all

    def by_external_ids(self, keys: Iterable[str]) -> dict[str, Station]:
        # The duplicate check reads every live station anyway; match from that read and ask
        # the store only for the rest (deleted stations, or none when the store is empty).
        wanted = set(keys)
        found = {s.data.external_id: s for s in self.all() if s.data.external_id in wanted}
        missing = wanted - found.keys()
        if missing:
            found.update(self.store.by_external_ids(missing))
        return {k: v for k, v in found.items() if k is not None}

    def by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        wanted = set(ids)
        found: dict[int, Station] = {}
        if len(wanted) > 50:  # one scan beats thousands of single-row reads
            found = {s.id: s for s in self.all() if s.id in wanted}
        for station_id in wanted - found.keys():
            try:
                found[station_id] = self.store.get(station_id, include_deleted=True)
            except NotFound:
                pass
        return found


def _match(
    records: list[dict[str, Any]],
    ids: list[int | None],
    numbers: list[int],
    lookup: _StoreLookup,
    problems: dict[int, list[FieldError]],
    warnings: list[FieldError],
) -> list[Station | None]:
    """The stored station each row updates: by external_id first, else by id, else None."""
    keys = [_ext_key(r.get("external_id")) for r in records]
    rows_by_key: dict[str, list[int]] = defaultdict(list)
    for number, key in zip(numbers, keys, strict=True):
        if key is not None:
            rows_by_key[key].append(number)
    for key, rows in rows_by_key.items():
        if len(rows) > 1:
            for number in rows:
                others = ", ".join(str(r) for r in rows if r != number)
                problems[number].append(
                    FieldError(
                        "external_id",
                        f"appears more than once in the file (also row {others})",
                        key,
                        number,
                        f"编号在文件中重复（另见第 {others} 行）",
                    )
                )
    by_key = lookup.by_external_ids(rows_by_key) if rows_by_key else {}
    need_ids = [
        i
        for i, k in zip(ids, keys, strict=True)
        if i is not None and (k is None or k not in by_key)
    ]
    by_id = lookup.by_ids(need_ids) if need_ids else {}

    matched: list[Station | None] = []
    for number, key, sid in zip(numbers, keys, ids, strict=True):
        station = by_key.get(key) if key is not None else None
        if station is not None:
            if sid is not None and sid != station.id:
                warnings.append(
                    FieldError(
                        "id",
                        f"external_id {key!r} belongs to station {station.id}, which this "
                        f"row updates (the id column says {sid})",
                        sid,
                        number,
                        "编号对应的驿站与 id 列不一致，按编号更新",
                    )
                )
        elif sid is not None:
            station = by_id.get(sid)
            old = station.data.external_id if station is not None else None
            if station is not None and key is not None and old is not None and old != key:
                warnings.append(
                    FieldError(
                        "external_id",
                        f"station {sid} changes its external_id from {old!r} to {key!r}",
                        key,
                        number,
                        "驿站编号将被修改",
                    )
                )
        matched.append(station)

    rows_by_station: dict[int, list[int]] = defaultdict(list)
    for number, station in zip(numbers, matched, strict=True):
        if station is not None:
            rows_by_station[station.id].append(number)
    for station_id, rows in rows_by_station.items():
        if len(rows) > 1:
            for number in rows:
                problems[number].append(
                    FieldError(
                        "id",
                        f"rows {', '.join(map(str, rows))} all match station {station_id}; "
                        "keep one",
                        station_id,
                        number,
                        "多行对应同一个驿站",
                    )
                )
    return matched


# -- probable duplicates -------------------------------------------------------------------------

_DROP_CATEGORIES = ("P", "S", "Z", "C")


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(_DROP_CATEGORIES))


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= _NAME_SIMILARITY


def _probable_duplicates(
    numbers: Sequence[int],
    validated: Sequence[StationData | None],
    matched: Sequence[Station | None],
    bad_rows: set[int],
    lookup: _StoreLookup,
) -> list[FieldError]:
    """Pairs with near-identical names within 30 m; at least one of each pair from the file.

    A KD-tree on unit-sphere 3-D points finds candidate pairs (chord ≤ arc, so none is
    missed); the geodesic distance then confirms each, so 100k rows cost well under a second.
    """
    labels: list[tuple[bool, int]] = []  # (from file, row number | station id)
    names: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    touched = set()
    for number, data, station in zip(numbers, validated, matched, strict=True):
        if station is not None:
            touched.add(station.id)
        if data is None or number in bad_rows:
            continue
        labels.append((True, number))
        names.append(data.name)
        lons.append(data.lon)
        lats.append(data.lat)
    if not labels:
        return []
    for s in lookup.all():
        if s.id not in touched:
            labels.append((False, s.id))
            names.append(s.data.name)
            lons.append(s.data.lon)
            lats.append(s.data.lat)
    if len(labels) < 2:
        return []
    lon = np.radians(np.asarray(lons))
    lat = np.radians(np.asarray(lats))
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    radius = DUPLICATE_RADIUS_M * 1.01 / _EARTH_R  # the sphere is not the ellipsoid: margin
    from scipy.spatial import cKDTree  # ~30 MB: only the import path needs it, not the API

    pairs = cKDTree(xyz).query_pairs(radius, output_type="ndarray")
    if not len(pairs):
        return []
    i, j = pairs[:, 0], pairs[:, 1]
    from_file = np.array([f for f, _ in labels])
    keep = from_file[i] | from_file[j]
    i, j = i[keep], j[keep]
    lon_d, lat_d = np.asarray(lons), np.asarray(lats)
    _, _, dist = _GEOD.inv(lon_d[i], lat_d[i], lon_d[j], lat_d[j])
    found: list[FieldError] = []
    keys: dict[int, str] = {}
    for a, b, d in sorted(zip(i.tolist(), j.tolist(), dist.tolist(), strict=True)):
        if d > DUPLICATE_RADIUS_M:
            continue
        ka = keys.setdefault(a, _name_key(names[a]))
        kb = keys.setdefault(b, _name_key(names[b]))
        if not _similar(ka, kb):
            continue
        # Report on a file row; name the other as a row or a stored station.
        here, other = (
            (b, a) if labels[b][0] and labels[a][0] else ((a, b) if labels[a][0] else (b, a))
        )
        other_file, other_ref = labels[other]
        what = f"row {other_ref}" if other_file else f"station {other_ref}"
        what_zh = f"第 {other_ref} 行" if other_file else f"已有驿站 {other_ref}"
        found.append(
            FieldError(
                "name",
                f"probable duplicate of {what} ({names[other]!r}, {d:.1f} m apart)",
                names[here],
                labels[here][1],
                f"疑似与{what_zh}重复（相距 {d:.1f} 米）",
            )
        )
    found.sort(key=lambda e: e.row or 0)
    return found


# -- rejects ---------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _write_rejects(sheet: Sheet, bad_rows: set[int], errors: Sequence[FieldError]) -> Path:
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
    write_csv(target, [*columns, _REJECT_ERROR_COLUMN], rows)
    return target
