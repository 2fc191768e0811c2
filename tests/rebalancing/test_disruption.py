"""Tests for rebalancing's ``disruption`` option: ``MinimizeDisruption`` terms count moves
against the incumbent by default, against the terms' owner column on request."""

from __future__ import annotations

import pandas as pd
import pytest
from rebalancing_cases import brute_force_budget, discretionary

import alloc
from alloc.checker import objective_value
from alloc.rebalancing import rebalance, tradeoff

WEIGHT = 0.05


def repaired_before() -> tuple[alloc.Problem, pd.Series]:
    """r3 leaves a plan that an earlier repair changed: the incumbent has b on r1 and d on
    r2, their original owners (the ``owner`` column) are r2 and r1.

    Shares are 9 and 9 after r3 leaves. Against the incumbent, one move (b to r2, the
    orphans e to r2 and f to r1) balances exactly: objective 0.05. Against the owners,
    moving b *and* d back (the orphans to r2) balances exactly at no disruption cost:
    objective 0, two moves from the incumbent.
    """
    customers = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "potential": [8, 2, 3, 1, 3, 1],
            "owner": ["r1", "r2", "r2", "r1", "r3", "r3"],
        }
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2", "r3"]})
    objective = alloc.MinimizeImbalance("potential") + WEIGHT * alloc.MinimizeDisruption("owner")
    problem = alloc.Problem(customers, reps, objective=objective)
    incumbent = pd.Series({"a": "r1", "b": "r1", "c": "r2", "d": "r2", "e": "r3", "f": "r3"})
    return problem.without_reps(["r3"]), incumbent


def test_disruption_counts_moves_away_from_the_incumbent_by_default():
    problem, incumbent = repaired_before()
    result = rebalance(problem, incumbent, time_limit=5)
    assert result.status.has_solution
    assert alloc.check(problem, result.assignment) == []
    assert len(discretionary(result)) == 1
    assert result.objective == pytest.approx(WEIGHT)
    # The returned problem says what was measured: the terms read the incumbent column
    # (missing for the orphans), and the best plan by enumeration agrees.
    column = result.problem.customers["incumbent"]
    assert column[list("abcd")].tolist() == ["r1", "r1", "r2", "r2"]
    assert column[["e", "f"]].isna().all()
    assert brute_force_budget(result.problem, incumbent, None) == pytest.approx((WEIGHT, 1))
    assert objective_value(result.problem, result.assignment) == pytest.approx(result.objective)
    assert result.metrics["moves"] == 1


def test_disruption_owner_counts_moves_away_from_the_owner_column():
    problem, incumbent = repaired_before()
    result = rebalance(problem, incumbent, time_limit=5, disruption="owner")
    assert result.status.has_solution
    assert result.problem is problem
    assert result.objective == pytest.approx(0.0)
    moved_back = discretionary(result).set_index("customer_id")
    # Two moves from the incumbent: b and d go back to their owners.
    assert sorted(moved_back.index) == ["b", "d"]
    assert moved_back.loc["d", ["from_rep", "to_rep"]].tolist() == ["r2", "r1"]
    assert objective_value(problem, result.assignment) == pytest.approx(0.0)


def test_the_owner_semantics_spends_the_budget_moving_customers_back():
    problem, incumbent = repaired_before()
    budgets = [0, 1, 2]
    by_incumbent = tradeoff(problem, incumbent, budgets, time_limit_per_budget=2)
    by_owner = tradeoff(problem, incumbent, budgets, time_limit_per_budget=2, disruption="owner")
    assert by_incumbent["moves"].tolist() == [0, 1, 1]
    assert by_incumbent["objective"].tolist() == pytest.approx([1 / 9, WEIGHT, WEIGHT])
    assert by_owner["moves"].tolist() == [0, 1, 2]
    assert by_owner["objective"].tolist()[1:] == pytest.approx([WEIGHT, 0.0])


def test_disruption_option_without_a_disruption_term_changes_nothing():
    problem, incumbent = repaired_before()
    plain = problem.replace(objective=alloc.MinimizeImbalance("potential"))
    a = rebalance(plain, incumbent, time_limit=5)
    b = rebalance(plain, incumbent, time_limit=5, disruption="owner")
    assert a.problem is plain and b.problem is plain
    assert a.objective == pytest.approx(b.objective) == pytest.approx(0.0)


def test_unknown_disruption_basis_is_refused_naming_the_choices():
    problem, incumbent = repaired_before()
    with pytest.raises(alloc.InvalidParameterError, match=r"disruption.*'incumbent'"):
        rebalance(problem, incumbent, disruption="owners")
    with pytest.raises(alloc.InvalidParameterError, match="disruption"):
        tradeoff(problem, incumbent, [0], disruption=None)  # type: ignore[arg-type]


def test_explanation_says_when_moves_were_free():
    problem, incumbent = repaired_before()
    plain = problem.replace(objective=alloc.MinimizeImbalance("potential"))
    free = rebalance(plain, incumbent, time_limit=5)
    assert len(discretionary(free)) >= 1
    assert "Moves were free" in free.explanation
    for priced in (
        rebalance(plain, incumbent, max_moves=5, time_limit=5),
        rebalance(plain, incumbent, tolerance=0.05, time_limit=5),
        rebalance(problem, incumbent, time_limit=5),
    ):
        assert "Moves were free" not in priced.explanation
