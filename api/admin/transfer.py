"""The console's spreadsheet import (upload → preview → confirm) and export downloads.

Import is the clerk's workflow from ``stations import``, in the browser: the upload is planned
at once (``stations.io.importing.plan_import``: every row validated and matched, nothing
written) and the preview lists what would be added, updated, left unchanged and refused, with
each refused row's number, column and reason. Confirming runs ``run_import`` on the same file
— in one store transaction, so the store is either unchanged or fully imported — under the
clerk's name in the history, then refreshes the catalog. The store may have changed between
preview and confirmation; the result page reports what the import actually did.

Export writes every live station with ``stations.io.exporting.export_stations`` to a temporary
file and streams it back as a download.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.admin.render import NO_STORE, console_page
from api.admin.session import ConsoleDep, ConsoleSession, login_redirect
from api.admin.uploads import ALLOWED_SUFFIXES, Upload
from api.auth import ReaderScope, check_csrf
from api.deps import CatalogDep, SettingsDep, StoreDep, UploadsDep
from api.settings import Settings
from geodata.crs import crs_name
from geodata.errors import GeodataError
from stations.errors import Conflict, FieldError, ImportFailed, NotFound, ValidationFailed
from stations.i18n import Message
from stations.io.exporting import export_stations
from stations.io.importing import ImportReport, plan_import, run_import
from stations.io.limits import SheetLimits
from stations.io.report import EXAMPLES
from stations.io.template import write_template
from stations.model import Region

__all__ = ["EXPORT_FORMATS", "router"]

router = APIRouter()

#: Export format → media type; the file extension is the format's name.
EXPORT_FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
_Token = Annotated[str, PathParam(min_length=1, max_length=64)]


def _region(settings: Settings) -> Region:
    return Region(*settings.region_bbox)


def _limits(settings: Settings, stop: threading.Event) -> SheetLimits:
    return SheetLimits(
        max_file_bytes=settings.max_body_bytes,
        max_uncompressed_bytes=settings.import_max_uncompressed_mb * 2**20,
        max_ratio=settings.import_max_ratio,
        max_rows=settings.import_max_rows,
        max_columns=settings.import_max_columns,
        should_stop=stop.is_set,
    )


async def _import_until_gone(
    request: Request, settings: Settings, step: Callable[..., ImportReport], *args: Any, **kw: Any
) -> ImportReport:
    """Run an import ``step`` (plan or run) in the thread pool within the console's region and
    sheet limits; when the client disconnects, a stop flag makes the sheet reader (which
    polls it) give up instead of parsing for nobody."""
    stop = threading.Event()
    call = partial(step, *args, region=_region(settings), limits=_limits(settings, stop), **kw)

    async def watch() -> None:
        while not stop.is_set():
            if await request.is_disconnected():
                stop.set()
                return
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    try:
        return await run_in_threadpool(call)
    finally:
        watcher.cancel()


def _page(request: Request, cs: ConsoleSession, *, status: int = 200, **context: Any) -> Response:
    values: dict[str, Any] = {
        "stage": "upload",
        "report": None,
        "upload": None,
        "error": None,
        "problems": [],
        "crs": "wgs84",
        "rejected": False,
        "suffixes": ", ".join(ALLOWED_SUFFIXES),
        "formats": list(EXPORT_FORMATS),
        "examples": EXAMPLES,
    }
    values.update(context)
    return console_page(
        request,
        cs,
        "import.html",
        active="import",
        title=Message("Import and export"),
        status=status,
        **values,
    )


async def _apage(
    request: Request, cs: ConsoleSession, *, status: int = 200, **context: Any
) -> Response:
    """``_page`` off the event loop (it counts pending reports in the database)."""
    return await run_in_threadpool(partial(_page, request, cs, status=status, **context))


def _editor(request: Request, found: ConsoleSession | None) -> ConsoleSession | Response:
    """The signed-in editor, or the response for everyone else (login page, 403 page)."""
    if found is None:
        return login_redirect(request)
    if not found.can_edit:
        return console_page(
            request,
            found,
            "message.html",
            active="",
            status=403,
            title=Message("Editor rights needed"),
            message=Message("A read-only account cannot import."),
        )
    return found


async def _editor_form(
    request: Request, found: ConsoleSession | None, *, max_files: int
) -> tuple[ConsoleSession, FormData] | Response:
    """The signed-in editor and the form they posted, its CSRF token checked; or the
    response for everyone else (as :func:`_editor`)."""
    cs = await run_in_threadpool(_editor, request, found)
    if isinstance(cs, Response):
        return cs
    form = await request.form(max_files=max_files, max_fields=10)
    await check_csrf(request, cs.session)
    return cs, form


@router.get("/import")
def import_page(request: Request, found: ConsoleDep) -> Response:
    cs = _editor(request, found)
    if isinstance(cs, Response):
        return cs
    return _page(request, cs)


def _problems(errors: list[FieldError]) -> list[FieldError]:
    return sorted(errors, key=lambda e: (e.row is None, e.row or 0))


@router.post("/import")
async def import_upload(
    request: Request, found: ConsoleDep, store: StoreDep, settings: SettingsDep, area: UploadsDep
) -> Response:
    posted = await _editor_form(request, found, max_files=1)
    if isinstance(posted, Response):
        return posted
    cs, form = posted
    raw_crs = form.get("crs") or "wgs84"
    try:
        crs = crs_name(raw_crs)
    except GeodataError as exc:
        problems = [FieldError.of(exc, str(raw_crs)[:40])]
        return await _apage(
            request, cs, status=400, problems=problems, error=Message("Unknown coordinate system.")
        )
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _apage(
            request, cs, status=400, crs=crs, error=Message("Choose a file to import.")
        )
    try:
        upload = await run_in_threadpool(
            area.save, cs.owner, file.filename, file.file, crs=crs, limit=settings.max_body_bytes
        )
    except ValidationFailed as exc:
        return await _apage(
            request,
            cs,
            status=400,
            crs=crs,
            problems=exc.errors,
            error=Message("The file was not uploaded."),
        )
    try:
        report = await _import_until_gone(
            request, settings, plan_import, store, upload.path, crs=crs
        )
    except ImportFailed as exc:  # the file as a whole: type, encoding, header, limits
        area.discard(upload.token)
        return await _apage(
            request,
            cs,
            status=400,
            crs=crs,
            problems=_problems(exc.errors),
            error=Message("The file cannot be read."),
        )
    return await _apage(
        request,
        cs,
        stage="preview",
        crs=crs,
        upload=upload,
        report=report,
        problems=_problems(report.errors),
    )


@router.post("/import/{token}/confirm")
async def import_confirm(
    request: Request,
    token: _Token,
    found: ConsoleDep,
    store: StoreDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    area: UploadsDep,
) -> Response:
    posted = await _editor_form(request, found, max_files=0)
    if isinstance(posted, Response):
        return posted
    cs, form = posted
    skip = form.get("skip_invalid") == "1"
    try:
        upload = area.claim(token, cs.owner)
    except NotFound:
        return await _apage(
            request,
            cs,
            status=409,
            error=Message(
                "This upload is no longer there (imported, expired or being imported); "
                "please upload the file again."
            ),
        )
    try:
        report = await _import_until_gone(
            request,
            settings,
            run_import,
            store,
            upload.path,
            crs=upload.crs,
            skip_invalid=skip,
            actor=cs.user.name,
        )
    except ImportFailed as exc:
        area.release(upload)
        planned: ImportReport | None = exc.report
        return await _apage(
            request,
            cs,
            status=422,
            stage="preview" if planned else "upload",
            crs=upload.crs,
            upload=upload if planned else None,
            report=planned,
            problems=_problems(exc.errors),
            error=Message(
                "The file has invalid rows and nothing was written; correct the file and "
                "upload it again, or choose to skip the invalid rows."
            ),
        )
    except (Conflict, ValidationFailed) as exc:
        area.release(upload)
        return await _apage(
            request,
            cs,
            status=409,
            crs=upload.crs,
            problems=getattr(exc, "errors", []),
            error=Message(
                "The import did not finish and nothing was written: {detail}", detail=exc.detail
            ),
        )
    await run_in_threadpool(catalog.refresh)
    return await _apage(
        request,
        cs,
        stage="done",
        crs=upload.crs,
        upload=upload,
        report=report,
        problems=_problems(report.errors),
        rejected=upload.reject_path.is_file(),
    )


@router.get("/import/{token}/rejected")
def import_rejected(
    request: Request, token: _Token, found: ConsoleDep, area: UploadsDep
) -> Response:
    cs = _editor(request, found)
    if isinstance(cs, Response):
        return cs
    try:
        upload: Upload = area.claimed(token, cs.owner)
    except NotFound:
        return _page(
            request, cs, status=404, error=Message("The file of invalid rows has expired.")
        )
    if not upload.reject_path.is_file():
        return _page(request, cs, status=404, error=Message("This import skipped no rows."))
    suffix = upload.reject_path.suffix
    return FileResponse(
        upload.reject_path,
        media_type=EXPORT_FORMATS[suffix.lstrip(".")],
        filename=f"{Path(upload.name).stem}.rejected{suffix}",
        headers=NO_STORE,
    )


@router.get("/template.xlsx")
def template_download(request: Request, cs: ConsoleDep) -> Response:
    """The empty workbook for a new district (``stations template``), for the import page."""
    if cs is None:
        return login_redirect(request)
    folder = tempfile.mkdtemp(prefix="stations-template-")
    path = Path(folder) / "驿站导入模板.xlsx"
    try:
        write_template(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=EXPORT_FORMATS["xlsx"],
        filename=path.name,
        headers=NO_STORE,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("/export")
def export_download(
    request: Request,
    cs: ConsoleDep,
    store: StoreDep,
    settings: SettingsDep,
    scope: ReaderScope,
    format: Annotated[str, Query(max_length=10)] = "csv",
    crs: Annotated[str, Query(max_length=10)] = "wgs84",
    layout: Annotated[str, Query(max_length=10)] = "standard",
) -> Response:
    if cs is None:
        return login_redirect(request)
    if format not in EXPORT_FORMATS:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "format",
                    "must be an export format: {valid}",
                    format,
                    valid=", ".join(EXPORT_FORMATS),
                )
            ]
        )
    # From the store (not the catalog, which may lag another process's write by a moment).
    stations = scope.stations(store.all())
    stamp = datetime.now(ZoneInfo(settings.timezone)).strftime("%Y%m%d-%H%M")
    suffix = ("" if crs == "wgs84" else f"-{crs}") + ("-staff" if layout == "staff" else "")
    folder = tempfile.mkdtemp(prefix="stations-export-")
    path = Path(folder) / f"warm-stations-{stamp}{suffix}.{format}"
    try:
        export_stations(stations, path, crs=crs, layout=layout, tz=settings.timezone)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=EXPORT_FORMATS[format],
        filename=path.name,
        headers=NO_STORE,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
