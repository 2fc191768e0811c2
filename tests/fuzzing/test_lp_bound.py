"""The LP relaxation's bound (alloc.solvers.lp) against brute force on tiny problems.

The bound is recomputed from HiGHS's duals as a Lagrangian value, which is a lower bound
for *any* duals: checked with HiGHS's duals and with random ones, on both fuzz recipes
(planted rows and rules; territories with Balance windows), for imbalance, cost, travel,
disruption and mixed objectives. At HiGHS's optimum it must also equal the LP's value,
so the recomputation is not merely valid but tight.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from generate import random_case
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import Case, Oracle
from territory import territory_case

import alloc
from alloc.solvers.deadline import Deadline
from alloc.solvers.lp import LpSearch, _dual_bound, lp_relaxation
from alloc.solvers.state import Rows

CASES = [random_case(11, i) for i in range(40)] + [territory_case(12, i) for i in range(40)]


def _problem(case: Case) -> alloc.Problem | None:
    try:
        return case.problem()
    except alloc.InvalidProblemError:
        return None


def _optimum(case: Case) -> float:
    return Oracle(case).solve().optimum


def _tol(value: float) -> float:
    return 1e-7 * max(1.0, abs(value))


@pytest.mark.parametrize("index", range(len(CASES)))
def test_lp_bound_never_exceeds_the_brute_force_optimum(index: int) -> None:
    case = CASES[index]
    problem = _problem(case)
    if problem is None:
        pytest.skip("the recipe drew a problem alloc rejects as invalid")
    optimum = _optimum(case)
    model = problem.model
    relaxed = lp_relaxation(model, Rows.from_model(model), Deadline(time.perf_counter() + 10))
    if math.isfinite(optimum):
        assert relaxed.bound <= optimum + _tol(optimum), case.describe()
    assert relaxed.bound < math.inf


def test_the_cases_cover_feasible_problems_with_positive_optima() -> None:
    optima = [_optimum(c) for c in CASES if _problem(c) is not None]
    positive = [v for v in optima if math.isfinite(v) and v > 1e-9]
    assert len(positive) >= 20


@pytest.mark.parametrize("index", range(0, len(CASES), 4))
def test_lp_bound_equals_the_lp_value_at_the_optimum(index: int) -> None:
    problem = _problem(CASES[index])
    if problem is None:
        pytest.skip("the recipe drew a problem alloc rejects as invalid")
    model = problem.model
    search = LpSearch(model, Rows.from_model(model), Deadline(time.perf_counter() + 10))
    relaxed = search.start().finish()
    if not relaxed.optimal:
        pytest.skip(f"HiGHS did not solve this LP ({relaxed.status})")
    value = search._highs.getInfo().objective_function_value
    assert relaxed.bound == pytest.approx(value, rel=1e-5, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(CASES) - 1), seed=st.integers(0, 2**31 - 1))
def test_any_duals_give_a_valid_bound(index: int, seed: int) -> None:
    case = CASES[index]
    problem = _problem(case)
    if problem is None:
        return
    optimum = _optimum(case)
    if not math.isfinite(optimum):
        return
    model = problem.model
    search = LpSearch(model, Rows.from_model(model), Deadline(time.perf_counter() + 10))
    layout = search._layout
    rng = np.random.default_rng(seed)
    n_rows = layout.side_lo.size
    duals = rng.normal(0.0, 10.0 ** rng.uniform(-3, 2), size=n_rows)
    assert _dual_bound(model, layout, duals) <= optimum + _tol(optimum)


def test_mixed_balance_and_disruption_objective_gets_a_finite_bound() -> None:
    # Issue 12: MinimizeImbalance + 0.001 x MinimizeDisruption printed "bound -inf, gap inf%".
    problem = alloc.datasets.make_problem(
        300,
        6,
        seed=3,
        objective=[
            alloc.MinimizeImbalance("potential"),
            alloc.MinimizeDisruption("owner", weight=0.001),
        ],
    )
    result = alloc.solve(problem, time_limit=3, seed=0, workers=1)
    assert result.status.has_solution
    assert result.bound is not None and result.bound <= result.objective + 1e-9
    assert "inf" not in result.summary()


@pytest.mark.parametrize("index", range(0, len(CASES), 2))
def test_class_lp_bound_is_valid_and_its_start_is_a_complete_plan(index: int) -> None:
    # The class LP is no relaxation; its duals give a bound on the full model, which
    # must still never exceed the optimum, and its spread plan names one pair per unit.
    case = CASES[index]
    problem = _problem(case)
    if problem is None:
        pytest.skip("the recipe drew a problem alloc rejects as invalid")
    model = problem.model
    rows = Rows.from_model(model)
    search = LpSearch(model, rows, Deadline(time.perf_counter() + 10), by_class=True)
    relaxed = search.start().finish()
    optimum = _optimum(case)
    if math.isfinite(optimum):
        assert relaxed.bound <= optimum + _tol(optimum), case.describe()
    if relaxed.start is not None:
        plan = relaxed.start
        assert plan.shape == (model.n_units,)
        assert (model.pair_unit[plan] == np.arange(model.n_units)).all()


def test_class_lp_bound_never_exceeds_the_full_lp_value() -> None:
    # Any duals give a Lagrangian value at most the LP's optimum (LP duality), so the
    # class LP's bound on the full model can only be weaker, never above it.
    problem = alloc.datasets.make_problem(300, 6, seed=5)
    model = problem.model
    rows = Rows.from_model(model)
    full = lp_relaxation(model, rows, Deadline(time.perf_counter() + 10))
    by_class = LpSearch(model, rows, Deadline(time.perf_counter() + 10), by_class=True)
    assert by_class.start().finish().bound <= full.bound + 1e-7


def test_class_lp_bounds_key_accounts_to_few_seniors_like_the_full_lp() -> None:
    # 5 % key accounts only the 5 seniors may serve: the bound is far above 0, and the
    # class LP (two classes) must find it through the full model's Lagrangian.
    rng = np.random.default_rng(0)
    n, m = 400, 10
    potential = np.round(rng.lognormal(8, 1.0, n), -1)
    key = np.zeros(n, bool)
    key[np.argsort(-potential)[: n // 20]] = True
    customers = pd.DataFrame(
        {"customer_id": [f"C{i}" for i in range(n)], "potential": potential, "key": key}
    )
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(m)], "level": ["senior"] * 2 + ["junior"] * (m - 2)}
    )
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.KeyAccounts("key")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    model = problem.model
    rows = Rows.from_model(model)
    full = lp_relaxation(model, rows, Deadline(time.perf_counter() + 10))
    by_class = LpSearch(model, rows, Deadline(time.perf_counter() + 10), by_class=True)
    relaxed = by_class.start().finish()
    assert full.bound > 0.05
    assert relaxed.bound == pytest.approx(full.bound, rel=1e-4)


def _owners_problem(n: int = 600, m: int = 12, seed: int = 2) -> alloc.Problem:
    # Key accounts for the few seniors, current owners biased to juniors, and a
    # disruption term: the LP must move some customers, preferably the large ones.
    rng = np.random.default_rng(seed)
    potential = np.round(rng.lognormal(8, 1.2, n), -1) + 10
    key = np.zeros(n, bool)
    key[np.argsort(-potential)[: n // 25]] = True
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(m)], "level": ["senior"] * 3 + ["junior"] * (m - 3)}
    )
    owner = np.where(rng.random(n) < 0.8, rng.integers(3, m, n), rng.integers(0, m, n))
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "potential": potential,
            "key": key,
            "owner": [f"R{j}" for j in owner],
        }
    )
    objective = alloc.MinimizeImbalance("potential") + (2.0 / n) * alloc.MinimizeDisruption("owner")
    return alloc.Problem(customers, reps, rules=[alloc.KeyAccounts("key")], objective=objective)


def test_class_lp_with_disruption_bounds_like_the_full_lp() -> None:
    # Classes split by current owner and size: priced at their members' average cost,
    # the class LP would move small customers with the large and its duals would bound
    # far below the full LP.
    problem = _owners_problem()
    model = problem.model
    rows = Rows.from_model(model)
    full = lp_relaxation(model, rows, Deadline(time.perf_counter() + 10))
    by_class = LpSearch(model, rows, Deadline(time.perf_counter() + 10), by_class=True)
    relaxed = by_class.start().finish()
    assert full.bound > 0.05
    assert relaxed.bound <= full.bound + 1e-7
    assert relaxed.bound == pytest.approx(full.bound, rel=1e-4)


def test_class_lp_start_with_disruption_moves_about_as_many_customers_as_the_lp() -> None:
    # The spread plan keeps small customers with their owner and moves large ones: its
    # disruption stays close to the LP's (the whole LP value bounds it from below).
    problem = _owners_problem()
    model = problem.model
    rows = Rows.from_model(model)
    full = lp_relaxation(model, rows, Deadline(time.perf_counter() + 10))
    relaxed = LpSearch(model, rows, Deadline(time.perf_counter() + 10), by_class=True)
    plan = relaxed.start().finish().start
    assert plan is not None
    assert float(model.cost[plan].sum()) <= 1.5 * full.bound
