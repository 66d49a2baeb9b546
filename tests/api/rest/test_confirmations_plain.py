"""The confirmation route's plain path gives what the model gives, or leaves it to the model."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.responses import JSONResponse

from api.rest.confirmations import (
    _STATION_ID,
    ConfirmationBody,
    _station_id,
    plain_body,
    receipt,
    receipt_json,
    receipt_response,
)
from stations.trust.confirm import Receipt
from stations.trust.rules import Confidence, Reason

BODIES: list[Any] = [
    {"state": "open", "lat": 39.7957, "lon": 116.5068},
    {"state": "closed", "lat": 39, "lon": 116},
    {"state": "locked", "lat": -90, "lon": 180.0, "crs": "gcj02"},
    {"state": "broken", "crs": "bd09"},
    {"state": "open"},
    {"state": "open", "crs": "wgs84", "lat": 0.0, "lon": -0.0},
    {"state": "broken", "amenity": "toilet", "lat": 39.8, "lon": 116.5},
    {"state": "open", "lat": 39.8},
    {"state": "open", "lat": None, "lon": None},
    {"state": "open", "lat": 91, "lon": 116.5},
    {"state": "open", "lat": 39.8, "lon": -180.5},
    {"state": "open", "lat": math.nan, "lon": 116.5},
    {"state": "open", "lat": math.inf, "lon": 116.5},
    {"state": "open", "lat": True, "lon": 116.5},
    {"state": "open", "lat": "39.8", "lon": "116.5"},
    {"state": "open", "lat": 39.8, "lon": 116.5, "crs": "WGS84"},
    {"state": "open", "lat": 39.8, "lon": 116.5, "crs": None},
    {"state": "open", "lat": 39.8, "lon": 116.5, "extra": 1},
    {"state": "OPEN", "lat": 39.8, "lon": 116.5},
    {"state": None},
    {"lat": 39.8, "lon": 116.5},
    {},
    [],
    "open",
    None,
]


def _model(raw: Any) -> dict[str, Any] | None:
    try:
        return ConfirmationBody.model_validate(raw).model_dump(mode="json", exclude_none=True)
    except ValidationError:
        return None


@pytest.mark.parametrize("raw", BODIES, ids=[str(i) for i in range(len(BODIES))])
def test_plain_body_is_the_model_dump_or_none(raw: Any) -> None:
    plain = plain_body(raw)
    if plain is not None:
        assert plain == _model(raw)
        assert {k: type(v) for k, v in plain.items()} == {
            k: type(v)
            for k, v in _model(raw).items()  # type: ignore[union-attr]
        }


def test_the_usual_bodies_take_the_plain_path() -> None:
    assert plain_body(BODIES[0]) is not None
    assert plain_body(BODIES[2]) is not None
    assert plain_body(BODIES[4]) is not None
    assert plain_body(BODIES[6]) is None  # amenity: the model checks it


@pytest.mark.parametrize(
    "raw", ["1", "42", "0", "-1", "007", "1.0", "１２", "²", str(2**62), str(2**62 + 1), "x", ""]
)
def test_station_id_is_what_the_adapter_says(raw: str) -> None:
    value, errors = _station_id(raw)
    try:
        expected = _STATION_ID.validate_python(raw)
    except ValidationError:
        assert errors and value == 0
    else:
        assert not errors and value == expected


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-400, max_value=400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["open", "closed", "locked", "broken", "wgs84", "gcj02", "bd09", "x", ""]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["state", "lat", "lon", "crs", "amenity", "other"]), _VALUES, max_size=5
    )
)
def test_any_body_plain_or_model_agree(raw: dict[str, Any]) -> None:
    plain = plain_body(raw)
    if plain is not None:
        assert plain == _model(raw)


def test_the_receipt_is_what_json_response_sends() -> None:
    receipt = {
        "id": 7,
        "station_id": 2,
        "state": "open",
        "onsite": True,
        "distance_m": 33.4,
        "confidence": "confirmed",
        "confidence_reasons": [{"code": "confirmed_open", "message": "x", "message_zh": "刚刚"}],
        "queued_for_review": False,
        "state_zh": "开着",
        "confidence_zh": "已确认",
        "message": "Thank you",
        "message_zh": "谢谢！",
        "none": None,
    }
    ours, theirs = receipt_response(receipt), JSONResponse(receipt, status_code=201)
    assert ours.body == theirs.body and ours.status_code == theirs.status_code == 201
    assert ours.raw_headers == theirs.raw_headers
    with pytest.raises(ValueError):
        receipt_response({"distance_m": math.nan})  # refused as JSONResponse refuses it


_REASON = st.builds(
    Reason,
    st.sampled_from(["confirmed_open", "reported_closed", "reported_broken", "schedule"]),
    st.text(max_size=40),
    st.text(max_size=40),
)
_RECEIPTS = st.builds(
    Receipt,
    st.integers(1, 2**62),
    st.integers(1, 2**62),
    st.sampled_from(["open", "closed", "locked", "broken"]),
    st.booleans(),
    st.one_of(
        st.none(),
        st.floats(0.0, 2e7, allow_nan=False),
        st.sampled_from([0.0, 0.05, 0.25, 199.95, 999.95, 1000.0, 1e-300, 12345.678]),
    ),
    st.builds(
        Confidence,
        st.sampled_from(["confirmed", "scheduled", "doubtful", "unknown"]),
        st.lists(_REASON, max_size=4).map(tuple),
    ),
    st.booleans(),
)


@settings(max_examples=2000, deadline=None)
@given(_RECEIPTS)
def test_the_written_receipt_is_the_encoded_one(r: Receipt) -> None:
    assert receipt_json(r) == receipt_response(receipt(r)).body


def test_an_unusual_receipt_takes_the_encoder() -> None:
    c = Confidence("unknown", ())
    for r in (
        Receipt(1, 2, "open", 1, None, c, False),  # type: ignore[arg-type]
        Receipt(1, 2, "open", True, 5, c, False),  # type: ignore[arg-type]
    ):
        assert receipt_json(r) == receipt_response(receipt(r)).body
    with pytest.raises(ValueError):
        receipt_json(Receipt(1, 2, "open", False, math.inf, c, False))
