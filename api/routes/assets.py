"""``/assets/{digest}/{name}``: the pages' JS, CSS and images, cacheable for a year."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.exceptions import HTTPException

from maps.assets import ASSET_PREFIX, find_asset

router = APIRouter(tags=["assets"], include_in_schema=False)

_IMMUTABLE = "public, max-age=31536000, immutable"


@router.get(ASSET_PREFIX + "/{digest}/{name:path}")
def asset(digest: str, name: str) -> Response:
    found = find_asset(name)
    if found is None:
        raise HTTPException(404, f"no asset {name}")
    if digest != found.digest:
        # An old page asking for an old version: send the current file, but do not let
        # caches keep it under the old URL.
        return Response(found.read_bytes(), media_type=found.media_type,
                        headers={"Cache-Control": "no-cache"})
    return Response(found.read_bytes(), media_type=found.media_type,
                    headers={"Cache-Control": _IMMUTABLE})
