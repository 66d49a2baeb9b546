"""``/api/v1/wechat/jssdk-config``: what the embed page passes to ``wx.config`` inside WeChat."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.pages.wechat_client import WeChatClient, WeChatNotConfigured
from api.settings import Settings

router = APIRouter(prefix="/api/v1/wechat", tags=["wechat"])

_CLIENT_LOCK = threading.Lock()


def wechat_client(request: Request, settings: Settings) -> WeChatClient:
    """The app's one WeChat client (its token cache must be shared by every request)."""
    client: WeChatClient | None = getattr(request.app.state, "wechat_client", None)
    if client is not None:
        return client
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        raise WeChatNotConfigured(
            "STATIONS_WECHAT_APP_ID and STATIONS_WECHAT_APP_SECRET are "
            "not set; the embed page falls back to the browser"
        )
    with _CLIENT_LOCK:
        client = getattr(request.app.state, "wechat_client", None)
        if client is None:
            client = WeChatClient(
                settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_base
            )
            request.app.state.wechat_client = client
    return client


_PROBLEM = {"application/problem+json": {}}


@router.get(
    "/jssdk-config",
    summary="wx.config parameters (appId, timestamp, nonceStr, "
    "signature, jsApiList) for a page URL",
    responses={
        502: {"description": "WeChat answered with an error or could not be reached"},
        503: {
            "description": "No Official Account credentials are configured: the embed page "
            "uses the browser's location instead (未配置微信公众号)",
            "content": _PROBLEM,
        },
    },
)
def jssdk_config(
    request: Request,
    settings: SettingsDep,
    url: Annotated[
        str,
        Query(
            max_length=4096,
            description="The full URL of the page calling wx.config; anything after # is ignored",
        ),
    ],
) -> Any:
    body = wechat_client(request, settings).jssdk_config(url)
    # A signature is for one page and one moment: never cache it.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
