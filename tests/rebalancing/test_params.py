"""Tests for alloc.rebalancing.params: every bad parameter is named in one message form."""

from __future__ import annotations

import pandas as pd
import pytest
from rebalancing_cases import capacity_case, three_reps

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.rebalancing import rebalance, tradeoff


def test_unknown_customers_in_the_incumbent_are_named():
    problem, incumbent = three_reps()
    with pytest.raises(InvalidProblemError, match="'zz'"):
        rebalance(problem, pd.concat([incumbent, pd.Series({"zz": "r1"})]))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"max_moves": -1}, "max_moves"),
        ({"max_moves": 1.5}, "max_moves"),
        ({"max_moves": True}, "max_moves"),
        ({"max_moved_value": -2.0}, "max_moved_value"),
        ({"max_moved_value": float("nan")}, "max_moved_value"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"tolerance": {"revenue": 0.1}}, "tolerance"),
        ({"tolerance": 5}, "tolerance"),
        ({"tolerance": {"potential": 2}}, "tolerance"),
        ({"disruption": "owners"}, "disruption"),
        ({"time_limit": 0}, "time_limit"),
        ({"seed": "x"}, "seed"),
        ({"value": "missing"}, "value"),
        ({"protect": "missing"}, "protect"),
    ],
)
def test_bad_parameters_are_named(kwargs, name):
    problem, incumbent = three_reps()
    with pytest.raises(InvalidParameterError, match=f"the '{name}' parameter of rebalance"):
        rebalance(problem, incumbent, **kwargs)


def test_bad_incumbent_and_protect_ids():
    problem, incumbent = three_reps()
    with pytest.raises(InvalidParameterError, match="incumbent"):
        rebalance(problem, ["r1"] * 6)
    with pytest.raises(InvalidProblemError, match="'nobody'"):
        rebalance(problem, incumbent, protect=["a", "nobody"])


def test_tolerance_needs_an_imbalance_term():
    problem, incumbent = capacity_case(10.0)
    plain = problem.replace(objective=[])
    with pytest.raises(InvalidParameterError, match="tolerance"):
        rebalance(plain, incumbent, tolerance=0.1)


def test_bad_budgets_for_the_frontier():
    problem, incumbent = three_reps()
    for budgets in ([], [-1], [1.5], "10"):
        with pytest.raises(InvalidParameterError, match="budgets"):
            tradeoff(problem, incumbent, budgets=budgets)


def test_protect_flag_column_reads_yes_no_words():
    problem, incumbent = capacity_case()
    words = problem.replace(
        customers=problem.customers.reset_index().assign(key=["yes", " Y", "TRUE", "no"])
    )
    result = rebalance(words, incumbent, max_moves=1, protect="key", time_limit=5)
    moved = result.moves[result.moves["reason"].isin(["capacity", "balance"])]
    assert len(moved) == 1 and bool(moved["protected"].all())


def test_protect_flag_column_with_an_unknown_word_is_rejected():
    # Before the shared flag parser, an unknown word silently meant "protected".
    problem, incumbent = capacity_case()
    odd = problem.replace(
        customers=problem.customers.reset_index().assign(key=["yes", "maybe", "no", "no"])
    )
    with pytest.raises(InvalidProblemError, match=r"column 'key' of customers.*'maybe'"):
        rebalance(odd, incumbent, max_moves=1, protect="key", time_limit=5)
