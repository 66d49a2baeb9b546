"""Liveness, readiness and metrics: what a load balancer and Prometheus ask."""

from __future__ import annotations

import math
import os
from typing import Any

from fastapi import APIRouter, Response

from api.deps import CatalogDep, ServicesDep
from api.errors import problem
from api.http.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and a short status")
def healthz(catalog: CatalogDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "stations": len(catalog),
        "pid": os.getpid(),
        "refreshed_at": catalog.refreshed_at.isoformat(),
    }


@router.get("/livez", summary="Liveness: the process answers")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the store answers and the index is loaded",
    responses={
        503: {
            "description": "The store did not answer the last probe: take this replica "
            "out of rotation (nearest and the maps still answer from memory)",
            "content": {"application/problem+json": {}},
            "headers": {"Retry-After": {"schema": {"type": "string"}}},
        }
    },
)
async def readyz(services: ServicesDep) -> Any:
    # Never waits on the database (a stalled one would stall the probe): it reports what the
    # store monitor found at most one probe interval ago. Async: no worker thread needed.
    catalog, monitor = services.catalog, services.monitor
    if monitor is not None and not monitor.healthy:
        retry = max(1, math.ceil(services.settings.db_retry_after_s))
        return problem(
            503,
            "Not ready",
            f"store unavailable: {monitor.error}",
            headers={"Retry-After": str(retry)},
        )
    return {
        "status": "ready",
        "pid": os.getpid(),
        "stations": len(catalog),
        "store_counter": monitor.counter if monitor is not None else None,
        "index_counter": catalog.counter,
    }


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(services: ServicesDep) -> Response:
    body = services.metrics.render(services.catalog)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
