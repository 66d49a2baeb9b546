"""Planning an import: every row parsed, matched, validated and sorted into what to write.

Nothing is written here. The plan is a sequence of small steps over one
:class:`~stations.io.cells.Cells` (each cell parsed once): keep stored values for columns
the file lacks, geocode rows that have only an address, validate, decide add / update /
unchanged per row, and look for probable duplicates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from geodata.crs import CRS_NAMES, crs_name, from_wgs84, to_wgs84
from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from stations.errors import FieldError, ImportFailed, ValidationFailed
from stations.hours import same_hours
from stations.io.cells import Cells, read_cells
from stations.io.duplicates import probable_duplicates
from stations.io.geocoding import Geocoder, geocode_addresses
from stations.io.headers import blank
from stations.io.limits import DEFAULT_LIMITS, SheetLimits
from stations.io.match import StoreLookup, match_rows
from stations.io.read import read_sheet
from stations.io.report import ImportReport, ProgressCallback, Ticker
from stations.io.sheet import Sheet
from stations.io.template import is_template_example
from stations.model import EDITABLE_FIELDS, Region, Station, StationData, validate_station
from stations.store.base import ImportPlanRow, StationStore

__all__ = ["Plan", "make_plan"]

#: Coordinates closer than this (degrees, ~0.1 mm) are "unchanged": XLSX keeps 16 digits.
_COORD_EPS = 1e-9
_HOURS = frozenset({"opening_hours", "opening_hours_text"})
_COMPARED = tuple(f for f in EDITABLE_FIELDS if f not in ("lon", "lat", "opening_hours"))


@dataclass
class Plan:
    """What an import would write (``rows``), which rows are refused, and the report."""

    report: ImportReport
    sheet: Sheet
    rows: list[ImportPlanRow]
    bad_rows: set[int]
    ticker: Ticker


def make_plan(
    store: StationStore,
    path: str | os.PathLike[str],
    *,
    crs: str,
    region: Region | None,
    geocoder: Geocoder | None,
    progress: ProgressCallback | None,
    limits: SheetLimits = DEFAULT_LIMITS,
) -> Plan:
    """Read, parse, match and validate ``path``; see :func:`stations.io.importing.run_import`."""
    crs_key = _crs(crs)
    sheet = read_sheet(path, limits)
    examples = _skip_template_example(sheet)
    report = ImportReport(sheet.path, sheet.format, sheet.encoding, rows=len(sheet.rows))
    report.headers = {f: c for c, f in zip(sheet.columns, sheet.fields, strict=True) if f and c}
    report.warnings.extend(sheet.warnings)
    report.warnings.extend(examples)
    cells = read_cells(sheet, crs_key)
    lookup = StoreLookup(store)
    matched = match_rows(cells, lookup, report.warnings)
    _keep_absent_columns(sheet, cells, matched)
    ticker = Ticker(progress)
    geocode_failed = _geocode(cells, geocoder, report, ticker)
    validated = _validate(cells, region, geocode_failed, report, ticker)
    _refuse_crs_mixups(cells, validated, matched, crs_key)
    plan_rows, bad_rows = _decide(cells, validated, matched, report)
    report.warnings.extend(
        probable_duplicates(cells.numbers, validated, matched, bad_rows, lookup.all())
    )
    # Only the bad rows' raw cells are needed from here on (for the reject file): let the
    # rest go before the write, which is the memory peak of a large import.
    keep = [k for k, n in enumerate(sheet.row_numbers) if n in bad_rows]
    sheet.rows = [sheet.rows[k] for k in keep]
    sheet.row_numbers = [sheet.row_numbers[k] for k in keep]
    return Plan(report, sheet, plan_rows, bad_rows, ticker)


def _skip_template_example(sheet: Sheet) -> list[FieldError]:
    """Drop the template's example row if the clerk left it in; a warning says so."""
    skipped = [n for n, record in sheet.records() if is_template_example(record)]
    if not skipped:
        return []
    keep = [k for k, n in enumerate(sheet.row_numbers) if n not in set(skipped)]
    sheet.rows = [sheet.rows[k] for k in keep]
    sheet.row_numbers = [sheet.row_numbers[k] for k in keep]
    return [
        FieldError.from_catalog(
            "external_id",
            "the template's example row; skipped (write a real station over it or delete it)",
            None,
            n,
        )
        for n in skipped
    ]


