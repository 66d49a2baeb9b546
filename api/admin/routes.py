"""The staff console (``/admin``, Chinese UI): log in, find and edit stations, their history,
the rider-report queue; import and export live in :mod:`api.admin.transfer`.

Pages are rendered on the server (Jinja2, autoescaped) from the store and the catalog; every
change to a station or a report is made by the page's script through the public JSON API with
the session cookie and the ``X-CSRF-Token`` header, so the console has no write path of its
own to keep in step with the API's validation, ETag/If-Match checks and history. The router is
left out of the OpenAPI document: these are HTML pages for people, not an API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BeforeValidator, Field
from starlette.concurrency import run_in_threadpool

from api.admin.render import LANG_COOKIE, NO_STORE, console_language, console_page, render_page
from api.admin.session import (
    LOGIN_PATH,
    ConsoleDep,
    ConsoleSession,
    check_login_token,
    clear_login_cookie,
    login_redirect,
    new_login_token,
    safe_next,
    set_login_cookie,
)
from api.admin.transfer import router as transfer_router
from api.admin.views import editor_config, editor_policy, history_rows, station_form_values
from api.auth import (
    SESSION_COOKIE,
    SESSION_TTL,
    ReaderScope,
    check_csrf,
    clear_session_cookie,
    is_https,
    set_session_cookie,
)
from api.deps import (
    AccountsDep,
    CatalogDep,
    ReportsDep,
    ServicesDep,
    SettingsDep,
    StoreDep,
    VisitsDep,
    WebhooksDep,
)
from api.rest.auth import LOGIN_LIMIT
from api.rest.recheck import station_evidence
from api.settings import Settings
from stations.errors import NotFound
from stations.hours import EXAMPLES, HoursSyntaxError, normalise_hours
from stations.i18n import LANGUAGES, Message, translate
from stations.model import TEXT_LIMITS, Station
from stations.photos.urls import photo_urls
from stations.search import ListQuery, StationCatalog, StationFilter
from stations.store.base import StationStore
from stations.store.reports import REPORT_STATUSES
from stations.trust.votes import Evidence
from stations.vocabulary import AMENITIES, HOST_TYPES, STATUSES

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)
router.include_router(transfer_router)

#: Stations per page of the list; report rows per page of the queue.
PAGE_SIZE = 50
StationId = Annotated[int, Path(ge=1, le=2**62)]


def _denied(request: Request, cs: ConsoleSession) -> Response:
    return console_page(
        request,
        cs,
        "message.html",
        active="",
        status=403,
        title=Message("Editor rights needed"),
        message=Message(
            "The account {name!r} is read-only ({role}) and cannot use this; ask an administrator.",
            name=cs.user.name,
            role=cs.user.role,
        ),
    )


# -- logging in and out -----------------------------------------------------------------------


def _login_form(
    request: Request,
    target: str,
    *,
    error: Message | None = None,
    name: str = "",
    status: int = 200,
    notice: Message | None = None,
) -> Response:
    token = new_login_token()
    response = render_page(
        "login.html",
        lang=console_language(request),
        status=status,
        title=Message("Sign in"),
        next=target,
        error=error,
        name=name,
        login_token=token,
        notice=notice,
    )
    set_login_cookie(response, request, token)
    return response


@router.get("/login")
def login_page(
    request: Request, cs: ConsoleDep, next: str | None = None, bye: int | None = None
) -> Response:
    target = safe_next(next)
    if cs is not None:
        return RedirectResponse(target, status_code=303)
    return _login_form(request, target, notice=Message("You have signed out.") if bye else None)


@router.post("/login", dependencies=[Depends(LOGIN_LIMIT)])
async def login_submit(request: Request, accounts: AccountsDep) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    target = safe_next(form.get("next"))
    name, password = form.get("name"), form.get("password")
    shown = name.strip()[:100] if isinstance(name, str) else ""
    if not check_login_token(request, form.get("login_token")):
        return _login_form(
            request,
            target,
            name=shown,
            status=400,
            error=Message(
                "The sign-in page has expired; please enter your user name and password again."
            ),
        )
    if not (
        isinstance(name, str)
        and isinstance(password, str)
        and name.strip()
        and password
        and len(name) <= 100
        and len(password) <= 1024
    ):
        return _login_form(
            request,
            target,
            name=shown,
            status=400,
            error=Message("Please enter your user name and password."),
        )
    user = await run_in_threadpool(accounts.authenticate, name, password)
    if user is None:
        return _login_form(
            request,
            target,
            name=shown,
            status=400,
            error=Message("Wrong user name or password, or the account is disabled."),
        )
    secret, _session = await run_in_threadpool(accounts.start_session, user, ttl=SESSION_TTL)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, secret)
    clear_login_cookie(response, request)
    return response


@router.get("/language")
def choose_language(request: Request, to: str = "", next: str | None = None) -> Response:
    """Show the console in ``to`` (``zh-CN`` or ``en``) from now on; back to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if to in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            to,
            max_age=365 * 24 * 3600,
            path="/admin",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
    return response


