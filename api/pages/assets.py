"""``/assets/{digest}/{name}``: the pages' JS, CSS and images, cacheable for a year.

Text assets go out gzip-compressed at zlib's best level, compressed once per process: they
never change while it runs and browsers keep them for a year, so the smallest encoding is
worth its one-off cost (Leaflet's script: 42 KB, against 50 KB from the fast level the
middleware uses for dynamic answers, see :mod:`api.http.compression`).
"""

from __future__ import annotations

import functools
import gzip

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException

from api.http.compression import accepts_gzip, worth_compressing
from maps.assets import ASSET_PREFIX, Asset, find_asset

router = APIRouter(tags=["assets"], include_in_schema=False)

_IMMUTABLE = "public, max-age=31536000, immutable"


@functools.cache
def _gzipped(asset: Asset) -> bytes | None:
    """``asset`` at zlib's best level, or None when that is not worth it (images, tiny
    files)."""
    body = asset.read_bytes()
    if not worth_compressing(asset.media_type, len(body)):
        return None
    return gzip.compress(body, 9, mtime=0)


@router.get(ASSET_PREFIX + "/{digest}/{name:path}")
def asset(digest: str, name: str, request: Request) -> Response:
    found = find_asset(name)
    if found is None:
        raise HTTPException(404, f"no asset {name}")
    # An old page asking for an old version gets the current file, but caches must not
    # keep it under the old URL.
    headers = {"Cache-Control": _IMMUTABLE if digest == found.digest else "no-cache"}
    compressed = _gzipped(found)
    if compressed is not None:
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.scope):
            headers["Content-Encoding"] = "gzip"
            return Response(compressed, media_type=found.media_type, headers=headers)
    return Response(found.read_bytes(), media_type=found.media_type, headers=headers)
