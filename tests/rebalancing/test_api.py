"""Tests for alloc.rebalancing.rebalance: budgets, protect, tolerance, brute force, properties."""

from __future__ import annotations

import functools
import itertools
import math
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rebalancing_cases import brute_force_budget, capacity_case, discretionary, three_reps

import alloc
from alloc.rebalancing import REASONS, rebalance


def test_one_rep_leaves_best_plan_needs_exactly_one_move():
    problem, incumbent = three_reps()
    smaller = problem.without_reps(["r3"])
    # Without moves r1 keeps 10 > 9 (the fair share); moving b (2) to r2 balances exactly.
    stay = rebalance(smaller, incumbent, max_moves=0, time_limit=5)
    assert stay.status is alloc.Status.OPTIMAL
    assert stay.objective == pytest.approx(1 / 9)
    result = rebalance(smaller, incumbent, max_moves=1, time_limit=5)
    assert result.status is alloc.Status.OPTIMAL
    assert result.objective == pytest.approx(0.0)
    assert result.assignment.to_dict() == {
        "a": "r1",
        "b": "r2",
        "c": "r2",
        "d": "r2",
        "e": "r2",
        "f": "r1",
    }
    moves = result.moves.set_index("customer_id")
    assert moves.loc["b", ["from_rep", "to_rep", "reason"]].tolist() == ["r1", "r2", "balance"]
    assert moves.loc[["e", "f"], "reason"].tolist() == ["orphaned", "orphaned"]
    assert moves.loc[["e", "f"], "from_rep"].tolist() == ["r3", "r3"]
    assert len(moves) == 3
    assert set(result.moves.columns) >= {"customer_id", "from_rep", "to_rep", "value", "reason"}


def test_no_budget_uses_no_more_moves_than_needed():
    problem, incumbent = three_reps()
    result = rebalance(problem.without_reps(["r3"]), incumbent, time_limit=5)
    assert result.objective == pytest.approx(0.0)
    assert len(discretionary(result)) == 1


def test_budget_too_small_to_repair_is_proven_infeasible():
    problem, incumbent = capacity_case()
    result = rebalance(problem, incumbent, max_moves=0, time_limit=2)
    assert result.status is alloc.Status.INFEASIBLE  # proven by CP-SAT: a small problem
    assert result.assignment is None and result.moves is None
    assert "max_moves=0" in result.explanation
    with pytest.raises(alloc.InfeasibleError):
        result.raise_for_status()


def test_new_problem_without_any_plan_is_infeasible():
    problem, incumbent = capacity_case(capacity_r1=0.5)
    tight = problem.replace(reps=pd.DataFrame({"rep_id": ["r1", "r2"], "cap": [0.5, 0.5]}))
    result = rebalance(tight, incumbent, time_limit=2)
    assert result.status is alloc.Status.INFEASIBLE


def test_protected_customers_stay_when_another_move_repairs():
    problem, incumbent = capacity_case()
    result = rebalance(problem, incumbent, max_moves=1, protect=["a"], time_limit=5)
    assert alloc.check(problem, result.assignment) == []
    assert result.assignment["a"] == "r1"
    assert not result.moves["protected"].any()
    assert result.objective == pytest.approx(0.2)  # b moves instead: 6 and 4


def test_protected_customers_move_only_when_nothing_else_is_feasible():
    problem, incumbent = capacity_case()
    result = rebalance(problem, incumbent, max_moves=1, protect=["a", "b", "c"], time_limit=5)
    assert alloc.check(problem, result.assignment) == []
    moved = discretionary(result)
    assert len(moved) == 1 and bool(moved["protected"].iloc[0])
    assert "protected" in result.explanation


def test_protect_accepts_a_flag_column():
    problem, incumbent = capacity_case()
    flagged = problem.replace(
        customers=problem.customers.reset_index().assign(key=[True, True, True, False])
    )
    result = rebalance(flagged, incumbent, max_moves=1, protect="key", time_limit=5)
    assert alloc.check(flagged, result.assignment) == []
    assert bool(discretionary(result)["protected"].all())


