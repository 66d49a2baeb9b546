"""``POST /api/v1/stations/{id}/confirmations``: a rider's "我在这里" tap (anonymous).

Thin: the body and the ``X-Device-Id`` header go to :class:`stations.trust.confirm.
TrustService`, which checks, places, stores and weighs the tap; nothing a rider sends changes
the station (three riders' 关着 put it in the staff review queue instead).

A hot route (riders tap at the door, a thousand a second at peak): it is a
:class:`~api.http.params.RequestRoute`, so FastAPI resolves nothing per request (its
dependency solving and response-model pass cost more than storing the vote). The endpoint
reads the path, the body (parsed once, checked by :class:`ConfirmationBody`) and the header
itself, calls the rate limit directly, and answers the receipt as JSON; the OpenAPI entry is
what FastAPI would publish for the same declarations.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring as _escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from api.deps import services
from api.http.params import (
    RequestRoute,
    field_errors,
    inline_schema,
    json_body_doc,
    parse_model,
    read_json,
)
from api.http.rate_limit import client_key
from api.rest.schemas import PROBLEM_RESPONSES
from geodata.crs import CrsName
from stations.errors import ConfigurationError, FieldError, TooManyRequests, ValidationFailed
from stations.i18n import Message
from stations.trust.confirm import Receipt
from stations.trust.device import DEVICE_HEADER
from stations.trust.rules import LEVELS, STATES, Reason
from stations.vocabulary import distance_words

__all__ = [
    "DEVICE_PARAMETER",
    "plain_body",
    "receipt",
    "receipt_json",
    "receipt_response",
    "router",
]

router = APIRouter(prefix="/api/v1", tags=["trust"], route_class=RequestRoute)


class ConfirmationBody(BaseModel):
    """What the page sends: what the rider saw, and where the phone is (in the page's CRS)."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "closed", "locked", "broken"] = Field(
        description="open 开着 · closed 关着 · locked 进不去 (code lock, app or staff needed) · "
        "broken 设施坏了"
    )
    lat: float | None = Field(None, ge=-90, le=90, description="The phone's latitude in `crs`")
    lon: float | None = Field(None, ge=-180, le=180, description="The phone's longitude in `crs`")
    crs: CrsName = Field(CrsName.wgs84, description="CRS of lat/lon (the page's map)")
    amenity: str | None = Field(
        None, max_length=40, description="With `broken`: the amenity code or Chinese label"
    )


class ReasonOut(BaseModel):
    code: str
    message: str
    message_zh: str


class ConfirmationReceipt(BaseModel):
    id: int
    station_id: int
    state: str
    onsite: bool = Field(description="Within the on-site distance (200 m) of the station")
    distance_m: float | None
    confidence: Literal["confirmed", "scheduled", "doubtful", "unknown"]
    confidence_reasons: list[ReasonOut]
    queued_for_review: bool
    state_zh: str
    confidence_zh: str
    message: str
    message_zh: str


async def _limit(request: Request) -> None:
    """Per client address, ``confirm_per_hour`` with bursts of a tenth of it (riders share
    carrier-grade NAT addresses; the once-an-hour rule per device does the finer work)."""
    settings = request.app.state.services.settings
    per_hour = float(getattr(settings, "confirm_per_hour", 600.0))
    if per_hour <= 0:
        return
    limiter = request.app.state.services.limiter
    wait = await limiter.take(
        "confirmations",
        client_key(request.scope),
        rate=per_hour / 3600.0,
        burst=max(5.0, per_hour / 10.0),
    )
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            Message(
                "too many confirmations from this address; retry in {seconds} s",
                seconds=seconds,
            ),
            retry_after_s=seconds,
        )


def _words(state: str, onsite: bool, distance_m: float | None) -> tuple[str, str]:
    if onsite:
        return f"Thank you: recorded as seen at the door ({state}).", "谢谢！已记录您在现场的反馈。"
    if distance_m is None:
        return (
            "Recorded without a position: it counts less than one from the door.",
            "已记录，但未获取到您的位置，不算现场确认。下次请先打开手机定位。",
        )
    return (
        f"Recorded, {distance_m:.0f} m from the station: not on-site, it counts less.",
        f"已记录。您距离驿站约 {distance_words(distance_m)}，不算现场确认。",
    )


