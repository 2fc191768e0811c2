"""Lexicographic objectives and budgets through alloc.solve, against brute force.

Every assignment of a small problem is enumerated; feasibility comes from alloc.check
and each stage's value from alloc.checker.term_value, never from the solvers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alloc
from alloc.checker import term_value


@st.composite
def small_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(3, 5))
    k = draw(st.integers(2, 3))
    reps = [f"r{j}" for j in range(k)]
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "index": draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)),
            "owner": draw(st.lists(st.sampled_from(reps), min_size=n, max_size=n)),
        }
    )
    tenths = st.integers(0, 200).map(lambda v: v / 10)
    pairs = pd.DataFrame(
        {
            "customer_id": np.repeat(customers["customer_id"].to_numpy(), k),
            "rep_id": np.tile(reps, n),
            "km": draw(st.lists(tenths, min_size=n * k, max_size=n * k)),
        }
    )
    return customers, pd.DataFrame({"rep_id": reps}), pairs


def feasible_plans(problem: alloc.Problem) -> list[pd.Series]:
    customers, reps = list(problem.customer_ids), list(problem.rep_ids)
    plans = []
    for combo in itertools.product(reps, repeat=len(customers)):
        plan = pd.Series(list(combo), index=customers, dtype=object)
        if not alloc.check(problem, plan):
            plans.append(plan)
    return plans


def lexicographic_optimum(problem: alloc.Problem, stages: list[list[object]]) -> list[float] | None:
    """Stage values of the lexicographic optimum (slack 0), by enumeration."""
    plans = feasible_plans(problem)
    if not plans:
        return None
    best: list[float] = []
    for terms in stages:
        values = [sum(term_value(problem, p, t) for t in terms) for p in plans]
        low = min(values)
        best.append(low)
        plans = [p for p, v in zip(plans, values, strict=True) if v <= low + 1e-9]
    return best


TRAVEL = alloc.MinimizeTravel(distance="km")
DISRUPTION = alloc.MinimizeDisruption("owner", value="index")


@given(small_cases(), st.sampled_from([None, (0.5, 1.5), (0.7, 1.3)]))
def test_lexicographic_equals_the_enumerated_lexicographic_optimum(case, window) -> None:
    customers, reps, pairs = case
    rules = [] if window is None else [alloc.Balance("index", min=window[0], max=window[1])]
    problem = alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=rules,
        objective=alloc.Lexicographic([TRAVEL, DISRUPTION]),
    )
    expected = lexicographic_optimum(problem, [[TRAVEL], [DISRUPTION]])
    result = alloc.solve(problem, time_limit=10, seed=0, workers=1)
    if expected is None:
        assert result.status is alloc.Status.INFEASIBLE
        return
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    assert [s.value for s in result.stages] == pytest.approx(expected, abs=1e-9)
    assert result.objective == pytest.approx(expected[-1], abs=1e-9)
    assert result.bound == pytest.approx(expected[-1], abs=1e-9)


@given(small_cases())
def test_lexicographic_with_an_imbalance_first_stage(case) -> None:
    customers, reps, pairs = case
    balance = alloc.MinimizeImbalance("index")
    problem = alloc.Problem(
        customers, reps, pairs=pairs, objective=alloc.Lexicographic([balance, TRAVEL])
    )
    expected = lexicographic_optimum(problem, [[balance], [TRAVEL]])
    assert expected is not None
    result = alloc.solve(problem, time_limit=10, seed=0, workers=1)
    assert result.status.has_solution
    values = [s.value for s in result.stages]
    # The imbalance stage is exact (equal shares); the travel stage is optimal within it.
    assert values[0] == pytest.approx(expected[0], abs=1e-9)
    if result.status is alloc.Status.OPTIMAL:
        assert values[1] == pytest.approx(expected[1], abs=1e-9)
    else:
        assert values[1] >= expected[1] - 1e-9


@given(small_cases(), st.integers(0, 100))
def test_budget_is_honoured_and_its_status_is_honest(case, percent) -> None:
    customers, reps, pairs = case
    cap = round(float(customers["index"].sum()) * percent / 100, 2)
    problem = alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=[alloc.Budget(DISRUPTION, max=cap)],
        objective=TRAVEL,
    )
    plans = feasible_plans(problem)
    result = alloc.solve(problem, time_limit=10, seed=0, workers=1)
    if not plans:
        assert result.status is alloc.Status.INFEASIBLE
        return
    best = min(term_value(problem, p, TRAVEL) for p in plans)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    assert term_value(problem, result.assignment, DISRUPTION) <= cap + 1e-9
    assert result.objective == pytest.approx(best, abs=1e-9)


def test_a_budget_that_no_plan_meets_is_infeasible_with_the_reason() -> None:
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "index": [3, 3, 3], "owner": ["r0", "r0", "r0"]}
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    rules = [
        alloc.Balance("index", min=0.5, max=1.5),  # r1 must take at least one customer
        alloc.Budget(alloc.MinimizeDisruption("owner", value="index"), max=2.0),
    ]
    problem = alloc.Problem(
        customers, reps, rules=rules, objective=alloc.MinimizeImbalance("index")
    )
    result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    assert result.status is alloc.Status.INFEASIBLE
    assert "budget" in result.explanation.lower()


def test_slack_lets_the_second_stage_trade_some_of_the_first() -> None:
    # Two customers, both owned by r0; r1 is closer to both. Exact priorities move
    # both; a 100 % slack on distance keeps them with their owner.
    customers = pd.DataFrame({"customer_id": ["a", "b"], "owner": ["r0", "r0"]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    pairs = pd.DataFrame(
        {"customer_id": ["a", "a", "b", "b"], "rep_id": ["r0", "r1"] * 2, "km": [2, 1, 2, 1]}
    )
    stages = [TRAVEL, alloc.MinimizeDisruption("owner")]
    strict = alloc.Problem(customers, reps, pairs=pairs, objective=alloc.Lexicographic(stages))
    loose = strict.replace(objective=alloc.Lexicographic(stages, slack=1.0))
    a = alloc.solve(strict, time_limit=5, seed=0)
    b = alloc.solve(loose, time_limit=5, seed=0)
    assert [s.value for s in a.stages] == [2.0, 2.0]
    assert [s.value for s in b.stages] == [4.0, 0.0]
    assert a.status is b.status is alloc.Status.OPTIMAL
    assert "stage 2" in b.summary()


def test_an_absolute_slack_gives_a_balance_stage_near_zero_room() -> None:
    # r0 owns 10 + 11, r1 9 + 10: today 5 % off the fair share of 20. Perfect balance
    # needs two moves (swap the 11 and a 10); within 10 % today's plan stands. A
    # relative slack leaves no room at an optimum of 0; an absolute one does.
    customers = pd.DataFrame(
        {"customer_id": list("abcd"), "w": [10, 11, 9, 10], "owner": ["r0", "r0", "r1", "r1"]}
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    stages = [alloc.MinimizeImbalance("w"), alloc.MinimizeDisruption("owner")]
    relative = alloc.Problem(customers, reps, objective=alloc.Lexicographic(stages, slack=0.5))
    absolute = relative.replace(objective=alloc.Lexicographic(stages, absolute=0.1))
    a = alloc.solve(relative, time_limit=5, seed=0)
    b = alloc.solve(absolute, time_limit=5, seed=0)
    assert [s.value for s in a.stages] == pytest.approx([0.0, 2.0])
    assert [s.value for s in b.stages] == pytest.approx([0.05, 0.0])  # today's plan
    assert a.status is b.status is alloc.Status.OPTIMAL
    assert not alloc.check(absolute, b.assignment)
    assert "absolute=[0.1]" in repr(absolute.objective)


def test_contiguity_with_priorities_is_refused_with_the_reason() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "owner": ["r0", "r0", "r1"]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    neighbors = pd.DataFrame({"customer_id": ["a", "b"], "neighbor_id": ["b", "c"]})
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Contiguous(neighbors)],
        objective=alloc.Lexicographic(
            [alloc.MinimizeDisruption("owner"), alloc.MinimizeDisruption("owner")]
        ),
    )
    with pytest.raises(alloc.InvalidProblemError, match="Contiguous"):
        alloc.solve(problem, time_limit=2)


def test_chosen_centres_in_a_later_stage_are_refused_before_any_solve() -> None:
    customers = pd.DataFrame(
        {"customer_id": list("abcd"), "x": [0, 1, 2, 3], "y": [0, 0, 0, 0], "owner": ["r0"] * 4}
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    staged = alloc.Lexicographic([alloc.MinimizeDisruption("owner"), alloc.MinimizeDispersion()])
    problem = alloc.Problem(customers, reps, objective=staged)
    with pytest.raises(alloc.InvalidProblemError, match="chosen centres"):
        alloc.solve(problem, time_limit=2)