def test_tolerance_stops_as_soon_as_every_metric_is_within_it():
    customers = pd.DataFrame({"customer_id": list("abcd"), "potential": [4.0, 2, 1, 3]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    incumbent = pd.Series({"a": "r1", "b": "r1", "c": "r1", "d": "r2"})  # 7 and 3: dev 40 %
    within = rebalance(problem, incumbent, tolerance=0.5, time_limit=5)
    assert len(within.moves) == 0
    assert "Within the tolerance" in within.explanation
    one = rebalance(problem, incumbent, tolerance=0.3, time_limit=5)
    assert len(one.moves) == 1
    assert one.metrics["potential_max_dev"] <= 0.3 + 1e-12
    # The bound is the trivial 0, and the result says why (no gap is given).
    assert one.bound == 0.0 and one.gap is None
    assert "with a tolerance" in one.bound_note
    assert "no gap: the best bound (0, from deviations that are never negative" in one.summary()


def test_tolerance_per_metric():
    problem, incumbent = three_reps()
    result = rebalance(
        problem.without_reps(["r3"]), incumbent, tolerance={"potential": 0.0}, time_limit=5
    )
    assert result.metrics["potential_max_dev"] == pytest.approx(0.0)


def senior_leaves() -> tuple[alloc.Problem, pd.Series]:
    """S0 leaves; its key account K0 may only go to the other seniors (S1, S2), who then
    have to shed non-key customers to the juniors, one move each."""
    rows = [
        ("K1", 60, 6, True, "S1"),
        ("a1", 24, 4, False, "S1"),
        ("a2", 8, 3, False, "S1"),
        ("a3", 8, 3, False, "S1"),
        ("K2", 60, 6, True, "S2"),
        ("b1", 26, 4, False, "S2"),
        ("b2", 7, 3, False, "S2"),
        ("b3", 7, 3, False, "S2"),
        ("K0", 70, 7, True, "S0"),
        ("o1", 15, 3, False, "S0"),
        ("o2", 15, 3, False, "S0"),
        ("j1", 50, 5, False, "J1"),
        ("j2", 50, 5, False, "J1"),
        ("j3", 45, 5, False, "J2"),
        ("j4", 55, 5, False, "J2"),
        ("j5", 40, 5, False, "J3"),
        ("j6", 60, 5, False, "J3"),
    ]
    table = pd.DataFrame(
        rows, columns=["customer_id", "potential", "workload", "key_account", "owner"]
    )
    reps = pd.DataFrame(
        {"rep_id": ["S0", "S1", "S2", "J1", "J2", "J3"], "level": ["senior"] * 3 + ["junior"] * 3}
    )
    problem = alloc.Problem(
        table.drop(columns="owner"),
        reps,
        rules=[alloc.KeyAccounts("key_account", levels=["senior"])],
        objective=alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload"),
    )
    incumbent = pd.Series(table["owner"].to_numpy(), index=table["customer_id"])
    return problem.without_reps(["S0"]), incumbent


@functools.cache
def brute_force_senior_leaves(max_moves: int) -> tuple[float, float]:
    """(max potential deviation, then objective) of the best plan within the budget.

    Enumerates which kept customers move (at most ``max_moves``) and where, and where
    the orphans go; a plan is feasible when every key account is with a senior."""
    problem, incumbent = senior_leaves()
    customers, reps = problem.customers, problem.reps
    ids, names = list(problem.customer_ids), list(problem.rep_ids)
    senior = np.array([reps.loc[r, "level"] == "senior" for r in names])
    key = customers["key_account"].to_numpy(bool)
    pot, work = customers["potential"].to_numpy(float), customers["workload"].to_numpy(float)
    home = np.array([names.index(incumbent[c]) if incumbent[c] in names else -1 for c in ids])
    orphans = np.flatnonzero(home < 0).tolist()
    kept = np.flatnonzero(home >= 0).tolist()
    R = len(names)
    best = (math.inf, math.inf)
    for k in range(max_moves + 1):
        for moved in itertools.combinations(kept, k):
            options = [[r for r in range(R) if r != home[c]] for c in moved]
            for combo in itertools.product(*options, *[range(R)] * len(orphans)):
                plan = home.copy()
                plan[list(moved) + orphans] = combo
                if not senior[plan[key]].all():
                    continue
                lp, lw = np.bincount(plan, pot, R), np.bincount(plan, work, R)
                dev_p = float(np.abs(lp / lp.mean() - 1).max())
                dev_w = float(np.abs(lw / lw.mean() - 1).max())
                best = min(best, (round(dev_p, 12), round(dev_p + 0.5 * dev_w, 12)))
    return best


@pytest.mark.parametrize("local_search_only", [False, True])
def test_senior_leaves_tolerance_out_of_reach_matches_brute_force(monkeypatch, local_search_only):
    # With 1 % out of reach, the plan is the closest within the budget: the least max
    # potential deviation, and among those the best objective (workload balance).
    problem, incumbent = senior_leaves()
    if local_search_only:
        monkeypatch.setattr(sys.modules["alloc.rebalancing.phases"], "EXACT_PAIR_LIMIT", 0)
    for max_moves in (0, 1, 2):
        best_dev, best_objective = brute_force_senior_leaves(max_moves)
        result = rebalance(
            problem, incumbent, max_moves=max_moves, tolerance={"potential": 0.01}, time_limit=5
        )
        assert alloc.check(problem, result.assignment) == []
        assert len(discretionary(result)) <= max_moves
        assert result.metrics["potential_max_dev"] == pytest.approx(best_dev, abs=1e-9)
        assert result.objective == pytest.approx(best_objective, abs=1e-9)
        assert "was not reached" in result.explanation


def test_moved_value_budget_is_respected():
    problem, incumbent = three_reps()
    smaller = problem.without_reps(["r3"])
    result = rebalance(smaller, incumbent, max_moved_value=1.5, time_limit=5)
    assert discretionary(result)["value"].sum() <= 1.5
    assert result.objective >= 1 / 9 - 1e-12  # b (value 2) may not move


def test_incumbent_may_be_a_dict_or_a_frame():
    problem, incumbent = three_reps()
    smaller = problem.without_reps(["r3"])
    frame = incumbent.rename_axis("customer_id").rename("rep_id").reset_index()
    for given_ in (incumbent.to_dict(), frame):
        result = rebalance(smaller, given_, max_moves=1, time_limit=5)
        assert result.objective == pytest.approx(0.0)


@st.composite
def small_cases(draw):
    n = draw(st.integers(3, 5))
    m = draw(st.integers(2, 3))
    potential = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    work = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "potential": np.asarray(potential, float),
            "work": np.asarray(work, float),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"r{j}" for j in range(m + 1)],
            "cap": float(draw(st.integers(sum(work) // m, sum(work)))),
        }
    )
    rules = [alloc.Capacity("work", limit="cap")] if draw(st.booleans()) else []
    objective = alloc.MinimizeImbalance("potential")
    if draw(st.booleans()):
        objective = objective + 0.5 * alloc.MinimizeImbalance("work")
    problem = alloc.Problem(customers, reps, rules=rules, objective=objective)
    owners = draw(st.lists(st.integers(0, m), min_size=n, max_size=n))
    incumbent = pd.Series([f"r{j}" for j in owners], index=problem.customer_ids)
    leaving = f"r{draw(st.integers(0, m))}"
    budget = draw(st.sampled_from([0, 1, 2, None]))
    return problem.without_reps([leaving]), incumbent, leaving, budget


@settings(deadline=None)
@given(small_cases())
def test_small_problems_match_brute_force_within_the_budget(case):
    problem, incumbent, leaving, budget = case
    result = rebalance(problem, incumbent, max_moves=budget, time_limit=5)
    best = brute_force_budget(problem, incumbent, budget)
    if best is None:
        assert result.assignment is None
        return
    assert result.assignment is not None, result.explanation
    assert alloc.check(problem, result.assignment) == []
    moves = discretionary(result)
    assert budget is None or len(moves) <= budget
    orphans = set(incumbent.index[incumbent == leaving])
    assert set(result.moves.loc[result.moves["reason"] == "orphaned", "customer_id"]) == orphans
    assert result.objective >= best[0] - 1e-9
    if result.status is alloc.Status.OPTIMAL:
        assert result.objective == pytest.approx(best[0], abs=1e-9)
        assert len(moves) == best[1]


@st.composite
def priced_cases(draw):
    """Tiny problems whose objective prices each pair with a whole number (minutes,
    points) beside an imbalance term, with a current owner per customer."""
    n = draw(st.integers(3, 5))
    m = draw(st.integers(2, 3))
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "potential": np.asarray(draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))),
        }
    )
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)]})
    minutes = draw(st.lists(st.integers(0, 30), min_size=n * m, max_size=n * m))
    pairs = pd.DataFrame(
        [(f"c{i}", f"r{j}") for i in range(n) for j in range(m)], columns=["customer_id", "rep_id"]
    ).assign(minutes=np.asarray(minutes, float))
    weight = draw(st.sampled_from([0.0, 1.0, 10.0]))
    objective = alloc.MinimizeCost("minutes") + weight * alloc.MinimizeImbalance("potential")
    problem = alloc.Problem(customers, reps, pairs=pairs, objective=objective)
    owners = draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n))
    incumbent = pd.Series([f"r{j}" for j in owners], index=problem.customer_ids)
    return problem, incumbent, draw(st.sampled_from([0, 1, 2, None]))


