"""The console's 照片审核 page: riders' door photos held for review, each beside what the
rider said at the door (开着 / 关着 / 进不去 / 设施坏了), accepted or rejected in one tap.

The page only shows; its buttons call ``POST /api/v1/photos/{id}/accept|reject`` with the
session cookie and the ``X-CSRF-Token`` header like every console write, so an accept goes
through the station store (one transaction, a history entry under the reviewer's name) and
a rejected photo never reaches a station.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.admin.render import console_page
from api.admin.routes import _denied
from api.admin.session import ConsoleDep, login_redirect
from api.deps import ServicesDep, StoreDep
from stations.errors import ConfigurationError
from stations.i18n import Message
from stations.photos.urls import photo_urls
from stations.trust.rules import STATES

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

#: Review state → the tab's Chinese label.
PHOTO_STATUSES = {"pending": "待审核", "published": "已采用", "rejected": "已拒绝"}
#: Photos on one page (the queue is worked from the top; older ones first).
PAGE_SIZE = 60


@router.get("/photos")
def photo_review(
    request: Request,
    cs: ConsoleDep,
    svc: ServicesDep,
    store: StoreDep,
    status: Annotated[str, Query(max_length=20)] = "pending",
) -> Response:
    if cs is None:
        return login_redirect(request)
    if not cs.can_edit:
        return _denied(request, cs)
    if svc.photos is None:
        raise ConfigurationError("photos need the photo service")
    shown = status if status in PHOTO_STATUSES else "pending"
    records = svc.photos.records.list(status=shown, limit=PAGE_SIZE)
    stations = {s.id: s for s in store.get_many({r.station_id for r in records})}
    return console_page(
        request,
        cs,
        "photos.html",
        active="photos",
        title=Message("Photo review"),
        photos=records,
        stations=stations,
        urls={r.id: photo_urls(r.digest) for r in records},
        shown=shown,
        statuses=PHOTO_STATUSES,
        states=STATES,
        page_size=PAGE_SIZE,
    )
