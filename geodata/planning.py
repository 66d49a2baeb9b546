"""Where to open new stations: maximal covering and fewest-sites set cover.

``plan_sites`` chooses N new sites from candidates so that the demand newly brought within
reach is as large as possible, keeping the existing stations (the maximal covering location
problem with fixed facilities).  ``min_sites_for_coverage`` finds the fewest new sites that
lift demand coverage to a target share.

How the instance stays small (and why it is fast):

* demand already covered by an existing station is dropped — it cannot be gained;
* (candidate, demand) pairs come from KD-tree ball queries (:func:`geodata.reach.reachable_pairs`),
  never from a dense distance matrix;
* demand units with the same set of covering candidates are merged (weights summed), and
  candidates that reach no uncovered demand are left out.

The exact method is an integer programme solved by CBC through pulp (single thread, so the
same input gives the same answer); ``method="greedy"`` is a lazy greedy for very large
instances, reported with its gap to the LP-relaxation bound (solved by HiGHS through SciPy).
Chosen sites are listed in greedy order of marginal gain within the chosen set (ties by
candidate index), each with the cumulative covered demand.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csc_matrix, csr_matrix

from geodata.coverage import check_points, covered_mask
from geodata.demand import Demand
from geodata.errors import GeodataError
from geodata.hexgrid import hex_grid
from geodata.reach import Reach, as_reach, reachable_pairs

__all__ = [
    "DEFAULT_MIN_GAIN_SHARE",
    "EXACT_MAX_PAIRS",
    "drop_negligible",
    "plan_backup_sites",
    "PlanResult",
    "Site",
    "default_candidates",
    "min_sites_for_coverage",
    "plan_sites",
]

EXACT_MAX_PAIRS = 150_000
#: Wall-clock seconds CBC may spend proving a plan optimal. Most instances solve in well under
#: a second, but a few (hundreds of sites on a dense grid) take minutes — one such request
#: would hold an API worker that long. Past the limit the plan falls back to the greedy
#: answer with its LP bound, and the note says so.
EXACT_TIME_LIMIT_S = 10.0
"""``method="auto"`` solves exactly up to this many (candidate, demand-group) pairs."""

DEFAULT_MIN_GAIN_SHARE = 0.01
"""A new site must newly cover at least this share of the total demand (1 %).

Why 1 %: coverage is reported to the union leadership in whole percentage points; a site
that adds less does not move the figure they read, while it costs a full station (host,
equipment, upkeep).  It also sits above the noise of the demand layers at hand (synthetic or
uniform).  Settable per run; 0 proposes every site that adds anything.
"""

_METHODS = ("auto", "exact", "greedy")
_DOMINANCE_MAX_PAIRS = 5_000_000


@dataclass(frozen=True)
class Site:
    """One chosen new site, in rank order."""

    rank: int
    candidate_index: int
    lon: float
    lat: float
    marginal_gain: float
    cumulative_covered: float
    cumulative_share: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "rank": self.rank,
            "candidate_index": self.candidate_index,
            "lon": self.lon,
            "lat": self.lat,
            "marginal_gain": self.marginal_gain,
            "cumulative_covered": self.cumulative_covered,
            "cumulative_share": self.cumulative_share,
        }


@dataclass(frozen=True)
class PlanResult:
    """The outcome of a planning run.

    ``new_covered_weight`` is the demand weight the new sites bring within reach;
    ``covered_weight`` adds what the existing stations already cover.  For the greedy method
    ``bound`` is a bound on the optimum (max. new weight for ``plan_sites``, min. number of
    sites for ``min_sites_for_coverage``) and ``gap`` the relative distance to it; an exact
    solution has ``gap == 0``.  ``bound_kind`` says how it was obtained: ``"lp"`` — the LP
    relaxation solved by HiGHS; ``"lagrangian"`` — for instances too big for that, the best
    Lagrangian-relaxation bound found by subgradient steps (never tighter than the LP bound,
    so the reported gap is if anything too large).
    """

    sites: list[Site]
    method: str
    n_requested: int | None
    target_share: float | None
    new_covered_weight: float
    existing_covered_weight: float
    covered_weight: float
    total_weight: float
    covered_share: float
    bound: float | None
    gap: float
    n_candidates: int
    n_useful_candidates: int
    n_uncovered_demand: int
    note: str = ""
    bound_kind: str | None = None
    stats: dict[str, float] = field(default_factory=dict, repr=False)
    min_gain_weight: float = 0.0
    negligible_sites: int = 0
    best_negligible_gain: float | None = None

    @property
    def candidate_indices(self) -> list[int]:
        """Chosen candidate indices in rank order."""
        return [s.candidate_index for s in self.sites]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, sites in rank order."""
        return {
            "method": self.method,
            "n_requested": self.n_requested,
            "target_share": self.target_share,
            "new_covered_weight": self.new_covered_weight,
            "existing_covered_weight": self.existing_covered_weight,
            "covered_weight": self.covered_weight,
            "total_weight": self.total_weight,
            "covered_share": self.covered_share,
            "bound": self.bound,
            "bound_kind": self.bound_kind,
            "gap": self.gap,
            "n_candidates": self.n_candidates,
            "n_useful_candidates": self.n_useful_candidates,
            "n_uncovered_demand": self.n_uncovered_demand,
            "note": self.note,
            "min_gain_weight": self.min_gain_weight,
            "negligible_sites": self.negligible_sites,
            "best_negligible_gain": self.best_negligible_gain,
            "sites": [s.to_dict() for s in self.sites],
        }


