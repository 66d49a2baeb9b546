"""Liveness, readiness and metrics: what a load balancer and Prometheus ask."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import CatalogDep, StoreDep
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
    responses={503: {"content": {"application/problem+json": {}}}},
)
def readyz(catalog: CatalogDep, store: StoreDep) -> Any:
    try:
        counter = store.change_counter()
    except Exception as exc:  # the database is down: take this replica out of rotation
        return problem(503, "Not ready", f"store unavailable: {exc.__class__.__name__}")
    return {
        "status": "ready",
        "pid": os.getpid(),
        "stations": len(catalog),
        "store_counter": counter,
        "index_counter": catalog.counter,
    }


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request, catalog: CatalogDep) -> Response:
    body = request.app.state.metrics.render(catalog)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
