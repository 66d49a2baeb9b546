"""The app's OpenAPI document rendered as OpenAPI 3.0, for the OGC ``oas30`` conformance class.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12), but OGC API – Features – Part 1 only
defines conformance to OpenAPI 3.0, and OWSLib (like several OGC clients) only follows a
``service-desc`` link typed ``…openapi+json;version=3.0``. Rather than claim 3.0 for a 3.1
document, ``/ogc/api`` serves the same description with the few 3.1-only constructs FastAPI
emits rewritten into their 3.0 spelling (``anyOf`` with ``null`` → ``nullable``, numeric
``exclusiveMinimum`` → boolean, ``const`` → one-value ``enum``, ``examples`` list → ``example``).
The test-suite validates the result with openapi-spec-validator, so a new construct added by
another route shows up as a failing test, not as a silently invalid document.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["downgrade_openapi"]

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "propertyNames")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def downgrade_openapi(doc: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the OpenAPI 3.1 ``doc`` expressed in OpenAPI 3.0.3.

    Parameters
    ----------
    doc
        What ``FastAPI.openapi()`` returns; left unchanged.

    Returns
    -------
    dict
        The same API description, valid against the OpenAPI 3.0 schema for the
        constructs FastAPI generates.
    """
    out = copy.deepcopy(doc)
    out["openapi"] = "3.0.3"
    for key in ("webhooks", "jsonSchemaDialect"):
        out.pop(key, None)
    info = out.get("info", {})
    info.pop("summary", None)
    info.get("license", {}).pop("identifier", None)
    for item in out.get("paths", {}).values():
        _path_item(item)
    components = out.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        components["schemas"][name] = _schema(schema)
    for param in components.get("parameters", {}).values():
        _parameter(param)
    for body in components.get("requestBodies", {}).values():
        _content(body)
    for response in components.get("responses", {}).values():
        _response(response)
    for header in components.get("headers", {}).values():
        _parameter(header)
    components.pop("pathItems", None)
    return out


def _path_item(item: dict[str, Any]) -> None:
    for param in item.get("parameters", []):
        _parameter(param)
    for method in _METHODS:
        op = item.get(method)
        if op is None:
            continue
        for param in op.get("parameters", []):
            _parameter(param)
        if "requestBody" in op:
            _content(op["requestBody"])
        for response in op.get("responses", {}).values():
            _response(response)


def _parameter(param: dict[str, Any]) -> None:
    if "schema" in param:
        param["schema"] = _schema(param["schema"])
    _content(param)


def _response(response: dict[str, Any]) -> None:
    _content(response)
    for header in response.get("headers", {}).values():
        _parameter(header)


def _content(holder: dict[str, Any]) -> None:
    for media in holder.get("content", {}).values():
        if "schema" in media:
            media["schema"] = _schema(media["schema"])


def _schema(schema: Any) -> Any:
    """One JSON Schema 2020-12 object rewritten as an OpenAPI 3.0 Schema Object."""
    if not isinstance(schema, dict):
        return schema
    s = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(s.get(key), dict):
            s[key] = {name: _schema(sub) for name, sub in s[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(s.get(key), list):
            s[key] = [_schema(sub) for sub in s[key]]
    for key in _SCHEMA_ONE:
        if isinstance(s.get(key), dict):
            s[key] = _schema(s[key])
    if "prefixItems" in s:  # tuples: 3.0 has no positional items; keep the length bounds
        parts = [_schema(sub) for sub in s.pop("prefixItems")]
        s.setdefault("minItems", len(parts))
        s.setdefault("maxItems", len(parts))
        s["items"] = parts[0] if len({repr(p) for p in parts}) == 1 else {"anyOf": parts}
    if "const" in s:
        s["enum"] = [s.pop("const")]
    for bound in ("Minimum", "Maximum"):
        exclusive = s.get("exclusive" + bound)
        if isinstance(exclusive, int | float) and not isinstance(exclusive, bool):
            s[bound.lower()] = exclusive
            s["exclusive" + bound] = True
    if isinstance(s.get("examples"), list):
        examples = s.pop("examples")
        if examples:
            s["example"] = examples[0]
    if s.get("contentMediaType") or s.get("contentEncoding"):
        encoding = s.pop("contentEncoding", None)
        s.pop("contentMediaType", None)
        s["format"] = "byte" if encoding == "base64" else "binary"
    if isinstance(s.get("type"), list):
        types = [t for t in s["type"] if t != "null"]
        if len(types) < len(s["type"]):
            s["nullable"] = True
        s["type"] = types[0] if len(types) == 1 else s["type"]
        if isinstance(s["type"], list):  # several non-null types: 3.0 needs anyOf
            s["anyOf"] = [{"type": t} for t in types]
            del s["type"]
    for key in ("anyOf", "oneOf"):
        if key in s:
            _drop_null_branch(s, key)
    for key in (
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$dynamicRef",
        "$dynamicAnchor",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentSchemas",
        "dependentRequired",
        "if",
        "then",
        "else",
    ):
        s.pop(key, None)
    if "$ref" in s and len(s) > 1:  # 3.0 ignores siblings of $ref: wrap it
        ref = s.pop("$ref")
        s["allOf"] = [{"$ref": ref}]
    return s


def _drop_null_branch(s: dict[str, Any], key: str) -> None:
    """``anyOf: [X, {type: null}]`` (FastAPI's ``X | None``) → ``X`` with ``nullable``."""
    branches = s[key]
    rest = [b for b in branches if b != {"type": "null"}]
    if len(rest) == len(branches):
        return
    s["nullable"] = True
    if not rest:
        del s[key]
        return
    if len(rest) > 1:
        s[key] = rest
        return
    del s[key]
    only = rest[0]
    if "$ref" in only:
        s["allOf"] = [only]
    else:
        for k, v in only.items():
            s.setdefault(k, v)
