"""Validation rules of a station record."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stations.errors import ValidationFailed
from stations.model import TEXT_LIMITS, Region, split_list, validate_station
from stations.vocabulary import AMENITIES


def errors_of(raw: dict, **kw: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        validate_station(raw, **kw)
    return {e.field: e.message for e in info.value.errors}


def test_chinese_labels_become_codes() -> None:
    data = validate_station(
        {
            "name": "站",
            "lon": 116.5,
            "lat": 39.8,
            "amenities": "热水；手机充电、卫生间,wifi",
            "host_type": "银行",
            "status": "暂停开放",
        }
    )
    assert data.amenities == ("hot_water", "charging", "toilet", "wifi")
    assert data.host_type == "bank"
    assert data.status == "temporarily_closed"


def test_every_error_is_reported_with_row() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_station(
            {
                "name": "",
                "lon": "abc",
                "lat": 116.4,
                "amenities": "飞机",
                "opening_hours": "Mo-Fx 08:00",
                "host_type": "spaceport",
            },
            row=7,
        )
    fields = {e.field for e in info.value.errors}
    assert fields == {"name", "lon", "lat", "amenities", "opening_hours", "host_type"}
    assert all(e.row == 7 for e in info.value.errors)
    text = str(info.value)
    assert "swapped" in text  # lat 116.4 hints at swapped columns
    assert "hot_water (热水)" in text  # unknown amenity lists the valid ones
    assert "character 4" in text  # hours error says where it failed


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "nan", 181, -180.5])
def test_longitude_must_be_finite_and_in_range(bad: object) -> None:
    assert "lon" in errors_of({"name": "x", "lon": bad, "lat": 39.8})


def test_outside_region_is_a_warning_not_an_error() -> None:
    warnings: list = []
    data = validate_station(
        {"name": "x", "lon": 2.35, "lat": 48.85}, region=Region(), warnings=warnings
    )
    assert data.lon == 2.35
    assert [w.field for w in warnings] == ["lon/lat"]


def test_unknown_field_and_too_long_text() -> None:
    errs = errors_of({"name": "x" * 201, "lon": 1, "lat": 1, "colour": "red"})
    assert set(errs) == {"name", "colour"}


def test_excel_numbers_stay_text() -> None:
    data = validate_station(
        {"name": "x", "lon": 1, "lat": 1, "external_id": 12.0, "phone": 1067851234.0}
    )
    assert data.external_id == "12"
    assert data.phone == "1067851234"


@given(
    st.lists(st.sampled_from(list(AMENITIES) + [v for v in AMENITIES.values()]), max_size=10),
    st.sampled_from([";", ",", "、", "，", "；"]),
)
def test_any_separator_and_label_mix_normalises(items: list[str], sep: str) -> None:
    data = validate_station({"name": "x", "lon": 1, "lat": 1, "amenities": sep.join(items)})
    assert set(data.amenities) == {
        next(c for c, lab in AMENITIES.items() if i in (c, lab)) for i in items
    }
    assert list(data.amenities) == [c for c in AMENITIES if c in data.amenities]


def test_split_list_accepts_lists() -> None:
    assert split_list(["a", " b ", ""]) == ["a", "b"]
    assert split_list(None) == []


def test_control_characters_are_refused() -> None:
    errs = errors_of({"name": "站\x00", "lon": 1, "lat": 1, "notes": "a\x07b"})
    assert set(errs) == {"name", "notes"}
    ok = validate_station({"name": "站", "lon": 1, "lat": 1, "notes": "第一行\n第二行\t缩进"})
    assert ok.notes == "第一行\n第二行\t缩进"


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@given(st.text(max_size=80), st.sampled_from(["address", "district", "phone", "notes"]))
def test_text_fields_keep_their_rules_on_every_path(text: str, name: str) -> None:
    """Plain printable text takes a fast path; whatever the text, the outcome is the rule's:
    stripped, refused when it holds control characters or is over the field's limit."""
    stripped = text.strip()
    bad = (
        bool(_CONTROL_CHARS.search(stripped))
        or len(_CONTROL_CHARS.sub("", stripped)) > TEXT_LIMITS[name]
    )
    raw = {"name": "站", "lon": 116.5, "lat": 39.8, name: text}
    if bad:
        assert name in errors_of(raw)
    else:
        assert getattr(validate_station(raw), name) == stripped


def test_amenity_cells_are_remembered_only_when_clean() -> None:
    first, again = (
        validate_station({"name": "站", "lon": 1, "lat": 1, "amenities": "充电、热水"}).amenities
        for _ in range(2)
    )
    assert first == again and set(first) == {"hot_water", "charging"}  # again: from the cache
    for row in (3, 4):  # a bad cell is reported on every row that has it
        errs = errors_of({"name": "站", "lon": 1, "lat": 1, "amenities": "热水、魔法"}, row=row)
        assert "amenities" in errs


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u200e",
        "\u200f",
        "\u2060",
        "\ufeff",
    ],
)
@pytest.mark.parametrize("field", ["name", "address"])
def test_bidi_and_zero_width_characters_are_refused(char: str, field: str) -> None:
    raw = {"name": "荣华中路驿站", "lon": 116.5, "lat": 39.8, "address": "荣华中路10号"}
    raw[field] = "荣华" + char + "中路驿站"
    with pytest.raises(ValidationFailed) as info:
        validate_station(raw)
    (error,) = info.value.errors
    assert error.field == field
    assert f"U+{ord(char):04X}" in error.message and "position 3" in error.message
    assert error.message_zh is not None and "零宽" in error.message_zh
    assert f"U+{ord(char):04X}" in error.message_zh


def test_visible_unicode_in_names_is_kept() -> None:
    # Ideographic space, emoji, Arabic and Latin accents are display text, not spoofing.
    name = "驿站\u3000☕ Café مرحبا"
    assert validate_station({"name": name, "lon": 116.5, "lat": 39.8}).name == name


def test_an_import_refuses_a_spoofed_name_with_its_row(tmp_path: object) -> None:
    """The import validates rows with the same rules: the row and the code point are named."""
    from pathlib import Path

    from stations.io.importing import plan_import
    from stations.store.sql import SqlStationStore

    folder = Path(str(tmp_path))
    csv = folder / "stations.csv"
    csv.write_text(
        "name,lon,lat,address\n"
        "荣华中路驿站,116.50,39.80,荣华中路10号\n"
        "荣华\u202e站驿路中,116.51,39.81,荣华中路12号\n",
        encoding="utf-8",
    )
    store = SqlStationStore("sqlite:///" + str(folder / "s.db"))
    try:
        report = plan_import(store, csv)
    finally:
        store.close()
    (error,) = [e for e in report.errors if e.field == "name"]
    assert error.row == 3 and "U+202E" in error.message and error.message_zh
