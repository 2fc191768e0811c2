"""Loads in whole steps: a bound for imbalance terms when fair shares are fractional."""

from __future__ import annotations

from collections.abc import Callable

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given

import alloc
from alloc.solvers.bounds import granularity, integrality_floors
from alloc.solvers.state import Rows


@st.composite
def count_problems(draw: st.DrawFn) -> alloc.Problem:
    """Tiny problems with whole (or cent) metrics, unequal shares, both norms, a cost."""
    n = draw(st.integers(2, 7))
    m = draw(st.integers(2, 3))
    step = draw(st.sampled_from([1.0, 2.0, 0.5, 0.01]))
    values = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    fte = draw(st.lists(st.sampled_from([0.5, 0.8, 1.0, 1.5]), min_size=m, max_size=m))
    norm = draw(st.sampled_from(["max", "sum"]))
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "accounts": np.array(values, dtype=float) * step,
            "x": draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)),
            "y": 0.0,
        }
    )
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)], "fte": fte, "x": 0.0, "y": 0.0})
    objective = alloc.MinimizeImbalance("accounts", share="fte", norm=norm)
    if draw(st.booleans()):
        objective = objective + alloc.MinimizeTravel(weight=0.01)
    return alloc.Problem(customers, reps, objective=objective)


@given(problem=count_problems())
def test_the_solve_bound_never_exceeds_the_brute_force_optimum(
    problem: alloc.Problem, brute: Callable[[alloc.Problem], float | None]
) -> None:
    model = problem.model
    rows = Rows.from_model(model)
    optimum = brute(problem)
    assert optimum is not None
    floors = integrality_floors(model, rows)
    cheapest = float(np.minimum.reduceat(model.cost, model.unit_start[:-1]).sum())
    assert cheapest + float((rows.imb_weight * floors).sum()) <= optimum + 1e-12
    result = alloc.solve(problem, time_limit=3, seed=0, workers=1)
    assert result.bound is not None and result.bound <= optimum + 1e-9


def test_granularity_reads_whole_numbers_and_cents() -> None:
    assert granularity(np.array([2.0, 4.0, 6.0])) == 2.0
    assert granularity(np.array([0.5, 1.0])) == 0.5
    assert granularity(np.array([12.33, 5.0])) == 0.01
    assert granularity(np.array([12.34, 5.0])) == 0.02  # 617 and 250 steps of 0.02
    assert granularity(np.array([np.pi])) == 0.0


def test_a_sum_norm_count_term_at_its_whole_step_floor_is_proven_optimal() -> None:
    # 8 reps share 300 accounts (fair share 37.5): no rep can hold half an account, so
    # the best plan (four reps at 37, four at 38) has a sum of deviations of 8 x 0.5 /
    # 37.5. The LP's bound is 0; the whole-step bound meets the plan and proves it.
    n, m = 300, 8
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "accounts": 1})
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)]})
    problem = alloc.Problem(
        customers, reps, objective=alloc.MinimizeImbalance("accounts", norm="sum")
    )
    result = alloc.solve(problem, time_limit=10, seed=0)
    assert result.objective == pytest.approx(m * 0.5 / 37.5, rel=1e-9)
    assert result.status is alloc.Status.OPTIMAL, result.explanation
