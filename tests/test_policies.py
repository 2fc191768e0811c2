"""Tests for alloc.policies: one conformance suite over every policy, then each policy."""

from __future__ import annotations

import dataclasses
import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.checker import objective_value
from alloc.errors import InvalidParameterError
from alloc.policies import (
    BasePolicy,
    Greedy,
    Optimized,
    Policy,
    RandomPolicy,
    RoundRobin,
    StatusQuo,
    check_policy,
    default_policies,
    plan_result,
)
from alloc.solvers.greedy import greedy
from alloc.solvers.state import Rows, score_of

POLICIES: list[Any] = [
    RoundRobin(),
    RandomPolicy(),
    Greedy(),
    StatusQuo(),
    Optimized(time_limit=0.5),
]
IDS = [p.name for p in POLICIES]


@pytest.fixture(scope="module")
def problem() -> alloc.Problem:
    """150 customers x 6 reps with skills, key accounts, capacity and account limits."""
    return alloc.datasets.make_problem(150, 6, seed=1)


def _tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """12 customers x 3 reps, every pair allowed, a GAP-like cost and capacity."""
    rng = np.random.default_rng(7)
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(12)],
            "potential": rng.integers(1, 50, 12).astype(float),
            "owner": [f"r{i % 3}" for i in range(12)],
        }
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1", "r2"], "capacity": [30, 30, 30]})
    pairs = pd.DataFrame(
        {
            "customer_id": np.repeat(customers["customer_id"], 3),
            "rep_id": np.tile(reps["rep_id"], 12),
            "cost": rng.integers(1, 20, 36),
            "weight": rng.integers(3, 10, 36),
        }
    )
    return customers, reps, pairs


@pytest.fixture(scope="module")
def tiny() -> alloc.Problem:
    """Small enough for alloc.solve to prove optimality in a fraction of a second."""
    customers, reps, pairs = _tiny_tables()
    return alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=[alloc.Capacity("weight", limit="capacity")],
        objective=alloc.MinimizeCost("cost"),
    )


@pytest.fixture(scope="module")
def results(problem: alloc.Problem) -> dict[str, alloc.Result]:
    """One result per policy on the generated problem (seed 0), computed once."""
    return {p.name: p.allocate(problem, seed=0) for p in POLICIES}


