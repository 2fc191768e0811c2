"""Tests for alloc.checker (alloc.check) and the independent objective: hand-made
violations per rule, hand-computed objectives per term."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

import alloc
from alloc.checker import objective_value, rep_loads


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "potential": [10, 8, 6, 4, 2],
            "workload": [5, 4, 3, 2, 1],
            "industry": ["retail", "health", "retail", "energy", "health"],
            "key": [True, False, False, True, False],
            "abc": ["A", "A", "B", "A", "C"],
            "family": ["f", "f", None, None, "g"],
            "owner": ["r1", "r2", "r3", None, "r1"],
            "x": [0.0, 3.0, 0.0, 1.0, 2.0],
            "y": [0.0, 4.0, 1.0, 1.0, 2.0],
        }
    )


@pytest.fixture
def reps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["r1", "r2", "r3"],
            "level": ["senior", "junior", "senior"],
            "skills": ["retail;health;energy", "health", "retail;energy"],
            "capacity": [8, 5, 6],
            "fte": [1.0, 1.0, 2.0],
            "x": [0.0, 0.0, 2.0],
            "y": [0.0, 0.0, 2.0],
        }
    )


# A plan that satisfies every rule below:
# r1: c1, c2 (family f), c5     r2: -      r3: c3, c4
FEASIBLE = {"c1": "r1", "c2": "r1", "c3": "r3", "c4": "r3", "c5": "r1"}


def build(customers: pd.DataFrame, reps: pd.DataFrame, *rules: Any, **kwargs: Any) -> alloc.Problem:
    return alloc.Problem(customers, reps, rules=list(rules), **kwargs)


def only_violation(problem: alloc.Problem, assignment: dict[str, str]) -> alloc.Violation:
    violations = alloc.check(problem, pd.Series(assignment))
    assert len(violations) == 1, violations
    return violations[0]


def test_feasible_plan_has_no_violations(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(
        customers,
        reps,
        alloc.Match("industry", "skills"),
        alloc.KeyAccounts("key", levels=["senior"], max_per_rep=1),
        alloc.Capacity("workload", limit=10),
        alloc.AccountLimit(max=3),
        alloc.Pin({"c3": "r3"}),
        alloc.Forbid([("c4", "r1")]),
        alloc.Together("family"),
        alloc.Spread("abc", value="X"),
    )
    assert alloc.check(problem, pd.Series(FEASIBLE)) == []
    assert alloc.check(problem, FEASIBLE) == []
    as_frame = pd.DataFrame({"customer_id": list(FEASIBLE), "rep_id": list(FEASIBLE.values())})
    assert alloc.check(problem, as_frame) == []


def test_match_violation_names_the_customer(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Match("industry", "skills"))
    v = only_violation(problem, {**FEASIBLE, "c3": "r2"})  # retail to a health-only rep
    assert "Match" in v.rule
    assert v.ids == ("c3",)


def test_key_account_to_wrong_level_names_the_customer(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = build(customers, reps, alloc.KeyAccounts("key", levels=["senior"]))
    v = only_violation(problem, {**FEASIBLE, "c4": "r2"})
    assert "KeyAccounts" in v.rule
    assert v.ids == ("c4",)


def test_key_accounts_per_rep_above_max_names_the_rep(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = build(customers, reps, alloc.KeyAccounts("key", levels=["senior"], max_per_rep=1))
    v = only_violation(problem, {**FEASIBLE, "c4": "r1"})
    assert v.ids == ("r1",)
    assert v.amount == pytest.approx(1.0)


def test_pin_violation_names_the_customer(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Pin({"c3": "r3", "c5": "r1"}))
    v = only_violation(problem, {**FEASIBLE, "c5": "r2"})
    assert "Pin" in v.rule
    assert v.ids == ("c5",)


def test_forbid_violation_names_the_customer(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Forbid([("c4", "r1"), ("c2", "r2")]))
    v = only_violation(problem, {**FEASIBLE, "c4": "r1"})
    assert "Forbid" in v.rule
    assert v.ids == ("c4",)


def test_split_family_names_the_family(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Together("family"))
    v = only_violation(problem, {**FEASIBLE, "c2": "r2"})
    assert "Together" in v.rule
    assert v.ids == ("f",)
    # customers without a family may go anywhere
    assert alloc.check(problem, pd.Series({**FEASIBLE, "c3": "r2", "c4": "r1"})) == []


def test_capacity_excess_names_the_rep_and_amount(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = build(customers, reps, alloc.Capacity("workload", limit="capacity"))
    # r1 carries 5 + 4 + 1 = 10 against 8; r3 carries 3 + 2 = 5 against 6
    v = only_violation(problem, FEASIBLE)
    assert "Capacity" in v.rule
    assert v.ids == ("r1",)
    assert v.amount == pytest.approx(2.0)
    assert "by 2" in v.message


def test_capacity_exactly_at_limit_is_feasible(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Capacity("workload", limit="capacity"))
    assert alloc.check(problem, {**FEASIBLE, "c2": "r2"}) == []  # r1 at 6, r2 at 4


def test_decimal_ties_meet_a_capacity_and_a_real_excess_is_reported_raw() -> None:
    """1.7 + 2.2 = 3.9000000000000004 meets 3.9 (tolerance 1e-9 * max(1, |3.9|)); 2.2 + 1e-8
    does not, and the violation is reported by its raw amount."""
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    plan = {"c0": "r0", "c3": "r0", "c1": "r1", "c2": "r1"}
    for last, broken in ((2.2, False), (2.2 + 1e-8, True)):
        customers = pd.DataFrame({"customer_id": ["c0", "c1", "c2", "c3"]})
        customers["work"] = [1.7, 2.24, 0.2, last]
        problem = alloc.Problem(customers, reps, rules=[alloc.Capacity("work", limit=3.9)])
        found = alloc.check(problem, plan)
        assert bool(found) == broken
        if broken:
            assert found[0].ids == ("r0",)
            assert found[0].amount == pytest.approx(1e-8, rel=1e-6)


def test_decimal_ties_meet_a_balance_window_from_below() -> None:
    """work 0.1, 0.7, 0.8 on two reps, tolerance 0: the window is [0.8, 0.8]; {c0, c1} is
    0.1 + 0.7 = 0.7999999999999999, a tie; moving 1e-8 of work from c1 to c2 breaks it
    at both reps."""
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    plan = {"c0": "r0", "c1": "r0", "c2": "r1"}
    for shift, broken in ((0.0, ()), (1e-8, ("r0", "r1"))):
        customers = pd.DataFrame({"customer_id": ["c0", "c1", "c2"]})
        customers["work"] = [0.1, 0.7 - shift, 0.8 + shift]
        problem = alloc.Problem(customers, reps, rules=[alloc.Balance("work", tolerance=0.0)])
        assert tuple(v for found in alloc.check(problem, plan) for v in found.ids) == broken


def test_capacity_on_a_pair_metric_uses_the_pair_values(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    rows = [(c, r, 1) for c in customers["customer_id"] for r in reps["rep_id"]]
    pairs = pd.DataFrame(rows, columns=["customer_id", "rep_id", "hours"])
    pairs.loc[(pairs["customer_id"] == "c3") & (pairs["rep_id"] == "r3"), "hours"] = 9
    problem = build(customers, reps, alloc.Capacity("hours", limit="capacity"), pairs=pairs)
    v = only_violation(problem, FEASIBLE)  # r3: 9 + 1 = 10 against 6
    assert v.ids == ("r3",)
    assert v.amount == pytest.approx(4.0)


def test_account_limit_min_and_max_name_the_reps(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = build(customers, reps, alloc.AccountLimit(min=1, max=2))
    # counts r1 3 (above 2), r2 0 (below 1), r3 2
    v = only_violation(problem, FEASIBLE)
    assert "AccountLimit" in v.rule
    assert set(v.ids) == {"r1", "r2"}
    assert v.amount == pytest.approx(2.0)


def test_account_limit_from_rep_columns(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    r = reps.assign(most=[3, 0, 1])
    problem = build(customers, r, alloc.AccountLimit(max="most"))
    v = only_violation(problem, FEASIBLE)
    assert v.ids == ("r3",)


def test_balance_violation_names_reps_outside_the_window(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = build(customers, reps, alloc.Balance("potential", tolerance=0.25))
    # total 30, share 10: r1 has 20, r2 0, r3 10
    v = only_violation(problem, FEASIBLE)
    assert "Balance" in v.rule
    assert set(v.ids) == {"r1", "r2"}
    ok = {"c1": "r1", "c2": "r2", "c3": "r3", "c4": "r3", "c5": "r2"}  # 10, 10, 10
    assert alloc.check(problem, ok) == []


def test_balance_with_share_column(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Balance("potential", tolerance=0.0, share="fte"))
    # shares 7.5, 7.5, 15
    plan = {"c1": "r3", "c2": "r2", "c3": "r3", "c4": "r1", "c5": "r1"}  # 6, 8, 16
    v = only_violation(problem, plan)
    assert set(v.ids) == {"r1", "r2", "r3"}


def test_spread_violation_names_the_reps(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Spread("abc", value="A"))
    # three A accounts (c1, c2, c4) over three reps: exactly one each
    v = only_violation(problem, FEASIBLE)  # r1 has c1, c2; r2 none; r3 c4
    assert "Spread" in v.rule
    assert set(v.ids) == {"r1", "r2"}
    assert alloc.check(problem, {**FEASIBLE, "c2": "r2"}) == []


def test_spread_on_a_boolean_flag(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(customers, reps, alloc.Spread("key"))  # 2 key accounts over 3 reps
    assert alloc.check(problem, FEASIBLE) == []  # r1 one, r3 one
    v = only_violation(problem, {**FEASIBLE, "c4": "r1"})
    assert v.ids == ("r1",)


@pytest.mark.parametrize("rule", ["KeyAccounts", "Spread"])
def test_checker_reads_yes_no_words_as_the_rules_do(
    customers: pd.DataFrame, reps: pd.DataFrame, rule: str
) -> None:
    # c1 and c5 are key accounts; "", None and "no" mean no.
    words = customers.assign(key=["Yes", "no", "", None, " TRUE "])
    made = (
        alloc.KeyAccounts("key", levels=["senior"])
        if rule == "KeyAccounts"
        else alloc.Spread("key")
    )
    problem = build(words, reps, made)
    spread_out = {**FEASIBLE, "c5": "r3"}  # key accounts at r1 and r3, both senior
    assert alloc.check(problem, spread_out) == []
    if rule == "KeyAccounts":
        pairs = problem.pairs
        at_junior = set(pairs.loc[pairs["rep_id"] == "r2", "customer_id"])
        assert at_junior == {"c2", "c3", "c4"}  # the rules pruned the same key accounts
        v = only_violation(problem, {**spread_out, "c5": "r2"})  # a key account to a junior
        assert v.ids == ("c5",)
        assert alloc.check(problem, {**spread_out, "c3": "r2", "c4": "r2"}) == []  # not key
    else:
        v = only_violation(problem, FEASIBLE)  # both key accounts at r1
        assert v.ids == ("r1",)


def test_assignment_outside_the_pair_table_is_reported(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    rows = [(c, "r1") for c in customers["customer_id"]] + [("c3", "r3"), ("c4", "r3")]
    pairs = pd.DataFrame(rows, columns=["customer_id", "rep_id"])
    problem = build(customers, reps, pairs=pairs)
    assert alloc.check(problem, FEASIBLE) == []
    v = only_violation(problem, {**FEASIBLE, "c1": "r2"})
    assert v.rule == "pairs"
    assert v.ids == ("c1",)


def test_incomplete_or_unknown_assignments_are_reported(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = build(customers, reps)
    missing = {k: v for k, v in FEASIBLE.items() if k != "c5"}
    v = only_violation(problem, missing)
    assert v.rule == "assignment" and v.ids == ("c5",)
    v = only_violation(problem, {**FEASIBLE, "c9": "r1"})
    assert v.ids == ("c9",)
    v = only_violation(problem, {**FEASIBLE, "c2": "r7"})
    assert v.ids == ("c2",) and "'r7'" in v.message
    twice = pd.Series(
        ["r1", "r1", "r2", "r3", "r3", "r1"], index=["c1", "c2", "c2", "c3", "c4", "c5"]
    )
    v = only_violation(problem, twice)
    assert v.ids == ("c2",)
    with pytest.raises(alloc.InvalidParameterError):
        alloc.check(problem, [("c1", "r1")])


def test_every_violated_rule_is_reported(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = build(
        customers,
        reps,
        alloc.Match("industry", "skills"),
        alloc.Capacity("workload", limit="capacity"),
        alloc.Pin({"c5": "r1"}),
    )
    violations = alloc.check(problem, {**FEASIBLE, "c3": "r2", "c5": "r3"})
    rules = sorted(v.rule.split("(")[0] for v in violations)
    assert rules == ["Capacity", "Match", "Pin"]
    assert all(str(v).startswith(v.rule) for v in violations)


# ---- objective ------------------------------------------------------------------------------
def value(
    customers: pd.DataFrame,
    reps: pd.DataFrame,
    objective: Any,
    plan: dict[str, str] = FEASIBLE,
    **kwargs: Any,
) -> float:
    problem = alloc.Problem(customers, reps, objective=objective, **kwargs)
    return objective_value(problem, pd.Series(plan))


def test_objective_of_max_and_sum_imbalance(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    # potential loads 20, 0, 10 against share 10
    assert value(customers, reps, alloc.MinimizeImbalance("potential")) == pytest.approx(1.0)
    assert value(customers, reps, alloc.MinimizeImbalance("potential", norm="sum")) == (
        pytest.approx(2.0)
    )
    # fte shares 7.5, 7.5, 15: devs 12.5/7.5, 7.5/7.5, 5/15
    term = alloc.MinimizeImbalance("potential", share="fte", weight=3.0)
    assert value(customers, reps, term) == pytest.approx(3.0 * 12.5 / 7.5)
    term = alloc.MinimizeImbalance("potential", share="fte", norm="sum")
    assert value(customers, reps, term) == pytest.approx(12.5 / 7.5 + 1.0 + 5 / 15)


def test_objective_of_cost_and_fit(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    rows = [
        (c, r, 10 * i + j)
        for i, c in enumerate(customers["customer_id"])
        for j, r in enumerate(reps["rep_id"])
    ]
    pairs = pd.DataFrame(rows, columns=["customer_id", "rep_id", "cost"])
    # chosen: c1-r1 0, c2-r1 10, c3-r3 22, c4-r3 32, c5-r1 40
    assert value(customers, reps, alloc.MinimizeCost("cost"), pairs=pairs) == pytest.approx(104)
    assert value(customers, reps, alloc.MaximizeFit("cost", weight=2), pairs=pairs) == (
        pytest.approx(-208)
    )


def test_objective_of_disruption_counts_or_weights_moves(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    # owners r1, r2, r3, -, r1: c2 moved (r2 -> r1); c4 has no owner
    assert value(customers, reps, alloc.MinimizeDisruption("owner")) == pytest.approx(1.0)
    term = alloc.MinimizeDisruption("owner", value="potential", weight=0.5)
    assert value(customers, reps, term) == pytest.approx(4.0)


def test_objective_of_travel(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    # r1 at (0,0): c1 0, c2 5, c5 sqrt(8); r3 at (2,2): c3 sqrt(5), c4 sqrt(2)
    expected = 5 + math.sqrt(8) + math.sqrt(5) + math.sqrt(2)
    assert value(customers, reps, alloc.MinimizeTravel()) == pytest.approx(expected)


def test_objective_is_a_weighted_sum_and_nan_when_incomplete(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    objective = alloc.MinimizeImbalance("potential") + 0.25 * alloc.MinimizeDisruption("owner")
    assert value(customers, reps, objective) == pytest.approx(1.0 + 0.25)
    incomplete = {k: v for k, v in FEASIBLE.items() if k != "c1"}
    assert math.isnan(value(customers, reps, objective, plan=incomplete))
    assert math.isnan(value(customers, reps, objective, plan={**FEASIBLE, "c1": "r9"}))
    assert value(customers, reps, []) == 0.0


def test_rep_loads_include_every_rep(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = alloc.Problem(customers, reps)
    loads = rep_loads(problem, pd.Series(FEASIBLE), "potential")
    assert loads.to_dict() == {"r1": 20.0, "r2": 0.0, "r3": 10.0}
    counts = rep_loads(problem, pd.Series(FEASIBLE), None)
    assert counts.to_dict() == {"r1": 3.0, "r2": 0.0, "r3": 2.0}


def test_evaluate_reports_feasibility_and_figures_of_any_plan(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    figures = alloc.evaluate(problem, pd.Series(FEASIBLE))
    assert figures["feasible"] is False and figures["violations"] == 1
    assert figures["objective"] == pytest.approx(1.0)
    assert figures["potential_max_dev"] == pytest.approx(1.0)
    assert figures["potential_range"] == pytest.approx(2.0)
    assert figures["potential_max"] == 20.0 and figures["potential_min"] == 0.0
    assert figures["moves"] == 1  # the "owner" column is used when present
