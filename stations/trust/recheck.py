"""Which stations staff should go and look at, and in which order to walk or drive to them.

A station is due for a visit when any of these holds (each is a reason on the worklist):
not verified by staff for :data:`STALE_DAYS` days (or never), riders make it ``doubtful``
(:mod:`stations.trust.rules`) since staff last checked it, a rider report waits in the
review queue, or it has no photo.

**Freshness from staff and riders.** ``freshness`` (``verified`` / ``stale`` / ``never``)
says only when staff last checked the record on site; rider evidence is the station's
``confidence``. The two meet here, in one written rule (:func:`unsettled_doubt`): a
station verified within 90 days is still due for a visit when riders made it ``doubtful``
*after* that check (its latest contradicting on-site vote is newer than ``verified_at``);
a staff check after the last such vote settles the doubt until riders contradict the
record again. The API keeps the three freshness states; the worklist says why a fresh
station is due with the ``doubtful`` reason.
The order is a round through the stops — a travelling-salesman tour on geodesic distances,
solved by OR-Tools' routing solver (a well-kept solver, not a home-made heuristic), from
the first stop or a given start, within a time limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from geodata.distance import geodesic_m
from stations.model import Station
from stations.trust.rules import Confidence

__all__ = [
    "FRESHNESS",
    "SETTLED_BY_VISIT",
    "STALE_DAYS",
    "Due",
    "due_stations",
    "freshness",
    "search_budget_s",
    "unsettled_doubt",
    "visiting_order",
]

STALE_DAYS = 90

#: Reason code → Chinese label (the worklist's words).
REASONS = {
    "never_verified": "从未核查",
    "stale": f"超过 {STALE_DAYS} 天未核查",
    "doubtful": "骑手反映可能不开放",
    "reported": "有待处理的群众反馈",
    "no_photo": "缺少门口照片",
}


#: The reasons a staff visit settles (已核查 sets ``verified_at``, and rule 8 of
#: :mod:`stations.trust.rules` settles the riders' doubt before it); a waiting report and a
#: missing photo stay until handled.
SETTLED_BY_VISIT = frozenset({"never_verified", "stale", "doubtful"})


#: Freshness state → Chinese label: how recently staff checked the record on site.
FRESHNESS = {
    "verified": f"{STALE_DAYS} 天内工作人员核查过",
    "stale": f"超过 {STALE_DAYS} 天未核查",
    "never": "工作人员从未核查",
}


def freshness(verified_at: datetime | None, now: datetime) -> str:
    """``verified`` within :data:`STALE_DAYS` days of ``now``, ``stale`` after, ``never``."""
    if verified_at is None:
        return "never"
    return "verified" if now - verified_at <= timedelta(days=STALE_DAYS) else "stale"


def unsettled_doubt(confidence: Confidence, verified_at: datetime | None) -> bool:
    """Whether riders' doubt is newer than the last staff check (see the module docstring).

    ``doubtful`` with its latest contradicting on-site vote after ``verified_at`` (or never
    verified): due for a visit. A check on site after that vote settles it.
    """
    if confidence.level != "doubtful":
        return False
    if verified_at is None or confidence.last_closed_at is None:
        return True
    return confidence.last_closed_at > verified_at.timestamp()


@dataclass(frozen=True)
class Due:
    """One stop of the worklist: the station, why it is due, when staff last checked it."""

    station: Station
    reasons: tuple[str, ...]
    verified_at: datetime | None


def due_stations(
    stations: Sequence[Station],
    *,
    verified: Mapping[int, datetime | None],
    doubtful: Callable[[Station], bool],
    reported: set[int],
    now: datetime,
    district: str | None = None,
    stale_days: int = STALE_DAYS,
) -> list[Due]:
    """The stations due for a visit (any reason), in ``stations``' order."""
    out = []
    limit = now - timedelta(days=stale_days)
    for s in stations:
        if district and s.data.district != district:
            continue
        reasons = []
        at = verified.get(s.id)
        if at is None:
            reasons.append("never_verified")
        elif at < limit:
            reasons.append("stale")
        if doubtful(s):
            reasons.append("doubtful")
        if s.id in reported:
            reasons.append("reported")
        if not s.data.photos:
            reasons.append("no_photo")
        if reasons:
            out.append(Due(s, tuple(reasons), at))
    return out


def visiting_order(
    lonlat: Sequence[tuple[float, float]],
    *,
    start: tuple[float, float] | None = None,
    time_limit_s: float | None = None,
) -> list[int]:
    """Positions of ``lonlat`` as a round: OR-Tools' routing solver on the geodesic distance
    matrix (metres), guided local search within ``time_limit_s``.

    Parameters
    ----------
    lonlat : sequence of (lon, lat)
        The stops, WGS-84.
    start : (lon, lat), optional
        Where staff set out and come back to (the union office, a chosen station): the
        solver's depot, so the round leaves from it and returns to it. Without it the
        round starts and ends at the first stop.
    time_limit_s : float, optional
        The solver's time budget; by default :func:`search_budget_s` of the round's size.

    Returns
    -------
    list of int
        Positions into ``lonlat``; of the two directions of the same loop, the one whose
        first stop is nearer the start.
    """
    points = list(lonlat) if start is None else [start, *lonlat]
    skip = 0 if start is None else 1
    n = len(points)
    if n <= 2:
        return list(range(len(lonlat)))
    budget = search_budget_s(n) if time_limit_s is None else time_limit_s
    order = [i - skip for i in _round(points, budget) if i >= skip]
    if start is not None and len(order) > 1:
        ends = np.asarray([lonlat[order[0]], lonlat[order[-1]]], float)
        near = geodesic_m(start[0], start[1], ends[:, 0], ends[:, 1])
        if near[1] < near[0]:
            order.reverse()
    return order


def search_budget_s(stops: int) -> float:
    """How long the solver searches a round of ``stops``: 0.1 s plus a second per 150
    stops, at most 2 s.

    Guided local search never stops by itself: it spends all the time it is given, though
    a district's round of a few dozen stops is settled long before a second is out, and a
    staff member on a phone waits for every page load. Rounds of a few hundred stops, where
    more search still shortens the tour, keep the full 2 s.
    """
    return min(2.0, 0.1 + stops / 150)


def _round(points: Sequence[tuple[float, float]], time_limit_s: float) -> list[int]:
    """A closed tour through ``points`` from point 0 (OR-Tools), as positions."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(points)
    lon = np.array([p[0] for p in points], float)
    lat = np.array([p[1] for p in points], float)
    matrix = np.rint(geodesic_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])).astype(
        np.int64
    )
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(matrix[manager.IndexToNode(i), manager.IndexToNode(j)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:  # pragma: no cover - a complete graph always has a tour
        return list(range(n))
    order, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return order
