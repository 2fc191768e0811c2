"""Fuzzing alloc.solve against brute force (issue 17).

Three groups of tests:

- the oracle itself is right on tiny problems whose plans and optimum are worked out by
  hand (in each test's docstring), and agrees with ``alloc.check`` on random plans;
- a seeded run of ``N_CASES`` small random problems asserts the invariants that hold
  today: no returned plan breaks a rule, the objective is reported right, no bound is
  above the optimum, no OPTIMAL plan is worse than the optimum, checker and oracle
  agree, nothing raises;
- issue 17's two reproducers as regression tests of the status, expected to fail until
  the fixes land (strict: they turn into failures then, and the marker must go).

The sibling modules (oracle, generate, classify) are imported directly: pytest's default
import mode puts this folder on sys.path.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from classify import Outcome, classify
from generate import random_case, reproducer_balance_disruption, reproducer_decimal_capacity
from oracle import Case, Oracle, Spec, at_least, at_most, brute_force

import alloc

N_CASES = 300
TIME_LIMIT = 0.5


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


# ---- the oracle on hand-computed cases ----------------------------------------------------
def test_comparison_rule_accepts_decimal_ties_and_rejects_real_excess() -> None:
    assert at_most(np.array([1.7 + 2.2]), 3.9)[0]  # 3.9000000000000004 <= 3.9
    assert not at_most(np.array([3.9 + 1e-8]), 3.9)[0]
    assert at_least(np.array([0.1 + 0.2 - 1e-12]), 0.3)[0]
    assert not at_least(np.array([0.3 - 1e-8]), 0.3)[0]
    assert at_most(np.array([1e6 + 1e-4]), 1e6)[0]  # relative: 1e-9 * 1e6 = 1e-3
    assert not at_most(np.array([1e6 + 1e-2]), 1e6)[0]


def test_oracle_counts_capacity_plans_and_finds_zero_imbalance() -> None:
    """work 1, 2, 3; two reps; load <= 3.5 each (total 6): a rep gets {c2} or {c0, c1};
    2 of 8 plans; both are 3/3, imbalance 0."""
    case = Case(
        "hand-capacity",
        pd.DataFrame({"customer_id": _ids("c", 3), "work": [1, 2, 3]}),
        pd.DataFrame({"rep_id": _ids("r", 2)}),
        rules=[Spec("Capacity", {"metric": "work", "limit": 3.5})],
        objective=[Spec("MinimizeImbalance", {"metric": "work"})],
    )
    verdict = brute_force(case)
    assert (verdict.n_plans, verdict.n_feasible, verdict.n_optimal) == (8, 2, 2)
    assert verdict.optimum == pytest.approx(0.0)
    assert verdict.plan is not None and verdict.plan["c0"] == verdict.plan["c1"]


def test_oracle_sum_norm_with_fte_shares() -> None:
    """work 1, 2, 3 (total 6); fte 1 and 2: shares 2 and 4. With r0's load L the sum of
    relative deviations is |L - 2|/2 + |2 - L|/4 = 0.75 |L - 2|: optimum 0 only for
    r0 = {c1}; the worst plan (L = 6) scores 3."""
    case = Case(
        "hand-fte",
        pd.DataFrame({"customer_id": _ids("c", 3), "work": [1, 2, 3]}),
        pd.DataFrame({"rep_id": _ids("r", 2), "fte": [1.0, 2.0]}),
        objective=[Spec("MinimizeImbalance", {"metric": "work", "share": "fte", "norm": "sum"})],
    )
    oracle = Oracle(case)
    verdict = oracle.solve()
    assert (verdict.n_feasible, verdict.n_optimal) == (8, 1)
    assert verdict.optimum == pytest.approx(0.0)
    assert verdict.plan == {"c0": "r1", "c1": "r0", "c2": "r1"}
    assert oracle.objective_of({"c0": "r0", "c1": "r0", "c2": "r0"}) == pytest.approx(3.0)


def test_oracle_pin_forbid_and_disruption() -> None:
    """owners r0, r0, r1; c0 pinned to r1; (c2, r1) forbidden, so c2 -> r0: 2 plans
    (c1 free). c0 and c2 always move (2); c1 -> r0 keeps the optimum at 2."""
    case = Case(
        "hand-pin",
        pd.DataFrame({"customer_id": _ids("c", 3), "owner": ["r0", "r0", "r1"]}),
        pd.DataFrame({"rep_id": _ids("r", 2)}),
        rules=[Spec("Pin", {"mapping": {"c0": "r1"}}), Spec("Forbid", {"pairs": [("c2", "r1")]})],
        objective=[Spec("MinimizeDisruption", {"owner_col": "owner"})],
    )
    verdict = brute_force(case)
    assert (verdict.n_plans, verdict.n_feasible) == (2, 2)
    assert verdict.optimum == pytest.approx(2.0)
    assert verdict.plan == {"c0": "r1", "c1": "r0", "c2": "r0"}


def test_oracle_together_spread_and_account_limits() -> None:
    """c0, c1 one family; class A = c0, c1, c3 (3 members on 2 reps: 1 or 2 each), so c3
    goes opposite the family; 2 <= accounts <= 3 puts c2 beside c3: 2 plans."""
    case = Case(
        "hand-together",
        pd.DataFrame(
            {
                "customer_id": _ids("c", 4),
                "family": ["f", "f", None, None],
                "cls": ["A", "A", "B", "A"],
            }
        ),
        pd.DataFrame({"rep_id": _ids("r", 2)}),
        rules=[
            Spec("Together", {"group_col": "family"}),
            Spec("Spread", {"flag_col": "cls", "value": "A"}),
            Spec("AccountLimit", {"min": 2, "max": 3}),
        ],
    )
    verdict = brute_force(case)
    assert (verdict.n_plans, verdict.n_feasible, verdict.optimum) == (16, 2, 0.0)
    plan = verdict.plan
    assert plan is not None and plan["c0"] == plan["c1"] != plan["c3"] == plan["c2"]


def test_oracle_fit_and_travel_on_a_sparse_pair_table() -> None:
    """Pairs c0-r0 (fit 1), c0-r1 (fit 3), c1-r0 (fit 2); customers at x = 0 and 10, reps
    at x = 0 and 10. c0 -> r0: -2 * 3 + 10 = 4; c0 -> r1: -2 * 5 + 20 = 10."""
    case = Case(
        "hand-fit",
        pd.DataFrame({"customer_id": _ids("c", 2), "x": [0.0, 10.0], "y": [0.0, 0.0]}),
        pd.DataFrame({"rep_id": _ids("r", 2), "x": [0.0, 10.0], "y": [0.0, 0.0]}),
        pairs=pd.DataFrame(
            {"customer_id": ["c0", "c0", "c1"], "rep_id": ["r0", "r1", "r0"], "fit": [1, 3, 2]}
        ),
        objective=[Spec("MaximizeFit", {"pair_col": "fit", "weight": 2.0}), Spec("MinimizeTravel")],
    )
    verdict = brute_force(case)
    assert (verdict.n_plans, verdict.n_feasible) == (2, 2)
    assert verdict.optimum == pytest.approx(4.0)
    assert Oracle(case).objective_of({"c0": "r1", "c1": "r0"}) == pytest.approx(10.0)


@pytest.mark.parametrize(("max_per_rep", "feasible"), [(None, 1), (1, 0)])
def test_oracle_match_and_key_accounts(max_per_rep: int | None, feasible: int) -> None:
    """c1 (industry b) matches only r0; key accounts c0, c2 need the senior r0: one plan,
    everything on r0, which breaks max 1 key account per rep."""
    args = {"flag_col": "key", "levels": ["senior"], "max_per_rep": max_per_rep}
    case = Case(
        "hand-key",
        pd.DataFrame(
            {"customer_id": _ids("c", 3), "industry": ["a", "b", "a"], "key": [True, False, True]}
        ),
        pd.DataFrame(
            {"rep_id": _ids("r", 2), "skills": ["a;b", "a"], "level": ["senior", "junior"]}
        ),
        rules=[Spec("Match", {"customer_col": "industry", "rep_col": "skills"})],
    )
    case.rules.append(Spec("KeyAccounts", args))
    verdict = brute_force(case)
    assert (verdict.n_plans, verdict.n_feasible) == (1, feasible)


def test_oracle_on_the_issue_reproducers() -> None:
    """Balance: total 73, window [35.04, 37.96]: only {c0, c1, c4} = 36 vs 37, 2 plans;
    the one keeping c0, c2, c4, c5 with their owners moves 2. Capacity 3.9: only
    {c0, c3} = 1.7 + 2.2 vs {c1, c2} = 2.44, 2 plans."""
    balance = brute_force(reproducer_balance_disruption())
    assert (balance.n_feasible, balance.optimum) == (2, 2.0)
    capacity = brute_force(reproducer_decimal_capacity())
    assert (capacity.n_feasible, capacity.optimum) == (2, 0.0)


def test_generator_is_deterministic_and_sized() -> None:
    for index in (2, 3, 50):
        first, again = random_case(4, index), random_case(4, index)
        assert first.describe() == again.describe()
        pd.testing.assert_frame_equal(first.customers, again.customers)
        assert 3 <= len(first.customers) <= 9 and 2 <= len(first.reps) <= 3
    assert random_case(4, 2).describe() != random_case(5, 2).describe()


def test_oracle_agrees_with_alloc_check_on_random_plans() -> None:
    rng = np.random.default_rng(7)
    for index in range(2, 22):
        case = random_case(1, index)
        oracle = Oracle(case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", alloc.AllocWarning)
            problem = case.problem()
        plans = oracle.plans()
        for row in rng.choice(len(plans), size=min(8, len(plans)), replace=False):
            plan = pd.Series(oracle.as_dict(plans[row]))
            ours = oracle.broken_rules(plan)
            theirs = alloc.check(problem, plan)
            assert bool(ours) == bool(theirs), (case.describe(), dict(plan), ours, theirs)
            if not ours:
                assert alloc.objective_value(problem, plan) == pytest.approx(
                    oracle.objective_of(plan), rel=1e-9, abs=1e-9
                )


# ---- invariants that hold today -----------------------------------------------------------
@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return [
        classify(random_case(0, index), time_limit=TIME_LIMIT, seed=0, workers=1)
        for index in range(2, 2 + N_CASES)
    ]


def _in_class(outcomes: list[Outcome], name: str) -> list[str]:
    return [f"{o.case.describe()}: {o.status} {o.error}" for o in outcomes if name in o.classes]


def test_fuzz_cases_cover_feasible_and_infeasible_problems(outcomes: list[Outcome]) -> None:
    feasible = [o for o in outcomes if o.verdict is not None and o.verdict.n_feasible > 0]
    assert 0.3 * N_CASES < len(feasible) < N_CASES
    assert any(o.case.pairs is not None for o in outcomes)
    assert any(not o.case.objective for o in outcomes)


def test_fuzz_solve_never_raises(outcomes: list[Outcome]) -> None:
    assert _in_class(outcomes, "exception") == []


def test_fuzz_returned_plans_break_no_rule(outcomes: list[Outcome]) -> None:
    assert _in_class(outcomes, "violations") == []


def test_fuzz_checker_agrees_with_oracle_on_returned_plans(outcomes: list[Outcome]) -> None:
    assert _in_class(outcomes, "checker_disagrees") == []


def test_fuzz_objective_is_reported_right(outcomes: list[Outcome]) -> None:
    assert _in_class(outcomes, "misreported") == []


def test_fuzz_bound_never_exceeds_the_optimum(outcomes: list[Outcome]) -> None:
    assert _in_class(outcomes, "invalid_bound") == []


def test_fuzz_optimal_plans_are_optimal(outcomes: list[Outcome]) -> None:
    assert _in_class(outcomes, "suboptimal_optimal") == []


# ---- issue 17 reproducers (status regressions) --------------------------------------------
def test_issue17_balance_window_with_disruption_is_solved_optimal() -> None:
    case = reproducer_balance_disruption()
    result = alloc.solve(case.problem(), time_limit=2.0, seed=0, workers=1)
    assert result.status is alloc.Status.OPTIMAL
    assert result.objective == pytest.approx(2.0)


def test_issue17_decimal_capacity_tie_is_feasible() -> None:
    case = reproducer_decimal_capacity()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", alloc.AllocWarning)
        result = alloc.solve(case.problem(), time_limit=2.0, seed=0, workers=1)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(case.problem(), result.assignment) == []