#: A matched row whose point moved more than this, but which read in another CRS lands
#: within ``_MIXUP_SAME_M`` of the stored point, was read in the wrong CRS.
_MIXUP_MOVED_M = 20.0
_MIXUP_SAME_M = 2.0


def _refuse_crs_mixups(
    cells: Cells,
    validated: list[StationData | None],
    matched: list[Station | None],
    crs: str,
) -> None:
    """Refuse rows that a wrong ``--crs`` would move by the GCJ-02/BD-09 offset.

    Re-importing a staff export written with ``--crs gcj02`` but without the option moves
    every station by the offset (a few hundred metres). When reading a moved row's numbers in
    another coordinate system puts it back on the stored point (within 2 m, where the offset
    is 100–700 m), that is no real move: the row is refused with the option that reads it.
    """
    rows = [
        (k, d, s)
        for k, (d, s) in enumerate(zip(validated, matched, strict=True))
        if d is not None and s is not None and not s.deleted
    ]
    if not rows:
        return
    new_lon = np.array([d.lon for _, d, _ in rows])
    new_lat = np.array([d.lat for _, d, _ in rows])
    old_lon = np.array([s.data.lon for _, _, s in rows])
    old_lat = np.array([s.data.lat for _, _, s in rows])
    moved = np.asarray(geodesic_m(new_lon, new_lat, old_lon, old_lat))
    suspect = np.flatnonzero(moved > _MIXUP_MOVED_M)
    if not len(suspect):
        return
    raw_lon, raw_lat = from_wgs84(new_lon[suspect], new_lat[suspect], crs)
    for other in CRS_NAMES:
        if other == crs:
            continue
        lon, lat = to_wgs84(raw_lon, raw_lat, other)
        gap = np.asarray(geodesic_m(lon, lat, old_lon[suspect], old_lat[suspect]))
        for j in np.flatnonzero(gap <= _MIXUP_SAME_M):
            k = rows[int(suspect[j])][0]
            number = cells.numbers[k]
            cells.problems[number].append(
                FieldError.from_catalog(
                    "lon/lat",
                    "moves {moved} m from the stored station, but read as {crs} it is exactly "
                    "where the station is: import it as {crs} (in the console, choose {label} "
                    "as the coordinate system; on the command line, add --crs {crs})",
                    (round(float(raw_lon[j]), 7), round(float(raw_lat[j]), 7)),
                    number,
                    moved=f"{moved[suspect[j]]:.0f}",
                    crs=other,
                    label=_CRS_LABELS[other][0],
                    label_zh=_CRS_LABELS[other][1],
                )
            )


#: How the console's import page names each coordinate system (English, Chinese).
_CRS_LABELS = {
    "wgs84": ("WGS-84 (GPS)", "WGS-84（GPS）"),
    "gcj02": ("GCJ-02 (AMap, Tencent Maps)", "GCJ-02（高德、腾讯地图）"),
    "bd09": ("BD-09 (Baidu Maps)", "BD-09（百度地图）"),
}


def _crs(crs: str) -> str:
    try:
        return crs_name(crs)
    except GeodataError as exc:
        raise ImportFailed([FieldError.of(exc, crs)]) from None


def _keep_absent_columns(sheet: Sheet, cells: Cells, matched: list[Station | None]) -> None:
    """Columns the file does not have keep their stored values.

    The two hours fields go together: a file that gives either one gives the hours, and the
    other is derived from it (as :func:`stations.model.merge_changes` does for a PATCH).
    """
    present = set(sheet.present)
    if present & _HOURS:
        present |= _HOURS
    absent = [f for f in EDITABLE_FIELDS if f not in present]
    if not absent:
        return
    for record, station in zip(cells.records, matched, strict=True):
        if station is not None:
            stored = station.data
            for name in absent:
                record[name] = getattr(stored, name)


