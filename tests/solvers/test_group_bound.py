"""The bound from an LP over a group of reps (alloc.solvers.group_bound)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.solvers import portfolio
from alloc.solvers.bounds import imbalance_bound
from alloc.solvers.deadline import Deadline
from alloc.solvers.group_bound import group_bound, group_lp
from alloc.solvers.lp import lp_relaxation
from alloc.solvers.state import Rows
from conftest import model_brute_force


def _mismatch_problem(n_rare: int, n_common: int, seed: int = 0) -> alloc.Problem:
    """Reps R0 and R1 alone know industry "rare", whose customers bring them their whole
    fair share of potential but little workload; everyone knows "common"."""
    rng = np.random.default_rng(seed)
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(6)], "skills": ["rare;common"] * 2 + ["common"] * 4}
    )
    common_potential = rng.integers(5, 15, n_common).astype(float)
    rare_potential = np.full(n_rare, common_potential.sum() / 2 / n_rare)  # 2 of 6 shares
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n_rare + n_common)],
            "industry": ["rare"] * n_rare + ["common"] * n_common,
            "potential": np.concatenate([rare_potential, common_potential]),
            "workload": np.concatenate([np.ones(n_rare), rng.integers(5, 15, n_common)]),
        }
    )
    objective = alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload")
    return alloc.Problem(
        customers, reps, rules=[alloc.Match("industry", "skills")], objective=objective
    )


def test_the_group_of_the_rare_industry_gets_a_bound_the_hall_count_misses() -> None:
    model = _mismatch_problem(20, 200).model
    rows = Rows.from_model(model)
    bound = group_bound(model, rows, Deadline.after(10))
    # The rare customers fill R0 and R1's potential exactly: the Hall count says 0.
    assert imbalance_bound(model, rows) < 1e-9
    assert bound > 0.05
    # A relaxation of the LP relaxation: never above it.
    full = lp_relaxation(model, rows, Deadline.after(10)).bound
    assert bound <= full + 1e-7
    mask = np.zeros(model.n_reps, dtype=bool)
    mask[:2] = True
    assert group_lp(model, rows, mask, Deadline.after(10)) == pytest.approx(bound, abs=1e-9)


@st.composite
def _small_problems(draw: st.DrawFn) -> alloc.Problem:
    n = draw(st.integers(4, 7))
    m = draw(st.integers(3, 4))
    skills = [
        ";".join(draw(st.lists(st.sampled_from("abc"), min_size=1, max_size=3, unique=True)))
        for _ in range(m)
    ]
    known = sorted({s for text in skills for s in text.split(";")})
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "industry": [draw(st.sampled_from(known)) for _ in range(n)],
            "potential": [draw(st.integers(1, 30)) for _ in range(n)],
            "workload": [draw(st.integers(1, 30)) for _ in range(n)],
            "owner": [f"R{draw(st.integers(0, m - 1))}" for _ in range(n)],
        }
    )
    reps = pd.DataFrame({"rep_id": [f"R{j}" for j in range(m)], "skills": skills})
    rules: list[object] = [alloc.Match("industry", "skills")]
    if draw(st.booleans()):
        reps["capacity"] = float(customers["workload"].sum()) / m * draw(st.sampled_from([1.3, 2]))
        rules.append(alloc.Capacity("workload", limit="capacity"))
    norm = draw(st.sampled_from(["max", "sum"]))
    objective = alloc.MinimizeImbalance("potential") + draw(
        st.sampled_from([0.0, 0.5, 2.0])
    ) * alloc.MinimizeImbalance("workload", norm=norm)
    if draw(st.booleans()):
        objective = objective + 0.05 * alloc.MinimizeDisruption("owner")
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


@settings(max_examples=60, deadline=None)
@given(_small_problems())
def test_no_group_bound_exceeds_the_brute_force_optimum(problem: alloc.Problem) -> None:
    model = problem.model
    rows = Rows.from_model(model)
    optimum = model_brute_force(model, rows)
    cheapest = float(np.minimum.reduceat(model.cost, model.unit_start[:-1]).sum())
    for size in range(2, model.n_reps + 1):
        for reps in itertools.combinations(range(model.n_reps), size):
            mask = np.zeros(model.n_reps, dtype=bool)
            mask[list(reps)] = True
            value = cheapest + group_lp(model, rows, mask, Deadline.after(10))
            assert value <= optimum + 1e-9 * max(1.0, abs(optimum))
    assert group_bound(model, rows, Deadline.after(10)) <= optimum + 1e-9 * max(1.0, optimum)


def test_solve_reports_the_group_bound_when_the_full_lp_is_out_of_reach(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # As at 100,000 x 1,000, where neither LP fits the time: the groups' LPs give the bound.
    monkeypatch.setattr(portfolio, "lp_seconds", lambda n_pairs: 1e9)
    problem = _mismatch_problem(40, 1100)  # above the exact path's 6,000 pairs
    result = alloc.solve(problem, time_limit=4, seed=0)
    assert result.status is alloc.Status.FEASIBLE
    model = problem.model
    expected = group_bound(model, Rows.from_model(model), Deadline.after(10))
    assert result.bound == pytest.approx(expected, rel=1e-6)
    assert "an LP over reps who share customers" in result.bound_note
    assert result.bound <= result.objective
