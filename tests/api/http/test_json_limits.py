"""The nesting depth of a JSON body, measured without parsing it: the short loop used for a
few brackets against numpy's count and against ``json`` itself."""

from __future__ import annotations

import json
import random

from api.http.json_limits import _FEW, _NOT_BRACKETS, _STRING, _depth_loop, json_depth


def _nested(rng: random.Random, depth: int) -> object:
    if depth == 0:
        return rng.choice([1, "a[{", '"}]', None, 'x\\"]'])
    if rng.random() < 0.5:
        return [_nested(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {f"k{i}]": _nested(rng, depth - 1) for i in range(rng.randint(0, 3))}


def _true_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_true_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_true_depth(v) for v in value.values()), default=0)
    return 0


def test_short_loop_and_numpy_agree_with_the_parsed_depth() -> None:
    rng = random.Random(17)
    small = large = 0
    for _ in range(400):
        value = _nested(rng, rng.randint(0, 7))
        body = json.dumps(value).encode()
        assert json_depth(body) == _true_depth(value), body
        brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
        if brackets and len(brackets) < _FEW:
            small += 1
        elif brackets:
            large += 1
    assert small > 20 and large > 20  # both paths were taken
    assert _depth_loop(b"[{}[[]]]") == 3 and json_depth(b'{"code":"AB[CD","w":null}') == 1
