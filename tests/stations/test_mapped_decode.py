"""Decoding a mapped station: the compiled way (``stations/mapped/_decode.pyx``: the record
parsed in C, times and frozen dataclasses made in C) gives the same stations as the plain
one (``_Decoder.reference``: the JSON parse, the dataclasses' constructors,
``datetime.fromtimestamp``); the record parser reads what JSON reads or leaves the record to
the JSON path; and the id → position lookup over the mapped ids equals a dict.
"""

from __future__ import annotations

import gc
import json
from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stations.mapped._decode import Maker, utc_time
from stations.mapped.records import Columns, _time, build_columns
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


# Station text as the record parser meets it: Chinese and ASCII (parsed in one pass),
# Latin-1 and emoji (other UTF-8), quotes, backslashes and control characters (escaped in
# the record: the JSON path), U+2028 (a 3-byte sequence JSON leaves unescaped).
TEXT = st.text(
    st.one_of(
        st.characters(categories=["L", "N", "P", "So", "Zs"]),
        st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\u2028", "é", "😀", "驿", "/"]),
    ),
    max_size=30,
)
CJK = st.text(st.sampled_from("暖心驿站北京市大兴区荣华中路号 abc123-"), max_size=20)
# Both the parser's ASCII/BMP text and the rest, neither too rare.
ANY_TEXT = st.one_of(CJK, TEXT)


@st.composite
def stations(draw: st.DrawFn) -> list[Station]:
    base = make_station(
        amenities=draw(st.lists(st.sampled_from(["hot_water", "wifi", "toilet"]), unique=True))
        or ["charging"],
        no_smartphone_ok=draw(st.sampled_from([None, True, False])),
        photos=draw(st.lists(st.sampled_from(["a" * 64, "b" * 64]), unique=True)),
    )
    # Unvalidated text: the decoder reads back whatever a record holds.
    base = replace(
        base,
        name=draw(ANY_TEXT.filter(bool)),
        address=draw(ANY_TEXT),
        notes=draw(ANY_TEXT),
        host_org=draw(ANY_TEXT),
        external_id=draw(st.one_of(st.none(), ANY_TEXT)),
        geocoded=draw(st.booleans()),
    )
    # Ids beyond 18 digits take the JSON path.
    first_id = draw(st.one_of(st.integers(0, 2**31), st.integers(0, 2**63 - 100)))
    out = []
    for sid in range(first_id + 1, first_id + draw(st.integers(1, 6)) + 1):
        data = base
        if draw(st.booleans()):  # amenities not in vocabulary order: stored in the record
            data = replace(base, amenities=tuple(reversed(base.amenities)))
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=draw(WHEN))
        at = at.astimezone(draw(st.sampled_from(ZONES)))
        verified = draw(st.one_of(st.none(), st.just(at - timedelta(days=1, microseconds=7))))
        updated = at + timedelta(hours=draw(st.sampled_from([0, 0, 1, 48])))
        out.append(
            Station(
                sid,
                replace(data, lon=data.lon + (sid - first_id) * 1e-3),
                draw(st.integers(1, 2**40)),
                at,
                updated,
                False,
                draw(st.integers(1, 9)),
                verified,
            )
        )
    return out


def _typed(value: Any) -> Any:
    """``value`` with the type of every part: ``True == 1`` and ``("a",) == ("a",)`` whatever
    made them, but a parser must give back what JSON gives.
    """
    if type(value) in (list, tuple):
        return type(value), [_typed(v) for v in value]
    return type(value), value


def _json_only(record: bytes) -> bool:
    """Whether a record needs the JSON path: an escape, or an integer over 18 digits."""
    ints = [v for v in json.loads(record) if type(v) is int]
    return b"\\" in record or any(len(str(abs(v))) > 18 for v in ints)


@settings(max_examples=150, deadline=None)
@given(stations())
def test_compiled_decoding_equals_the_plain_one(given_stations: list[Station]) -> None:
    columns = build_columns(given_stations)
    decoder = columns.decoder
    for pos in range(len(columns)):
        record = bytes(columns.record(pos))
        parsed = decoder.fast.parsed(pos)
        if _json_only(record):
            assert parsed is None, record
        else:
            assert parsed is not None, record
            assert _typed(parsed) == _typed(decoder._fields(pos))
        fast, plain = decoder(pos), decoder.reference(pos)
        assert type(fast) is Station and type(fast.data) is StationData
        assert fast == plain and decoder.fast.by_json(pos) == plain
        for f in ("created_at", "updated_at", "verified_at"):
            a, b = getattr(fast, f), getattr(plain, f)
            assert (a is None) == (b is None)
            if a is not None:
                assert a.isoformat() == b.isoformat() and a.utcoffset() == b.utcoffset()
    assert sorted((decoder(p) for p in range(len(columns))), key=lambda s: s.id) == given_stations


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("荣华中路暖心驿站", True),
        ("Station 7 / 站", True),
        ("行\u2028分", True),
        ("", True),
        ("Café", True),  # Latin-1: through CPython's UTF-8 decoder
        ("驿站😀", True),
        ('say "hi"', False),
        ("C:\\站", False),
        ("两\n行", False),
    ],
)
def test_record_text_takes_the_expected_path(text: str, parsed: bool) -> None:
    station = Station(
        5, replace(make_station(), name=text or "x", address=text), 1, _AT, _AT, False, 1
    )
    decoder = build_columns([station]).decoder
    assert (decoder.fast.parsed(0) is not None) == parsed
    assert decoder(0) == decoder.reference(0) == station


