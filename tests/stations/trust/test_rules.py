"""The written rules of rider evidence (stations.trust.rules), one test per rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stations.trust.rules import (
    CONFIRM_WEIGHT,
    HALF_LIFE_S,
    REMOTE_WEIGHT,
    WINDOW_S,
    Vote,
    ago_zh,
    assess,
    assess_plain,
    queue_worthy,
)

NOW = 1_800_000_000.0
MIN = 60.0
HOUR = 3600.0


def vote(state: str, ago_s: float, device: str = "a", onsite: bool = True, **kw: object) -> Vote:
    return Vote(NOW - ago_s, state, device, onsite, kw.pop("scheduled", True), **kw)  # type: ignore[arg-type]


def zh(c: object) -> list[str]:
    return [r.message_zh for r in c.reasons]  # type: ignore[attr-defined]


def test_weight_halves_every_half_life_and_is_forgotten_after_the_window() -> None:
    v = vote("open", 0)
    assert v.weight(NOW) == 1.0
    assert v.weight(NOW + HALF_LIFE_S) == pytest.approx(0.5)
    assert v.weight(NOW + 2 * HALF_LIFE_S) == pytest.approx(0.25)
    assert v.weight(NOW + WINDOW_S + 1) == 0.0
    assert vote("open", 0, onsite=False).weight(NOW) == REMOTE_WEIGHT


def test_no_votes_is_the_schedule() -> None:
    assert assess([], True, NOW).level == "scheduled"
    assert assess([], False, NOW).level == "scheduled"
    assert assess([], None, NOW).level == "unknown"
    assert zh(assess([], None, NOW)) == ["开放时间未知"]


def test_a_fresh_onsite_open_confirms_and_says_so_in_words() -> None:
    c = assess([vote("open", 30)], True, NOW)
    assert c.level == "confirmed"
    assert zh(c)[0] == "刚刚有骑手确认开放"
    assert c.last_open_at == NOW - 30
    assert zh(assess([vote("open", 20 * MIN)], True, NOW))[0] == "20 分钟前有骑手确认开放"
    # also when the hours are unknown: a rider at the door knows better
    assert assess([vote("open", 30)], None, NOW).level == "confirmed"


def test_confirmation_fades_after_one_half_life() -> None:
    assert vote("open", HALF_LIFE_S - 1).weight(NOW) >= CONFIRM_WEIGHT
    assert assess([vote("open", HALF_LIFE_S - 60)], True, NOW).level == "confirmed"
    c = assess([vote("open", HALF_LIFE_S + 60)], True, NOW)
    assert c.level == "scheduled"
    assert zh(c)[0] == "3 小时前有骑手确认开放"  # still said, no longer a confirmation


def test_a_remote_open_never_confirms() -> None:
    c = assess([vote("open", 10, onsite=False)], True, NOW)
    assert c.level == "scheduled"
    assert c.last_open_at is None


def test_hours_saying_closed_or_a_closed_status_beat_a_confirmation() -> None:
    assert assess([vote("open", 10)], False, NOW).level == "scheduled"
    assert assess([vote("open", 10)], True, NOW, status_open=False).level == "scheduled"


def test_a_later_closed_vote_ends_the_confirmation() -> None:
    c = assess([vote("open", 20 * MIN, "a"), vote("closed", 5 * MIN, "b")], True, NOW)
    assert c.level == "scheduled"
    assert "近 3 天 1 人反映关门" in zh(c)
    assert c.last_closed_at == NOW - 5 * MIN


def test_three_devices_closed_or_locked_in_24h_make_it_doubtful_and_queue_it() -> None:
    votes = [
        vote("closed", 20 * HOUR, "a"),
        vote("locked", 3 * HOUR, "b"),
        vote("closed", 1 * HOUR, "c"),
    ]
    c = assess(votes, True, NOW)
    assert c.level == "doubtful"
    assert c.queue
    assert "近 3 天 2 人反映关门" in zh(c)
    assert "近 3 天 1 人反映进不去" in zh(c)


def test_two_devices_or_one_device_three_times_do_not_queue() -> None:
    assert not queue_worthy([vote("closed", HOUR, "a"), vote("closed", 2 * HOUR, "b")], NOW)
    same = [vote("closed", h * HOUR, "a") for h in (1, 3, 5)]
    assert not queue_worthy(same, NOW)
    assert assess(same, True, NOW).level != "doubtful"


def test_votes_older_than_24h_do_not_count_towards_the_queue() -> None:
    votes = [
        vote("closed", 25 * HOUR, "a"),
        vote("closed", 2 * HOUR, "b"),
        vote("closed", HOUR, "c"),
    ]
    assert not queue_worthy(votes, NOW)


def test_a_later_open_vote_clears_the_doubt() -> None:
    votes = [vote("closed", h * HOUR, d) for h, d in ((5, "a"), (4, "b"), (3, "c"))]
    assert queue_worthy(votes, NOW)
    votes.append(vote("open", 10 * MIN, "d"))
    assert not queue_worthy(votes, NOW)
    assert assess(votes, True, NOW).level == "confirmed"


def test_a_doubtful_station_says_first_what_made_it_doubtful() -> None:
    # one rider found it open, then three found it shut: the list line shows reasons[0]
    votes = [vote("open", 5 * HOUR, "a")] + [
        vote("closed", h * MIN, d) for h, d in ((30, "b"), (20, "c"), (10, "d"))
    ]
    for rules in (assess, assess_plain):
        c = rules(votes, True, NOW)
        assert c.level == "doubtful"
        assert zh(c) == ["近 3 天 3 人反映关门", "5 小时前有骑手确认开放"]
    # not doubtful: the confirmation leads
    assert zh(assess([vote("closed", 2 * HOUR, "b"), vote("open", MIN, "a")], True, NOW))[0] == (
        "刚刚有骑手确认开放"
    )


def test_a_staff_check_settles_the_reports_before_it_and_not_after() -> None:
    shut = [vote("closed", h * HOUR, d) for h, d in ((5, "a"), (4, "b"), (3, "c"))]
    assert assess(shut, True, NOW).level == "doubtful"
    checked = NOW - 2 * HOUR  # staff found it as recorded, after the three reports
    for rules in (assess, assess_plain):
        c = rules(shut, True, NOW, settled_at=checked)
        assert (c.level, c.queue, zh(c)) == ("scheduled", False, ["依据登记的开放时间"])
        assert c.last_closed_at == NOW - 3 * HOUR  # still a fact riders may read
    assert not queue_worthy(shut, NOW, settled_at=checked)
    # riders who find it shut after the check count again, from scratch
    again = shut + [vote("closed", h * MIN, d) for h, d in ((50, "d"), (40, "e"))]
    assert assess(again, True, NOW, settled_at=checked).level == "doubtful"  # rule 5: two fresh
    assert not queue_worthy(again, NOW, settled_at=checked)  # rule 4 needs three
    assert queue_worthy(again + [vote("locked", 30 * MIN, "f")], NOW, settled_at=checked)
    # a 开着 before the check agrees with it and still confirms
    assert assess([vote("open", HOUR)], True, NOW, settled_at=NOW - MIN).level == "confirmed"


def test_remote_votes_never_make_it_doubtful() -> None:
    votes = [vote("closed", HOUR, d, onsite=False) for d in "abcde"]
    c = assess(votes, True, NOW)
    assert not c.queue
    assert c.level == "scheduled"
    assert c.last_closed_at is None


def test_closed_votes_after_hours_agree_with_the_hours() -> None:
    votes = [vote("closed", HOUR, d, scheduled=False) for d in "abc"]
    assert not queue_worthy(votes, NOW)
    assert assess(votes, True, NOW).level == "scheduled"
    # and while the hours say closed now, nothing is doubtful
    during = [vote("closed", HOUR, d) for d in "abc"]
    assert assess(during, False, NOW).level == "scheduled"


def test_an_open_outside_the_hours_is_told_as_such() -> None:
    """Rule 10: beside the hours' 休息中, a rider's 开着 cast after closing time is not told as
    a confirmation (it read as a contradiction); one cast within the hours still is."""
    late = [vote("open", 10 * MIN, scheduled=False)]
    for c in (assess(late, False, NOW), assess_plain(late, False, NOW)):
        assert c.level == "scheduled"
        assert [r.code for r in c.reasons] == ["open_outside_hours", "schedule"]
        assert zh(c)[0] == "10 分钟前有骑手说开着（不在登记的开放时间内）"
        assert (
            c.reasons[0].message == "a rider found it open 10 min ago, outside its published hours"
        )
    earlier = [vote("open", 3 * HOUR)]  # within the hours then; they say closed now
    assert zh(assess(earlier, False, NOW))[0] == "3 小时前有骑手确认开放"


def test_doubtful_by_weight_two_fresh_devices() -> None:
    votes = [vote("closed", 10 * MIN, "a"), vote("locked", 5 * MIN, "b")]
    c = assess(votes, True, NOW)
    assert c.level == "doubtful"
    assert not c.queue  # shown to riders, not queued (rule 4 needs three)
    # the same two votes, a day later faded, are no longer enough
    assert assess(votes, True, NOW + 12 * HOUR).level == "scheduled"


def test_broken_is_a_reason_not_a_verdict() -> None:
    votes = [
        vote("broken", HOUR, "a", amenity="hot_water"),
        vote("broken", HOUR, "b", amenity="hot_water"),
    ]
    c = assess(votes, True, NOW, labels={"hot_water": "热水"})
    assert c.level == "scheduled"
    assert "近 3 天 2 人反映设施坏了（热水）" in zh(c)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "刚刚"),
        (119, "刚刚"),
        (20 * MIN, "20 分钟前"),
        (5 * HOUR, "5 小时前"),
        (50 * HOUR, "2 天前"),
    ],
)
def test_ago_in_chinese(seconds: float, words: str) -> None:
    assert ago_zh(seconds) == words


def test_a_vote_stamped_a_hair_after_now_still_counts() -> None:
    # stored times are rounded to the microsecond, sometimes up
    votes = [vote("closed", -0.0000005, d) for d in "abc"]
    assert queue_worthy(votes, NOW)
    assert assess([vote("open", -0.0000005)], True, NOW).level == "confirmed"


# -- the one-pass assessment against the rules written one after the other ------------------

_AGES = st.one_of(
    st.sampled_from(
        [0.0, -60.0, -60.5, -3600.0, 30.0, 119.0, 3600.0, HALF_LIFE_S, 86400.0, 86401.0]
        + [WINDOW_S, WINDOW_S + 1, WINDOW_S - 1, 2 * HALF_LIFE_S]
    ),
    st.floats(-7200.0, WINDOW_S + 7200.0, allow_nan=False),
)
_VOTES = st.builds(
    lambda state, ago, device, onsite, scheduled, amenity: Vote(
        NOW - ago, state, device, onsite, scheduled, amenity if state == "broken" else None
    ),
    st.sampled_from(["open", "closed", "locked", "broken"]),
    _AGES,
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.booleans(),
    st.sampled_from([True, False, None]),
    st.sampled_from([None, "", "toilet", "water", "charging"]),
)


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(_VOTES, max_size=12),
    st.sampled_from([True, False, None]),
    st.booleans(),
    st.sampled_from([None, {}, {"toilet": "厕所", "water": "饮水"}]),
    st.sampled_from([0.0, 30.0, 3600.0]),
    st.one_of(st.none(), _AGES),
)
def test_assess_is_the_rules_written_one_after_the_other(
    votes: list[Vote],
    open_now: bool | None,
    status_open: bool,
    labels: dict[str, str] | None,
    later: float,
    checked_ago: float | None,
) -> None:
    now = NOW + later
    kw: dict[str, Any] = {"status_open": status_open, "labels": labels}
    kw["settled_at"] = None if checked_ago is None else NOW - checked_ago
    fast = assess(votes, open_now, now, **kw)
    plain = assess_plain(votes, open_now, now, **kw)
    assert fast == plain
    assert [type(x) for x in fast] == [type(x) for x in plain]
