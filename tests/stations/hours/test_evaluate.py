"""Opening hours are evaluated in the station's local time."""

from __future__ import annotations

from datetime import UTC, datetime

from stations.hours import check_hours, is_open


def test_utc_instant_is_converted_to_beijing_time() -> None:
    # 01:00 UTC is 09:00 in Beijing: inside 08:00-20:00 although 01:00 is not.
    at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert is_open("Mo-Fr 08:00-20:00", "open", at) is True
    assert is_open("Mo-Fr 08:00-20:00", "open", at, tz="Europe/London") is False


def test_closed_status_is_never_open_and_no_hours_is_unknown() -> None:
    at = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    assert is_open("24/7", "temporarily_closed", at) is False
    assert is_open("24/7", "closed", at) is False
    assert is_open("", "open", at) is None


def test_weekend_rule() -> None:
    saturday_noon = datetime(2026, 11, 28, 12, 0)  # naive = local
    assert is_open("Mo-Fr 08:00-20:00", "open", saturday_noon) is False
    assert is_open("Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00", "open", saturday_noon) is True


def test_check_hours() -> None:
    assert check_hours("Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00") is None
    assert check_hours("") is None
    assert "character" in (check_hours("Mo-Fr 25:99") or "")
