r"""Everything a route reads from a request, parsed in one place into domain values.

Three parts, in this order:

**Query strings.** FastAPI resolves each declared query parameter separately (~40 µs apiece
here); the rider's nearest query has ten, which cost more than answering it. A hot route
declares a pydantic model instead, validates the whole query string in one pydantic-core call
(:func:`parse_query`), and publishes the same model as its OpenAPI parameters
(:func:`openapi_parameters`) — one definition for docs, validation and clients. Such a route
takes only the ``Request``, so FastAPI's per-request dependency machinery has nothing to
resolve, yet still costs ~20 µs (it parses the query string into a multi-dict the route never
reads, and opens the response-model and telemetry plumbing): :class:`RequestRoute` calls the
endpoint directly.

**Shared parameters.** The filter, ``at`` and ``bbox`` parameters several routes take, as
dependencies (``FilterDep``, ``AtDep``) and parsers (:func:`parse_at`, :func:`parse_bbox`).

**Bodies and errors.** Pydantic checks the *shape* of a request (types, lengths, ranges);
``stations.model`` checks the *rules* (codes, opening hours). Both must reach a union clerk
the same way, so :func:`field_errors` turns pydantic's error dicts into ``FieldError``\ s
with a ``message_zh`` — for query strings, bodies and FastAPI's own validation alike — and
:func:`read_json`, :func:`parse_model`, :func:`inline_schema` and :func:`json_body_doc` read
and document hand-parsed JSON bodies.

OGC API – Features gives some parameters other semantics (400, CRS84 only); ``api.ogc.params``
adds those on top of this module.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar, get_args, get_origin
from urllib.parse import parse_qsl

from fastapi import Depends, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from geodata.crs import CrsName, bbox_to_wgs84
from stations.errors import FieldError, StationsError, ValidationFailed
from stations.i18n import N_, Message
from stations.search import StationFilter, station_filter
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES

__all__ = [
    "JSON_TYPES",
    "AtDep",
    "CrsName",
    "FilterDep",
    "FilterParams",
    "RequestRoute",
    "UnsupportedMediaType",
    "field_errors",
    "inline_schema",
    "json_body_doc",
    "openapi_parameters",
    "parse_at",
    "parse_bbox",
    "parse_model",
    "parse_path",
    "parse_query",
    "query_pairs",
    "read_json",
    "pydantic_message",
]

# -- query strings ----------------------------------------------------------------------------

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
            field_errors(exc.errors(include_url=False), where="query", inputs=True)
        ) from None


def parse_path(model: type[M], request: Request) -> M:
    """Validate ``request``'s path parameters against ``model`` (for a :class:`RequestRoute`,
    whose endpoint FastAPI does not resolve them for); errors name the parameter."""
    try:
        return model.model_validate(request.path_params)
    except ValidationError as exc:
        raise ValidationFailed(
            field_errors(exc.errors(include_url=False), where="path", inputs=True)
        ) from None


def openapi_parameters(model: type[BaseModel], where: str = "query") -> list[dict[str, Any]]:
    """OpenAPI ``in: query`` (or ``where``: ``path``) parameter objects for ``model``'s fields."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
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


# -- parameters several routes share ---------------------------------------------------------


class FilterParams(BaseModel):
    """The station filter and ``at`` as a query model, for :class:`RequestRoute` routes
    (parsed by :func:`parse_query`); ``FilterDep`` and ``AtDep`` are the same parameters
    for routes that resolve dependencies."""

    model_config = ConfigDict(extra="ignore")

    # default_factory, not a [] default: pydantic deep-copies a mutable default on every
    # request (~2.6 µs of the nearest model's 4.4).
    amenity: list[str] = Field(
        default_factory=list,
        description="Amenity code or Chinese label; repeat — a station "
        "must have all. Codes: " + ", ".join(AMENITIES),
    )
    open_now: bool = Field(
        False,
        description="Only stations open at `at` (default now); unknown hours never count as open",
    )
    status: list[str] = Field(default_factory=list, description="Status code(s)")
    host_type: list[str] = Field(default_factory=list, description="Host type code(s)")
    entry: list[str] = Field(
        default_factory=list, description="How riders get in, any of these entry codes"
    )
    no_smartphone_ok: bool = Field(
        False, description="Only stations a rider without a smartphone can use"
    )
    at: str | None = Field(
        None, description="ISO 8601 instant for open-now (naive = station local time); default now"
    )

    def station_filter(self) -> StationFilter:
        """The filter asked for (:data:`stations.search.NO_FILTER` when none)."""
        return station_filter(
            amenity=self.amenity,
            status=self.status,
            host_type=self.host_type,
            open_now=self.open_now,
            entry=self.entry,
            no_smartphone_ok=self.no_smartphone_ok,
        )

    def when(self) -> datetime | None:
        """``at`` parsed (None: now)."""
        return parse_at(self.at)


