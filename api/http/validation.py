"""Request-shape errors in the domain's form: a field path and an English and Chinese message.

Pydantic checks the *shape* of a request (types, lengths, ranges); ``stations.model`` checks
the *rules* (codes, opening hours). Both must reach a union clerk the same way, so this module
turns pydantic's error dicts into ``FieldError``s with a ``message_zh``, and gives the routes
a JSON-body reader and schema helpers for documenting hand-parsed bodies in OpenAPI.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from stations.errors import FieldError, StationsError, ValidationFailed

__all__ = [
    "JSON_TYPES",
    "UnsupportedMediaType",
    "field_errors",
    "inline_schema",
    "json_body_doc",
    "parse_model",
    "read_json",
    "zh_message",
]

#: Places FastAPI puts first in an error's location; the client knows them from context.
_WHERE = frozenset({"body", "query", "path", "header", "cookie"})

_ZH: dict[str, str] = {
    "missing": "必填",
    "extra_forbidden": "未知字段",
    "string_type": "必须是文本",
    "string_unicode": "不是有效的 Unicode 文本",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不正确或包含不允许的控制字符",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "finite_number": "必须是有限数值",
    "bool_type": "必须是 true 或 false",
    "bool_parsing": "必须是 true 或 false",
    "list_type": "必须是列表",
    "dict_type": "必须是 JSON 对象",
    "model_type": "必须是 JSON 对象",
    "model_attributes_type": "必须是 JSON 对象",
    "literal_error": "不是允许的值",
    "enum": "不是允许的值",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "none_required": "必须为空",
}

_BOUNDS_ZH = {
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "必须大于或等于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "必须小于或等于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
}


def zh_message(error: Mapping[str, Any]) -> str:
    """The Chinese message for one pydantic error dict (a generic one for rare types)."""
    kind = str(error.get("type", ""))
    template = _BOUNDS_ZH.get(kind)
    if template is not None:
        ctx = {
            k: f"{v:g}" if isinstance(v, float) else v for k, v in (error.get("ctx") or {}).items()
        }
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            pass
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        return f"超过{limit}个字符" if limit is not None else _ZH[kind]
    return _ZH.get(kind, "格式不正确")


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """``FieldError``s (dotted field path, English and Chinese) from pydantic error dicts."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in _WHERE]
        out.append(
            FieldError(
                ".".join(loc) or "body", str(err.get("msg", "invalid")), None, None, zh_message(err)
            )
        )
    return out


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], raw: Any, *, prefix: str = "") -> M:
    """Validate ``raw`` against ``model``; ``ValidationFailed`` (422) with every problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_url=False, include_input=False))
        if prefix:
            for e in errors:
                e.field = f"{prefix}.{e.field}" if e.field != "body" else prefix
        raise ValidationFailed(errors) from None


class UnsupportedMediaType(StationsError):
    status = 415
    title = "Unsupported media type"


#: Media types a JSON body may be sent as (GeoJSON and merge-patch are JSON too).
JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")


async def read_json(request: Request) -> Any:
    """The request body decoded as JSON, or a 415/422 problem saying what was wrong."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {media}")
    body = await request.body()
    try:
        return json.loads(body)
    except RecursionError:  # api.http.json_limits refuses such bodies first; never a 500
        raise ValidationFailed(
            [FieldError("body", "is nested too deeply", None, None, "JSON 嵌套层数过多")]
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            [FieldError("body", "is not valid JSON", None, None, "不是有效的 JSON")]
        ) from None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with every ``$ref`` replaced by its definition.

    Hand-parsed bodies are documented through ``openapi_extra``, where a ``#/$defs/…``
    reference would point at the wrong document root; the models here are not recursive.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = dict(defs[ref.rsplit("/", 1)[1]])
                merged.update({k: v for k, v in node.items() if k != "$ref"})
                return resolve(merged)
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def json_body_doc(
    *schemas: dict[str, Any], geojson: dict[str, Any] | None = None, description: str = ""
) -> dict[str, Any]:
    """``openapi_extra`` documenting a required JSON body (one schema, or any of several)."""
    schema = schemas[0] if len(schemas) == 1 else {"oneOf": list(schemas)}
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if geojson is not None:
        content["application/geo+json"] = {"schema": geojson}
    return {"requestBody": {"required": True, "description": description, "content": content}}