@dataclass(frozen=True)
class _Instance:
    """The reduced covering instance: groups of uncovered demand × useful candidates."""

    cover: csc_matrix  # (groups × useful candidates), 1 where the candidate reaches the group
    group_weight: NDArray[np.float64]
    useful: NDArray[np.intp]  # original candidate index of each column
    total_weight: float
    existing_weight: float
    n_uncovered: int

    @property
    def rows(self) -> csr_matrix:
        return self.cover.tocsr()


def _check_method(method: str) -> str:
    if method not in _METHODS:
        raise GeodataError.from_catalog(
            "method",
            "method must be one of {methods}, got {given}",
            methods=", ".join(_METHODS),
            given=repr(method),
        )
    return method


def _build(
    demand: Demand,
    ex_lon: NDArray[np.float64],
    ex_lat: NDArray[np.float64],
    c_lon: NDArray[np.float64],
    c_lat: NDArray[np.float64],
    reach: Reach,
) -> _Instance:
    w = demand.weight
    total = float(w.sum())
    covered = covered_mask(reach, ex_lon, ex_lat, demand.lon, demand.lat)
    existing = float(w[covered].sum())
    unc = np.flatnonzero(~covered & (w > 0))
    ci, dj = reachable_pairs(reach, c_lon, c_lat, demand.lon[unc], demand.lat[unc])
    if ci.size == 0:
        empty = csc_matrix((0, 0))
        return _Instance(empty, np.zeros(0), np.zeros(0, np.intp), total, existing, unc.size)
    useful, col = np.unique(ci, return_inverse=True)
    rows_used, row = np.unique(dj, return_inverse=True)
    m = csr_matrix(
        (np.ones(ci.size), (row.ravel(), col.ravel())), shape=(rows_used.size, useful.size)
    )
    m.sum_duplicates()
    m.sort_indices()
    # merge demand units with identical candidate sets: two independent 64-bit hashes of the
    # column set (collision odds ~2⁻¹²⁸) plus the set size identify a row
    rng = np.random.default_rng(20240601)
    salts = rng.integers(1, 2**63 - 1, size=(2, useful.size), dtype=np.uint64)
    lens = np.diff(m.indptr)
    h = []
    for s in salts:
        vals = s[m.indices]
        with np.errstate(over="ignore"):
            acc = np.add.reduceat(vals, m.indptr[:-1]) if vals.size else np.zeros(0, np.uint64)
        h.append(acc)
    keys = np.column_stack([h[0], h[1], lens.astype(np.uint64)])
    _, first, grp = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    grp = grp.ravel()
    gw = np.bincount(grp, w[unc][rows_used], minlength=first.size).astype(float)
    cover = m[first].tocsc()
    keep = _undominated(cover, useful)
    return _Instance(
        cover[:, keep], gw, useful[keep].astype(np.intp), total, existing, int(unc.size)
    )


