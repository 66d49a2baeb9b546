"""The request-body size limit: 413 by Content-Length up front, and by counting the bytes of a
streamed (chunked) body as they arrive — uploads included. :mod:`api.http.edge` applies it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive

from api.errors import catalog_problem, problem
from stations import i18n

__all__ = ["PayloadTooLarge", "counted", "declared_too_large", "too_large"]


class PayloadTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def too_large(limit: int) -> Response:
    """The 413 for a body over ``limit`` bytes (with its Chinese, as the domain's errors)."""
    why = i18n.Message("the request body is larger than {limit} bytes", limit=limit)
    return catalog_problem(413, "Payload too large", why)


def declared_too_large(content_length: bytes, limit: int) -> Response | None:
    """The answer to a request whose Content-Length is not a number (400) or is over ``limit``
    (413); None when the body may come."""
    try:
        declared = int(content_length)
    except ValueError:
        return problem(400, "Bad request", "Content-Length is not a number")
    return too_large(limit) if declared > limit else None


def counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`PayloadTooLarge` once the body passes ``limit`` bytes —
    for a body without a Content-Length (streamed); the server holds a declared one to it."""
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # An HTTPException: the route's body parsing lets it through to the
                # problem+json handler (FastAPI turns other errors into a 400).
                raise PayloadTooLarge(limit)
        return message

    return receive_counted
