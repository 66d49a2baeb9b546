"""Gzip for whole responses: pages, scripts, GeoJSON — riders are on weak mobile signal.

Starlette's GZipMiddleware streams through a fresh ``zlib.compressobj`` per response, which
costs ~0.4 ms of CPU for a 5 KB nearest answer: more than the answer itself. Nearly every
response here is a single body message, so it is compressed in one call; streamed
responses pass through uncompressed.

How that call is made matters more than the level. A compressor's state is a few hundred
KB, and a worker serves blocks that large by ``mmap`` (:mod:`api.http.memory`), so a fresh
compressor per response paid an mmap, a munmap and the page faults between: zlib's level 6
took ~90 µs for a 4.5 KB answer, twice what a rider's nearest query costs in all. So each
thread keeps one raw-deflate compressor (ISA-L's, ``isal``) and ends every response with a
full flush, which resets its dictionary: no answer can refer to another, and the same body
always gives the same bytes (tested). The blocks are framed as a gzip member by hand (RFC
1952: header, blocks, an empty final block, CRC-32, length). ISA-L's level 1: ~19 µs and
2,630 bytes for that answer, against ~44 µs and 2,568 for zlib's level 6 on a kept state.
"""

from __future__ import annotations

import struct
import threading
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


# A gzip member (RFC 1952): no name, no mtime (answers are reproducible), OS unknown; and
# the empty final block (fixed Huffman, end-of-block only) that closes the deflate stream.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_FINAL_EMPTY_BLOCK = b"\x03\x00"
_compressors = threading.local()


def gzip_member(body: bytes, level: int = 1) -> bytes:
    """``body`` as a complete gzip file, from this thread's kept compressor at ``level``
    (ISA-L's, 0 fastest to 3 smallest); the same body always gives the same bytes."""
    # Keyed by level in the thread-local's own dict (one attribute lookup per call).
    kept: dict[Any, Any] = _compressors.__dict__
    deflate = kept.get(level)
    if deflate is None:
        deflate = kept[level] = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
    try:
        blocks = deflate.compress(body) + deflate.flush(isal_zlib.Z_FULL_FLUSH)
    except BaseException:
        del kept[level]  # its state is unknown now: the next call starts a new one
        raise
    return b"".join(
        (
            _GZIP_HEADER,
            blocks,
            _FINAL_EMPTY_BLOCK,
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