def _undominated(cover: csc_matrix, useful: NDArray[np.intp]) -> NDArray[np.intp]:
    """Columns not dominated by another: a candidate whose demand groups are a subset of
    another's (strict, or equal with a lower candidate index) can be swapped for it without
    losing coverage, so the optimum never needs it.
    """
    size = np.diff(cover.indptr)
    row_len = np.diff(cover.tocsr().indptr)
    if int((row_len.astype(np.int64) ** 2).sum()) > _DOMINANCE_MAX_PAIRS:
        return np.arange(cover.shape[1])  # too many overlapping pairs to list: keep all
    overlap = (cover.T @ cover).tocoo()  # shared groups of every pair of candidates
    j, k = overlap.row, overlap.col
    dominated_by = (
        (j != k)
        & (overlap.data == size[j])
        & ((size[k] > size[j]) | ((size[k] == size[j]) & (useful[k] < useful[j])))
    )
    out = np.ones(cover.shape[1], dtype=bool)
    out[j[dominated_by]] = False
    return np.flatnonzero(out)


def _greedy(
    inst: _Instance,
    n_new: int | None,
    need: float | None,
    cols: list[int] | None = None,
) -> list[tuple[int, float]]:
    """Lazy greedy: repeatedly the column of largest marginal gain (ties: lower candidate
    index) until ``n_new`` columns, ``need`` weight, or no gain is left.

    Gains only shrink as demand gets covered (submodularity), so a popped column whose
    refreshed gain still beats the next entry is the true maximum: the sequence equals plain
    greedy's at a fraction of the work.  Gains are exactly rounded sums (``math.fsum``) so
    equal gains tie exactly.  With ``cols``, only those columns are considered — this ranks
    an already chosen set.
    """
    cover = inst.cover
    gw = inst.group_weight
    open_ = np.ones(cover.shape[0], dtype=bool)

    def gain_of(c: int) -> float:
        rows = cover.indices[cover.indptr[c] : cover.indptr[c + 1]]
        return math.fsum(gw[rows][open_[rows]].tolist())

    pool = range(cover.shape[1]) if cols is None else cols
    heap = [(-gain_of(c), int(inst.useful[c]), c) for c in pool]
    heapq.heapify(heap)
    out: list[tuple[int, float]] = []
    got = 0.0
    while heap:
        if n_new is not None and len(out) >= n_new:
            break
        if need is not None and got >= need:
            break
        _, idx, c = heapq.heappop(heap)
        gain = gain_of(c)
        if gain <= 0:
            continue
        if heap and (-gain, idx) > heap[0][:2]:
            heapq.heappush(heap, (-gain, idx, c))  # stale: re-insert with its current gain
            continue
        out.append((c, gain))
        open_[cover.indices[cover.indptr[c] : cover.indptr[c + 1]]] = False
        got += gain
    return out


def _lp_max_bound(inst: _Instance, n_new: int) -> float:
    """LP-relaxation bound of the maximal covering instance (HiGHS via SciPy)."""
    from scipy.optimize import linprog
    from scipy.sparse import bmat, identity
    from scipy.sparse import csr_matrix as _csr

    g, c = inst.cover.shape
    a_cov = bmat([[-inst.cover, identity(g, format="csr")]])
    a_cnt = _csr(np.r_[np.ones(c), np.zeros(g)][None, :])
    res = linprog(
        np.r_[np.zeros(c), -inst.group_weight],
        A_ub=bmat([[a_cov], [a_cnt]]).tocsr(),
        b_ub=np.r_[np.zeros(g), n_new],
        bounds=(0, 1),
        method="highs",
    )
    if res.status != 0:
        raise GeodataError(f"LP bound failed: {res.message}", field="method")
    return float(-res.fun)


def _lp_min_bound(inst: _Instance, need: float) -> float:
    """LP-relaxation lower bound on the number of sites reaching ``need`` new weight."""
    from scipy.optimize import linprog
    from scipy.sparse import bmat, identity
    from scipy.sparse import csr_matrix as _csr

    g, c = inst.cover.shape
    a_cov = bmat([[-inst.cover, identity(g, format="csr")]])
    a_need = _csr(np.r_[np.zeros(c), -inst.group_weight][None, :])
    res = linprog(
        np.r_[np.ones(c), np.zeros(g)],
        A_ub=bmat([[a_cov], [a_need]]).tocsr(),
        b_ub=np.r_[np.zeros(g), -need],
        bounds=(0, 1),
        method="highs",
    )
    if res.status != 0:
        raise GeodataError(f"LP bound failed: {res.message}", field="method")
    return float(res.fun)


