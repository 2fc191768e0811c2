"""Tests for alloc.rebalancing.setup: forced moves (orphaned, new, rule) and their reasons."""

from __future__ import annotations

import pandas as pd
import pytest
from rebalancing_cases import capacity_case, discretionary, three_reps

import alloc
from alloc.rebalancing import rebalance


def test_rule_change_forces_a_move_outside_the_budget():
    problem, incumbent = capacity_case(capacity_r1=10.0)
    ruled = problem.replace(rules=[*problem.rules, alloc.Forbid([("b", "r1")])])
    result = rebalance(ruled, incumbent, max_moves=0, time_limit=5)
    assert alloc.check(ruled, result.assignment) == []
    row = result.moves.set_index("customer_id").loc["b"]
    assert (row["from_rep"], row["to_rep"], row["reason"]) == ("r1", "r2", "rule")
    assert len(discretionary(result)) == 0


def test_new_customers_are_placed_and_not_counted():
    problem, incumbent = three_reps()
    grown = problem.with_customers(
        pd.DataFrame({"customer_id": ["g", "h"], "potential": [5.0, 1.0]})
    )
    result = rebalance(grown, incumbent, max_moves=0, time_limit=5)
    assert alloc.check(grown, result.assignment) == []
    new = result.moves[result.moves["reason"] == "new"]
    assert sorted(new["customer_id"]) == ["g", "h"]
    assert new["from_rep"].isna().all()


def test_family_split_by_the_incumbent_is_reunited_as_a_rule_move():
    customers = pd.DataFrame(
        {"customer_id": list("abc"), "potential": [1.0, 1, 2], "family": ["F", "F", None]}
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Together("family")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    incumbent = pd.Series({"a": "r1", "b": "r2", "c": "r2"})
    result = rebalance(problem, incumbent, max_moves=0, time_limit=5)
    assert alloc.check(problem, result.assignment) == []
    assert result.assignment["a"] == result.assignment["b"]
    assert set(result.moves["reason"]) == {"rule"}


def test_move_that_fixes_a_broken_capacity_is_reported_as_capacity():
    problem, incumbent = capacity_case()
    result = rebalance(problem, incumbent, max_moves=1, time_limit=5)
    assert alloc.check(problem, result.assignment) == []
    assert result.objective == pytest.approx(0.0)  # a moves: 5 and 5
    assert result.moves[["customer_id", "from_rep", "to_rep", "reason"]].values.tolist() == [
        ["a", "r1", "r2", "capacity"]
    ]


def test_move_that_repairs_a_balance_window_is_reported_as_balance():
    problem, incumbent = capacity_case()
    # The same broken incumbent (work 9 on r1, 1 on r2), a Balance window instead of a
    # capacity: shares 5, window [4, 6]; moving a (4) to r2 repairs it.
    windowed = problem.replace(rules=[alloc.Balance("work", tolerance=0.2)])
    result = rebalance(windowed, incumbent, max_moves=1, time_limit=5)
    assert alloc.check(windowed, result.assignment) == []
    assert result.moves[["customer_id", "from_rep", "to_rep", "reason"]].values.tolist() == [
        ["a", "r1", "r2", "balance"]
    ]
    # With the capacity as well, the same move is a capacity move: capacity wins.
    both = problem.replace(rules=[*problem.rules, alloc.Balance("work", tolerance=0.2)])
    result = rebalance(both, incumbent, max_moves=1, time_limit=5)
    assert result.moves["reason"].tolist() == ["capacity"]