@settings(deadline=None, max_examples=30)
@given(priced_cases())
def test_whole_number_costs_are_proven_optimal_and_equal_brute_force(case):
    # A cost term used to keep every rebalance FEASIBLE ("no valid bound") even on a few
    # customers: CP-SAT's optimum is now a proof when the costs are whole numbers.
    problem, incumbent, budget = case
    result = rebalance(problem, incumbent, max_moves=budget, time_limit=10)
    best = brute_force_budget(problem, incumbent, budget)
    assert best is not None  # staying put is always allowed
    assert result.status is alloc.Status.OPTIMAL, result.summary()
    assert result.objective == pytest.approx(best[0], abs=1e-9)
    assert result.bound == pytest.approx(result.objective)
    assert len(discretionary(result)) == best[1]  # among the best plans, fewest moves


@st.composite
def generated_cases(draw):
    seed = draw(st.integers(0, 10_000))
    n_reps = draw(st.integers(4, 6))
    problem = alloc.datasets.make_problem(draw(st.integers(40, 120)), n_reps, seed=seed)
    incumbent = problem.customers["owner"]
    leaving = problem.rep_ids[draw(st.integers(1, n_reps - 1))]  # R0 may be the only senior
    max_moves = draw(st.integers(0, 12))
    total = float(problem.customers["potential"].sum())
    max_value = draw(st.sampled_from([None, 0.02 * total, 0.1 * total]))
    protect = draw(st.sampled_from([None, "key_account"]))
    return problem.without_reps([leaving]), incumbent, leaving, max_moves, max_value, protect


