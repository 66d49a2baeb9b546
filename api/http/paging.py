"""OGC API-style paging: numberMatched, numberReturned and absolute next/prev links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request

__all__ = ["page_links"]


def page_links(
    request: Request,
    base: str,
    *,
    offset: int,
    limit: int,
    returned: int,
    matched: int,
    media_type: str = "application/geo+json",
) -> list[dict[str, Any]]:
    """``self``/``next``/``prev`` links as absolute URLs keeping the other query parameters."""

    def url(new_offset: int) -> str:
        params = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")
        ]
        params += [("limit", str(limit)), ("offset", str(new_offset))]
        query = "&".join(f"{k}={quote(v, safe=',:')}" for k, v in params)
        return f"{base}{request.url.path}?{query}"

    links = [{"rel": "self", "type": media_type, "href": url(offset)}]
    if offset + returned < matched:
        links.append({"rel": "next", "type": media_type, "href": url(offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "type": media_type, "href": url(max(0, offset - limit))})
    return links
