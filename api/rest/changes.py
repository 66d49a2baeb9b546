"""``/api/v1/changes``: the change feed platforms follow (any valid token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import CurrentUser
from api.deps import StoreDep
from stations.feed import read_changes
from stations.feed.changes import MAX_LIMIT

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])


@router.get("", summary="Changes in commit order after a cursor (any signed-in caller)")
def list_changes(
    _user: CurrentUser,
    store: StoreDep,
    since: Annotated[
        str,
        Query(
            max_length=64,
            description="0 for the beginning, else a `cursor` or `next_cursor` received before",
        ),
    ] = "0",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Any:
    """One entry per create, update, delete and restore, each with its own opaque ``cursor``,
    the ``op``, the station id and the station as written (a tombstone for a delete).

    Ask again with ``next_cursor``: a follower that resumes from the last cursor it stored
    misses nothing and sees nothing twice, also when writers commit out of the order they
    started in.
    """
    return read_changes(store, since, limit).as_json()
