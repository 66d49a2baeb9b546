"""The written-down rules of rider evidence: how confirmations fade, and what they mean.

A rider at the door taps 开着 / 关着 / 进不去 / 设施坏了. Each tap is a :class:`Vote`. These
rules turn a station's recent votes and what its published hours say now into a
:class:`Confidence` for "open now" — ``confirmed``, ``scheduled``, ``doubtful`` or ``unknown``
— with reasons in words a rider reads. They never change the stored status or hours: only a
staff member does that, from the review queue.

The rules (tested one by one in ``tests/stations/trust/test_rules.py``):

1. **Where.** A vote cast within :data:`ONSITE_RADIUS_M` (200 m) of the station is *on-site*
   and weighs 1. A vote from farther away, or without a position, is kept as *remote* and
   weighs :data:`REMOTE_WEIGHT` (¼): phone fixes between tall buildings or under an overpass
   are often 100–500 m off, and refusing a rider who stands at a locked door would teach
   them the button does not work; but a remote vote alone can never confirm a station, make
   it doubtful, or put it in the review queue.
2. **Fading.** A vote's weight halves every :data:`HALF_LIFE_S` (3 hours); votes older than
   :data:`WINDOW_S` (3 days) are forgotten. A device counts once per station: only its latest
   vote is weighed (and the store takes one vote per device per station per hour).
3. **Contradiction.** A 关着/进不去 vote contradicts the record only when the published hours
   said open (or did not say) at the moment it was cast; one cast after closing time agrees
   with the hours and is no evidence against the station.
4. **Doubtful, and queued for staff.** Contradicting on-site votes from
   :data:`DOUBT_DEVICES` (3) different devices within :data:`DOUBT_WINDOW_S` (24 h), with no
   on-site 开着 after them, make the station ``doubtful`` and put it in the reports queue.
5. **Doubtful by weight.** Contradicting on-site evidence whose faded weight is at least
   :data:`DOUBT_SCORE` (1.5, so at least two fresh votes from different devices) and more
   than twice the faded weight of 开着 votes makes it ``doubtful`` too (shown, not queued).
6. **Confirmed.** The latest on-site vote is 开着, its faded weight is still at least
   :data:`CONFIRM_WEIGHT` (½, i.e. cast within the last 3 hours), the hours do not say closed
   now, and the station's status is open.
7. Otherwise ``scheduled`` when the hours (or the status) tell open-now, else ``unknown``.
   设施坏了 votes never change the confidence; they are shown as a reason.
8. **Settled by staff.** A staff member's check on site (the station's ``verified_at``)
   settles what riders reported against the record before it: 关着/进不去/设施坏了 votes cast
   at or before the check count toward neither doubt nor the queue (rules 4, 5) and are not
   told as reasons; 开着 votes agree with the check and still count. The latest 关着 time
   stays what it was (a fact, shown as ``last_confirmed_closed_at``).
9. **Reasons in order.** The reasons say first what decided the verdict: a doubtful
   station's 关门/进不去 counts come before any earlier 开着, so a list that shows one
   reason never reads "可能不开放 · 刚刚有骑手确认开放".
10. **开着 outside the hours.** The latest on-site 开着, cast while the published hours said
   closed, is told as such ("刚刚有骑手说开着（不在登记的开放时间内）", code
   ``open_outside_hours``), never as a confirmation beside the hours' 休息中.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "CONFIRM_WEIGHT",
    "DOUBT_DEVICES",
    "DOUBT_SCORE",
    "DOUBT_WINDOW_S",
    "HALF_LIFE_S",
    "LEVELS",
    "ONSITE_RADIUS_M",
    "REMOTE_WEIGHT",
    "SKEW_S",
    "STATES",
    "VOTE_INTERVAL_S",
    "WINDOW_S",
    "Confidence",
    "Reason",
    "Vote",
    "assess",
    "assess_plain",
    "queue_worthy",
    "schedule_only",
]

#: Vote state → what the rider tapped.
STATES: dict[str, str] = {
    "open": "开着",
    "closed": "关着",
    "locked": "进不去",
    "broken": "设施坏了",
}
#: Confidence level → Chinese label.
LEVELS: dict[str, str] = {
    "confirmed": "骑手确认开放",
    "scheduled": "按开放时间",
    "doubtful": "可能不开放",
    "unknown": "开放情况未知",
}
#: Confidence level → English words (the console in English).
LEVELS_EN: dict[str, str] = {
    "confirmed": "confirmed open by riders",
    "scheduled": "by its opening hours",
    "doubtful": "may not be open",
    "unknown": "unknown",
}

ONSITE_RADIUS_M = 200.0
REMOTE_WEIGHT = 0.25
HALF_LIFE_S = 3 * 3600.0
WINDOW_S = 3 * 86400.0
VOTE_INTERVAL_S = 3600.0
CONFIRM_WEIGHT = 0.5
DOUBT_DEVICES = 3
DOUBT_WINDOW_S = 86400.0
DOUBT_SCORE = 1.5

_AGAINST = frozenset({"closed", "locked"})
# Votes stamped up to this far "in the future" still count: stored times are rounded to the
# microsecond (up, sometimes) and replicas' clocks differ by a little.
SKEW_S = 60.0


def _recent(v: Vote, now: float) -> bool:
    return -SKEW_S <= now - v.at <= WINDOW_S


def _unsettled(votes: Iterable[Vote], settled_at: float | None) -> list[Vote]:
    """Rule 8: the votes a staff check at ``settled_at`` leaves standing."""
    if settled_at is None:
        return list(votes)
    return [v for v in votes if v.state == "open" or v.at > settled_at]


@dataclass(frozen=True, slots=True)
class Vote:
    """One rider's tap at (or near) a station.

    ``at`` is a POSIX time (seconds); ``device`` the salted hash of the page's random id;
    ``scheduled`` what the published hours said at ``at`` (True open, False closed, None
    unknown), kept so rule 3 does not depend on later edits of the hours.
    """

    at: float
    state: str
    device: str
    onsite: bool
    scheduled: bool | None = None
    amenity: str | None = None

    def weight(self, now: float) -> float:
        """The faded weight at ``now`` (rules 1 and 2)."""
        base = 1.0 if self.onsite else REMOTE_WEIGHT
        age = max(0.0, now - self.at)
        return 0.0 if age > WINDOW_S else base * 0.5 ** (age / HALF_LIFE_S)

    @property
    def contradicts(self) -> bool:
        """Rule 3: a 关着/进不去 cast while the hours said open (or did not say)."""
        return self.state in _AGAINST and self.scheduled is not False


class Reason(NamedTuple):
    """Why: a stable code, English and Chinese words."""

    code: str
    message: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        """The reason as JSON (code and both languages)."""
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh}

    def text(self, lang: str) -> str:
        """The words in ``lang`` (``zh-CN`` or ``en``), as a field error gives its message."""
        return self.message_zh if lang == "zh-CN" else self.message


class Confidence(NamedTuple):
    """The verdict on open-now, its reasons, and the latest on-site confirmations."""

    level: str
    reasons: tuple[Reason, ...]
    last_open_at: float | None = None
    last_closed_at: float | None = None
    queue: bool = False  # rule 4: the reports queue should hear of it

    def level_text(self, lang: str) -> str:
        """The level in words, in ``lang`` (``zh-CN`` or ``en``)."""
        return (LEVELS if lang == "zh-CN" else LEVELS_EN)[self.level]


def ago_zh(seconds: float) -> str:
    """``刚刚``, ``20 分钟前``, ``3 小时前``, ``2 天前``."""
    s = max(0.0, seconds)
    if s < 120:
        return "刚刚"
    if s < 3600:
        return f"{int(s // 60)} 分钟前"
    if s < 86400:
        return f"{int(s // 3600)} 小时前"
    return f"{int(s // 86400)} 天前"


def _ago_en(seconds: float) -> str:
    s = max(0.0, seconds)
    if s < 120:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} days ago"


_SCHEDULE = Reason("schedule", "from the published opening hours", "依据登记的开放时间")
_NO_HOURS = Reason("no_hours", "opening hours unknown", "开放时间未知")


def schedule_only(open_now: bool | None) -> Confidence:
    """The verdict without any rider evidence (rule 7)."""
    if open_now is None:
        return Confidence("unknown", (_NO_HOURS,))
    return Confidence("scheduled", (_SCHEDULE,))


def _latest_per_device(votes: Iterable[Vote], now: float) -> list[Vote]:
    latest: dict[str, Vote] = {}
    for v in votes:
        if not _recent(v, now):
            continue
        seen = latest.get(v.device)
        if seen is None or v.at >= seen.at:
            latest[v.device] = v
    return sorted(latest.values(), key=lambda v: v.at)


def queue_worthy(votes: Sequence[Vote], now: float, settled_at: float | None = None) -> bool:
    """Rule 4 alone: three devices' contradicting on-site votes in 24 h, no 开着 since (and,
    rule 8, none of them settled by a staff check at ``settled_at``).
    """
    onsite = [v for v in _unsettled(votes, settled_at) if v.onsite and _recent(v, now)]
    last_open = max((v.at for v in onsite if v.state == "open"), default=None)
    devices = {
        v.device
        for v in onsite
        if v.contradicts
        and now - v.at <= DOUBT_WINDOW_S
        and (last_open is None or v.at > last_open)
    }
    return len(devices) >= DOUBT_DEVICES


def _count_phrase(votes: Sequence[Vote], state: str, now: float) -> Reason | None:
    if state not in ("closed", "locked"):
        return None
    devices = {v.device for v in votes if v.onsite and v.state == state and now - v.at <= WINDOW_S}
    return _phrase(state, len(devices))


def _riders(n: int) -> str:
    """The riders counted, in English: 1 rider, 3 riders."""
    return f"{n} rider" if n == 1 else f"{n} riders"


def _broken_phrase(votes: Sequence[Vote], now: float, labels: dict[str, str]) -> Reason | None:
    broken = [v for v in votes if v.onsite and v.state == "broken" and now - v.at <= WINDOW_S]
    if not broken:
        return None
    return _broken_reason(
        len({v.device for v in broken}), {v.amenity for v in broken if v.amenity}, labels
    )


def _broken_reason(n: int, amenities: set[str], labels: dict[str, str]) -> Reason:
    """The 设施坏了 reason: ``n`` devices reported ``amenities`` broken."""
    what = sorted(amenities)
    zh = "、".join(labels.get(a, a) for a in what)
    return Reason(
        "reported_broken",
        f"{_riders(n)} said something is broken in 3 days"
        + (f" ({', '.join(what)})" if what else ""),
        f"近 3 天 {n} 人反映设施坏了" + (f"（{zh}）" if zh else ""),
    )


def _level(
    open_now: bool | None,
    status_open: bool,
    queue: bool,
    against: float,
    support: float,
    last_onsite: Vote | None,
    now: float,
) -> str:
    """The confidence level once the votes are weighed (rules 3 and 4, then confirmation)."""
    if open_now is not False and (queue or (against >= DOUBT_SCORE and against > 2 * support)):
        return "doubtful"
    if (
        status_open
        and open_now is not False
        and last_onsite is not None
        and last_onsite.state == "open"
        and last_onsite.weight(now) >= CONFIRM_WEIGHT
    ):
        return "confirmed"
    return "unknown" if open_now is None else "scheduled"


def _confirmed_open(last: Vote, now: float) -> Reason:
    """The latest on-site 开着. One cast while the published hours said closed says so: beside
    the 休息中 the hours give, "刚刚有骑手确认开放" read as a contradiction.
    """
    ago_en, ago = _ago_en(now - last.at), ago_zh(now - last.at)
    if last.scheduled is False:
        return Reason(
            "open_outside_hours",
            f"a rider found it open {ago_en}, outside its published hours",
            f"{ago}有骑手说开着（不在登记的开放时间内）",
        )
    return Reason("confirmed_open", f"a rider confirmed it open {ago_en}", f"{ago}有骑手确认开放")


def assess_plain(
    votes: Sequence[Vote],
    open_now: bool | None,
    now: float,
    *,
    status_open: bool = True,
    labels: dict[str, str] | None = None,
    settled_at: float | None = None,
) -> Confidence:
    """The confidence of a station's open-now from its votes (any order) at ``now``: the
    rules written one after the other, the reference :func:`assess` is tested against.

    Parameters
    ----------
    votes : sequence of Vote
        The station's recent votes; older than :data:`WINDOW_S` are ignored.
    open_now : bool or None
        What the published hours and status say now (``StationCatalog.open_now``).
    now : float
        POSIX seconds.
    status_open : bool
        The stored status is ``open`` (a closed station is never "confirmed").
    labels : dict, optional
        Amenity code → Chinese label, for the 设施坏了 reason.
    settled_at : float, optional
        When staff last checked the station on site (POSIX seconds; rule 8).
    """
    if not votes:
        return schedule_only(open_now)
    last_closed = max(
        (v.at for v in votes if v.onsite and _recent(v, now) and v.state in _AGAINST),
        default=None,
    )
    votes = _unsettled(votes, settled_at)
    onsite = [v for v in votes if v.onsite and _recent(v, now)]
    last_open_vote = max((v for v in onsite if v.state == "open"), key=lambda v: v.at, default=None)
    last_open = None if last_open_vote is None else last_open_vote.at
    reasons: list[Reason] = []
    queue = queue_worthy(votes, now)
    latest = _latest_per_device(votes, now)
    against = sum(v.weight(now) for v in latest if v.onsite and v.contradicts)
    support = sum(v.weight(now) for v in latest if v.state == "open")
    last_onsite = max((v for v in onsite if v.state != "broken"), key=lambda v: v.at, default=None)
    level = _level(open_now, status_open, queue, against, support, last_onsite, now)
    for state in ("closed", "locked"):
        phrase = _count_phrase(votes, state, now)
        if phrase is not None:
            reasons.append(phrase)
    if last_open_vote is not None:  # after the reports that make a station doubtful, else first
        reasons.insert(
            len(reasons) if level == "doubtful" else 0, _confirmed_open(last_open_vote, now)
        )
    broken = _broken_phrase(votes, now, labels or {})
    if broken is not None:
        reasons.append(broken)
    if level in ("scheduled", "unknown"):
        reasons.append(_SCHEDULE if level == "scheduled" else _NO_HOURS)
    return Confidence(level, tuple(reasons), last_open, last_closed, queue)


def _phrase(state: str, n: int) -> Reason | None:
    """:func:`_count_phrase`'s reason for ``n`` devices (none for no device)."""
    if not n:
        return None
    if state == "closed":
        return Reason(
            "reported_closed", f"{_riders(n)} said closed in 3 days", f"近 3 天 {n} 人反映关门"
        )
    return Reason(
        "reported_locked",
        f"{_riders(n)} could not get in in 3 days",
        f"近 3 天 {n} 人反映进不去",
    )