def _geocode(
    cells: Cells,
    geocoder: Geocoder | None,
    report: ImportReport,
    ticker: Ticker,
) -> set[int]:
    """Fill rows that have an address and no point; returns the rows whose lookup failed."""
    records, numbers = cells.records, cells.numbers
    needs_point = [
        i
        for i, r in enumerate(records)
        if blank(r.get("lon")) and blank(r.get("lat")) and not blank(r.get("address"))
    ]
    ticker.start(len(records) + (len(needs_point) if geocoder else 0) + 1)
    failed: set[int] = set()
    if needs_point and geocoder is None:
        report.warnings.append(
            FieldError.from_catalog(
                "lon/lat",
                "{count} row(s) have an address but no coordinates; "
                "import with --geocode to look them up",
                count=len(needs_point),
            )
        )
    elif needs_point and geocoder is not None:
        items = [(numbers[i], str(records[i]["address"])) for i in needs_point]
        found, errs = geocode_addresses(items, geocoder, progress=lambda _done: ticker.advance())
        for i in needs_point:
            hit = found.get(numbers[i])
            if hit is not None:
                records[i]["lon"], records[i]["lat"] = hit.lon, hit.lat
                records[i]["geocoded"] = True
                report.geocoded += 1
        for err in errs:
            cells.problems[err.row or 0].append(err)
            failed.add(err.row or 0)
    return failed


def _validate(
    cells: Cells,
    region: Region | None,
    geocode_failed: set[int],
    report: ImportReport,
    ticker: Ticker,
) -> list[StationData | None]:
    validated: list[StationData | None] = []
    for number, record in zip(cells.numbers, cells.records, strict=True):
        try:
            validated.append(
                validate_station(record, row=number, region=region, warnings=report.warnings)
            )
        except ValidationFailed as exc:
            errs = exc.errors
            if number in geocode_failed:  # the address error already says why
                errs = [e for e in errs if e.field not in ("lon", "lat")]
            cells.problems[number].extend(errs)
            validated.append(None)
        ticker.advance()
    return validated


def _decide(
    cells: Cells,
    validated: list[StationData | None],
    matched: list[Station | None],
    report: ImportReport,
) -> tuple[list[ImportPlanRow], set[int]]:
    """Add, update (or restore) or leave each row; counts go to ``report``."""
    problems = cells.problems
    plan_rows: list[ImportPlanRow] = []
    bad_rows: set[int] = set()
    for number, data, station, file_id in zip(
        cells.numbers, validated, matched, cells.ids, strict=True
    ):
        if data is None or problems.get(number):
            bad_rows.add(number)
            continue
        if station is None:
            plan_rows.append(ImportPlanRow(data, desired_id=file_id, row=number))
            report.added += 1
        elif station.deleted:
            plan_rows.append(ImportPlanRow(data, station.id, row=number))
            report.updated += 1
            report.warnings.append(
                FieldError.from_catalog(
                    "id", "restores deleted station {id}", station.id, number, id=station.id
                )
            )
        elif _same(data, station.data):
            report.unchanged += 1
        else:
            plan_rows.append(ImportPlanRow(data, station.id, row=number))
            report.updated += 1
    report.invalid = len(bad_rows)
    report.errors = [e for n in sorted(problems) for e in problems[n]]
    return plan_rows, bad_rows


def _same(a: StationData, b: StationData) -> bool:
    """Equal data, coordinates within ~0.1 mm (a re-imported XLSX must not bump versions)."""
    return (
        abs(a.lon - b.lon) <= _COORD_EPS
        and abs(a.lat - b.lat) <= _COORD_EPS
        and same_hours(a.opening_hours, b.opening_hours)
        and all(getattr(a, f) == getattr(b, f) for f in _COMPARED)
    )
