"""Votes as staff read them: each device a letter, the same device the same letter."""

from __future__ import annotations

from stations.store.confirmations import ConfirmationRow
from stations.trust.rules import Vote
from stations.trust.votes import staff_votes


def test_each_phone_is_one_letter_in_the_order_first_shown() -> None:
    devices = ["h1", "h2", "h1", "h3"] + [f"x{i}" for i in range(25)]
    rows = [
        ConfirmationRow(100 - i, 7, Vote(1_765_000_000.0 - i, "closed", d, True, True, None))
        for i, d in enumerate(devices)
    ]
    votes = staff_votes(rows)
    assert [v.phone for v in votes[:4]] == ["A", "B", "A", "C"]
    assert votes[-1].phone == "AB"  # 28 phones: after Z comes AA, AB
    assert len({v.phone for v in votes}) == 28
    assert "h1" not in repr([v.as_dict() for v in votes])  # the hash never leaves


def test_a_broken_amenity_is_said_in_chinese() -> None:
    row = ConfirmationRow(1, 7, Vote(1_765_000_000.0, "broken", "h", False, None, "microwave"))
    [vote] = staff_votes([row])
    assert vote.said_zh == "设施坏了（微波炉）"
    assert vote.as_dict()["scheduled"] is None and vote.as_dict()["onsite"] is False
