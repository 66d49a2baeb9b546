"""Query strings parsed by one pydantic model, for hot routes.

FastAPI resolves each declared query parameter separately (~40 µs apiece here); the rider's
nearest query has ten, which cost more than answering it. A hot route declares a pydantic
model instead, validates the whole query string in one pydantic-core call, and publishes the
same model as its OpenAPI parameters — one definition for docs, validation and clients.

Such a route takes only the ``Request``, so FastAPI's per-request dependency machinery has
nothing to resolve, yet still costs ~20 µs (it parses the query string into a multi-dict the
route never reads, and opens the response-model and telemetry plumbing): ``RequestRoute``
calls the endpoint directly.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, get_args, get_origin
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from stations.errors import FieldError, ValidationFailed

__all__ = ["RequestRoute", "openapi_parameters", "parse_query", "query_pairs"]

M = TypeVar("M", bound=BaseModel)


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(a) is list for a in get_args(annotation))


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, bool]:
    """Whether each field is a list, worked out once per model, not per request."""
    return {name: _is_list(info.annotation) for name, info in model.model_fields.items()}


def query_pairs(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)``, without its decoding work (~1.8 µs of a
    rider's 2.5) when nothing in ``query`` is escaped — as in nearly every request."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    return [
        (name, value)
        for name, _, value in (part.partition("=") for part in query.split("&") if part)
    ]


def parse_query(model: type[M], request: Request) -> M:
    """Validate ``request``'s query string against ``model``; errors name the parameter.

    The query string is split here rather than through ``request.query_params`` (whose
    multi-dict costs more than the validation); as there, a repeated single-valued
    parameter keeps its last value.
    """
    fields = _fields(model)
    data: dict[str, Any] = {}
    for name, value in query_pairs(request.scope["query_string"].decode("latin-1")):
        many = fields.get(name)
        if many:
            data.setdefault(name, []).append(value)
        elif many is not None:
            data[name] = value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError(
                    ".".join(str(p) for p in err["loc"][:1]) or "query",
                    err["msg"],
                    err.get("input") if isinstance(err.get("input"), str | int | float) else None,
                )
                for err in exc.errors()
            ]
        ) from None


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI ``in: query`` parameter objects for ``model``'s fields."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        if prop.get("type") == "array" or any(
            p.get("type") == "array" for p in prop.get("anyOf", [])
        ):
            param["style"] = "form"
            param["explode"] = True
        out.append(param)
    return out


class RequestRoute(APIRoute):
    """A route whose endpoint takes only the ``Request`` and returns a ``Response``: called
    directly, without FastAPI's dependency resolution and response-model serialisation.

    Declared like any route (``route_class=RequestRoute``), so its OpenAPI entry, error
    mapping and middlewares are unchanged. Anything else to resolve (a parameter, a
    dependency, also one inherited from a router) is refused when the app is built, rather
    than silently not run.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        d = self.dependant
        extra = [
            f.name
            for f in (
                *d.path_params,
                *d.query_params,
                *d.header_params,
                *d.cookie_params,
                *d.body_params,
            )
        ]
        extra += [dep.name or repr(dep.call) for dep in d.dependencies]
        takes_request = d.request_param_name is not None and inspect.iscoroutinefunction(
            self.endpoint
        )
        if extra or not takes_request:
            raise TypeError(
                f"{self.path}: a RequestRoute endpoint must be `async def "
                f"f(request: Request)` with nothing else to resolve; got {extra}"
            )
        return self.endpoint