async def filter_param(
    amenity: Annotated[
        list[str] | None,
        Query(
            description="Amenity code (or Chinese label); repeat for several — a station must "
            "have all. Codes: " + ", ".join(AMENITIES)
        ),
    ] = None,
    open_now: Annotated[
        bool,
        Query(
            description="Only stations open at `at` (default now); "
            "unknown hours never count as open"
        ),
    ] = False,
    status: Annotated[
        list[str] | None, Query(description="Status code(s): " + ", ".join(STATUSES))
    ] = None,
    host_type: Annotated[
        list[str] | None, Query(description="Host type code(s): " + ", ".join(HOST_TYPES))
    ] = None,
    entry: Annotated[
        list[str] | None,
        Query(description="How riders get in, any of: " + ", ".join(ENTRY_METHODS)),
    ] = None,
    no_smartphone_ok: Annotated[
        bool, Query(description="Only stations a rider without a smartphone can use")
    ] = False,
) -> StationFilter:
    return station_filter(
        amenity=amenity,
        status=status,
        host_type=host_type,
        open_now=open_now,
        entry=entry,
        no_smartphone_ok=no_smartphone_ok,
    )


async def at_param(
    at: Annotated[
        str | None,
        Query(
            description="ISO 8601 instant for open-now (naive = station local time); default now"
        ),
    ] = None,
) -> datetime | None:
    return parse_at(at)


def parse_at(at: str | None) -> datetime | None:
    """An ISO 8601 instant (``Z`` accepted); naive means the station's local time."""
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "at", "not an ISO 8601 date-time, e.g. 2026-11-24T12:00:00+08:00", at
                )
            ]
        ) from None


FilterDep = Annotated[StationFilter, Depends(filter_param)]
AtDep = Annotated[datetime | None, Depends(at_param)]


def parse_bbox(bbox: str | None, crs: str = "wgs84") -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees of ``crs``, returned in WGS-84; a west > east
    box crosses the antimeridian."""
    if bbox is None:
        return None
    try:
        parts = [float(p) for p in bbox.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValidationFailed(
            [FieldError.from_catalog("bbox", "must be four numbers west,south,east,north", bbox)]
        )
    west, south, east, north = parts
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "bbox",
                    "out of range: longitudes in [-180, 180], "
                    "latitudes in [-90, 90] with south <= north",
                    bbox,
                )
            ]
        )
    return bbox_to_wgs84((west, south, east, north), crs)


# -- bodies and errors -----------------------------------------------------------------------

#: Places FastAPI puts first in an error's location; the client knows them from context.
_WHERE = frozenset({"body", "query", "path", "header", "cookie"})

#: Pydantic's error types with a catalog message. Each id is pydantic's own English template
#: (its ``ctx`` fills the placeholders), so the English answer is pydantic's message and the
#: Chinese comes from the catalog; an error whose English differs (a rare type, a singular
#: "1 item") keeps pydantic's English under the generic :data:`_UNREAD` id.
_KINDS: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_unicode": N_(
        "Input should be a valid string, unable to parse raw data as a unicode string"
    ),
    "string_too_short": N_("String should have at least {min_length} characters"),
    "string_too_long": N_("String should have at most {max_length} characters"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "literal_error": N_("Input should be {expected}"),
    "enum": N_("Input should be {expected}"),
    "json_invalid": N_("Invalid JSON: {error}"),
    "json_type": N_("JSON input should be string, bytes or bytearray"),
    "none_required": N_("Input should be None"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "too_short": N_(
        "{field_type} should have at least {min_length} items after validation, not {actual_length}"
    ),
    "too_long": N_(
        "{field_type} should have at most {max_length} items after validation, not {actual_length}"
    ),
}
#: Any other pydantic error: its English as pydantic wrote it, a generic Chinese.
_UNREAD = N_("{reason}")


def pydantic_message(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The catalog id and parameters for one pydantic error dict: its English is the
    error's own ``msg``, its Chinese the catalog's."""
    reason = str(error.get("msg", "invalid"))
    msgid = _KINDS.get(str(error.get("type", "")))
    # pydantic writes a whole float bound without its ".0" (le=90.0 reads "90")
    params = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in (error.get("ctx") or {}).items()
    }
    if msgid is not None:
        try:
            if msgid.format(**params) == reason:
                return msgid, params
        except (KeyError, IndexError, ValueError):
            pass
    return _UNREAD, {"reason": reason}


def field_errors(
    errors: Iterable[Mapping[str, Any]], *, where: str = "body", inputs: bool = False
) -> list[FieldError]:
    r"""``FieldError``\ s (dotted field path, English and Chinese) from pydantic error dicts.

    ``where`` names an error with no field of its own (the whole body or query); ``inputs``
    keeps a scalar value the client sent, for query parameters (a body's values may be long
    or private, so they are not echoed).
    """
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in _WHERE]
        value = err.get("input") if inputs else None
        msgid, params = pydantic_message(err)
        out.append(
            FieldError.from_catalog(
                ".".join(loc) or where,
                msgid,
                value if isinstance(value, str | int | float) else None,
                **params,
            )
        )
    return out


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
        raise UnsupportedMediaType(
            Message("send the body as application/json, not {media}", media=media[:80])
        )
    body = await request.body()
    try:
        return json.loads(body)
    except RecursionError:  # api.http.json_limits refuses such bodies first; never a 500
        raise ValidationFailed([FieldError.from_catalog("body", "is nested too deeply")]) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed([FieldError.from_catalog("body", "is not valid JSON")]) from None


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
