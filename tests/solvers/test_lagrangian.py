"""The Lagrangian relaxation behind the core search: a valid bound, valid reduced costs,
and proven optima that match brute force.

For a plan ``x`` that meets every hard row and multipliers ``mu >= 0``, the relaxation
gives ``cost(x) >= bound + sum of the reduced costs of x's pairs``; pairs with a reduced
cost above ``incumbent - bound`` can therefore be dropped without losing a better plan.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import alloc
from alloc.solvers.bounds import lagrangian
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows
from conftest import gap_instances, gap_problem


def feasible_plans(problem: alloc.Problem) -> list[tuple[np.ndarray, float]]:
    """Every plan (chosen pair per unit) meeting the hard rows, with its cost."""
    model = problem.model
    rows = Rows.from_model(model)
    ranges = [range(model.unit_start[u], model.unit_start[u + 1]) for u in range(model.n_units)]
    plans = []
    for combo in itertools.product(*ranges):
        chosen = np.array(combo)
        loads = rows.loads(model, chosen)
        if np.all(loads <= rows.hi + 1e-9) and np.all(loads >= rows.lo - 1e-9):
            plans.append((chosen, float(model.cost[chosen].sum())))
    return plans


@given(instance=gap_instances())
def test_bound_and_reduced_costs_hold_for_every_feasible_plan(
    instance: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    problem = gap_problem(*instance)
    model = problem.model
    relaxation = lagrangian(model, Rows.from_model(model), Deadline.after(1.0))
    assert relaxation is not None
    assert np.all(relaxation.reduced >= 0)
    # Each unit's relaxed choice has reduced cost 0 and belongs to that unit.
    assert np.all(relaxation.reduced[relaxation.assignment] == 0)
    assert np.array_equal(model.pair_unit[relaxation.assignment], np.arange(model.n_units))
    for chosen, cost in feasible_plans(problem):
        assert cost >= relaxation.bound + relaxation.reduced[chosen].sum() - 1e-6


@given(instance=gap_instances())
def test_solve_proves_the_brute_force_optimum_of_capacitated_cost_problems(
    instance: tuple[np.ndarray, np.ndarray, np.ndarray],
    brute: Callable[[alloc.Problem], float | None],
) -> None:
    problem = gap_problem(*instance)
    result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    expected = brute(problem)
    if expected is None:
        assert not result.status.has_solution
        return
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    assert result.objective == expected
    assert result.bound <= expected + 1e-9


def test_bound_reaches_the_lp_value_on_a_hand_checked_instance() -> None:
    # Two customers, two reps of capacity 1; each customer's cheap rep is r0.
    # LP optimum: one customer on r0, the other on r1 -> min(1 + 10, 2 + 5) = 7 (integral).
    cost = np.array([[1, 5], [2, 10]])
    work = np.ones((2, 2), dtype=int)
    problem = gap_problem(cost, work, np.array([1, 1]))
    model = problem.model
    relaxation = lagrangian(model, Rows.from_model(model), Deadline.after(1.0))
    assert relaxation is not None
    assert abs(relaxation.bound - 7.0) < 1e-3


@given(instance=gap_instances(), jitter=st.integers(0, 2**32 - 1))
def test_fractional_costs_never_give_a_false_optimality_claim(
    instance: tuple[np.ndarray, np.ndarray, np.ndarray],
    jitter: int,
    brute: Callable[[alloc.Problem], float | None],
) -> None:
    cost, work, capacity = instance
    # Costs with many decimals (CP-SAT scales a float objective itself): whatever status
    # is reported, OPTIMAL must be the true optimum.
    fractional = cost + np.random.default_rng(jitter).random(cost.shape) * 1e-3
    n, m = cost.shape
    pairs = pd.DataFrame(
        [
            (f"c{i}", f"r{j}", float(fractional[i, j]), int(work[i, j]))
            for i in range(n)
            for j in range(m)
        ],
        columns=["customer_id", "rep_id", "cost", "work"],
    )
    problem = alloc.Problem(
        pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)]}),
        pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)], "capacity": capacity.tolist()}),
        pairs=pairs,
        rules=[alloc.Capacity("work", limit="capacity")],
        objective=alloc.MinimizeCost("cost"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", alloc.PrecisionWarning)
        result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    expected = brute(problem)
    if expected is None:
        assert not result.status.has_solution
        return
    assert alloc.check(problem, result.assignment) == []
    assert result.bound <= expected + 1e-9
    if result.status is alloc.Status.OPTIMAL:
        assert result.objective <= expected + 1e-9


def test_a_decimal_tie_does_not_drive_the_multipliers_without_end() -> None:
    """Each customer may only go to r0, whose load 3.12 + 0.53 + 1.65 = 5.300000000000001
    ties its capacity 5.3: the rule accepts it, so the bound is the plan's cost (before,
    the float excess of 1e-15 pushed a multiplier to ~1e30 and the bound to garbage)."""
    customers = pd.DataFrame({"customer_id": ["c0", "c1", "c2"], "work": [3.12, 0.53, 1.65]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    pairs = pd.DataFrame(
        {"customer_id": ["c0", "c1", "c2"], "rep_id": ["r0"] * 3, "cost": [1.0, 2.0, 4.5]}
    )
    problem = alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=[alloc.Capacity("work", limit=5.3)],
        objective=alloc.MinimizeCost("cost"),
    )
    rows = Rows.from_model(problem.model)
    for upper in (None, 7.5, 30.0):
        relaxed = lagrangian(problem.model, rows, Deadline.after(5.0), upper=upper)
        assert relaxed is not None and relaxed.bound == 7.5