def _lagrangian_bounds(
    inst: _Instance, n_new: int, lower: float, need: float | None = None, iters: int = 400
) -> tuple[float, float]:
    """Bounds from the Lagrangian relaxation of the covering constraints (subgradient steps).

    For multipliers 0 ≤ λ ≤ w, at most ``n_new`` sites cover at most
    Σ_g max(0, w_g − λ_g) + (sum of the ``n_new`` largest Σ_{g∈S_j} λ_g) — for every λ, so
    each step gives a valid bound, and the best tends to the LP-relaxation value (the
    Lagrangian dual of this relaxation is the LP).  Used where the LP itself is too big for
    HiGHS (hundreds of thousands of rows take minutes).

    Returns
    -------
    (upper, count_lower)
        Upper bound on the new weight with ``n_new`` sites, and (with ``need``) a lower
        bound on the number of sites reaching ``need``.
    """
    cover = inst.cover
    w = inst.group_weight
    cover_t = cover.T.tocsr()
    n_cols = cover.shape[1]
    k = min(n_new, n_cols)
    lam = w.copy()  # start: the sum of the best stand-alone gains
    best = math.inf
    count_lb = 0.0
    scale, stall = 1.0, 0
    for _ in range(iters):
        c = cover_t @ lam
        top = np.argpartition(-c, k - 1)[:k] if k < n_cols else np.arange(n_cols)
        top = top[c[top] > 0]
        free = float(np.maximum(w - lam, 0.0).sum())
        ub = free + float(c[top].sum())
        if need is not None:
            reach = free + np.r_[0.0, np.cumsum(np.sort(c)[::-1])]  # bound with 0, 1, 2… sites
            count_lb = max(count_lb, float(np.searchsorted(reach, need)))
            if count_lb > k:
                break  # k sites provably fall short: the count bound is all that was asked
        if not math.isfinite(best) or ub < best - 1e-12 * max(1.0, best):
            best, stall = ub, 0
        else:
            stall += 1
            if stall >= 15:
                scale, stall = scale / 2, 0
        if best - lower <= 1e-9 * max(1.0, best) or scale < 1e-6:
            break
        hits = np.asarray(cover[:, top].sum(axis=1)).ravel()
        sub = hits - (w > lam)
        norm = float(sub @ sub)
        if norm == 0:
            break
        lam = np.clip(lam - scale * (ub - lower) / norm * sub, 0.0, w)
    return best, count_lb


def _solve_ip(
    inst: _Instance, n_new: int | None, need: float | None, time_limit_s: float = EXACT_TIME_LIMIT_S
) -> list[int] | None:
    """Exact integer programme with pulp/CBC; None if optimality was not proven in time.

    With ``n_new``: maximise covered group weight with at most ``n_new`` sites.  With
    ``need``: first the fewest sites covering at least ``need`` (partial set cover), then,
    with that many sites, the most weight — two easy programmes instead of one hard one.
    """
    import pulp

    cover = inst.rows
    c = cover.shape[1]
    # a group only one candidate reaches is covered exactly when that site is chosen: its
    # weight goes straight onto the site's variable (fewer rows for CBC)
    single = np.diff(cover.indptr) == 1
    own = np.bincount(
        cover.indices[cover.indptr[:-1][single]], inst.group_weight[single], minlength=c
    )
    multi = cover[~single]
    g = multi.shape[0]
    x = [pulp.LpVariable(f"x{int(inst.useful[j])}", cat=pulp.LpBinary) for j in range(c)]
    y = [pulp.LpVariable(f"y{k}", lowBound=0, upBound=1) for k in range(g)]
    gw = inst.group_weight[~single].tolist()
    covered_expr = pulp.LpAffineExpression(
        [(x[j], float(own[j])) for j in range(c) if own[j] > 0] + [(y[k], gw[k]) for k in range(g)]
    )
    count_expr = pulp.LpAffineExpression([(v, 1.0) for v in x])
    if n_new is not None:
        prob = pulp.LpProblem("max_covering", pulp.LpMaximize)
        prob += covered_expr
        prob += pulp.LpConstraint(count_expr, pulp.LpConstraintLE, "count", n_new)
    else:
        assert need is not None
        prob = pulp.LpProblem("min_sites", pulp.LpMinimize)
        prob += count_expr
        prob += pulp.LpConstraint(covered_expr, pulp.LpConstraintGE, "need", need)
    indptr, indices = multi.indptr.tolist(), multi.indices.tolist()
    for k in range(g):
        terms = [(y[k], 1.0)] + [(x[j], -1.0) for j in indices[indptr[k] : indptr[k + 1]]]
        prob += pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE, None, 0)
    started = time.monotonic()
    solver = pulp.PULP_CBC_CMD(
        msg=False, threads=1, gapRel=0, gapAbs=0, timeLimit=max(1, math.ceil(time_limit_s))
    )
    prob.solve(solver)
    if prob.sol_status != pulp.LpSolutionOptimal:
        if prob.sol_status == pulp.LpSolutionIntegerFeasible or prob.status == 0:
            return None  # stopped by the time limit before proving optimality
        raise GeodataError(
            f"the integer programme ended {pulp.LpStatus[prob.status]}", field="method"
        )
    chosen = [j for j in range(c) if (x[j].value() or 0) > 0.5]
    if need is not None and chosen:
        left = time_limit_s - (time.monotonic() - started)
        return _solve_ip(inst, len(chosen), None, left) if left >= 1 else None
    return chosen


