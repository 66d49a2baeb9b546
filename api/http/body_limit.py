"""The request-body size limit: 413 by Content-Length up front, and by counting the bytes of a
streamed (chunked) body as they arrive — uploads included."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

__all__ = ["BodySizeLimitMiddleware", "PayloadTooLarge"]


class PayloadTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodySizeLimitMiddleware:
    """413 for bodies over ``max_bytes``: by Content-Length up front, and by counting the
    bytes of a streamed (chunked) body as they arrive — uploads included."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await problem(400, "Bad request", "Content-Length is not a number")(
                        scope, receive, send
                    )
                    return
                if declared > limit:
                    await problem(
                        413, "Payload too large", f"the request body is larger than {limit} bytes"
                    )(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException: the route's body parsing lets it through to the
                    # problem+json handler (FastAPI turns other errors into a 400).
                    raise PayloadTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except PayloadTooLarge as exc:  # read outside the routes (e.g. by a middleware)
            if started:
                raise
            await problem(413, "Payload too large", str(exc.detail))(scope, receive, send)