_AT = datetime(2024, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)
# Bytes that change a record's meaning: JSON's punctuation, number parts, literals' first
# letters, a space, a control character, and UTF-8 that is fine, overlong, a surrogate,
# a 4-byte lead, a stray continuation, or never valid.
_BYTES = b'"\\,[]{}:. -+0159eEntf\x01\x7f\x80\xbf\xc0\xc3\xa9\xe0\xe4\xed\xa0\xf0\xf4\xff'


def _station_with(name: str) -> Station:
    return Station(
        7,
        replace(make_station(), name=name or "x", notes=name, amenities=("wifi", "toilet")),
        3,
        _AT,
        _AT,
        False,
        1,
        None,
    )


def _parses_as_json_does(columns: Columns, record: bytes) -> bool | None:
    """Decodes ``record`` in place of ``columns``' only one, both ways: the parser gives what
    the JSON path gives or leaves the record to it, and the station (or the error) is the
    plain decoder's. Whether the parser answered; None when the JSON path fails too.
    """
    damaged = Columns(
        {**columns.arrays, "offsets": np.array([0, len(record)], np.int64)},
        np.frombuffer(record, np.uint8),
        columns.tables,
    )
    decoder = damaged.decoder
    try:
        expected = decoder._fields(0)
    except Exception:  # noqa: BLE001 - any failure of the JSON path
        expected = None
    parsed = decoder.fast.parsed(0)
    if parsed is not None:
        assert expected is not None, record
        assert _typed(parsed) == _typed(expected), record
    try:
        plain: Any = decoder.reference(0)
    except Exception as e:  # noqa: BLE001
        plain = type(e)
    try:
        fast: Any = decoder(0)
    except Exception as e:  # noqa: BLE001
        fast = type(e)
    assert fast == plain, record
    return None if expected is None else parsed is not None


_NAME = "驿站".encode()


@pytest.mark.parametrize(
    ("old", "new", "answer"),
    [
        (b"[7,", b"[7,", True),
        (b"[7,", b"[07,", None),  # a leading zero: not JSON
        (b"[7,", b"[-0,", True),
        (b"[7,", b"[-7,", True),
        (b"[7,", b"[7.0,", False),  # a float
        (b"[7,", b"[7e0,", False),
        (b"[7,", b"[123456789012345678,", True),
        (b"[7,", b"[1234567890123456789,", False),  # may not fit an int64
        (b"[7,", b"[ 7,", False),  # whitespace: JSON, but never written
        (b"[7,", b"[7 ,", False),
        (b"[7,", b"[,", None),
        (b"[7,", b"[[7],", False),  # a list where none is kept
        (b"[7,", b'["7",', True),  # the JSON path's value, whatever its type
        (b"[7,", b"[true,", True),
        (b"[7,", b"[tru,", None),
        (b"[7,", b"[nul,", None),
        (b"[7,", b"[fals,", None),
        (b"[7,", b"[True,", None),
        (b"[7,", b"[NaN,", False),
        (b"[7,", b"7,", None),
        (b"false,", b"true,", True),
        (b'["wifi","toilet"]', b'["wifi",1]', False),
        (b'["wifi","toilet"]', b"[]", True),
        (b'["wifi","toilet"]', b'["wifi",]', None),
        (b'["wifi","toilet"]', b'["wifi",x","toilet"]', None),
        (b'["wifi","toilet"]', b'"wifi"', False),
        (b'["wifi","toilet"]', b'["wifi" ,"toilet"]', False),
        (_NAME, "😀é".encode(), True),
        (_NAME, "\u2028".encode(), True),
        (_NAME, b"\x7f", True),  # DEL: JSON allows it unescaped
        (_NAME, b"\x01", None),  # a control character: JSON refuses it unescaped
        (_NAME, b'\\"', False),  # an escaped quote
        (_NAME, b"\\u9a7f", False),
        (_NAME, b"\xed\xa0\x80", None),  # a surrogate: not UTF-8
        (_NAME, b"\xe0\x80\x80", None),  # overlong
        (_NAME, b"\xc0\xaf", None),
        (_NAME, b"\xe4\xb8", None),  # cut short
        (_NAME, b"\xe4\xb8\x20", None),
        (_NAME, b"\xe4\x80", None),
        (_NAME, b"\x80", None),  # a continuation byte with no lead
        (_NAME, b"\xff", None),
        (_NAME, b"\xe9\xa9\xbf\xf0\x9f\x98", None),
    ],
)
def test_crafted_records_parse_as_json_reads_them(
    old: bytes, new: bytes, answer: bool | None
) -> None:
    """Each rule of the parser on one record: ``answer`` True where it reads the record,
    False where it leaves it to the JSON path, None where neither reads it.
    """
    columns = build_columns([_station_with("驿站")])
    record = bytes(columns.record(0))
    assert old in record
    assert _parses_as_json_does(columns, record.replace(old, new, 1)) is answer


