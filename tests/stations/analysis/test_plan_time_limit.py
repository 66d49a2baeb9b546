"""A plan the exact solver cannot finish in time comes back greedy, bounded, and on time."""

from __future__ import annotations

import time

import pytest

import geodata.planning as planning
from geodata.areas import load_area
from stations.analysis.service import Analysis
from stations.demo import demo_store


def test_a_hard_plan_falls_back_to_greedy_within_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 260 of the 2,048 default candidates over E-Town: CBC needed over 9 minutes for this
    # (found by schemathesis on POST /api/v1/plan); one such request held a worker that long.
    monkeypatch.setattr(planning, "EXACT_TIME_LIMIT_S", 1.0)
    store, keepalive = demo_store()
    try:
        # min_gain_share=0: this is about the solver, not the negligible-gain stop
        analysis = Analysis(store.all(), load_area(None), min_gain_share=0)
        started = time.monotonic()
        result, candidates = analysis.plan(260)
        elapsed = time.monotonic() - started
    finally:
        store.close()
        if keepalive is not None:
            keepalive.cleanup()
    assert len(candidates) > 260
    assert result.method == "greedy" and "did not prove an optimum within 1 s" in result.note
    assert len(result.sites) == 260
    assert result.bound is not None and result.bound >= result.new_covered_weight
    assert 0.0 <= result.gap < 0.2
    # The limit plus the greedy answer and its bound, not the 9 minutes CBC needed: ~5 s idle,
    # 19 s on a busy 2-core machine, so the bound leaves room for load, not for minutes.
    assert elapsed < 120


def test_an_easy_plan_is_still_exact() -> None:
    # The service's own limit (planning.EXACT_TIME_LIMIT_S): CBC proves this optimum in well
    # under a second when idle, but on a busy 2-core machine it took over 2 s, so a 1 s limit
    # turned the answer greedy. The claim is that the limit spares easy plans, as served.
    store, keepalive = demo_store()
    try:
        result, _ = Analysis(store.all(), load_area(None), min_gain_share=0).plan(5)
    finally:
        store.close()
        if keepalive is not None:
            keepalive.cleanup()
    assert result.method == "exact" and result.gap == 0.0 and len(result.sites) == 5
