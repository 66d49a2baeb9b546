"""JSON request bodies held to a size and a nesting depth before anything parses them.

Python's ``json`` parser recurses once per nesting level: ``"[" * 2000 + "]" * 2000`` raises
``RecursionError`` deep inside a route (a 500), and pydantic walks nested values again. No
station, plan or login body nests more than a dozen levels (a GeoJSON multipolygon inside a
feature collection is eight), so deeper bodies are refused here with a 400 problem, and JSON
bodies larger than ``max_bytes`` (smaller than the upload limit: a parsed JSON body takes
several times its size in memory) with a 413, before any route sees them.

The depth is measured on the raw bytes: strings are cut out (a bracket inside a string does
not nest), the brackets left are counted in numpy. A body without a media type is checked
too, because the routes parse such bodies as JSON.
"""

from __future__ import annotations

import re

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

__all__ = ["JsonLimitMiddleware", "json_depth"]

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


#: Brackets counted in a plain loop below this many: numpy's set-up costs more, and its calls
#: let go of the GIL, which a busy second thread (a group-commit writer) then holds for up to
#: a switch interval (5 ms) — a check-in's body waited ~1 ms here under load.
_FEW = 64


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of ``body`` nest (0 for a scalar), without parsing."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    if len(brackets) < _FEW:
        return _depth_loop(brackets)
    steps = _OPEN[np.frombuffer(brackets, np.uint8)].astype(np.int32)
    return int(np.cumsum(steps).max())


def _depth_loop(brackets: bytes) -> int:
    """:func:`json_depth` of a few brackets, one at a time."""
    depth = deepest = 0
    for c in brackets:
        if c == 91 or c == 123:  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media in (b"", b"application/json") or media.endswith(b"+json")
    return True  # no media type: the routes read it as JSON


class JsonLimitMiddleware:
    """413 for a JSON body over ``max_bytes``, 400 for one nested deeper than ``max_depth``.

    The body is gathered (the route would gather it anyway), checked, then handed on in one
    message; later ``receive`` calls (a disconnect) go to the server as before.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending it all
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await problem(
                    413,
                    "Payload too large",
                    f"a JSON body may be at most {self.max_bytes} bytes "
                    f"(JSON 请求体不能超过 {self.max_bytes} 字节)",
                )(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.max_depth:
            await problem(
                400,
                "Bad request",
                f"the JSON body nests {depth} levels deep; at most {self.max_depth} are "
                f"accepted (JSON 嵌套层数为 {depth}，最多允许 {self.max_depth} 层)",
                errors=[
                    {
                        "field": "body",
                        "message": f"nested deeper than {self.max_depth} levels",
                        "message_zh": f"嵌套超过 {self.max_depth} 层",
                    }
                ],
            )(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