@pytest.mark.parametrize("tail", [b" ", b"x", b"]", b",", b"\x00"])
def test_bytes_after_a_record_are_not_read_past(tail: bytes) -> None:
    columns = build_columns([_station_with("驿站")])
    record = bytes(columns.record(0))
    assert _parses_as_json_does(columns, record + tail) is (False if tail == b" " else None)
    assert _parses_as_json_does(columns, record[:-1]) is None
    assert _parses_as_json_does(columns, record[:-1] + b",1]") is False  # one field too many
    cut = record[: record.rindex(b",")] + b"]"
    assert _parses_as_json_does(columns, cut) is None  # one too few


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["set", "insert", "delete", "cut"]),
            st.integers(0, 10**6),
            st.sampled_from(list(_BYTES)),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["荣华中路暖心驿站", "Café 😀", ""]),
)
def test_damaged_records_parse_as_json_reads_them_or_not_at_all(
    edits: list[tuple[str, int, int]], name: str
) -> None:
    """Whatever the bytes, the parser answers what JSON answers, or leaves the record to it."""
    columns = build_columns([_station_with(name)])
    record = bytearray(columns.record(0))
    for op, at, byte in edits:
        i = at % (len(record) + 1)
        if op == "set" and i < len(record):
            record[i] = byte
        elif op == "insert":
            record.insert(i, byte)
        elif op == "delete" and i < len(record):
            del record[i]
        elif op == "cut":
            del record[i:]
    _parses_as_json_does(columns, bytes(record))


def test_decoded_stations_stay_out_of_the_cycle_collector_unless_they_could_cycle() -> None:
    """A station of strings, numbers, times and tuples cannot be in a cycle: the collector
    need not walk it. One holding a container it tracks stays tracked.
    """
    station = Station(1, make_station(photos=["a" * 64]), 1, _AT, _AT, False, 1, _AT)
    decoder = build_columns([station]).decoder
    fast = decoder(0)
    assert fast == decoder.reference(0) == station
    assert not gc.is_tracked(fast) and not gc.is_tracked(fast.data)
    assert not gc.is_tracked(fast.data.amenities) and not gc.is_tracked(fast.data.photos)
    values = [getattr(fast.data, f.name) for f in fields(StationData)]
    make = Maker(StationData, [f.name for f in fields(StationData)])
    assert not gc.is_tracked(make(*values[:-1], ("a",)))
    tracked = make(*values[:-1], ([],))
    assert gc.is_tracked(tracked) and tracked.photos == ([],)


def test_positions_outside_the_snapshot_are_refused() -> None:
    decoder = build_columns([Station(1, make_station(), 1, _AT, _AT, False, 1)]).decoder
    for pos in (1, -1, 2**40):
        with pytest.raises(IndexError):
            decoder(pos)


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


# Hours, statuses and entries as the coded tables hold them: parsed, unparsed, blank (the
# static "unknown" trust members), with and without the text staff wrote.
_HOURS = ["24/7", "Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00", "", "  ", "not hours"]


@settings(max_examples=150, deadline=None)
@given(stations(), st.data())
def test_written_features_equal_the_dict_path(given: list[Station], data: st.DataObject) -> None:
    """A missed nearest feature written from the record (``stations/mapped/_render.pyx``) is
    the dict path's cut feature byte for byte, or None where that path must write it (photos,
    an escape in the name or address).
    """
    from stations.features import features, json_bytes
    from stations.mapped.render import feature_parts
    from stations.nearest.fragments import _DIST_MARK, _OPEN_MARK, _cut, _Marked

    draw = data.draw
    given = [
        replace(
            s,
            data=replace(
                s.data,
                opening_hours=draw(st.sampled_from(_HOURS)),
                opening_hours_text=draw(st.sampled_from(["", "全天", " 工作日白天 "])),
                status=draw(st.sampled_from(["open", "closed", "temporarily_closed"])),
                entry=draw(st.sampled_from(["", "open_door", "scan"])),
                host_type=draw(st.sampled_from(["bank", "other"])),
            ),
        )
        for s in given
    ]
    columns = build_columns(given)
    writer = feature_parts(columns)
    for pos in range(len(columns)):
        station = columns.decoder(pos)
        coords = [tuple(columns.arrays["app_coords"][pos].tolist())]
        marked = _Marked(station, _DIST_MARK, _OPEN_MARK)
        feature = features([marked], navigation=True, _marked=True, _coords=coords)[0]  # type: ignore[list-item]
        expected = _cut(json_bytes(feature), True)
        d = station.data
        unusual = d.photos or b"\\" in json_bytes([d.name, d.address])
        assert writer.parts(pos) == (None if unusual else expected)
