"""Tests for alloc.solvers.greedy: the constraint-aware construction."""

from __future__ import annotations

import time

import numpy as np
import pytest

import alloc
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.state import Rows, score_of


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_greedy_plan_meets_the_hard_rows_of_easy_problems(seed: int) -> None:
    # Generous capacities and account limits: one pass must place every customer within
    # them; the plan is checked by the independent checker.
    problem = alloc.datasets.make_problem(300, 8, seed=seed, capacity_slack=3.0, account_slack=3.0)
    model = problem.model
    rows = Rows.from_model(model)
    chosen = greedy(model, rows, seed)
    assert (chosen >= 0).all()
    assert score_of(model, rows, chosen, rows.loads(model, chosen)).penalty == 0
    from alloc.solvers.run_state import to_assignment

    assert alloc.check(problem, to_assignment(problem, chosen)) == []


def test_greedy_places_each_customer_on_an_eligible_rep() -> None:
    model = alloc.datasets.make_problem(200, 6, seed=5).model
    chosen = greedy(model, Rows.from_model(model), 0)
    assert np.array_equal(model.pair_unit[chosen], np.arange(model.n_units))


def test_greedy_is_deterministic_for_a_seed() -> None:
    model = alloc.datasets.make_problem(200, 6, seed=5).model
    rows = Rows.from_model(model)
    assert np.array_equal(greedy(model, rows, 7), greedy(model, rows, 7))


def test_greedy_respects_an_expired_deadline_with_a_complete_plan() -> None:
    # 20,000 customers: the full construction takes about a second; with no time left
    # every unit is spread at once (a different plan), and the plan is still complete.
    model = alloc.datasets.make_problem(20_000, 40, seed=0).model
    rows = Rows.from_model(model)
    started = time.perf_counter()
    quick = greedy(model, rows, 0, deadline=Deadline.after(0.0))
    quick_time = time.perf_counter() - started
    started = time.perf_counter()
    full = greedy(model, rows, 0)
    full_time = time.perf_counter() - started
    assert np.array_equal(model.pair_unit[quick], np.arange(model.n_units))
    assert not np.array_equal(quick, full)
    assert quick_time < max(0.5 * full_time, 2.0)


def test_greedy_with_time_left_builds_the_full_plan() -> None:
    model = alloc.datasets.make_problem(500, 8, seed=0).model
    rows = Rows.from_model(model)
    assert np.array_equal(
        greedy(model, rows, 0, deadline=Deadline.after(60)), greedy(model, rows, 0)
    )
