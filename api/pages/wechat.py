"""``/api/v1/wechat/jssdk-config``: what the embed page passes to ``wx.config`` inside WeChat."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import Services, ServicesDep
from api.pages.wechat_client import WeChatClient, WeChatNotConfigured

router = APIRouter(prefix="/api/v1/wechat", tags=["wechat"])


def wechat_client(services: Services) -> WeChatClient:
    """The app's one WeChat client (its token cache is shared by every request)."""
    if services.wechat is None:
        raise WeChatNotConfigured(
            "STATIONS_WECHAT_APP_ID and STATIONS_WECHAT_APP_SECRET are "
            "not set; the embed page falls back to the browser"
        )
    return services.wechat


_PROBLEM: dict[str, Any] = {"application/problem+json": {}}


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
    services: ServicesDep,
    url: Annotated[
        str,
        Query(
            max_length=4096,
            description="The full URL of the page calling wx.config; anything after # is ignored",
        ),
    ],
) -> Any:
    body = wechat_client(services).jssdk_config(url)
    # A signature is for one page and one moment: never cache it.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