#: The path's station id, checked as FastAPI checks a declared ``Path(ge=1, le=2**62)``.
_STATION_ID: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=2**62)])
_DEVICE_DOC = "A random id the page keeps in localStorage; stored only as a salted hash"
#: The ``X-Device-Id`` header as published. Routes that take it read it as optional and
#: check it themselves (``stations.trust.device.check_device_id``), so a missing one gets the
#: guidance a rider's page needs, not a bare "required"; the document still says required.
DEVICE_PARAMETER: dict[str, Any] = {
    "name": DEVICE_HEADER,
    "in": "header",
    "required": True,
    "description": _DEVICE_DOC,
    "schema": {"type": "string", "title": DEVICE_HEADER, "description": _DEVICE_DOC},
}
#: What FastAPI would publish for the endpoint's declared parameters and body, written out:
#: the endpoint takes only the request (see the module docstring).
_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "station_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**62, "title": "Station Id"},
        },
        DEVICE_PARAMETER,
    ],
    **json_body_doc(inline_schema(ConfirmationBody), description="What the rider saw, and where"),
}


#: What ``JSONResponse`` renders with, kept: ``json.dumps`` with options builds an encoder
#: per call (a third of the receipt's cost); the bytes are the same.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def receipt_response(receipt: dict[str, Any]) -> Response:
    """The 201 answer: ``JSONResponse(receipt, status_code=201)``, byte for byte."""
    body = _ENCODER.encode(receipt).encode("utf-8")
    return Response(body, status_code=201, media_type="application/json")


#: The states, and the CRS names, a plain body may carry (the model's literals).
_PLAIN_STATES = frozenset(("open", "closed", "locked", "broken"))
_PLAIN_CRS = frozenset(c.value for c in CrsName)
_PLAIN_KEYS = frozenset(("state", "lat", "lon", "crs"))
_MAX_ID = 2**62


def _plain_number(value: Any, bound: float) -> float | None:
    if (type(value) is float or type(value) is int) and -bound <= value <= bound:
        return float(value)  # NaN fails the comparison; bool is neither type
    return None


def plain_body(raw: Any) -> dict[str, Any] | None:
    """What ``ConfirmationBody`` would make of a tap's usual body, without the model.

    A JSON object of ``state`` and, together, ``lat``/``lon`` numbers within bounds (and a
    ``crs`` name, if any) gives the model's ``model_dump(mode="json", exclude_none=True)``;
    anything else gives None, and the model checks it (and words every error). The model
    costs a rider's write more than its checks: this is the common case without it.
    """
    if type(raw) is not dict or not raw.keys() <= _PLAIN_KEYS:
        return None
    state = raw.get("state")
    if type(state) is not str or state not in _PLAIN_STATES:
        return None
    crs = raw.get("crs", "wgs84")
    if type(crs) is not str or crs not in _PLAIN_CRS:
        return None
    out: dict[str, Any] = {"state": state, "crs": crs}
    if "lat" in raw or "lon" in raw:
        lat = _plain_number(raw.get("lat"), 90.0)
        lon = _plain_number(raw.get("lon"), 180.0)
        if lat is None or lon is None:
            return None
        out["lat"], out["lon"] = lat, lon
    return out


def _station_id(raw: str) -> tuple[int, list[FieldError]]:
    if raw.isascii() and raw.isdigit() and raw[0] != "0":  # the usual path: no adapter
        value = int(raw)
        if value <= _MAX_ID:
            return value, []
    try:
        return _STATION_ID.validate_python(raw), []
    except ValidationError as exc:
        located = [{**e, "loc": ("station_id",)} for e in exc.errors(include_url=False)]
        return 0, field_errors(located)


async def _body(request: Request) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """The body as the model dumps it (:func:`plain_body`, or the model), or its errors."""
    try:
        raw = await read_json(request)
        plain = plain_body(raw)
        if plain is not None:
            return plain, []
        body = parse_model(ConfirmationBody, raw)
        return body.model_dump(mode="json", exclude_none=True), []
    except ValidationFailed as exc:
        return None, list(exc.errors)