def _result(
    inst: _Instance,
    chosen: list[int],
    c_lon: NDArray[np.float64],
    c_lat: NDArray[np.float64],
    method: str,
    n_requested: int | None,
    target: float | None,
    bound: float | None,
    gap: float,
    n_candidates: int,
    note: str,
    bound_kind: str | None = None,
) -> PlanResult:
    ranked = _greedy(inst, None, None, cols=chosen)
    total = inst.total_weight
    cum = inst.existing_weight
    sites: list[Site] = []
    for rank, (col, gain) in enumerate(ranked, start=1):
        if gain <= 0:
            continue  # a site that adds nothing is not worth proposing
        cum += gain
        ci = int(inst.useful[col])
        sites.append(Site(rank, ci, float(c_lon[ci]), float(c_lat[ci]), gain, cum, cum / total))
    new = cum - inst.existing_weight
    return PlanResult(
        sites=sites,
        method=method,
        n_requested=n_requested,
        target_share=target,
        new_covered_weight=new,
        existing_covered_weight=inst.existing_weight,
        covered_weight=cum,
        total_weight=total,
        covered_share=cum / total,
        bound=bound,
        gap=gap,
        n_candidates=n_candidates,
        n_useful_candidates=int(inst.useful.size),
        n_uncovered_demand=inst.n_uncovered,
        note=note,
        bound_kind=bound_kind,
    )


def _prepare(
    demand: Demand,
    existing_lon: ArrayLike,
    existing_lat: ArrayLike,
    candidates_lon: ArrayLike,
    candidates_lat: ArrayLike,
    radius_m: float | Reach,
) -> tuple[_Instance, NDArray[np.float64], NDArray[np.float64], int]:
    if not isinstance(demand, Demand):
        raise GeodataError("demand must be a Demand layer", field="demand")
    demand.require_nonempty()
    reach = as_reach(radius_m)
    ex_lon, ex_lat = check_points(existing_lon, existing_lat, "stations")
    c_lon, c_lat = check_points(candidates_lon, candidates_lat, "candidates")
    if c_lon.size == 0:
        raise GeodataError.from_catalog("candidates", "there are no candidate sites")
    return _build(demand, ex_lon, ex_lat, c_lon, c_lat, reach), c_lon, c_lat, int(c_lon.size)


def _choose_method(method: str, inst: _Instance) -> str:
    if method != "auto":
        return method
    return "exact" if inst.cover.nnz <= EXACT_MAX_PAIRS else "greedy"


