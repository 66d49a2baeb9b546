"""Gzip for whole responses: pages, scripts, GeoJSON — riders are on weak mobile signal.

Starlette's GZipMiddleware streams through a fresh ``zlib.compressobj`` per response, which
costs ~0.4 ms of CPU for a 5 KB nearest answer: more than the answer itself. Nearly every
response here is a single body message, so it is compressed in one call; streamed
responses pass through uncompressed.

How that call is made matters more than the level. A compressor kept per thread and
ended by a full flush was tried first, to spare a worker the mmap of a fresh zlib state per
response; but its output for the same body was not always the same (once in a full test
run, two identical answers differed by a byte), and ISA-L's (``isal``) one-shot
``compress`` of a raw deflate stream is no slower than the kept state was. So each
response is one such call, at ISA-L's level 1, framed as a gzip member by hand (RFC 1952:
header, the deflate stream, CRC-32, length): no state outlives a response, and the same
body always gives the same bytes (tested).
"""

from __future__ import annotations

import struct
from typing import Any

from isal import isal_zlib
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MINIMUM_SIZE", "GzipMiddleware", "accepts_gzip", "gzip_member", "worth_compressing"]

_COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/geo+json",
    "application/problem+json",
    "application/javascript",
    "image/svg+xml",
    "application/vnd.oai.openapi",
)


# A gzip member (RFC 1952): no name, no mtime (answers are reproducible), OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def gzip_member(body: bytes, level: int = 1) -> bytes:
    """``body`` as a complete gzip file at ISA-L's ``level`` (0 fastest to 3 smallest);
    the same body always gives the same bytes."""
    return b"".join(
        (
            _GZIP_HEADER,
            isal_zlib.compress(body, level, wbits=-15),
            struct.pack("<II", isal_zlib.crc32(body), len(body) & 0xFFFFFFFF),
        )
    )


#: Bodies smaller than this go out as they are: gzip's ~20 bytes of framing outweigh the gain.
MINIMUM_SIZE = 500


def accepts_gzip(scope: Scope) -> bool:
    """Whether the request's ``Accept-Encoding`` names gzip (its first one, as Starlette's
    ``Headers.get`` reads it; the raw headers are scanned, no ``Headers`` built)."""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


def worth_compressing(media_type: str, size: int, minimum_size: int = MINIMUM_SIZE) -> bool:
    """Text-like content (JSON, HTML, scripts, SVG…) of at least ``minimum_size`` bytes."""
    return size >= minimum_size and media_type.startswith(_COMPRESSIBLE)


class GzipMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = 1) -> None:
        """``level`` is ISA-L's, 0 (fastest) to 3 (smallest)."""
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        passthrough = False

        async def wrapped(message: Message) -> None:
            nonlocal start, passthrough
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or passthrough:
                await send(message)
                return
            assert start is not None
            body: bytes = message.get("body", b"")
            if message.get("more_body") or not self._wants(start, body):
                passthrough = True
                await send(start)
                await send(message)
                return
            compressed = gzip_member(body, self.level)
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(compressed))
            headers.add_vary_header("Accept-Encoding")
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": compressed})

        await self.app(scope, receive, wrapped)

    def _wants(self, start: Message, body: bytes) -> bool:
        if len(body) < self.minimum_size:
            return False
        headers: Any = Headers(raw=start["headers"])
        if "content-encoding" in headers:  # already encoded, e.g. a precompressed asset
            return False
        return worth_compressing(headers.get("content-type", ""), len(body), self.minimum_size)