@settings(deadline=None)
@given(generated_cases())
def test_budgets_are_never_exceeded_and_every_plan_passes_check(case):
    problem, incumbent, leaving, max_moves, max_value, protect = case
    result = rebalance(
        problem,
        incumbent,
        max_moves=max_moves,
        max_moved_value=max_value,
        protect=protect,
        time_limit=0.6,
    )
    if result.assignment is None:
        assert result.status in (alloc.Status.UNKNOWN, alloc.Status.INFEASIBLE)
        return
    assert alloc.check(problem, result.assignment) == []
    moves = discretionary(result)
    assert len(moves) <= max_moves
    if max_value is not None:
        assert moves["value"].sum() <= max_value * (1 + 1e-9)
    orphans = incumbent.index[incumbent == leaving]
    assert result.assignment.reindex(orphans).isin(problem.rep_ids).all()
    assert set(result.moves["reason"]) <= set(REASONS)
    # Every move list row is a real change, and every change is listed.
    changed = result.assignment.index[result.assignment != incumbent.reindex(problem.customer_ids)]
    assert set(changed) == set(result.moves["customer_id"])


@settings(deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_protected_customers_never_move_without_hard_limits(seed, key_accounts):
    problem = alloc.datasets.make_problem(60, 4, seed=seed)
    plain = problem.replace(
        rules=[r for r in problem.rules if not isinstance(r, (alloc.Capacity, alloc.AccountLimit))]
    )
    incumbent = plain.customers["owner"]
    ids = (
        list(plain.customer_ids[plain.customers["key_account"].to_numpy()])
        if key_accounts
        else list(plain.customer_ids[:3])
    )
    result = rebalance(
        plain.without_reps([plain.rep_ids[-1]]), incumbent, max_moves=8, protect=ids, time_limit=0.6
    )
    assert not set(discretionary(result)["customer_id"]) & set(ids)
