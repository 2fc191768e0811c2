"""The one comparison rule for hard rows (alloc.data.tolerance), and that the checker and
the solvers' score apply it alike (issue 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.data.tolerance import FEASIBILITY_TOL, excess, holds, lower_limit, upper_limit
from alloc.solvers.state import Rows, score_of


def test_the_tolerance_is_one_part_in_a_billion() -> None:
    assert FEASIBILITY_TOL == 1e-9


def test_limits_widen_relative_to_the_limit_with_an_absolute_floor() -> None:
    assert upper_limit(1e6) == pytest.approx(1e6 + 1e-3, rel=0, abs=1e-12)
    assert lower_limit(-1e6) == pytest.approx(-1e6 - 1e-3, rel=0, abs=1e-12)
    assert upper_limit(0.0) == 1e-9 and lower_limit(0.0) == -1e-9
    assert upper_limit(0.5) == 0.5 + 1e-9
    assert upper_limit(np.inf) == np.inf and lower_limit(-np.inf) == -np.inf


def test_decimal_ties_hold_at_both_sides() -> None:
    assert 1.7 + 2.2 > 3.9  # the float sum is 3.9000000000000004
    assert holds(1.7 + 2.2, hi=3.9)
    assert 0.1 + 0.7 < 0.8  # 0.7999999999999999
    assert holds(0.1 + 0.7, lo=0.8)
    assert excess(np.array([1.7 + 2.2]), hi=3.9)[0] == 0.0
    assert excess(np.array([0.1 + 0.7]), lo=0.8)[0] == 0.0


def test_just_beyond_the_tolerance_is_a_violation() -> None:
    assert not holds(3.9 + 1e-8, hi=3.9)
    assert not holds(0.8 - 1e-8, lo=0.8)
    assert not holds(1e6 + 2e-3, hi=1e6)
    assert holds(1e6 + 5e-4, hi=1e6)
    out = excess(np.array([3.9 + 1e-8, 0.8 - 1e-8]), lo=np.array([-np.inf, 0.8]), hi=3.9)
    assert out[0] == pytest.approx(1e-8, rel=1e-6) and out[1] == pytest.approx(1e-8, rel=1e-6)


def test_excess_is_the_raw_distance_and_ignores_absent_sides() -> None:
    load = np.array([5.0, 0.5, 2.0])
    assert excess(load, lo=1.0, hi=4.0).tolist() == [1.0, 0.5, 0.0]
    assert excess(load).tolist() == [0.0, 0.0, 0.0]
    assert excess(load, lo=-np.inf, hi=np.array([np.inf, 0.25, np.inf])).tolist() == [
        0.0,
        0.25,
        0.0,
    ]


def _capacity_problem(work: list[float], limit: float) -> alloc.Problem:
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(work))], "work": work})
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    return alloc.Problem(customers, reps, rules=[alloc.Capacity("work", limit=limit)])


def _judged_alike(problem: alloc.Problem, plan: dict[str, str]) -> tuple[bool, bool]:
    """(checker accepts, score_of has no penalty) for one plan."""
    model = problem.model
    rows = Rows.from_model(model)
    units = model.customer_unit[[problem.customer_ids.get_loc(c) for c in plan]]
    reps = np.array([problem.rep_ids.get_loc(r) for r in plan.values()])
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    chosen[units] = model.pair_index(units, reps)
    score = score_of(model, rows, chosen, rows.loads(model, chosen))
    return alloc.check(problem, pd.Series(plan)) == [], score.penalty == 0


@pytest.mark.parametrize(
    ("work", "limit", "feasible"),
    [
        ([1.7, 2.24, 0.2, 2.2], 3.9, True),  # 1.7 + 2.2 = 3.9000000000000004: a tie
        ([0.1, 0.25, 0.05, 0.2], 0.3, True),  # 0.1 + 0.2 = 0.30000000000000004
        ([1.7, 2.24, 0.2, 2.2 + 1e-8], 3.9, False),  # a real excess, 1e-8 beyond
        ([1700.0, 2240.0, 200.0, 2200.0 + 3e-6], 3900.0, True),  # inside 1e-9 * 3900
        ([1700.0, 2240.0, 200.0, 2200.0 + 5e-6], 3900.0, False),  # beyond it
    ],
)
def test_checker_and_score_of_judge_ties_alike(
    work: list[float], limit: float, feasible: bool
) -> None:
    problem = _capacity_problem(work, limit)
    plan = {"c0": "r0", "c3": "r0", "c1": "r1", "c2": "r1"}
    assert _judged_alike(problem, plan) == (feasible, feasible)


def test_rows_store_the_allowed_and_the_raw_limits() -> None:
    problem = _capacity_problem([1.7, 2.24, 0.2, 2.2], 3.9)
    rows = Rows.from_model(problem.model)
    assert rows.hi[0].tolist() == [upper_limit(3.9)] * 2
    assert rows.raw_hi[0].tolist() == [3.9, 3.9]
    assert np.all(np.isneginf(rows.lo[0])) and np.all(np.isneginf(rows.raw_lo[0]))


def test_score_of_measures_a_violation_as_the_checker_does() -> None:
    """Beyond the tolerance, the penalty is the checker's raw excess times the row scale."""
    problem = _capacity_problem([1.7, 2.24, 0.2, 2.2 + 1e-6], 3.9)
    rows = Rows.from_model(problem.model)
    plan = {"c0": "r0", "c3": "r0", "c1": "r1", "c2": "r1"}
    (found,) = alloc.check(problem, pd.Series(plan))
    model = problem.model
    chosen = model.pair_index(model.customer_unit, np.array([0, 1, 1, 0]))
    score = score_of(model, rows, chosen, rows.loads(model, chosen))
    assert score.penalty == pytest.approx(found.amount * rows.pen_scale[0], rel=1e-9)