@router.post(
    "/stations/{station_id}/confirmations",
    status_code=201,
    response_model=ConfirmationReceipt,
    summary="A rider at the door says open / closed / locked / broken (anonymous)",
    responses={
        429: {
            "description": "Too soon: one vote per device per station per hour (`Retry-After`)",
            "content": PROBLEM_RESPONSES["default"]["content"],
        }
    },
    openapi_extra=_OPENAPI,
)
async def confirm(request: Request) -> Response:
    trust = services(request).trust
    if trust is None:
        raise ConfigurationError("confirmations need the trust service")
    await _limit(request)
    # The path and the body are checked together, so a client hears every problem at once.
    station_id, errors = _station_id(request.path_params["station_id"])
    body, body_errors = await _body(request)
    errors += body_errors
    if errors or body is None:
        raise ValidationFailed(errors)
    # On the event loop: the vote waits for its batch's commit without holding a thread.
    r = await trust.confirm_async(station_id, body, request.headers.get(DEVICE_HEADER))
    return Response(receipt_json(r), status_code=201, media_type="application/json")


def receipt(r: Receipt) -> dict[str, Any]:
    """The answer to a stored tap, as the JSON object it is sent as."""
    message, message_zh = _words(r.state, r.onsite, r.distance_m)
    return {
        "id": r.id,
        "station_id": r.station_id,
        "state": r.state,
        "onsite": r.onsite,
        "distance_m": None if r.distance_m is None else round(r.distance_m, 1),
        "confidence": r.confidence.level,
        "confidence_reasons": [x.as_dict() for x in r.confidence.reasons],
        "queued_for_review": r.queued,
        "state_zh": STATES[r.state],
        "confidence_zh": LEVELS[r.confidence.level],
        "message": message,
        "message_zh": message_zh,
    }


#: A reason → its JSON object (the reasons are a few phrases with a count or an age in them).
_REASONS: dict[Reason, str] = {}
_TRUE_FALSE = {True: "true", False: "false"}


def _reason_json(x: Reason) -> str:
    done = _REASONS.get(x)
    if done is None:
        if len(_REASONS) >= 4096:
            _REASONS.clear()
        done = _REASONS[x] = _ENCODER.encode(x.as_dict())
    return done


def receipt_json(r: Receipt) -> bytes:
    """``receipt_response(receipt(r))``'s body, written from its parts.

    Every rider's tap is answered on the event loop every other request shares, and the
    encoder (an encoder per call, a dict and a list made to be taken apart again) cost more
    than the rest of the answer. Strings go through the encoder's own escaping, numbers
    through ``repr`` as the encoder writes them; anything of another type than the service
    gives (a bool that is not one, a distance that is not a float) takes the encoder.
    """
    d = r.distance_m
    if not (
        type(r.id) is int
        and type(r.station_id) is int
        and type(r.onsite) is bool
        and type(r.queued) is bool
        and (d is None or (type(d) is float and math.isfinite(d)))
    ):
        return _ENCODER.encode(receipt(r)).encode("utf-8")
    message, message_zh = _words(r.state, r.onsite, d)
    level = r.confidence.level
    esc = _escape
    text = (
        f'{{"id":{int.__repr__(r.id)},"station_id":{int.__repr__(r.station_id)},'
        f'"state":{esc(r.state)},"onsite":{_TRUE_FALSE[r.onsite]},'
        f'"distance_m":{"null" if d is None else float.__repr__(round(d, 1))},'
        f'"confidence":{esc(level)},'
        f'"confidence_reasons":[{",".join([_reason_json(x) for x in r.confidence.reasons])}],'
        f'"queued_for_review":{_TRUE_FALSE[r.queued]},"state_zh":{esc(STATES[r.state])},'
        f'"confidence_zh":{esc(LEVELS[level])},"message":{esc(message)},'
        f'"message_zh":{esc(message_zh)}}}'
    )
    return text.encode("utf-8")