def plan_sites(
    demand: Demand,
    existing_lon: ArrayLike,
    existing_lat: ArrayLike,
    candidates_lon: ArrayLike,
    candidates_lat: ArrayLike,
    radius_m: float | Reach,
    n_new: int,
    method: str = "auto",
    time_limit_s: float | None = None,
) -> PlanResult:
    """Choose ``n_new`` new sites from the candidates to cover the most uncovered demand.

    Why: "if we can open 5 more stations, where?" — the answer that brings the most riders
    within reach while the existing stations stay.

    Parameters
    ----------
    demand
        Weighted demand points.
    existing_lon, existing_lat
        The stations that stay (may be empty).
    candidates_lon, candidates_lat
        Possible new sites (e.g. bank branches and shops willing to host, or
        :func:`default_candidates`).
    radius_m
        Reach in metres (straight-line geodesic) or a :class:`~geodata.reach.Reach`.
    n_new
        Number of new sites, 1 ≤ n_new ≤ number of candidates.
    method
        ``"exact"`` (integer programme, CBC), ``"greedy"`` (with LP bound), or ``"auto"``:
        exact up to :data:`EXACT_MAX_PAIRS` candidate–demand pairs.
    time_limit_s
        Seconds the exact solver may take (default :data:`EXACT_TIME_LIMIT_S`); past them
        the greedy plan is returned with its LP-bound gap and a note, method ``"greedy"``.

    Returns
    -------
    PlanResult
        Sites in rank order.  Fewer than ``n_new`` when the others would add nothing (the
        note says so).

    Raises
    ------
    GeodataError
        Empty demand, no candidates, n_new < 1 or > candidates (field ``n_new``), bad method,
        radius ≤ 0.
    """
    _check_method(method)
    if isinstance(n_new, bool) or not isinstance(n_new, int | np.integer):
        raise GeodataError.from_catalog(
            "n_new", "n_new must be a whole number, got {given}", given=repr(n_new)
        )
    inst, c_lon, c_lat, n_cand = _prepare(
        demand, existing_lon, existing_lat, candidates_lon, candidates_lat, radius_m
    )
    if n_new < 1:
        raise GeodataError.from_catalog(
            "n_new", "n_new must be at least 1, got {given}", given=n_new
        )
    if n_new > n_cand:
        raise GeodataError.from_catalog(
            "n_new",
            "n_new is {given} but there are only {n_cand} candidate sites",
            given=n_new,
            n_cand=n_cand,
        )
    n_new = int(n_new)
    how = _choose_method(method, inst)
    note = ""
    bound_kind: str | None = None
    if inst.useful.size == 0:
        return _result(
            inst,
            [],
            c_lon,
            c_lat,
            how,
            n_new,
            None,
            0.0,
            0.0,
            n_cand,
            "no candidate reaches any uncovered demand",
        )
    limit = EXACT_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    exact = _solve_ip(inst, n_new, None, limit) if how == "exact" else None
    if how == "exact" and exact is None:
        how, note = "greedy", _TIMED_OUT.format(limit)
    if exact is not None:
        chosen, bound, gap = exact, None, 0.0
    else:
        picked = _greedy(inst, n_new, None)
        chosen = [c for c, _ in picked]
        value = math.fsum(g for _, g in picked)
        if inst.cover.nnz <= EXACT_MAX_PAIRS:
            bound, bound_kind = _lp_max_bound(inst, n_new), "lp"
        else:
            bound, bound_kind = _lagrangian_bounds(inst, n_new, value)[0], "lagrangian"
        bound = max(bound, value)
        gap = max(0.0, (bound - value) / bound) if bound > 0 else 0.0
    out = _result(
        inst,
        chosen,
        c_lon,
        c_lat,
        how,
        n_new,
        None,
        bound,
        gap,
        n_cand,
        note,
        bound_kind,
    )
    if len(out.sites) < n_new:
        out = _with_note(
            out,
            f"only {len(out.sites)} of {n_new} sites add coverage; "
            "more sites would cover no further demand",
        )
    return out


_TIMED_OUT = (
    "the exact solver did not prove an optimum within {:g} s; this is the greedy "
    "plan, with its distance to the LP bound as the gap"
)


def _with_note(res: PlanResult, note: str) -> PlanResult:
    from dataclasses import replace

    return replace(res, note=note)


def drop_negligible(res: PlanResult, min_gain_share: float = DEFAULT_MIN_GAIN_SHARE) -> PlanResult:
    """Stop the ranked plan at the first site that newly covers less than ``min_gain_share``
    of the total demand (see :data:`DEFAULT_MIN_GAIN_SHARE`).

    Sites come in rank order with falling marginal gain, so the rest would add even less.
    The result records the threshold, how many sites were dropped and the best dropped gain,
    for the explanation the user reads.
    """
    share = float(min_gain_share)
    if not (np.isfinite(share) and 0 <= share < 1):
        raise GeodataError.from_catalog(
            "min_gain", "min_gain_share must be in [0, 1), got {given}", given=repr(min_gain_share)
        )
    limit = share * res.total_weight
    kept = []
    for site in res.sites:
        if site.marginal_gain < limit:
            break
        kept.append(site)
    dropped = res.sites[len(kept) :]
    new = math.fsum(s.marginal_gain for s in kept)
    from dataclasses import replace

    return replace(
        res,
        sites=kept,
        new_covered_weight=new,
        covered_weight=res.existing_covered_weight + new,
        covered_share=(res.existing_covered_weight + new) / res.total_weight,
        min_gain_weight=limit,
        negligible_sites=len(dropped),
        best_negligible_gain=dropped[0].marginal_gain if dropped else None,
    )


