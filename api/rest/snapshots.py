"""``/api/v1/snapshots/stations.{geojson,csv,parquet}``: every live station in one file,
with an ETag so platforms poll cheaply (``If-None-Match`` → 304)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from api.deps import SnapshotsDep
from api.http.params import CrsName
from stations.feed.snapshots import FORMATS

router = APIRouter(prefix="/api/v1/snapshots", tags=["snapshots"])


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/stations.{fmt}",
    summary="Every live station: GeoJSON, CSV (with crs) or GeoParquet; ETag/If-None-Match",
    responses={
        200: {"content": {m.split(";")[0]: {} for m in FORMATS.values()}},
        304: {"description": "Not modified since the ETag sent in If-None-Match"},
    },
)
def station_snapshot(
    snapshots: SnapshotsDep,
    fmt: Annotated[str, Path(pattern="^(geojson|csv|parquet)$")],
    crs: CrsName = CrsName.wgs84,
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    """Text cells of the CSV that start with ``= + - @`` are prefixed with ``'`` so a
    spreadsheet never runs them. ``X-Changes-Cursor`` is where to start following
    ``/api/v1/changes`` so nothing written after the snapshot is missed."""
    etag = snapshots.current_etag(fmt, crs.value)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    snap = snapshots.get(fmt, crs.value)
    headers.update(
        {
            "ETag": snap.etag,
            "X-Changes-Cursor": snap.cursor,
            "Content-Disposition": f'attachment; filename="stations.{fmt}"',
        }
    )
    return Response(snap.body, media_type=snap.media_type, headers=headers)