def assess(
    votes: Sequence[Vote],
    open_now: bool | None,
    now: float,
    *,
    status_open: bool = True,
    labels: dict[str, str] | None = None,
    settled_at: float | None = None,
) -> Confidence:
    """The confidence of a station's open-now from its votes (any order) at ``now``.

    What :func:`assess_plain` gives, read from the votes in one pass instead of one pass per
    rule and reason: every rider's tap is weighed on the event loop that answers everyone
    else, and the same station's board entry is assessed again after each new vote. The
    parameters are :func:`assess_plain`'s.
    """
    if not votes:
        return schedule_only(open_now)
    last_open: float | None = None
    last_open_vote: Vote | None = None
    last_closed: float | None = None
    last_onsite: Vote | None = None  # the first of the latest on-site non-broken votes
    contra: list[Vote] = []  # recent on-site contradicting votes (rule 4)
    latest: dict[str, Vote] = {}
    closed: set[str] = set()
    locked: set[str] = set()
    broken: set[str] = set()
    amenities: set[str] = set()
    for v in votes:
        age = now - v.at
        recent = -SKEW_S <= age <= WINDOW_S
        if settled_at is not None and v.at <= settled_at and v.state != "open":
            # rule 8: settled by the staff check; only the latest 关着 time is kept
            if v.onsite and recent and v.state in _AGAINST:
                if last_closed is None or v.at > last_closed:
                    last_closed = v.at
            continue
        if v.onsite:
            state = v.state
            if age <= WINDOW_S:
                if state == "closed":
                    closed.add(v.device)
                elif state == "locked":
                    locked.add(v.device)
                elif state == "broken":
                    broken.add(v.device)
                    if v.amenity:
                        amenities.add(v.amenity)
            if recent:
                if state == "open":
                    if last_open is None or v.at > last_open:
                        last_open = v.at
                        last_open_vote = v
                elif state in _AGAINST:
                    if last_closed is None or v.at > last_closed:
                        last_closed = v.at
                    if v.scheduled is not False:
                        contra.append(v)
                if state != "broken" and (last_onsite is None or v.at > last_onsite.at):
                    last_onsite = v
        if recent:
            seen = latest.get(v.device)
            if seen is None or v.at >= seen.at:
                latest[v.device] = v
    queue = (
        len(
            {
                v.device
                for v in contra
                if now - v.at <= DOUBT_WINDOW_S and (last_open is None or v.at > last_open)
            }
        )
        >= DOUBT_DEVICES
    )
    ordered = sorted(latest.values(), key=lambda v: v.at)
    against = sum(v.weight(now) for v in ordered if v.onsite and v.contradicts)
    support = sum(v.weight(now) for v in ordered if v.state == "open")
    level = _level(open_now, status_open, queue, against, support, last_onsite, now)
    reasons: list[Reason] = []
    for state, devices in (("closed", closed), ("locked", locked)):
        phrase = _phrase(state, len(devices))
        if phrase is not None:
            reasons.append(phrase)
    if last_open_vote is not None:
        reasons.insert(
            len(reasons) if level == "doubtful" else 0, _confirmed_open(last_open_vote, now)
        )
    if broken:
        reasons.append(_broken_reason(len(broken), amenities, labels or {}))
    if level in ("scheduled", "unknown"):
        reasons.append(_SCHEDULE if level == "scheduled" else _NO_HOURS)
    return Confidence(level, tuple(reasons), last_open, last_closed, queue)
