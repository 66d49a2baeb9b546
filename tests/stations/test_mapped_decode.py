"""Decoding a mapped station: the compiled way (``stations/mapped/_decode.pyx``: times and
frozen dataclasses made in C) gives the same stations as the plain one
(``_Decoder.reference``: the dataclasses' constructors, ``datetime.fromtimestamp``), and the
id → position lookup over the mapped ids equals a dict.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stations.mapped._decode import Maker, utc_time
from stations.mapped.records import _time, build_columns
from stations.mapped.snapshot import IdPositions
from stations.model import Station, StationData
from tests.conftest import make_station

ZONES = [UTC, ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=-3, minutes=-30))]
MICROS = st.integers(
    min_value=(datetime(1, 1, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC))
    // timedelta(microseconds=1),
    max_value=(datetime(9999, 12, 30, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC))
    // timedelta(microseconds=1),
)

# Station times: far enough inside datetime's range for a zone and a day either side.
_DAY_US = 86_400_000_000
WHEN = st.integers(-70 * 365 * _DAY_US, 230 * 365 * _DAY_US)


@given(st.one_of(st.none(), MICROS, MICROS.map(lambda us: _time(us).isoformat())))  # type: ignore[union-attr]
def test_compiled_times_equal_the_plain_ones(value: int | str | None) -> None:
    fast, plain = utc_time(value), _time(value)
    assert fast == plain
    if plain is not None:
        assert fast.isoformat() == plain.isoformat() and fast.fold == plain.fold
        assert fast.tzinfo is UTC


def test_maker_fills_a_frozen_dataclass_as_its_constructor() -> None:
    data = make_station()
    values = [getattr(data, f.name) for f in fields(StationData)]
    made = Maker(StationData, [f.name for f in fields(StationData)])(*values)
    assert type(made) is StationData and made == StationData(*values)
    with pytest.raises(FrozenInstanceError):
        made.name = "改"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Maker(StationData, [f.name for f in fields(StationData)])(*values[:-1])


@st.composite
def stations(draw: st.DrawFn) -> list[Station]:
    base = make_station(
        name=draw(
            st.text(st.characters(categories=["L", "N", "P", "So"]), min_size=1, max_size=30)
        ),
        amenities=draw(st.lists(st.sampled_from(["hot_water", "wifi", "toilet"]), unique=True))
        or ["charging"],
        no_smartphone_ok=draw(st.sampled_from([None, True, False])),
        photos=draw(st.lists(st.sampled_from(["a" * 64, "b" * 64]), unique=True)),
    )
    out = []
    for sid in range(1, draw(st.integers(1, 6)) + 1):
        data = base
        if draw(st.booleans()):  # amenities not in vocabulary order: stored in the record
            data = replace(base, amenities=tuple(reversed(base.amenities)))
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=draw(WHEN))
        at = at.astimezone(draw(st.sampled_from(ZONES)))
        verified = draw(st.one_of(st.none(), st.just(at - timedelta(days=1, microseconds=7))))
        out.append(
            Station(
                sid,
                replace(data, lon=data.lon + sid * 1e-3),
                draw(st.integers(1, 2**40)),
                at,
                at + timedelta(hours=draw(st.integers(0, 48))),
                False,
                draw(st.integers(1, 9)),
                verified,
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(stations())
def test_compiled_decoding_equals_the_plain_one(given_stations: list[Station]) -> None:
    columns = build_columns(given_stations)
    decoder = columns.decoder
    for pos in range(len(columns)):
        fast, plain = decoder(pos), decoder.reference(pos)
        assert type(fast) is Station and type(fast.data) is StationData
        assert fast == plain
        for f in ("created_at", "updated_at", "verified_at"):
            a, b = getattr(fast, f), getattr(plain, f)
            assert (a is None) == (b is None)
            if a is not None:
                assert a.isoformat() == b.isoformat() and a.utcoffset() == b.utcoffset()
    assert sorted((decoder(p) for p in range(len(columns))), key=lambda s: s.id) == given_stations


@settings(max_examples=60)
@given(st.lists(st.integers(-(2**62), 2**62), unique=True, max_size=50), st.integers())
def test_id_positions_equal_a_dict(ids: list[int], other: int) -> None:
    arr = np.array(ids, np.int64)
    order = np.argsort(arr, kind="stable").astype(np.int64)
    positions = IdPositions(arr[order], order)
    expected = {sid: pos for pos, sid in enumerate(ids)}
    for sid in [*ids, other, other + 1]:
        assert positions.get(sid) == expected.get(sid)
        assert (sid in positions) == (sid in expected)
