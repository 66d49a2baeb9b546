"""Public station codes: random, stable, unique, and tolerant of how people copy them."""

from __future__ import annotations

import pytest

from stations.errors import NotFound
from stations.visits.codes import CODE_ALPHABET, CODE_LENGTH, new_code, normalise_code
from tests.stations.visits.visit_kit import stations_with_visits


def test_new_codes_use_the_alphabet_and_do_not_repeat() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("7k3m-9qzt", "7K3M9QZT"), ("O1IL 2345", "01112345"), (" ABCD EFGH ", "ABCDEFGH")],
)
def test_codes_read_as_people_copy_them(typed: str, stored: str) -> None:
    assert normalise_code(typed) == stored


@pytest.mark.parametrize(
    "bad", ["", "ABC", "ABCDEFGHJ", "ABCDEFGU", "12345678\x00", "驿站编号一二三四"]
)
def test_what_cannot_be_a_code(bad: str) -> None:
    assert normalise_code(bad) is None


def test_each_station_keeps_one_code_and_ids_are_not_codes(store) -> None:
    visits, ids = stations_with_visits(store, 3)
    first = visits.codes()
    assert sorted(first) == ids
    assert len(set(first.values())) == 3
    assert all(c not in {str(i) for i in ids} for c in first.values())
    assert visits.codes() == first  # stable
    assert visits.code_for(ids[1]) == first[ids[1]]
    assert visits.station_for_code(first[ids[2]].lower()) == ids[2]


def test_a_deleted_station_has_no_code(store) -> None:
    visits, ids = stations_with_visits(store, 2)
    code = visits.code_for(ids[0])
    store.delete(ids[0], actor="test")
    with pytest.raises(NotFound):
        visits.station_for_code(code)
    with pytest.raises(NotFound):
        visits.code_for(ids[0])
    assert list(visits.codes()) == [ids[1]]