def plan_backup_sites(
    demand: Demand,
    existing_lon: ArrayLike,
    existing_lat: ArrayLike,
    candidates_lon: ArrayLike,
    candidates_lat: ArrayLike,
    radius_m: float | Reach,
    n_new: int,
) -> PlanResult:
    """Backup covering: ``n_new`` new sites that bring the most demand within reach of a
    *second* station (交叉覆盖), the existing stations staying.

    Why: the "双15" standard asks for overlapping coverage, so a rider still has a station
    when one is closed.  Each step takes the candidate that turns the most singly covered
    demand into doubly covered (ties: the most uncovered demand it newly covers, then the
    lower index), then recounts — a greedy heuristic (a site can make a later one better,
    so no optimality bound is claimed).  ``marginal_gain`` and ``covered_*`` here are
    demand weight covered at least twice.

    Raises
    ------
    GeodataError
        As :func:`plan_sites`.
    """
    if isinstance(n_new, bool) or not isinstance(n_new, int | np.integer) or n_new < 1:
        raise GeodataError.from_catalog(
            "n_new", "n_new must be a whole number ≥ 1, got {given}", given=repr(n_new)
        )
    if not isinstance(demand, Demand):
        raise GeodataError("demand must be a Demand layer", field="demand")
    demand.require_nonempty()
    reach = as_reach(radius_m)
    ex_lon, ex_lat = check_points(existing_lon, existing_lat, "stations")
    c_lon, c_lat = check_points(candidates_lon, candidates_lat, "candidates")
    if c_lon.size == 0:
        raise GeodataError.from_catalog("candidates", "there are no candidate sites")
    w = demand.weight
    total = float(w.sum())
    _, ej = reachable_pairs(reach, ex_lon, ex_lat, demand.lon, demand.lat)
    count = np.bincount(ej, minlength=len(demand)).astype(np.int64)
    existing = float(w[count >= 2].sum())
    ci, dj = reachable_pairs(reach, c_lon, c_lat, demand.lon, demand.lat)
    m = csr_matrix((np.ones(ci.size), (ci, dj)), shape=(c_lon.size, len(demand)))
    chosen = np.zeros(c_lon.size, dtype=bool)
    sites: list[Site] = []
    cum = existing
    for rank in range(1, int(n_new) + 1):
        doubled = m @ (w * (count == 1))
        first = m @ (w * (count == 0))
        score = np.where(chosen, -1.0, doubled)
        best = int(np.lexsort((np.arange(score.size), -first, -score))[0])
        if chosen[best] or doubled[best] <= 0:
            break
        chosen[best] = True
        count[m.indices[m.indptr[best] : m.indptr[best + 1]]] += 1
        gain = float(doubled[best])
        cum += gain
        sites.append(
            Site(rank, best, float(c_lon[best]), float(c_lat[best]), gain, cum, cum / total)
        )
    note = (
        "" if len(sites) == n_new else (f"only {len(sites)} of {n_new} sites add double coverage")
    )
    return PlanResult(
        sites=sites,
        method="greedy-backup",
        n_requested=int(n_new),
        target_share=None,
        new_covered_weight=cum - existing,
        existing_covered_weight=existing,
        covered_weight=cum,
        total_weight=total,
        covered_share=cum / total,
        bound=None,
        gap=0.0,
        n_candidates=int(c_lon.size),
        n_useful_candidates=int(np.unique(ci).size),
        n_uncovered_demand=int((count < 2).sum()),
        note=note,
    )


