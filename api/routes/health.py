"""Health: is the process up, and is its catalog in step with the store."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CatalogDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and a short status")
def healthz(catalog: CatalogDep) -> dict[str, Any]:
    return {"status": "ok", "stations": len(catalog),
            "refreshed_at": catalog.refreshed_at.isoformat()}
