"""Importing a station file: validate every row, match against the store, write once.

The rules union staff rely on:

* **All or nothing.** Every row is validated before anything is written; one bad row and the
  import is refused with a report of *every* bad row (row, column, value, what is wrong), so
  the clerk fixes the sheet in one pass. ``skip_invalid`` writes the good rows instead and
  saves the bad ones to ``<stem>.rejected.<ext>`` beside the input, in its format.
* **Idempotent.** Rows match stations by ``external_id`` (the union's own number), else by
  the store ``id`` an export carries (:mod:`stations.io.match`). A matched row whose data is
  unchanged is not written (no new version); a changed one is updated in place; the rest are
  created. Columns the file does not have keep their stored values; an empty cell in a column
  it has clears the field.
* **Coordinates** are converted from the file's CRS to WGS-84 before validation; rows with
  an address and no coordinates can be geocoded (:mod:`stations.io.geocoding`).
* **Probable duplicates** — near-identical names within 30 m, in the file or against the
  store — are flagged as warnings, never refused (:mod:`stations.io.duplicates`).
"""

from __future__ import annotations

import os

from stations.errors import ImportFailed
from stations.i18n import Message
from stations.io.duplicates import DUPLICATE_RADIUS_M
from stations.io.geocoding import Geocoder
from stations.io.limits import DEFAULT_LIMITS, SheetLimits
from stations.io.plan import make_plan
from stations.io.rejects import reject_path_for, write_rejects
from stations.io.report import ImportReport, ProgressCallback
from stations.model import Region
from stations.store.base import StationStore

__all__ = [
    "DUPLICATE_RADIUS_M",
    "ImportReport",
    "ProgressCallback",
    "plan_import",
    "reject_path_for",
    "run_import",
]


def plan_import(
    store: StationStore,
    path: str | os.PathLike[str],
    *,
    crs: str = "wgs84",
    region: Region | None = None,
    geocoder: Geocoder | None = None,
    progress: ProgressCallback | None = None,
    limits: SheetLimits = DEFAULT_LIMITS,
) -> ImportReport:
    """Read and validate ``path`` and report what an import would do; writes nothing.

    Geocoding answers are cached even here (asking twice costs quota).

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
    limits : SheetLimits, optional
        Size, ratio, row and column limits, and ``should_stop`` (:mod:`stations.io.limits`).

    Raises
    ------
    ImportFailed
        When the file as a whole cannot be read (type, encoding, header).
    """
    plan = make_plan(
        store, path, crs=crs, region=region, geocoder=geocoder, progress=progress, limits=limits
    )
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
    limits: SheetLimits = DEFAULT_LIMITS,
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
    plan = make_plan(
        store, path, crs=crs, region=region, geocoder=geocoder, progress=progress, limits=limits
    )
    report = plan.report
    report.dry_run = dry_run
    if dry_run:
        plan.ticker.advance()
        return report
    if report.errors and not skip_invalid:
        raise ImportFailed(
            report.errors,
            Message(
                "{name}: {n} invalid row(s), nothing was written "
                "(fix them, or use --skip-invalid to import the valid rows)",
                name=report.path.name,
                n=report.invalid,
            ),
            report=report,
        )
    if plan.bad_rows:
        report.reject_path = write_rejects(plan.sheet, plan.bad_rows, report.errors)
    if plan.rows:
        store.apply_import(plan.rows, actor=actor)
    report.written = True
    plan.ticker.advance()
    return report
