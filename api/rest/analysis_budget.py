"""The budget of the analysis routes (coverage, gaps, plan): who may ask for how much.

A plan over a 10°×10° area at H3 resolution 8 is 1.6 million cells; 150,000 candidates make
a matrix of millions of entries. Anyone may ask the service a question the size of a
district; bigger ones need a staff token (any role), and even those have a ceiling. Every run
has a wall-clock limit and runs in a worker process that is stopped when the limit passes or
the client disconnects (``api.http.worker``), so the event loop — ``/livez``, nearest — never
waits on it; the same question asked again while the stations have not changed is answered
from a small cache.

:class:`AnalysisRoute` applies all of this to a router's synchronous endpoints, so the routes
themselves stay as they are: ``APIRouter(..., route_class=AnalysisRoute)``.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.http.worker import ClientGone, run_in_worker
from api.settings import Settings
from stations.errors import FieldError, Forbidden, ValidationFailed
from stations.i18n import Joined, Message
from stations.orgs.scope import ReadScope

__all__ = ["AnalysisRoute", "Budget", "Demand", "estimate"]

_REQUEST: ContextVar[Request | None] = ContextVar("analysis_request", default=None)
_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Larger than an anonymous caller may ask: send a staff token"},
    413: {"description": "Larger than the service computes for anyone", "content": _PROBLEM},
    503: {
        "description": "The run passed its wall-clock limit and was stopped",
        "content": _PROBLEM,
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
}


@dataclass(frozen=True)
class Budget:
    """The most one run may ask for, and how long it may take."""

    cells: int
    candidates: int
    area_km2: float
    seconds: float

    @staticmethod
    def for_caller(settings: Settings, staff: bool) -> Budget:
        if staff:
            return Budget(
                settings.analysis_staff_max_cells,
                settings.analysis_staff_max_candidates,
                settings.analysis_staff_max_area_km2,
                settings.analysis_staff_time_limit_s,
            )
        return Budget(
            settings.analysis_max_cells,
            settings.analysis_max_candidates,
            settings.analysis_max_area_km2,
            settings.analysis_time_limit_s,
        )


@dataclass(frozen=True)
class Demand:
    """What a request asks for, estimated before anything is computed."""

    cells: int
    candidates: int
    area_km2: float

    def over(self, budget: Budget) -> list[FieldError]:
        errors = []
        if self.area_km2 > budget.area_km2:
            errors.append(
                FieldError.from_catalog(
                    "area",
                    "covers {area} km², more than {limit} km²",
                    area=f"{self.area_km2:,.0f}",
                    limit=f"{budget.area_km2:,.0f}",
                )
            )
        if self.cells > budget.cells:
            errors.append(
                FieldError.from_catalog(
                    "resolution",
                    "the area at this resolution is {cells} cells, more than {limit}",
                    cells=f"{self.cells:,}",
                    limit=f"{budget.cells:,}",
                )
            )
        if self.candidates > budget.candidates:
            errors.append(
                FieldError.from_catalog(
                    "candidates",
                    "{candidates} candidates, more than {limit}",
                    candidates=f"{self.candidates:,}",
                    limit=f"{budget.candidates:,}",
                )
            )
        return errors


@functools.lru_cache(maxsize=1)
def _default_area_km2() -> float:
    from geodata.areas import load_area

    return _area_km2(load_area(None))


def _area_km2(geometry: Any) -> float:
    from pyproj import Geod

    area, _perimeter = Geod(ellps="WGS84").geometry_area_perimeter(geometry)
    return abs(area) / 1e6


def estimate(values: dict[str, Any]) -> Demand:
    """The size of an analysis request from its parsed parameters (query or plan body)."""
    import h3

    from geodata.areas import area_from_geojson

    body = values.get("body")
    resolution = getattr(body, "resolution", None) or values.get("resolution") or 9
    area = getattr(body, "area", None)
    crs = getattr(getattr(body, "crs", None), "value", "wgs84")
    km2 = _area_km2(area_from_geojson(area, crs=crs)) if area else _default_area_km2()
    candidates = getattr(body, "candidates", None) or {}
    features = candidates.get("features") if isinstance(candidates, dict) else None
    count = len(features) if isinstance(features, list) else 0
    cells = int(km2 / h3.average_hexagon_area(int(resolution), unit="km^2"))
    return Demand(cells=cells, candidates=count, area_km2=km2)


class _Cache:
    """The last few answers, keyed by the request and the catalog's change counter."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _key(path: str, values: dict[str, Any]) -> str | None:
    parts: dict[str, Any] = {}
    for name, value in sorted(values.items()):
        if isinstance(value, BaseModel):
            parts[name] = value.model_dump(mode="json")
        elif isinstance(value, ReadScope):  # one organisation's answer is not another's
            parts[name] = value.key
        elif value is None or isinstance(value, str | int | float | bool | list | tuple):
            parts[name] = value
        elif hasattr(value, "isoformat"):
            parts[name] = value.isoformat()
        elif hasattr(value, "value"):  # enums
            parts[name] = value.value
    try:
        return path + json.dumps(parts, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None


async def _is_staff(request: Request) -> bool:
    """A valid staff token or console session (any role); a bad one is a 401 as elsewhere."""
    if not request.headers.get("authorization") and not request.cookies:
        return False
    from api.auth import _principal
    from api.deps import get_accounts

    accounts = await get_accounts(request)
    found = await run_in_threadpool(_principal, request, accounts, None, None)
    return found is not None


def _budgeted(endpoint: Callable[..., Any], path: str, cache: _Cache) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def run(**values: Any) -> Any:
        request = _REQUEST.get()
        if request is None:  # called outside a request (a test calling it directly)
            return endpoint(**values)
        services = request.app.state.services
        settings: Settings = services.settings
        staff = await _is_staff(request)
        demand = await run_in_threadpool(estimate, values)
        over = demand.over(Budget.for_caller(settings, staff))
        if over:
            if not staff and not demand.over(Budget.for_caller(settings, True)):
                raise Forbidden(
                    Message(
                        "this analysis is larger than anonymous callers may ask for: send a "
                        "staff token (Authorization: Bearer …) or ask for less — {over}",
                        over=Joined(over),
                    )
                )
            raise _TooLarge(over)
        key = _key(path, values)
        catalog = services.catalog
        if key is not None:
            key = f"{id(catalog)}:{catalog.counter}:{key}"
            cached = cache.get(key)
            if cached is not None:
                return cached
        if not settings.analysis_in_worker:  # in this process: no time limit, no stopping
            answer = await run_in_threadpool(functools.partial(endpoint, **values))
            if key is not None and not isinstance(answer, Response):
                cache.put(key, answer)
            return answer
        try:
            answer = await run_in_worker(
                functools.partial(endpoint, **values),
                deadline_s=Budget.for_caller(settings, staff).seconds,
                disconnected=request.is_disconnected,
            )
        except ClientGone:
            return Response(status_code=499)  # nobody reads it: the client has gone
        if key is not None and not isinstance(answer, Response):
            cache.put(key, answer)
        return answer

    return run


class _TooLarge(ValidationFailed):
    status = 413
    title = "Analysis too large"


class AnalysisRoute(APIRoute):
    """A route whose synchronous endpoint is budgeted, bounded in time and run in a worker."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        import inspect

        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _budgeted(endpoint, path, _Cache())
            kwargs["responses"] = {**_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def with_request(request: Request) -> Response:
            token = _REQUEST.set(request)
            try:
                return await handler(request)
            finally:
                _REQUEST.reset(token)

        return with_request