# ---------------------------------------------------------------- conformance suite


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_declares_protocol_members_and_flags(policy: Any) -> None:
    assert isinstance(policy, Policy)
    assert isinstance(policy.name, str) and policy.name
    for flag in ("handles_rules", "handles_objective", "needs_owner"):
        assert isinstance(getattr(policy, flag), bool)
    check_policy(policy)


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_declared_parameter_constraints_match_the_constructor(policy: Any) -> None:
    assert isinstance(policy, BasePolicy)
    fields = {f.name for f in dataclasses.fields(policy)}
    assert fields == set(type(policy)._constraints)
    assert "name" in fields  # every policy can be renamed for comparisons


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_assigns_every_customer_to_an_eligible_rep(
    policy: Any, problem: alloc.Problem, results: dict[str, alloc.Result]
) -> None:
    result = results[policy.name]
    assert isinstance(result, alloc.Result)
    a = result.assignment
    assert a is not None
    assert a.index.equals(problem.customer_ids)
    assert a.isin(problem.rep_ids).all()
    eligible = pd.MultiIndex.from_frame(problem.pairs[["customer_id", "rep_id"]])
    assert pd.MultiIndex.from_arrays([a.index, a.to_numpy()]).isin(eligible).all()


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_objective_equals_the_recomputed_one(
    policy: Any, problem: alloc.Problem, results: dict[str, alloc.Result]
) -> None:
    result = results[policy.name]
    assert result.objective == pytest.approx(objective_value(problem, result.assignment))


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_status_says_whether_the_checker_passes(
    policy: Any, problem: alloc.Problem, results: dict[str, alloc.Result]
) -> None:
    result = results[policy.name]
    violations = alloc.check(problem, result.assignment)
    if violations:
        assert result.status is alloc.Status.UNKNOWN
        n = len(violations)
        assert result.explanation.startswith(f"plan violates {n} rule")
        with pytest.raises(alloc.InfeasibleError):
            result.raise_for_status()
    else:
        assert result.status in (alloc.Status.FEASIBLE, alloc.Status.OPTIMAL)
    if policy.handles_rules:
        assert violations == []  # the generated problem has slack for rule-aware policies


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_is_deterministic_for_a_fixed_seed(policy: Any, tiny: alloc.Problem) -> None:
    first = policy.allocate(tiny, seed=11)
    second = policy.allocate(tiny, seed=11)
    assert first.objective == pytest.approx(second.objective)
    if not isinstance(policy, Optimized):  # a time-limited search: compare objectives only
        assert first.assignment is not None and first.assignment.equals(second.assignment)


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_checks_capabilities_before_any_work(
    policy: Any, problem: alloc.Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = problem.customers.drop(columns="owner").reset_index()
    ownerless = problem.replace(customers=customers)

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("work started before the checks")

    monkeypatch.setattr(type(policy), "_result", no_work)
    with pytest.raises(InvalidParameterError, match="'problem' parameter"):
        policy.allocate(customers, seed=0)
    with pytest.raises(InvalidParameterError, match="'seed' parameter"):
        policy.allocate(problem, seed=1.5)
    if policy.needs_owner:
        with pytest.raises(InvalidParameterError, match=r"'owner_col' parameter.*'owner'"):
            policy.allocate(ownerless, seed=0)
    else:
        with pytest.raises(AssertionError, match="work started"):
            policy.allocate(ownerless, seed=0)  # the checks pass and work starts


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_policy_survives_pickling(policy: Any, tiny: alloc.Problem) -> None:
    clone = pickle.loads(pickle.dumps(policy))
    assert clone == policy and clone.name == policy.name
    assert clone.allocate(tiny, seed=0).assignment is not None


@pytest.mark.parametrize(
    ("cls", "kwargs", "param"),
    [
        (RoundRobin, {"metric": 3}, "metric"),
        (RoundRobin, {"name": ""}, "name"),
        (RandomPolicy, {"name": None}, "name"),
        (Greedy, {"name": 1}, "name"),
        (StatusQuo, {"owner_col": ""}, "owner_col"),
        (Optimized, {"time_limit": 0}, "time_limit"),
        (Optimized, {"time_limit": math.inf}, "time_limit"),
        (Optimized, {"workers": 0}, "workers"),
        (Optimized, {"workers": True}, "workers"),
    ],
)
def test_policy_rejects_bad_parameters_in_one_message_form(
    cls: type, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidParameterError, match=rf"^the '{param}' parameter of {cls.__name__}"):
        cls(**kwargs)


def test_policies_without_eligible_reps_return_infeasible_without_a_plan() -> None:
    customers, reps, pairs = _tiny_tables()
    pairs = pairs[pairs["customer_id"] != "c03"]
    problem = alloc.Problem(customers, reps, pairs=pairs, objective=alloc.MinimizeCost("cost"))
    for policy in POLICIES:
        result = policy.allocate(problem, seed=0)
        if policy.needs_owner:  # c03 keeps its current owner, outside the pair table
            assert result.status is alloc.Status.UNKNOWN
            assert "outside the pair table" in result.explanation
            continue
        assert result.status is alloc.Status.INFEASIBLE, policy.name
        assert result.assignment is None
        assert "c03" in result.explanation


# ---------------------------------------------------------------- single policies


def test_round_robin_deals_largest_first_to_reps_in_turn() -> None:
    customers = pd.DataFrame({"customer_id": list("abcdef"), "potential": [1, 6, 2, 5, 3, 4]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1", "r2"]})
    problem = alloc.Problem(customers, reps)
    a = RoundRobin(metric="potential").allocate(problem, seed=0).assignment
    assert a is not None
    dealt = a[["b", "d", "f", "e", "c", "a"]].tolist()  # descending potential
    first = int(dealt[0][1])
    assert dealt == [f"r{(first + k) % 3}" for k in range(6)]


def test_round_robin_skips_ineligible_reps_and_ignores_capacity() -> None:
    customers = pd.DataFrame({"customer_id": list("abcd"), "potential": [4, 3, 2, 1]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1"], "cap": [1, 10]})
    rules = [alloc.Forbid([("b", "r1"), ("c", "r0")]), alloc.AccountLimit(max="cap")]
    problem = alloc.Problem(customers, reps, rules=rules)
    result = RoundRobin().allocate(problem, seed=0)
    assert result.assignment is not None
    assert result.assignment["b"] == "r0" and result.assignment["c"] == "r1"
    assert result.status is alloc.Status.UNKNOWN  # r0 gets more than its one account
    assert "AccountLimit" in result.explanation


def test_round_robin_rejects_an_unknown_metric_before_any_work(problem: alloc.Problem) -> None:
    with pytest.raises(InvalidParameterError, match=r"'metric' parameter of RoundRobin.*'revenue'"):
        RoundRobin(metric="revenue").allocate(problem)


def test_round_robin_defaults_to_the_objective_metric(problem: alloc.Problem) -> None:
    default = RoundRobin().allocate(problem, seed=4)
    explicit = RoundRobin(metric="potential").allocate(problem, seed=4)
    assert default.assignment is not None
    assert default.assignment.equals(explicit.assignment)


def test_random_policy_is_uniform_over_eligible_reps() -> None:
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(4000)]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1", "r2", "r3"]})
    problem = alloc.Problem(customers, reps, rules=[alloc.Pin({"c0": "r2"})])
    a = RandomPolicy().allocate(problem, seed=5).assignment
    assert a is not None and a["c0"] == "r2"
    counts = a.value_counts()
    assert counts.min() > 900 and counts.max() < 1100  # 1000 expected, sd ~27
    b = RandomPolicy().allocate(problem, seed=6).assignment
    assert not a.equals(b)


def test_greedy_policy_matches_the_solver_greedy(problem: alloc.Problem) -> None:
    model = problem.model
    rows = Rows.from_model(model)
    chosen = greedy(model, rows, 3)
    expected = score_of(model, rows, chosen, rows.loads(model, chosen))
    result = Greedy().allocate(problem, seed=3)
    assert result.objective == pytest.approx(expected.objective)
    assert result.status is alloc.Status.FEASIBLE


def test_status_quo_keeps_owners_even_where_no_longer_eligible() -> None:
    customers, reps, pairs = _tiny_tables()
    problem = alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=[alloc.Forbid([("c00", "r0")])],
        objective=alloc.MinimizeCost("cost"),
    )
    result = StatusQuo().allocate(problem)
    assert result.assignment is not None
    assert result.assignment.equals(
        pd.Series(customers["owner"].to_numpy(), index=problem.customer_ids).rename("rep_id")
    )
    assert result.status is alloc.Status.UNKNOWN
    assert "c00" in result.explanation and "Forbid" in result.explanation
    assert result.metrics["moves"] == 0


def test_status_quo_deals_customers_of_departed_or_missing_owners() -> None:
    customers, reps, pairs = _tiny_tables()
    customers.loc[0, "owner"] = None
    customers.loc[1, "owner"] = "gone"
    customers = customers.rename(columns={"owner": "am"})
    problem = alloc.Problem(customers, reps, pairs=pairs, objective=alloc.MinimizeCost("cost"))
    result = StatusQuo(owner_col="am").allocate(problem)
    assert result.assignment is not None and result.assignment.isin(problem.rep_ids).all()
    kept = result.assignment.iloc[2:].tolist() == customers["am"].iloc[2:].tolist()
    assert kept
    assert "2 customers without a current owner" in result.explanation


def test_optimized_returns_the_solver_result(tiny: alloc.Problem) -> None:
    result = Optimized(time_limit=2).allocate(tiny, seed=0)
    reference = alloc.solve(tiny, time_limit=2, seed=0, workers=1)
    assert result.status is alloc.Status.OPTIMAL
    assert result.objective == pytest.approx(reference.objective)
    assert result.bound == pytest.approx(result.objective)


def test_optimized_beats_every_baseline_on_the_objective(
    results: dict[str, alloc.Result],
) -> None:
    best = results["optimized"].objective
    assert all(best <= r.objective + 1e-9 for r in results.values())


def test_plan_result_keeps_an_infeasible_plan_with_its_figures() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "w": [3.0, 4, 2]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "cap": [5, 5]})
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Capacity("w", limit="cap")],
        objective=alloc.MinimizeImbalance("w"),
    )
    result = plan_result(problem, pd.Series({"a": "r1", "b": "r1", "c": "r2"}), name="mine")
    assert result.status is alloc.Status.UNKNOWN
    assert result.explanation.startswith("plan violates 1 rule: Capacity")
    assert result.metrics["w_max_dev"] == pytest.approx(7 / 4.5 - 1)
    assert result.objective == pytest.approx(7 / 4.5 - 1)
    assert result.stats.found_by == "mine" and result.gap is None


def test_check_policy_rejects_objects_that_are_not_policies(problem: alloc.Problem) -> None:
    @dataclasses.dataclass
    class Partial:
        name: str = "partial"
        handles_rules: bool = False
        handles_objective: Any = "no"
        needs_owner: bool = False

    with pytest.raises(InvalidParameterError, match="'handles_objective' flag is a bool"):
        check_policy(Partial())
    with pytest.raises(InvalidParameterError, match="non-empty string 'name'"):
        check_policy(object())


def test_default_policies_have_distinct_names() -> None:
    names = [p.name for p in default_policies(time_limit=1)]
    assert len(set(names)) == 5
    assert "status quo" not in [p.name for p in default_policies(owner_col=None)]


def test_problem_survives_pickling(problem: alloc.Problem) -> None:
    clone = pickle.loads(pickle.dumps(problem))
    assert repr(clone) == repr(problem)
    assert clone.customers.equals(problem.customers)
    assert np.array_equal(clone.model.pair_key, problem.model.pair_key)
    plan = Greedy().allocate(problem, seed=0).assignment
    assert objective_value(clone, plan) == pytest.approx(objective_value(problem, plan))
    assert alloc.check(clone, plan) == []
