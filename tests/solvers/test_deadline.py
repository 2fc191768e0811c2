"""Tests for alloc.solvers.deadline and for the wrappers' handling of an expired deadline.

Wall-clock assertions use generous bounds: the suite runs on loaded machines.
"""

from __future__ import annotations

import math
import time

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import alloc
from alloc.solvers.bounds import lagrangian
from alloc.solvers.cpsat import infeasible_core, solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.mip import MipSearch, solve_mip
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows
from conftest import gap_problem


@given(
    seconds=st.floats(0.0, 100.0),
    fraction=st.floats(-1.0, 2.0),
    reserve=st.floats(0.0, 200.0),
    cap=st.none() | st.floats(0.0, 50.0),
)
def test_share_is_never_later_than_its_parent(
    seconds: float, fraction: float, reserve: float, cap: float | None
) -> None:
    parent = Deadline.after(seconds)
    child = parent.share(fraction, reserve=reserve, cap=cap)
    assert child.at <= parent.at
    if cap is not None:
        assert child.remaining() <= cap + 1e-6


@given(seconds=st.floats(0.0, 100.0), reserve=st.floats(0.0, 100.0))
def test_minus_and_earliest_are_never_later(seconds: float, reserve: float) -> None:
    parent = Deadline.after(seconds)
    assert parent.minus(reserve).at <= parent.at
    assert parent.earliest(Deadline.never()) == parent
    assert Deadline.never().earliest(parent) == parent


def test_an_expired_deadline_has_nothing_left() -> None:
    gone = Deadline.after(0.0)
    assert gone.expired() and gone.remaining() == 0.0 and gone.seconds() == 0.0
    assert gone.share(0.5).expired()
    assert Deadline.after(10.0).minus(20.0).expired()
    assert Deadline.never().remaining() == math.inf and not Deadline.never().expired()


def test_negative_seconds_give_a_deadline_now_not_in_the_past() -> None:
    assert Deadline.after(-5.0).at >= time.perf_counter() - 1.0


def test_expired_margin_counts_the_reserve() -> None:
    d = Deadline.after(30.0)
    assert not d.expired() and d.expired(margin=60.0)


# ---- wrappers given an expired deadline ---------------------------------------------------
def _gap() -> alloc.Problem:
    cost = np.array([[1, 5, 3], [2, 3, 4], [4, 1, 2], [3, 3, 1]])
    return gap_problem(cost, np.ones((4, 3), dtype=int), np.array([2, 2, 2]))


def test_cp_sat_wrapper_with_an_expired_deadline_returns_at_once_without_a_plan() -> None:
    model = alloc.datasets.make_problem(300, 8, seed=1).model
    rows = Rows.from_model(model)
    scaled = Scaled.from_rows(model, rows)
    started = time.perf_counter()
    res = solve_cpsat(model, rows, scaled, deadline=Deadline.after(0.0))
    assert time.perf_counter() - started < 5.0
    assert res.status == "UNKNOWN" and res.chosen is None
    status, core = infeasible_core(model, rows, scaled, deadline=Deadline.after(0.0))
    assert status == "UNKNOWN" and core == []


def test_highs_wrappers_with_an_expired_deadline_return_without_a_plan() -> None:
    model = _gap().model
    rows = Rows.from_model(model)
    every = np.ones(model.n_pairs, dtype=bool)
    found = solve_mip(model, rows, pair_mask=every, deadline=Deadline.after(0.0))
    assert found.status == "UNKNOWN" and found.chosen is None
    search = MipSearch(model, rows, pair_mask=every, deadline=Deadline.after(0.0)).start()
    assert not search.running() and search.finish().chosen is None


def test_searches_with_an_expired_deadline_return_their_start() -> None:
    model = _gap().model
    rows = Rows.from_model(model)
    start = greedy(model, rows, deadline=Deadline.after(0.0))
    assert (start >= 0).all()
    chosen, _ = LocalSearch(model, rows, start, seed=0).run(Deadline.after(0.0))
    assert np.array_equal(chosen, start)
    relaxation = lagrangian(model, rows, Deadline.after(0.0))
    assert relaxation is not None and relaxation.iterations == 0


def test_same_wrappers_with_time_find_the_optimum() -> None:
    # The counterpart of the tests above: with time left they solve (each customer on
    # its cheapest rep fits: 1 + 2 + 1 + 1).
    model = _gap().model
    rows = Rows.from_model(model)
    every = np.ones(model.n_pairs, dtype=bool)
    res = solve_cpsat(model, rows, Scaled.from_rows(model, rows), deadline=Deadline.after(30))
    mip = solve_mip(model, rows, pair_mask=every, deadline=Deadline.after(30))
    assert res.status == mip.status == "OPTIMAL"
    assert res.chosen is not None and mip.chosen is not None
    assert float(model.cost[res.chosen].sum()) == float(model.cost[mip.chosen].sum()) == 5.0
