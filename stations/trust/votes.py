"""A station's recent rider votes, as staff read them before acting on a report.

The review queue says *that* riders found a station shut ("多位骑手在现场反映关门或进不去");
staff deciding what to do need *what* each said, when, whether at the door and within the
published hours (rule 3 of :mod:`stations.trust.rules`: a 关着 outside them does not count),
and how many different phones. Devices are stored only as salted hashes; here each becomes
a letter (手机 A, B, …) in the order it first appears in the list, so staff can tell three
phones from one phone tapping three times, and no hash leaves the service.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from stations.store.confirmations import ConfirmationRow
from stations.trust.rules import STATES, Confidence
from stations.vocabulary import AMENITIES

__all__ = ["Evidence", "StaffVote", "staff_votes"]


class StaffVote(NamedTuple):
    """One vote as the console and the staff API show it."""

    id: int
    at: datetime
    state: str
    amenity: str | None
    onsite: bool
    #: What the published hours said when it was cast (True open, False closed, None unknown).
    scheduled: bool | None
    #: 手机 A, B, … (the order the list first shows each device in).
    phone: str

    @property
    def said_zh(self) -> str:
        """What the rider said in Chinese: 关着, or 设施坏了（微波炉）."""
        said = STATES.get(self.state, self.state)
        if self.amenity:
            said += f"（{AMENITIES.get(self.amenity, self.amenity)}）"
        return said

    def as_dict(self) -> dict[str, Any]:
        """The vote as JSON (``GET /api/v1/stations/{id}/confirmations``)."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "state": self.state,
            "amenity": self.amenity,
            "said_zh": self.said_zh,
            "onsite": self.onsite,
            "scheduled": self.scheduled,
            "phone": self.phone,
        }


def _letter(n: int) -> str:
    """The letters of the n-th phone: 0 is A, 25 is Z, 26 is AA."""
    letters = string.ascii_uppercase
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = letters[r] + out
    return out


def staff_votes(rows: Sequence[ConfirmationRow]) -> list[StaffVote]:
    """``rows`` (newest first, as :meth:`SqlConfirmationStore.for_station` gives them) for
    staff: times as UTC datetimes, devices as letters.
    """
    phones: dict[str, str] = {}
    out = []
    for row in rows:
        v = row.vote
        phone = phones.setdefault(v.device, _letter(len(phones)))
        at = datetime.fromtimestamp(v.at, UTC)
        out.append(StaffVote(row.id, at, v.state, v.amenity, v.onsite, v.scheduled, phone))
    return out


class Evidence(NamedTuple):
    """A station's rider evidence for staff: the confidence riders are shown now, and the
    latest votes, newest first.
    """

    station_id: int
    confidence: Confidence
    votes: list[StaffVote]

    @property
    def phones(self) -> int:
        """How many different phones the votes came from."""
        return len({v.phone for v in self.votes})

    def reasons_text(self, lang: str) -> str:
        """The confidence's reasons in ``lang``, in one line."""
        return ("；" if lang == "zh-CN" else "; ").join(
            r.text(lang) for r in self.confidence.reasons
        )

    def as_dict(self) -> dict[str, Any]:
        """The evidence as JSON (``GET /api/v1/stations/{id}/confirmations``)."""
        level = self.confidence.level
        return {
            "station_id": self.station_id,
            "confidence": level,
            "confidence_zh": self.confidence.level_text("zh-CN"),
            "confidence_reasons": [r.as_dict() for r in self.confidence.reasons],
            "phones": self.phones,
            "confirmations": [v.as_dict() for v in self.votes],
        }
