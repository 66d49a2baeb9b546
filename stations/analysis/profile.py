"""Coverage through the day: each hour of a weekday and of a Sunday.

Why: a rider at 22:00 needs a station open at 22:00.  The reach pairs (which station reaches
which demand) are found once for all counted-at-some-time stations; each hour then only
masks the stations open at that hour, so 48 hours cost about one coverage run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from geodata.reach import as_reach, reachable_pairs

if TYPE_CHECKING:
    from stations.analysis.service import Analysis

__all__ = ["day_profile", "open_matrix"]


def _days(base: date) -> tuple[date, date]:
    """The Wednesday and the Sunday of ``base``'s week (a plain weekday and the weekend)."""
    monday = base - timedelta(days=base.weekday())
    return monday + timedelta(days=2), monday + timedelta(days=6)


def open_matrix(analysis: Analysis, times: list[datetime], tz: str) -> np.ndarray:
    """(times × stations): True open, False closed; unknown hours count as closed (NaN-free)."""
    from stations.hours import is_open

    out = np.zeros((len(times), len(analysis.stations)), dtype=bool)
    for j, st in enumerate(analysis.stations):
        for i, t in enumerate(times):
            out[i, j] = is_open(st.data.opening_hours or "", st.data.status, t, tz) is True
    return out


def day_profile(
    analysis: Analysis, base: datetime | None = None, tz: str = "Asia/Shanghai"
) -> list[dict[str, Any]]:
    """One row per hour: demand share within reach of ≥1 and ≥2 open stations, weekday and
    Sunday, and how many stations are open then (unknown hours are never counted open).

    ``analysis`` should be built without ``at`` (all stations whose status is open); the
    what-if closures still apply.
    """
    from zoneinfo import ZoneInfo

    day = (base or datetime.now(ZoneInfo(tz))).date()
    weekday, sunday = _days(day)
    times = [datetime(d.year, d.month, d.day, h, 30) for d in (weekday, sunday) for h in range(24)]
    demand = analysis.demand
    si, pj = reachable_pairs(
        as_reach(analysis.reach), analysis.lon, analysis.lat, demand.lon, demand.lat
    )
    opened = open_matrix(analysis, times, tz)
    w = demand.weight
    total = float(w.sum()) or 1.0
    rows: list[dict[str, Any]] = []
    for h in range(24):
        row: dict[str, Any] = {"hour 时段": f"{h:02d}:00–{h + 1:02d}:00"}
        for label, k in (("工作日 weekday", h), ("周日 Sunday", 24 + h)):
            live = opened[k][si]
            count = np.bincount(pj[live], minlength=len(demand))
            row[f"{label} ≥1"] = f"{w[count >= 1].sum() / total:.1%}"
            row[f"{label} ≥2"] = f"{w[count >= 2].sum() / total:.1%}"
            row[f"{label} 开放站数 open"] = int(opened[k].sum())
        rows.append(row)
    return rows
