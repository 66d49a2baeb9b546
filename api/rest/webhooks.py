"""``/api/v1/webhooks``: register and watch the consumers the change feed is pushed to (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import AdminDep
from api.deps import WebhooksDep
from api.http.params import read_json
from stations.errors import FieldError, ValidationFailed

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
ConsumerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", summary="Receivers with their last delivery and failures (admin)")
def list_webhooks(_user: AdminDep, hooks: WebhooksDep) -> Any:
    return {"webhooks": [c.public() for c in hooks.list()]}


@router.post("", status_code=201, summary="Register a receiver; the secret is shown once (admin)")
async def add_webhook(request: Request, user: AdminDep, hooks: WebhooksDep) -> Any:
    body = await read_json(request)
    url = body.get("url") if isinstance(body, dict) else None
    from_start = body.get("from_start", False) if isinstance(body, dict) else False
    if not isinstance(url, str) or not isinstance(from_start, bool):
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "url",
                    "send a JSON object {example}",
                    example='{"url": "https://…", "from_start": false}',
                )
            ]
        )
    consumer, secret = await run_in_threadpool(
        hooks.add, url, actor=user.name, from_start=from_start
    )
    out = consumer.public()
    out["secret"] = secret
    return JSONResponse(out, status_code=201)


@router.delete("/{consumer_id}", summary="Stop delivering to a receiver (admin)")
def disable_webhook(_user: AdminDep, hooks: WebhooksDep, consumer_id: ConsumerId) -> Any:
    return hooks.disable(consumer_id).public()