def min_sites_for_coverage(
    demand: Demand,
    existing_lon: ArrayLike,
    existing_lat: ArrayLike,
    candidates_lon: ArrayLike,
    candidates_lat: ArrayLike,
    radius_m: float | Reach,
    target_share: float,
    method: str = "auto",
    time_limit_s: float | None = None,
) -> PlanResult:
    """The fewest new sites that bring demand coverage up to ``target_share``.

    Why: "how many more stations until 90 % of riders have one within 500 m?" — a budget
    question answered as a set-cover integer programme (among the smallest answers, the one
    covering most demand).

    Parameters
    ----------
    target_share
        Wanted share of the total demand weight within reach, 0 < share ≤ 1 (existing
        stations count towards it).
    method, time_limit_s
        As in :func:`plan_sites`; greedy reports the LP lower bound on the count.

    Raises
    ------
    GeodataError
        Target outside (0, 1] (field ``target_share``), or not reachable even with every
        candidate (field ``target_share``, with the best reachable share); other input as in
        :func:`plan_sites`.
    """
    _check_method(method)
    try:
        target = float(target_share)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "target_share", "target_share must be a number, got {given}", given=repr(target_share)
        ) from None
    if not (math.isfinite(target) and 0 < target <= 1):
        raise GeodataError.from_catalog(
            "target_share", "target_share must be in (0, 1], got {given}", given=repr(target_share)
        )
    inst, c_lon, c_lat, n_cand = _prepare(
        demand, existing_lon, existing_lat, candidates_lon, candidates_lat, radius_m
    )
    tol = 1e-9 * inst.total_weight
    need = target * inst.total_weight - inst.existing_weight - tol
    if need <= 0:
        return _result(
            inst,
            [],
            c_lon,
            c_lat,
            "exact",
            None,
            target,
            0.0,
            0.0,
            n_cand,
            "the existing stations already reach the target",
        )
    best = inst.existing_weight + float(inst.group_weight.sum())
    if best < target * inst.total_weight - tol:
        raise GeodataError.from_catalog(
            "target_share",
            "a coverage of {target} cannot be reached: even all {n_cand} candidates "
            "together reach {best} of the demand",
            target=f"{target:.1%}",
            n_cand=n_cand,
            best=f"{best / inst.total_weight:.1%}",
        )
    how = _choose_method(method, inst)
    bound_kind: str | None = None
    note = ""
    limit = EXACT_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    exact = _solve_ip(inst, None, need, limit) if how == "exact" else None
    if how == "exact" and exact is None:
        how, note = "greedy", _TIMED_OUT.format(limit)
    if exact is not None:
        chosen, bound, gap = exact, float(len(exact)), 0.0
    else:
        chosen = [c for c, _ in _greedy(inst, None, need)]
        if inst.cover.nnz <= EXACT_MAX_PAIRS:
            lb, bound_kind = _lp_min_bound(inst, need), "lp"
        else:
            lb = _lagrangian_bounds(inst, max(len(chosen) - 1, 1), need, need)[1]
            bound_kind = "lagrangian"
        bound = float(min(math.ceil(lb - 1e-9), len(chosen)))
        gap = max(0.0, (len(chosen) - bound) / len(chosen)) if chosen else 0.0
    return _result(
        inst, chosen, c_lon, c_lat, how, None, target, bound, gap, n_cand, note, bound_kind
    )


def default_candidates(
    area: Any,
    stations_lon: ArrayLike,
    stations_lat: ArrayLike,
    demand: Demand | None = None,
    radius_m: float | Reach = 500.0,
    resolution: int = 9,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Candidate sites when the user has none: centres of the area's uncovered H3 cells.

    With ``demand``, only cells whose centre would reach some uncovered demand are kept
    (the others cannot gain anything and only slow the solver down).

    Returns
    -------
    (lon, lat)
        WGS-84 arrays in H3 cell-id order (deterministic).
    """
    from geodata.areas import check_area

    area = check_area(area)
    reach = as_reach(radius_m)
    slon, slat = check_points(stations_lon, stations_lat, "stations")
    grid = hex_grid(area, resolution)
    unc = ~covered_mask(reach, slon, slat, grid.lon, grid.lat)
    lon, lat = grid.lon[unc], grid.lat[unc]
    if demand is not None and lon.size:
        d_unc = ~covered_mask(reach, slon, slat, demand.lon, demand.lat) & (demand.weight > 0)
        ci, _ = reachable_pairs(reach, lon, lat, demand.lon[d_unc], demand.lat[d_unc])
        keep = np.zeros(lon.size, dtype=bool)
        keep[ci] = True
        lon, lat = lon[keep], lat[keep]
    return lon, lat
