"""Tests for alloc.rules: declarative rule and term objects, their arithmetic and the
constraints they compile to."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.objectives import Term
from alloc.rules import Rule

RULES = [
    alloc.Match,
    alloc.KeyAccounts,
    alloc.Pin,
    alloc.Forbid,
    alloc.Together,
    alloc.Capacity,
    alloc.AccountLimit,
    alloc.Balance,
    alloc.Spread,
]
TERMS = [
    alloc.MinimizeImbalance,
    alloc.MaximizeFit,
    alloc.MinimizeCost,
    alloc.MinimizeDisruption,
    alloc.MinimizeTravel,
]


@pytest.mark.parametrize("cls", RULES + TERMS, ids=lambda c: c.__name__)
def test_rules_and_terms_are_frozen_documented_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert cls.__doc__ and cls.__doc__.strip()
    assert issubclass(cls, Rule if cls in RULES else Term)


def test_frozen_rule_cannot_be_changed() -> None:
    rule = alloc.Capacity("workload", limit="capacity")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.limit = 5  # type: ignore[misc]


def test_terms_add_and_scale_into_an_objective() -> None:
    a = alloc.MinimizeImbalance("potential")
    b = alloc.MinimizeImbalance("workload")
    c = alloc.MinimizeDisruption("owner")
    objective = a + 0.5 * b + c * 2
    assert isinstance(objective, alloc.Objective)
    assert [t.weight for t in objective] == [1.0, 0.5, 2.0]
    assert [type(t).__name__ for t in objective] == [
        "MinimizeImbalance",
        "MinimizeImbalance",
        "MinimizeDisruption",
    ]
    assert (a + (0.5 * b + c * 2)) == objective
    assert a.weight == 1.0  # scaling returns a new term
    assert " + " in repr(objective)
    with pytest.raises(TypeError):
        a * "2"  # type: ignore[operator]
    with pytest.raises(TypeError):
        a + 1  # type: ignore[operator]


def test_rule_parameters_are_normalised() -> None:
    assert alloc.KeyAccounts("key", levels="senior").levels == ("senior",)
    assert alloc.KeyAccounts("key", levels=["senior", "mid"]).levels == ("senior", "mid")
    pin = alloc.Pin(pd.Series({"c1": "r1"}))
    assert pin.mapping == {"c1": "r1"}
    assert "c1->r1" in repr(pin)
    forbid = alloc.Forbid(pd.DataFrame({"customer_id": ["c1", "c2"], "rep_id": ["r1", "r2"]}))
    assert forbid.pairs == (("c1", "r1"), ("c2", "r2"))
    assert hash(alloc.Pin({"c1": "r1"})) == hash(alloc.Pin({"c1": "r1"}))


def test_metrics_declared_by_rules_and_terms() -> None:
    assert alloc.Capacity("workload", limit=3).metrics == ("workload",)
    assert alloc.Balance("potential", 0.1).metrics == ("potential",)
    assert alloc.MinimizeImbalance("potential").metrics == ("potential",)
    assert alloc.MaximizeFit("fit").metrics == ("fit",)
    assert alloc.MinimizeDisruption("owner").metrics == ()
    assert alloc.MinimizeDisruption("owner", value="potential").metrics == ("potential",)
    assert alloc.Match("a", "b").metrics == ()


@pytest.fixture
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    c = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "potential": [4.0, 3.0, 2.0, 1.0],
            "key": ["yes", "no", "True", "0"],
            "cls": ["A", "B", "A", "A"],
        }
    )
    r = pd.DataFrame(
        {"rep_id": ["r1", "r2"], "level": ["senior", "junior"], "fte": [1.0, 3.0], "most": [3, 1]}
    )
    return c, r


def rows_of(problem: alloc.Problem) -> list[tuple[str, np.ndarray, np.ndarray]]:
    return [(con.label, con.lo, con.hi) for con in problem.model.constraints]


def test_key_account_flags_accept_yes_no_and_true_strings(tables) -> None:
    c, r = tables
    problem = alloc.Problem(c, r, rules=[alloc.KeyAccounts("key", levels=["senior"])])
    pairs = problem.pairs
    assert sorted(pairs.loc[pairs["customer_id"].isin(["c1", "c3"]), "rep_id"]) == ["r1", "r1"]
    assert problem.n_pairs == 2 + 2 * 2


def test_key_accounts_and_spread_read_missing_flags_as_no(tables) -> None:
    c, r = tables
    c = c.assign(key=[True, None, np.nan, False])
    problem = alloc.Problem(c, r, rules=[alloc.KeyAccounts("key", levels=["senior"])])
    pairs = problem.pairs
    keyed = pairs.groupby("customer_id")["rep_id"].apply(sorted).to_dict()
    assert keyed[c["customer_id"].iloc[0]] == ["r1"]
    assert all(keyed[cid] == ["r1", "r2"] for cid in c["customer_id"].iloc[1:])
    spread = alloc.Problem(c, r, rules=[alloc.Spread("key")])
    ((_, lo, hi),) = rows_of(spread)
    assert lo.tolist() == [0.0, 0.0] and hi.tolist() == [1.0, 1.0]  # one member, two reps


def test_account_limit_compiles_numbers_and_rep_columns(tables) -> None:
    c, r = tables
    problem = alloc.Problem(c, r, rules=[alloc.AccountLimit(min=1, max="most")])
    ((_, lo, hi),) = rows_of(problem)
    assert lo.tolist() == [1.0, 1.0]
    assert hi.tolist() == [3.0, 1.0]


def test_balance_window_uses_fair_share_by_share_column(tables) -> None:
    c, r = tables
    problem = alloc.Problem(c, r, rules=[alloc.Balance("potential", 0.1, share="fte")])
    ((_, lo, hi),) = rows_of(problem)
    assert np.allclose(lo, [2.5 * 0.9, 7.5 * 0.9])
    assert np.allclose(hi, [2.5 * 1.1, 7.5 * 1.1])


def test_spread_bounds_are_floor_and_ceil_of_the_fair_count(tables) -> None:
    c, r = tables
    even = alloc.Problem(c, r, rules=[alloc.Spread("cls", value="A")])
    ((_, lo, hi),) = rows_of(even)
    assert lo.tolist() == [1.0, 1.0] and hi.tolist() == [2.0, 2.0]  # 3 members over 2 reps
    weighted = alloc.Problem(c, r, rules=[alloc.Spread("cls", value="A", share="fte")])
    ((_, lo, hi),) = rows_of(weighted)
    assert lo.tolist() == [0.0, 2.0] and hi.tolist() == [1.0, 3.0]  # 0.75 and 2.25


def test_rules_are_honoured_by_the_solver(tables) -> None:
    c, r = tables
    problem = alloc.Problem(
        c,
        r,
        rules=[
            alloc.KeyAccounts("key", levels=["senior"]),
            alloc.AccountLimit(max="most"),
            alloc.Spread("cls", value="A"),
        ],
        objective=alloc.MinimizeImbalance("potential", share="fte"),
    )
    result = alloc.solve(problem, time_limit=1, workers=1)
    assert result.status.has_solution
    assert alloc.check(problem, result.assignment) == []
    a = result.assignment
    assert a["c1"] == a["c3"] == "r1"
    assert (a == "r2").sum() <= 1


def test_capacity_with_a_numeric_limit_caps_every_rep() -> None:
    c = pd.DataFrame({"customer_id": list("abcd"), "w": [2, 2, 2, 2]})
    r = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(c, r, rules=[alloc.Capacity("w", limit=4)])
    ((_, lo, hi),) = rows_of(problem)
    assert np.isneginf(lo).all() and hi.tolist() == [4.0, 4.0]
    result = alloc.solve(problem, time_limit=1, workers=1)
    assert result.loads["w"].tolist() == [4.0, 4.0]


def test_minimize_travel_prefers_the_nearest_rep() -> None:
    c = pd.DataFrame({"customer_id": ["near1", "near2"], "x": [0.0, 10.0], "y": [0.0, 10.0]})
    r = pd.DataFrame({"rep_id": ["r1", "r2"], "x": [1.0, 9.0], "y": [0.0, 10.0]})
    problem = alloc.Problem(c, r, objective=alloc.MinimizeTravel())
    result = alloc.solve(problem, time_limit=1, workers=1)
    assert result.assignment.to_dict() == {"near1": "r1", "near2": "r2"}
    assert result.objective == pytest.approx(2.0)


@pytest.mark.parametrize("tolerance", [5, 1.5, 250, -0.1, float("nan"), "5 %"])
def test_balance_tolerance_must_be_a_fraction(tolerance) -> None:
    with pytest.raises(alloc.InvalidParameterError, match="the 'tolerance' parameter of Balance"):
        alloc.Balance("potential", tolerance=tolerance)


def test_balance_tolerance_given_as_a_percentage_suggests_the_fraction() -> None:
    with pytest.raises(alloc.InvalidParameterError, match=r"got 5: did you mean 0\.05\?$"):
        alloc.Balance("potential", tolerance=5)
    assert [alloc.Balance("potential", tolerance=t).tolerance for t in (0, 0.05, 1)] == [
        0,
        0.05,
        1,
    ]


@pytest.mark.parametrize("cls", TERMS, ids=lambda c: c.__name__)
def test_negative_term_weights_are_refused(cls: type) -> None:
    args = {"MinimizeImbalance": ("potential",), "MaximizeFit": ("fit",), "MinimizeCost": ("c",)}
    with pytest.raises(alloc.InvalidParameterError, match=r"the 'weight' parameter.*>= 0"):
        cls(*args.get(cls.__name__, ()), weight=-1)
    assert cls(*args.get(cls.__name__, ()), weight=0).weight == 0  # zero switches it off
    term = cls(*args.get(cls.__name__, ()))
    with pytest.raises(alloc.InvalidParameterError, match="weight"):
        -1 * term


def test_match_reads_comma_separated_skills_as_typed_by_hand() -> None:
    # People type "retail, health" as often as "retail;health"; a customer value with a
    # comma of its own ("Food, Beverages") stays one value.
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "industry": ["retail", "health", "Food, Beverages", "energy"],
            "potential": [10, 10, 10, 10],
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["r1", "r2"],
            "skills": ["retail, health", "Food, Beverages; energy"],
        }
    )
    problem = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    pairs = {
        (str(problem.customer_ids[c]), str(problem.rep_ids[r]))
        for c, r in zip(problem.model.pair_unit, problem.model.pair_rep, strict=True)
    }
    assert pairs == {("c1", "r1"), ("c2", "r1"), ("c3", "r2"), ("c4", "r2")}
    result = alloc.solve(problem, time_limit=5)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    # The checker reads the sets the same way: a plan against them is refused.
    wrong = pd.Series(["r2", "r1", "r1", "r1"], index=problem.customer_ids)
    violations = alloc.check(problem, wrong)
    assert violations and set(violations[0].ids) == {"c1", "c3", "c4"}
