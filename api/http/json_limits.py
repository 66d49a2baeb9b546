"""JSON request bodies held to a size and a nesting depth before anything parses them.

Python's ``json`` parser recurses once per nesting level: ``"[" * 2000 + "]" * 2000`` raises
``RecursionError`` deep inside a route (a 500), and pydantic walks nested values again. No
station, plan or login body nests more than a dozen levels (a GeoJSON multipolygon inside a
feature collection is eight), so deeper bodies are refused here with a 400 problem, and JSON
bodies larger than ``max_bytes`` (smaller than the upload limit: a parsed JSON body takes
several times its size in memory) with a 413, before any route sees them (:mod:`api.http.edge`
gathers the body and applies these checks).

The depth is measured on the raw bytes: strings are cut out (a bracket inside a string does
not nest), the brackets left are counted in numpy. A body without a media type is checked
too, because the routes parse such bodies as JSON.
"""

from __future__ import annotations

import re

import numpy as np
from starlette.responses import Response

from api.errors import problem

__all__ = ["is_json", "json_depth", "json_too_large", "too_deep"]

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


def is_json(content_type: bytes | None) -> bool:
    """Whether a body of this Content-Type is read as JSON (no media type: the routes do)."""
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in (b"", b"application/json") or media.endswith(b"+json")


def json_too_large(max_bytes: int) -> Response:
    """The 413 for a JSON body over ``max_bytes``."""
    return problem(
        413,
        "Payload too large",
        f"a JSON body may be at most {max_bytes} bytes (JSON 请求体不能超过 {max_bytes} 字节)",
    )


def too_deep(body: bytes, max_depth: int) -> Response | None:
    """The 400 for a JSON ``body`` nested deeper than ``max_depth``; None when it is not."""
    depth = json_depth(body)
    if depth <= max_depth:
        return None
    return problem(
        400,
        "Bad request",
        f"the JSON body nests {depth} levels deep; at most {max_depth} are "
        f"accepted (JSON 嵌套层数为 {depth}，最多允许 {max_depth} 层)",
        errors=[
            {
                "field": "body",
                "message": f"nested deeper than {max_depth} levels",
                "message_zh": f"嵌套超过 {max_depth} 层",
            }
        ],
    )