@router.post("/logout")
async def logout(request: Request, cs: ConsoleDep, accounts: AccountsDep) -> Response:
    if cs is None:
        return RedirectResponse(LOGIN_PATH, status_code=303)
    await check_csrf(request, cs.session)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await run_in_threadpool(accounts.end_session, secret)
    response = RedirectResponse(f"{LOGIN_PATH}?bye=1", status_code=303)
    clear_session_cookie(response, request)
    return response


# -- the station list -------------------------------------------------------------------------


def _code(value: str | None, table: Mapping[str, str]) -> str | None:
    """A filter's code if it is one of ``table``'s (anything else means "any")."""
    value = (value or "").strip()
    return value if value in table else None


def _exact_match(q: str, catalog: StationCatalog, store: StationStore) -> Station | None:
    """The live station whose id or external id is exactly ``q`` (text search covers only
    names and addresses; staff often search by their own number, e.g. ``YZ-001``)."""
    if not q:
        return None
    if q.isascii() and q.isdigit() and len(q) < 19:
        try:
            return catalog.get(int(q))
        except NotFound:
            pass
    found = store.by_external_ids([q]).get(q)
    return found if found is not None and not found.deleted else None


@router.get("")
def station_list(
    request: Request,
    cs: ConsoleDep,
    catalog: CatalogDep,
    store: StoreDep,
    scope: ReaderScope,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    host_type: Annotated[str | None, Query(max_length=40)] = None,
    amenity: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    deleted: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    if cs is None:
        return login_redirect(request)
    filters = {
        "q": (q or "").strip(),
        "status": _code(status, STATUSES),
        "host_type": _code(host_type, HOST_TYPES),
        "amenity": _code(amenity, AMENITIES),
    }
    flt = StationFilter(
        amenities=frozenset([filters["amenity"]] if filters["amenity"] else []),
        status=frozenset([filters["status"]] if filters["status"] else []),
        host_types=frozenset([filters["host_type"]] if filters["host_type"] else []),
    )
    hits, total = catalog.search(
        ListQuery(
            q=filters["q"] or None,
            filter=flt,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            orgs=scope.org_ids,
        )
    )
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    exact = _exact_match(filters["q"] or "", catalog, store)

    def page_url(n: int) -> str:
        return "/admin?" + urlencode({**kept, "page": n})

    return console_page(
        request,
        cs,
        "list.html",
        active="list",
        title=Message("Stations"),
        hits=hits,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        all_count=len(catalog) if scope.whole else len(scope.stations(catalog.all())),
        scope_name=None if scope.whole else scope.org_name,
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
        deleted_id=deleted,
        exact=exact,
    )


# -- add and edit -----------------------------------------------------------------------------


def _edit_form(
    request: Request,
    cs: ConsoleSession,
    station: Station | None,
    catalog: StationCatalog,
    settings: Settings,
    *,
    title: Message,
    active: str,
    rider_page: str | None = None,
    evidence: Evidence | None = None,
) -> Response:
    """The add (``station=None``) or edit form, under the policy its map and checks need;
    ``rider_page``: the station's own page (``/s/{code}``), as riders see it from the poster;
    ``evidence``: what riders said of it (:func:`api.rest.recheck.station_evidence`).
    """
    response = console_page(
        request,
        cs,
        "edit.html",
        active=active,
        title=title,
        station=station,
        rider_page=rider_page,
        evidence=evidence,
        values=station_form_values(station),
        photos=[{**photo_urls(d), "digest": d} for d in station.data.photos] if station else [],
        limits=TEXT_LIMITS,
        config=editor_config(station, catalog, settings),
    )
    response.headers["Content-Security-Policy"] = editor_policy(request.url.path, settings)
    return response


def _no_station(request: Request, cs: ConsoleSession, station_id: int) -> Response:
    return console_page(
        request,
        cs,
        "message.html",
        active="",
        status=404,
        title=Message("Station not found"),
        message=Message("There is no station with system ID {id}.", id=station_id),
    )


@router.get("/stations/new")
def new_station(
    request: Request, cs: ConsoleDep, catalog: CatalogDep, settings: SettingsDep
) -> Response:
    if cs is None:
        return login_redirect(request)
    if not cs.can_edit:
        return _denied(request, cs)
    return _edit_form(
        request, cs, None, catalog, settings, title=Message("New station"), active="new"
    )


@router.get("/stations/{station_id}")
def edit_station(
    request: Request,
    cs: ConsoleDep,
    station_id: StationId,
    store: StoreDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    visits: VisitsDep,
    svc: ServicesDep,
) -> Response:
    if cs is None:
        return login_redirect(request)
    try:
        # From the store, not the catalog: the version on the form must be the latest.
        station = store.get(station_id, include_deleted=True)
    except NotFound:
        return _no_station(request, cs, station_id)
    title = Message("Edit station · {name}", name=station.data.name)
    rider_page = evidence = None
    if not station.deleted:
        rider_page = f"/s/{visits.code_for(station_id)}"
        if svc.trust is not None:
            try:
                evidence = station_evidence(svc, station_id, limit=50)
            except NotFound:  # created a moment ago, not yet in this process's catalog
                evidence = None
    return _edit_form(
        request,
        cs,
        station,
        catalog,
        settings,
        title=title,
        active="",
        rider_page=rider_page,
        evidence=evidence,
    )


@router.get("/stations/{station_id}/history")
def station_history(
    request: Request, cs: ConsoleDep, station_id: StationId, store: StoreDep, settings: SettingsDep
) -> Response:
    if cs is None:
        return login_redirect(request)
    try:
        station = store.get(station_id, include_deleted=True)
        entries = store.history(station_id)
    except NotFound:
        return _no_station(request, cs, station_id)
    return console_page(
        request,
        cs,
        "history.html",
        active="",
        title=Message("Change history · {name}", name=station.data.name),
        station=station,
        rows=history_rows(entries, station, settings.timezone),
    )


# -- rider reports ----------------------------------------------------------------------------


@router.get("/reports")
def report_queue(
    request: Request,
    cs: ConsoleDep,
    store: StoreDep,
    reports: ReportsDep,
    status: Annotated[str, Query(max_length=20)] = "pending",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    if cs is None:
        return login_redirect(request)
    if not cs.can_edit:
        return _denied(request, cs)
    chosen = status if status in REPORT_STATUSES else None  # "all" (or anything else): all
    rows, total = reports.list(status=chosen, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    stations = {s.id: s for s in store.get_many({r.station_id for r in rows})}
    pages = max(1, -(-total // PAGE_SIZE))

    def page_url(n: int) -> str:
        return "/admin/reports?" + urlencode({"status": chosen or "all", "page": n})

    return console_page(
        request,
        cs,
        "reports.html",
        active="reports",
        title=Message("Rider reports"),
        reports=rows,
        stations=stations,
        shown=chosen or "all",
        total=total,
        page=page,
        pages=pages,
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
    )


# -- re-check rounds (issue 16) -----------------------------------------------------------------

_StationId = Annotated[int, Field(ge=1, le=2**62)]
#: The filter form's "第一站" choice arrives as ``start_station=``: no start, not a bad number.
_BLANK_IS_NONE = BeforeValidator(lambda v: None if v == "" else v)


@router.get("/recheck")
def recheck_page(
    request: Request,
    cs: ConsoleDep,
    svc: ServicesDep,
    scope: ReaderScope,
    district: Annotated[str | None, Query(max_length=60)] = None,
    start_station: Annotated[_StationId | None, _BLANK_IS_NONE, Query()] = None,
) -> Response:
    """The round of stations due for a visit, from a chosen start (a union office): printable
    on A4, one tap "已核查" at 360 px."""
    if cs is None:
        return login_redirect(request)
    if not cs.can_edit:
        return _denied(request, cs)
    from api.rest.recheck import REASONS, round_start, worklist
    from stations.trust.recheck import SETTLED_BY_VISIT

    stops = worklist(svc, district or None, round_start(svc, start_station, None, None), scope)
    stations = scope.stations(svc.catalog.all())
    districts = sorted({s.data.district for s in stations if s.data.district})
    offices = sorted(
        (s for s in stations if s.data.host_type == "union_office"), key=lambda s: s.data.name
    )[:500]
    chosen = {"district": district, "start_station": start_station}
    xlsx = "/api/v1/recheck?" + urlencode(
        {"format": "xlsx", **{k: v for k, v in chosen.items() if v}}
    )
    return console_page(
        request,
        cs,
        "recheck.html",
        active="recheck",
        title=Message("Recheck route"),
        stops=stops,
        reasons=REASONS,
        settled=SETTLED_BY_VISIT,
        district=district or "",
        districts=districts,
        offices=offices,
        start=svc.catalog.get(start_station) if start_station else None,
        xlsx_url=xlsx,
        printed_at=datetime.now(UTC),
    )


@router.get("/webhooks")
def webhook_list(request: Request, cs: ConsoleDep, hooks: WebhooksDep) -> Response:
    """Registered receivers of the change feed: last delivery and failures (admins)."""
    if cs is None:
        return login_redirect(request)
    if not cs.user.can("admin"):
        return _denied(request, cs)
    return console_page(
        request,
        cs,
        "webhooks.html",
        active="webhooks",
        title=Message("Change webhooks"),
        hooks=hooks.list(),
    )


# -- the opening-hours check the form calls as you type ---------------------------------------


@router.get("/api/check-hours")
def check_opening_hours(
    cs: ConsoleDep,
    value: Annotated[str, Query(max_length=TEXT_LIMITS["opening_hours"])] = "",
) -> Response:
    if cs is None:
        return JSONResponse(
            {
                "ok": False,
                "message": translate("not signed in", "en"),
                "message_zh": translate("not signed in", "zh-CN"),
            },
            status_code=401,
            headers=NO_STORE,
        )
    try:
        hours = normalise_hours(value)
    except HoursSyntaxError as exc:
        why = Message(
            "cannot read the opening hours: {reason}; write e.g. '{example1}' or '{example2}'",
            reason=exc,
            example1=EXAMPLES[0],
            example2=EXAMPLES[1],
        )
        body: dict[str, Any] = {
            "ok": False,
            "message": why.text("en"),
            "message_zh": why.text("zh-CN"),
        }
    else:
        body = {"ok": True, "message": None, "message_zh": None, "osm": hours.osm}
    return JSONResponse(body, headers=NO_STORE)
