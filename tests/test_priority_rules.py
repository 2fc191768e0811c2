"""Budget, Lexicographic and soft Balance: bad input, the checker's recomputation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alloc
from alloc.checker import soft_window_value, term_value
from alloc.solvers.state import Rows, score_of

TRAVEL = alloc.MinimizeTravel(distance="km")
MOVES = alloc.MinimizeDisruption("owner")


def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "w": [1, 2, 3], "owner": ["r0", "r1", "r0"]}
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    pairs = pd.DataFrame(
        {
            "customer_id": np.repeat(["a", "b", "c"], 2),
            "rep_id": ["r0", "r1"] * 3,
            "km": [1.0, 2.0, 3.0, 1.5, 2.5, 0.5],
        }
    )
    return customers, reps, pairs


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: alloc.Budget(MOVES, max=-1), "max"),
        (lambda: alloc.Budget(MOVES, max=float("inf")), "max"),
        (lambda: alloc.Budget(alloc.MinimizeImbalance("w"), max=0.1), "term"),
        (lambda: alloc.Budget("owner", max=1), "term"),
        (lambda: alloc.Lexicographic([]), "stages"),
        (lambda: alloc.Lexicographic([TRAVEL, "x"]), "stages"),
        (lambda: alloc.Lexicographic([alloc.MinimizeImbalance("w", norm="sum"), MOVES]), "stages"),
        (lambda: alloc.Lexicographic([TRAVEL, MOVES], slack=-0.1), "slack"),
        (lambda: alloc.Lexicographic([TRAVEL, MOVES], slack=[0.1, 0.2]), "slack"),
        (lambda: alloc.Lexicographic([TRAVEL, MOVES], absolute=-1), "absolute"),
        (lambda: alloc.Lexicographic([TRAVEL, MOVES], absolute="1"), "absolute"),
        (lambda: alloc.Balance("w", 0.1, soft=True), "penalty"),
        (lambda: alloc.Balance("w", 0.1, penalty=2.0), "penalty"),
        (lambda: alloc.Balance("w", 0.1, soft=True, penalty=0), "penalty"),
        (lambda: alloc.Balance("w", 0.1, soft="yes", penalty=1), "soft"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(make, argument) -> None:
    with pytest.raises(alloc.InvalidParameterError, match=f"'{argument}'"):
        make()


def test_a_budget_on_a_missing_column_names_it() -> None:
    customers, reps, pairs = tables()
    with pytest.raises(alloc.InvalidProblemError, match="minutes"):
        alloc.Problem(
            customers,
            reps,
            pairs=pairs,
            rules=[alloc.Budget(alloc.MinimizeTravel(distance="minutes"), max=3)],
        )


def test_lexicographic_must_be_the_whole_objective() -> None:
    customers, reps, pairs = tables()
    with pytest.raises(alloc.InvalidProblemError, match="whole objective"):
        alloc.Problem(
            customers,
            reps,
            pairs=pairs,
            objective=[alloc.Lexicographic([TRAVEL, MOVES]), alloc.MinimizeImbalance("w")],
        )
    with pytest.raises(alloc.InvalidProblemError, match="whole objective"):
        alloc.Lexicographic([TRAVEL, MOVES]) + MOVES


def test_checker_reports_a_broken_budget_with_the_amount() -> None:
    customers, reps, pairs = tables()
    problem = alloc.Problem(customers, reps, pairs=pairs, rules=[alloc.Budget(MOVES, max=1)])
    everyone_moves = pd.Series({"a": "r1", "b": "r0", "c": "r1"})
    [violation] = alloc.check(problem, everyone_moves)
    assert violation.amount == pytest.approx(2.0)
    assert "above the cap" in violation.message
    assert alloc.check(problem, pd.Series({"a": "r0", "b": "r1", "c": "r1"})) == []


def test_objective_of_a_lexicographic_problem_is_its_last_stage() -> None:
    customers, reps, pairs = tables()
    problem = alloc.Problem(
        customers, reps, pairs=pairs, objective=alloc.Lexicographic([TRAVEL, MOVES])
    )
    plan = pd.Series({"a": "r1", "b": "r1", "c": "r1"})
    assert alloc.objective_value(problem, plan) == term_value(problem, plan, MOVES) == 2.0
    staged = alloc.Lexicographic([TRAVEL, alloc.MinimizeDisruption("owner", value="w")])
    assert problem.replace(objective=staged).metric_names() == ["w"]


@st.composite
def soft_cases(draw: st.DrawFn):
    n, k = draw(st.integers(2, 5)), draw(st.integers(2, 3))
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "w": draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"r{j}" for j in range(k)],
            "fte": draw(st.lists(st.sampled_from([1, 2]), min_size=k, max_size=k)),
        }
    )
    low = draw(st.sampled_from([None, 0.0, 0.8, 0.95]))
    high = draw(st.sampled_from([None, 1.05, 1.2]))
    if low is None and high is None:
        high = 1.1
    share = draw(st.sampled_from([None, "fte"]))
    penalty = draw(st.sampled_from([0.5, 2.0, 7.0]))
    rule = alloc.Balance("w", min=low, max=high, share=share, soft=True, penalty=penalty)
    plans = list(itertools.product(reps["rep_id"], repeat=n))
    return customers, reps, rule, plans


@given(soft_cases())
def test_soft_balance_objective_equals_the_checkers_recomputation(case) -> None:
    customers, reps, rule, plans = case
    problem = alloc.Problem(customers, reps, rules=[rule])
    model, rows = problem.model, Rows.from_model(problem.model)
    for combo in plans[:50]:
        plan = pd.Series(list(combo), index=problem.customer_ids)
        assert alloc.check(problem, plan) == []  # priced, never a violation
        expected = soft_window_value(problem, plan, rule)
        assert alloc.objective_value(problem, plan) == pytest.approx(expected, abs=1e-9)
        chosen = model.pair_index(
            model.customer_unit, problem.rep_ids.get_indexer(pd.Index(plan.to_numpy()))
        )
        score = score_of(model, rows, chosen, rows.loads(model, chosen))
        assert score.objective == pytest.approx(expected, abs=1e-9)


@given(soft_cases())
def test_solve_with_a_soft_window_finds_the_cheapest_violation(case) -> None:
    customers, reps, rule, plans = case
    problem = alloc.Problem(customers, reps, rules=[rule])
    best = min(
        alloc.objective_value(problem, pd.Series(list(c), index=problem.customer_ids))
        for c in plans
    )
    result = alloc.solve(problem, time_limit=10, seed=0, workers=1)
    assert result.status.has_solution
    assert result.objective == pytest.approx(
        alloc.objective_value(problem, result.assignment), abs=1e-12
    )
    if result.status is alloc.Status.OPTIMAL:
        assert result.objective == pytest.approx(best, abs=1e-9)
    else:
        assert result.objective >= best - 1e-9
    if result.bound is not None:
        assert result.bound <= best + 1e-9


def test_soft_window_repr_and_hard_window_unchanged() -> None:
    soft = alloc.Balance("w", min=0.8, max=1.2, soft=True, penalty=3)
    assert repr(soft).endswith("soft=True, penalty=3)")
    assert repr(alloc.Balance("w", 0.05)) == "Balance(metric='w', tolerance=0.05, share=None)"


def test_frontier_points_meet_their_caps_and_trade_off() -> None:
    customers = pd.DataFrame(
        {"customer_id": list("abcd"), "owner": ["r0"] * 4, "v": [1.0, 2.0, 3.0, 4.0]}
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    pairs = pd.DataFrame(
        {
            "customer_id": np.repeat(list("abcd"), 2),
            "rep_id": ["r0", "r1"] * 4,
            "km": [5, 1, 5, 2, 5, 3, 5, 4],
        }
    )
    problem = alloc.Problem(customers, reps, pairs=pairs)
    moves = alloc.MinimizeDisruption("owner", value="v")
    table = alloc.frontier(problem, TRAVEL, moves, steps=4, time_limit=20)
    assert list(table.columns[:4]) == ["budget", "primary", "secondary", "status"]
    assert table["budget"].iloc[0] == 0.0 and table["budget"].iloc[-1] == 10.0
    assert (table["secondary"] <= table["budget"] + 1e-9).all()
    assert table["primary"].is_monotonic_decreasing
    assert table["primary"].iloc[0] == 20.0 and table["primary"].iloc[-1] == 10.0
    assert (table["status"] == "optimal").all()
    with pytest.raises(alloc.InvalidParameterError, match="'secondary'"):
        alloc.frontier(problem, TRAVEL, alloc.MinimizeImbalance("v"))
    with pytest.raises(alloc.InvalidParameterError, match="'steps'"):
        alloc.frontier(problem, TRAVEL, moves, steps=1)


def test_without_reps_clears_departed_owners_in_caps_and_stages() -> None:
    customers, reps, pairs = tables()
    moves = alloc.MinimizeDisruption("owner", value="w")
    problem = alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=[alloc.Budget(moves, max=3)],
        objective=alloc.Lexicographic([TRAVEL, moves]),
    )
    smaller = problem.without_reps(["r1"])
    assert smaller.customers["owner"].isna().tolist() == [False, True, False]
    result = alloc.solve(smaller, time_limit=5)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(smaller, result.assignment) == []
