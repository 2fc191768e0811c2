"""Tests for alloc.datasets: generators, the bundled sample, and their promises."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.datasets import load_sample, make_problem, make_tables, sample_problem, standard_rules

CUSTOMER_COLUMNS = [
    "customer_id",
    "potential",
    "workload",
    "industry",
    "size",
    "region",
    "key_account",
    "history",
    "x",
    "y",
    "owner",
]
REP_COLUMNS = [
    "rep_id",
    "level",
    "skills",
    "capacity",
    "max_accounts",
    "region",
    "team",
    "fte",
    "x",
    "y",
]


@pytest.mark.parametrize(("n", "m"), [(1, 1), (50, 3), (200, 8), (500, 40)])
def test_make_tables_shapes_and_columns(n: int, m: int) -> None:
    customers, reps = make_tables(n, m, seed=1)
    assert customers.shape == (n, len(CUSTOMER_COLUMNS))
    assert reps.shape == (m, len(REP_COLUMNS))
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert list(reps.columns) == REP_COLUMNS
    assert customers["customer_id"].is_unique and reps["rep_id"].is_unique
    assert (customers["potential"] > 0).all() and (customers["workload"] > 0).all()
    assert set(reps["level"]) <= {"junior", "mid", "senior"}
    assert "senior" in set(reps["level"])
    assert set(customers["owner"]) <= set(reps["rep_id"])


def test_make_tables_slack_and_key_share_are_applied() -> None:
    customers, reps = make_tables(
        400, 10, seed=5, key_share=0.05, capacity_slack=1.5, account_slack=1.2
    )
    assert customers["key_account"].sum() == 20
    # key accounts are the largest customers by potential
    assert customers.loc[customers["key_account"], "potential"].min() >= (
        customers.loc[~customers["key_account"], "potential"].max()
    )
    total = customers["workload"].sum()
    assert reps["capacity"].tolist() == pytest.approx([1.5 * total / 10] * 10, abs=0.05)
    assert reps["max_accounts"].tolist() == [math.ceil(1.2 * 400 / 10)] * 10


def test_make_tables_is_deterministic_by_seed() -> None:
    a = make_tables(300, 9, seed=7)
    b = make_tables(300, 9, seed=7)
    c = make_tables(300, 9, seed=8)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not a[0]["potential"].equals(c[0]["potential"])


def test_make_problem_uses_standard_rules_and_balance_objective() -> None:
    problem = make_problem(200, 8, seed=3)
    assert (problem.n_customers, problem.n_reps) == (200, 8)
    assert [type(r).__name__ for r in problem.rules] == [type(r).__name__ for r in standard_rules()]
    assert [(t.metric, t.weight) for t in problem.objective] == [
        ("potential", 1.0),
        ("workload", 0.5),
    ]
    assert len(problem.customers_without_reps()) == 0
    again = make_problem(200, 8, seed=3)
    pd.testing.assert_frame_equal(problem.pairs, again.pairs)
    pd.testing.assert_frame_equal(problem.customers, again.customers)


def test_make_problem_accepts_other_rules_and_objective() -> None:
    problem = make_problem(
        30, 3, rules=[], objective=alloc.MinimizeImbalance("workload"), eligible=2
    )
    assert problem.rules == () and problem.n_pairs == 90
    assert problem.objective[0].metric == "workload"


@pytest.mark.parametrize(("n", "m"), [(100, 5), (300, 12), (500, 40)])
def test_generated_owners_respect_skills_and_key_accounts(n: int, m: int) -> None:
    problem = make_problem(n, m, seed=2)
    owners = problem.customers["owner"]
    violated = {v.rule.split("(")[0] for v in alloc.check(problem, owners)}
    assert not violated & {"Match", "KeyAccounts", "assignment"}


def test_generated_problem_is_solvable_and_checked() -> None:
    problem = make_problem(150, 6, seed=9)
    result = alloc.solve(problem, time_limit=1, seed=0, workers=1)
    assert result.status.has_solution
    assert alloc.check(problem, result.assignment) == []


def test_make_tables_rejects_bad_sizes() -> None:
    for args in ((0, 3), (10, 0), (2.5, 3), (True, 3), (10, np.int64(0))):
        with pytest.raises(alloc.InvalidParameterError):
            make_tables(*args)  # type: ignore[arg-type]
    with pytest.raises(alloc.InvalidParameterError, match="eligible"):
        make_tables(10, 2, eligible=0)
    with pytest.raises(
        alloc.InvalidParameterError, match="the 'n_reps' parameter of make_tables must be"
    ):
        make_tables(10, -1)
    customers, reps = make_tables(np.int64(10), np.int64(2), seed=1)
    assert (len(customers), len(reps)) == (10, 2)


def test_load_sample_is_the_documented_generated_organisation() -> None:
    customers, reps = load_sample()
    assert customers.shape == (400, len(CUSTOMER_COLUMNS))
    assert reps.shape == (12, len(REP_COLUMNS))
    gen_customers, gen_reps = make_tables(400, 12, seed=2026)
    pd.testing.assert_frame_equal(customers, gen_customers, check_dtype=False)
    pd.testing.assert_frame_equal(reps, gen_reps, check_dtype=False)


def test_sample_problem_builds_and_solves() -> None:
    problem = sample_problem()
    assert (problem.n_customers, problem.n_reps) == (400, 12)
    assert len(problem.rules) == 4 and len(problem.objective) == 2
    with_disruption = sample_problem(disruption_weight=1.0)
    assert len(with_disruption.objective) == 3
    term = with_disruption.objective[2]
    assert isinstance(term, alloc.MinimizeDisruption)
    assert term.weight == pytest.approx(1.0 / problem.customers["potential"].sum())
    result = alloc.solve(problem, time_limit=1, seed=0)
    assert result.status.has_solution
    assert alloc.check(problem, result.assignment) == []
