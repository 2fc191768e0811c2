"""Tests for alloc.solve: proven optima against brute force, infeasibility, time limit,
and the Result API."""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.checker import objective_value
from conftest import CpuShare

Brute = Callable[[alloc.Problem], "float | None"]


def solve_exact(problem: alloc.Problem, time_limit: float = 5.0) -> alloc.Result:
    return alloc.solve(problem, time_limit=time_limit, seed=0, workers=1)


def customers(n: int, **columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], **columns})


def reps(m: int, **columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)], **columns})


def pair_table(matrix: list[list[int]], column: str = "cost") -> pd.DataFrame:
    """Dense pair table from a customers x reps matrix of integers."""
    rows = [
        (f"c{i}", f"r{j}", value) for i, row in enumerate(matrix) for j, value in enumerate(row)
    ]
    return pd.DataFrame(rows, columns=["customer_id", "rep_id", column])


# ---- brute-force cases ------------------------------------------------------------------
# Each case returns (problem, relaxed): ``relaxed`` drops the rule under test (or None when
# the case is about an objective term). The test shows both that the solver's proven
# optimum equals the brute-force optimum, and that the rule under test binds (the relaxed
# optimum is strictly better), so the case cannot pass with the rule ignored.

COST_5x3 = [[1, 5, 6], [1, 4, 3], [2, 3, 6], [1, 2, 2], [2, 4, 1]]


def case_cost_capacity() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, workload=[4, 3, 3, 2, 2])
    r = reps(3, capacity=[5, 5, 6])
    p = alloc.Problem(
        c,
        r,
        pairs=pair_table(COST_5x3),
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=alloc.MinimizeCost("cost"),
    )
    return p, p.replace(rules=[])


def case_imbalance_max_match() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(6, potential=[8, 7, 5, 4, 3, 3], industry=["a", "b", "a", "b", "c", "c"])
    r = reps(3, skills=["a", "b;c", "a;c"])
    p = alloc.Problem(
        c,
        r,
        rules=[alloc.Match("industry", "skills")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    return p, p.replace(rules=[])


def case_imbalance_sum_divisible() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, potential=[9, 7, 6, 5, 3])  # total 30, shares 10
    p = alloc.Problem(c, reps(3), objective=alloc.MinimizeImbalance("potential", norm="sum"))
    return p, None


def case_imbalance_sum_fractional_share() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, potential=[9, 7, 6, 5, 4])  # total 31, shares 10.33
    p = alloc.Problem(c, reps(3), objective=alloc.MinimizeImbalance("potential", norm="sum"))
    return p, None


def case_imbalance_sum_weighted_share() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, potential=[11, 9, 5, 4, 3])  # total 32, shares 8/16/8
    r = reps(3, fte=[1, 2, 1])
    p = alloc.Problem(c, r, objective=alloc.MinimizeImbalance("potential", share="fte", norm="sum"))
    return p, None


def case_two_imbalance_terms_capacity() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, potential=[9, 7, 6, 5, 3], workload=[1, 2, 6, 5, 4])
    r = reps(3, capacity=[5, 8, 8])
    p = alloc.Problem(
        c,
        r,
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload"),
    )
    return p, p.replace(rules=[])


def case_fit_pairs() -> tuple[alloc.Problem, alloc.Problem | None]:
    rows = [
        ("c0", "r0", 9),
        ("c0", "r1", 4),
        ("c1", "r0", 8),
        ("c1", "r2", 7),
        ("c2", "r0", 7),
        ("c2", "r1", 6),
        ("c3", "r0", 6),
        ("c4", "r0", 9),
        ("c4", "r2", 2),
        ("c5", "r1", 5),
        ("c5", "r2", 5),
        ("c6", "r1", 3),
        ("c6", "r0", 8),
        ("c7", "r2", 4),
        ("c8", "r1", 1),
        ("c8", "r2", 6),
        ("c9", "r0", 5),
        ("c9", "r1", 5),
    ]
    pairs = pd.DataFrame(rows, columns=["customer_id", "rep_id", "fit"])
    p = alloc.Problem(
        customers(10),
        reps(3),
        pairs=pairs,
        rules=[alloc.AccountLimit(max=4)],
        objective=alloc.MaximizeFit("fit"),
    )
    return p, p.replace(rules=[])


def case_disruption_owner() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(
        5, potential=[5, 4, 3, 2, 6], workload=[3, 3, 2, 2, 1], owner=["r0", "r0", "r0", "r0", None]
    )
    r = reps(3, capacity=[6, 6, 6])
    p = alloc.Problem(
        c,
        r,
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=alloc.MinimizeDisruption("owner", value="potential"),
    )
    return p, p.replace(rules=[])


def case_account_limit_min_max() -> tuple[alloc.Problem, alloc.Problem | None]:
    p = alloc.Problem(
        customers(5),
        reps(3),
        pairs=pair_table(COST_5x3),
        rules=[alloc.AccountLimit(min=1, max=2)],
        objective=alloc.MinimizeCost("cost"),
    )
    return p, p.replace(rules=[])


def case_together() -> tuple[alloc.Problem, alloc.Problem | None]:
    # Without families 8+3+2 = 7+4+2 = 13 is perfect; family f1 (8+7) breaks it.
    c = customers(6, potential=[8, 7, 4, 3, 2, 2], family=["f1", "f1", "f2", "f2", None, "f3"])
    p = alloc.Problem(
        c, reps(2), rules=[alloc.Together("family")], objective=alloc.MinimizeImbalance("potential")
    )
    return p, p.replace(rules=[])


def case_pin() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, potential=[8, 6, 5, 3, 2])
    p = alloc.Problem(
        c,
        reps(3),
        rules=[alloc.Pin({"c0": "r0", "c1": "r0"})],
        objective=alloc.MinimizeImbalance("potential"),
    )
    return p, p.replace(rules=[])


def case_forbid() -> tuple[alloc.Problem, alloc.Problem | None]:
    p = alloc.Problem(
        customers(5),
        reps(3),
        pairs=pair_table(COST_5x3),
        rules=[alloc.Forbid([("c0", "r0"), ("c1", "r0"), ("c4", "r2")])],
        objective=alloc.MinimizeCost("cost"),
    )
    return p, p.replace(rules=[])


def case_key_accounts_max_per_rep() -> tuple[alloc.Problem, alloc.Problem | None]:
    # Both key accounts are cheapest at senior r0; at most one key account per rep.
    c = customers(5, key=[True, True, False, False, False])
    r = reps(3, level=["senior", "senior", "junior"])
    p = alloc.Problem(
        c,
        r,
        pairs=pair_table(COST_5x3),
        rules=[alloc.KeyAccounts("key", levels=["senior"], max_per_rep=1)],
        objective=alloc.MinimizeCost("cost"),
    )
    return p, p.replace(rules=[alloc.KeyAccounts("key", levels=["senior"])])


def case_spread() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, abc=["A", "A", "B", "A", "C"])
    p = alloc.Problem(
        c,
        reps(3),
        pairs=pair_table(COST_5x3),
        rules=[alloc.Spread("abc", value="A")],
        objective=alloc.MinimizeCost("cost"),
    )
    return p, p.replace(rules=[])


def case_balance() -> tuple[alloc.Problem, alloc.Problem | None]:
    c = customers(5, potential=[6, 5, 4, 3, 2])  # total 20, share 10 each of 2
    cost = [[1, 3], [1, 4], [1, 2], [2, 1], [1, 3]]
    p = alloc.Problem(
        c,
        reps(2),
        pairs=pair_table(cost),
        rules=[alloc.Balance("potential", tolerance=0.1)],
        objective=alloc.MinimizeCost("cost"),
    )
    return p, p.replace(rules=[])


CASES = {
    "MinimizeCost+Capacity": case_cost_capacity,
    "MinimizeImbalance-max+Match": case_imbalance_max_match,
    "MinimizeImbalance-sum": case_imbalance_sum_divisible,
    "MinimizeImbalance-sum-fractional-share": case_imbalance_sum_fractional_share,
    "MinimizeImbalance-sum-fte-share": case_imbalance_sum_weighted_share,
    "two-imbalance-terms+Capacity": case_two_imbalance_terms_capacity,
    "MaximizeFit-pairs+AccountLimit-max": case_fit_pairs,
    "MinimizeDisruption-owner+Capacity": case_disruption_owner,
    "AccountLimit-min-max": case_account_limit_min_max,
    "Together": case_together,
    "Pin": case_pin,
    "Forbid": case_forbid,
    "KeyAccounts-max_per_rep": case_key_accounts_max_per_rep,
    "Spread": case_spread,
    "Balance": case_balance,
}


@pytest.mark.parametrize("build", list(CASES.values()), ids=list(CASES))
def test_small_problem_is_solved_to_the_brute_force_optimum(build, brute: Brute) -> None:
    problem, relaxed = build()
    assert problem.n_customers <= 10
    expected = brute(problem)
    assert expected is not None, "test case must be feasible"
    result = solve_exact(problem)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    assert result.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert result.bound == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert result.gap == 0.0
    if relaxed is not None:
        relaxed_best = brute(relaxed)
        assert relaxed_best is not None
        assert relaxed_best < expected - 1e-9, "the rule under test must bind in this case"


def test_sum_norm_with_fractional_fte_shares_is_not_wrongly_reported_optimal(brute: Brute) -> None:
    c = customers(4, potential=[7, 18, 8, 6])  # total 39, fte shares 23.4 / 15.6
    r = reps(2, fte=[3, 2])
    problem = alloc.Problem(
        c,
        r,
        objective=alloc.MinimizeImbalance("potential", share="fte", norm="sum")
        + alloc.MinimizeImbalance("potential"),
    )
    expected = brute(problem)
    assert expected == pytest.approx(0.294871794871795)
    result = solve_exact(problem)
    if result.status is alloc.Status.OPTIMAL:
        assert result.objective == pytest.approx(expected, rel=1e-9)
    else:  # an unproven plan must at least not claim a bound above the optimum
        assert result.bound is None or result.bound <= expected + 1e-9


def test_solve_is_deterministic_with_seed_and_one_worker() -> None:
    # Small enough to converge well within the time limit; see the report on larger,
    # time-limited solves, whose results depend on wall-clock progress.
    c = customers(10, potential=[9, 9, 7, 6, 6, 5, 4, 3, 2, 1], workload=[1, 2] * 5)
    problem = alloc.Problem(
        c,
        reps(3),
        objective=alloc.MinimizeImbalance("potential") + alloc.MinimizeImbalance("workload"),
    )
    results = [alloc.solve(problem, time_limit=1, seed=3, workers=1) for _ in range(3)]
    assert all(r.status is alloc.Status.OPTIMAL for r in results)
    assert len({r.objective for r in results}) == 1
    assert len({tuple(r.assignment) for r in results}) == 1


# ---- infeasibility ------------------------------------------------------------------------
def assert_infeasible(result: alloc.Result) -> None:
    assert result.status is alloc.Status.INFEASIBLE
    assert result.assignment is None
    assert result.explanation
    assert math.isinf(result.objective)
    assert result.gap is None and result.bound is None
    with pytest.raises(alloc.InfeasibleError):
        result.raise_for_status()


def test_total_workload_above_total_capacity_is_explained_with_numbers() -> None:
    c = customers(4, workload=[5, 6, 7, 8])  # 26
    r = reps(2, capacity=[10, 12])  # 22
    problem = alloc.Problem(c, r, rules=[alloc.Capacity("workload", limit="capacity")])
    result = solve_exact(problem)
    assert_infeasible(result)
    assert "Capacity" in result.explanation
    assert "26" in result.explanation and "22" in result.explanation


def test_key_accounts_exceeding_senior_capacity_is_explained_hall_type() -> None:
    c = customers(6, workload=[10, 10, 10, 10, 1, 1], key=[True] * 4 + [False] * 2)
    r = pd.DataFrame(
        {
            "rep_id": ["s1", "j1", "j2"],
            "level": ["senior", "junior", "junior"],
            "capacity": [30, 100, 100],
        }
    )
    problem = alloc.Problem(
        c,
        r,
        rules=[
            alloc.KeyAccounts("key", levels=["senior"]),
            alloc.Capacity("workload", limit="capacity"),
        ],
    )
    result = solve_exact(problem)
    assert_infeasible(result)
    # total workload 42 fits total capacity 230: only the senior-only group fails.
    assert "Capacity" in result.explanation
    assert "40" in result.explanation and "30" in result.explanation
    assert "s1" in result.explanation


def test_a_customer_too_big_for_every_window_is_named_before_any_search() -> None:
    # Customer c0 holds 40 % of the potential: with 4 reps at +-5 % no rep may take it
    # (at most 26.25), although the total fits and every rep is eligible.
    c = customers(7, potential=[40, 10, 10, 10, 10, 10, 10])
    problem = alloc.Problem(c, reps(4), rules=[alloc.Balance("potential", 0.05)])
    result = alloc.solve(problem, time_limit=10, seed=0)
    assert_infeasible(result)
    assert "c0" in result.explanation and "c1" not in result.explanation
    assert "40" in result.explanation and "26.25" in result.explanation
    assert result.stats.found_by == "precheck"  # proven by the cheap checks, no search


def test_customer_without_eligible_rep_after_match_is_named() -> None:
    c = customers(3, industry=["a", "b", "zinc"], potential=[1, 2, 3])
    r = reps(2, skills=["a", "a;b"])
    problem = alloc.Problem(
        c,
        r,
        rules=[alloc.Match("industry", "skills")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    result = solve_exact(problem)
    assert_infeasible(result)
    assert "c2" in result.explanation
    assert list(problem.customers_without_reps()) == ["c2"]


def test_customer_without_eligible_rep_explanation_names_the_match_rule() -> None:
    c = customers(3, industry=["a", "b", "zinc"], potential=[1, 2, 3])
    r = reps(2, skills=["a", "a;b"])
    problem = alloc.Problem(
        c,
        r,
        rules=[alloc.Match("industry", "skills")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    result = solve_exact(problem)
    assert result.status is alloc.Status.INFEASIBLE
    assert "Match" in result.explanation


def test_pin_conflicting_with_forbid_is_infeasible_and_names_the_customer() -> None:
    problem = alloc.Problem(
        customers(2, potential=[1, 1]),
        reps(2),
        rules=[alloc.Pin({"c0": "r0"}), alloc.Forbid([("c0", "r0")])],
        objective=alloc.MinimizeImbalance("potential"),
    )
    result = solve_exact(problem)
    assert_infeasible(result)
    assert "c0" in result.explanation
    assert "Forbid" in result.explanation


def test_infeasibility_found_only_by_cpsat_names_the_rules(brute: Brute) -> None:
    # Cheap checks pass: 18 <= 30 total capacity, 3 customers >= 3 minimum accounts, every
    # customer may go to every rep. But r2 must take a customer and none fits its 5.
    c = customers(3, workload=[6, 6, 6])
    r = reps(3, capacity=[12, 12, 5])
    problem = alloc.Problem(
        c, r, rules=[alloc.Capacity("workload", limit="capacity"), alloc.AccountLimit(min=1)]
    )
    assert brute(problem) is None
    result = solve_exact(problem)
    assert_infeasible(result)
    # The explanation names the minimal conflict, r2's two rows, with their numbers (it
    # said "CP-SAT proved that ... cannot all hold together" before it named reps).
    assert "Capacity('workload', limit='capacity') for r2 (at most 5 of workload" in (
        result.explanation
    )
    assert "AccountLimit(min=1) for r2 (at least 1" in result.explanation
    assert "r0" not in result.explanation and "r1" not in result.explanation


# ---- time limit ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def large_problem() -> alloc.Problem:
    return alloc.datasets.make_problem(3000, 30)


def overrun_allowed() -> float:
    """Seconds a solve may end past its time limit in these tests.

    alloc promises to return within the limit plus a small constant; on a machine busier
    than its cores (CI under load) the work after the deadline (result, metrics) is
    slowed by the same factor, so the allowance grows with the load.
    """
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return 1.5 * max(1.0, load)


@pytest.mark.parametrize("time_limit", [2.0, 0.2])
def test_time_limit_is_honoured_on_a_large_problem(
    large_problem: alloc.Problem, time_limit: float
) -> None:
    start = time.perf_counter()
    result = alloc.solve(large_problem, time_limit=time_limit, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed <= time_limit + overrun_allowed()
    assert result.stats.time <= elapsed
    if time_limit >= 2.0:
        assert result.status.has_solution
    elif not result.status.has_solution:
        # 0.2 s on a loaded machine may end before the construction finishes: then the
        # status says so instead of returning a plan that breaks rules.
        assert result.status is alloc.Status.UNKNOWN
        assert "time limit" in result.explanation
    if result.status.has_solution:
        assert alloc.check(large_problem, result.assignment) == []


@pytest.mark.slow
def test_time_limit_is_honoured_at_a_hundred_thousand_customers() -> None:
    problem = alloc.datasets.make_problem(100_000, 400, seed=1)
    start = time.perf_counter()
    result = alloc.solve(problem, time_limit=2, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed <= 2 + overrun_allowed()
    # Two seconds may be too short to repair the construction at this size: then the
    # status says so honestly instead of returning a plan that breaks rules.
    if result.status.has_solution:
        assert alloc.check(problem, result.assignment) == []
    else:
        assert result.status is alloc.Status.UNKNOWN
        assert "time limit" in result.explanation
    with CpuShare() as share:
        longer = alloc.solve(problem, time_limit=8, seed=0)
    assert share.wall <= 8 + overrun_allowed()
    if longer.status.has_solution:
        assert alloc.check(problem, longer.assignment) == []
    else:
        # Eight seconds find a plan on an idle machine; with several processes per core
        # (CI under load) the construction may not finish: then the status is honest.
        assert share.busy, longer.explanation
        assert longer.status is alloc.Status.UNKNOWN


def test_progress_prints_phases_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    problem = alloc.Problem(
        customers(4, potential=[4, 3, 2, 1]),
        reps(2),
        objective=alloc.MinimizeImbalance("potential"),
    )
    alloc.solve(problem, time_limit=1, workers=1, progress=True)
    err = capsys.readouterr().err
    assert "greedy" in err and "done" in err
    alloc.solve(problem, time_limit=1, workers=1)
    assert capsys.readouterr().err == ""


def test_float_data_scaling_is_reported_and_never_claims_a_false_proof() -> None:
    c = customers(5, potential=[0.0013, 2.5, 1234567.891, 3.25, 7.1])
    problem = alloc.Problem(c, reps(2), objective=alloc.MinimizeImbalance("potential"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = solve_exact(problem)
    # CP-SAT's optimum of the rounded model proves nothing; HiGHS on the float model (a
    # tiny model) or the imbalance bound (the huge customer alone exceeds a fair share)
    # proves the plan, and no PrecisionWarning may then say "reported FEASIBLE" (it did,
    # beside an OPTIMAL status, before issue 17).
    assert result.status is alloc.Status.OPTIMAL
    assert "proven by" in result.explanation and "CP-SAT" not in result.explanation
    assert not [w for w in caught if "reported FEASIBLE" in str(w.message)]
    assert result.stats.scaling_error > 1e-6
    assert any("scaling" in note for note in result.stats.notes)
    assert alloc.check(problem, result.assignment) == []
    assert result.objective == pytest.approx(objective_value(problem, result.assignment))
    # the best plan puts the huge customer alone: any other is worse
    assert result.assignment.value_counts().min() == 1
    integral = alloc.Problem(
        customers(5, potential=[1, 2, 3, 4, 5]),
        reps(2),
        objective=alloc.MinimizeImbalance("potential"),
    )
    exact = solve_exact(integral)
    assert exact.stats.scaling_error == 0.0 and exact.stats.notes == ()
    assert exact.status is alloc.Status.OPTIMAL


# ---- Result API -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_result() -> alloc.Result:
    c = customers(
        8,
        potential=[9, 8, 6, 5, 4, 3, 2, 1],
        workload=[3, 3, 2, 2, 2, 1, 1, 1],
        owner=["r0", "r0", "r0", "r1", "r1", "r2", "r2", "r2"],
    )
    r = reps(3, capacity=[8, 8, 8], fte=[1, 1, 2])
    problem = alloc.Problem(
        c,
        r,
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=alloc.MinimizeImbalance("potential")
        + 0.5 * alloc.MinimizeImbalance("workload", share="fte")
        + alloc.MinimizeDisruption("owner", weight=0.01),
    )
    return solve_exact(problem)


def test_result_summary_names_status_and_objective(sample_result: alloc.Result) -> None:
    text = sample_result.summary()
    assert sample_result.status.value.upper() in text
    assert "objective" in text
    assert sample_result.explanation in text
    assert "moves vs current owner" in text
    assert sample_result.status.name in repr(sample_result)


def test_result_to_frame_has_rep_column_matching_assignment(sample_result: alloc.Result) -> None:
    frame = sample_result.to_frame()
    assert "rep_id" in frame.columns
    assert frame.index.name == "customer_id"
    assert len(frame) == 8
    assert (frame["rep_id"] == sample_result.assignment.reindex(frame.index)).all()
    assert "potential" in frame.columns


def test_result_loads_have_counts_metrics_shares_and_deviations(
    sample_result: alloc.Result,
) -> None:
    loads = sample_result.loads
    problem, a = sample_result.problem, sample_result.assignment
    assert list(loads.index) == ["r0", "r1", "r2"]
    for column in (
        "count",
        "potential",
        "potential_share",
        "potential_dev",
        "workload",
        "workload_share",
        "workload_dev",
    ):
        assert column in loads.columns
    assert loads["count"].sum() == 8
    assert (loads["count"] == a.value_counts().reindex(loads.index, fill_value=0)).all()
    potentials = problem.customers["potential"]
    expected_load = potentials.groupby(a.reindex(potentials.index)).sum()
    assert np.allclose(loads["potential"], expected_load.reindex(loads.index, fill_value=0))
    assert np.allclose(loads["potential_share"], 38 / 3)
    # workload shares follow the fte column (1, 1, 2) of the term that names it
    assert np.allclose(loads["workload_share"], [15 / 4, 15 / 4, 15 / 2])
    dev = (loads["workload"] - loads["workload_share"]) / loads["workload_share"]
    assert np.allclose(loads["workload_dev"], dev)


def test_result_metrics_report_fairness_figures(sample_result: alloc.Result) -> None:
    m = sample_result.metrics
    loads = sample_result.loads
    for key in (
        "objective",
        "feasible",
        "violations",
        "potential_max_dev",
        "potential_range",
        "potential_cv",
        "potential_gini",
        "potential_max",
        "potential_min",
        "workload_max_dev",
        "count_cv",
        "moves",
    ):
        assert key in m
    assert m["feasible"] is True and m["violations"] == 0
    assert m["potential_max_dev"] == pytest.approx(loads["potential_dev"].abs().max())
    assert m["potential_max"] == pytest.approx(loads["potential"].max())
    owner = sample_result.problem.customers["owner"]
    assert m["moves"] == int((owner != sample_result.assignment.reindex(owner.index)).sum())
    assert m["objective"] == pytest.approx(sample_result.objective, rel=1e-9)


def test_result_objective_is_recomputed_from_tables(sample_result: alloc.Result) -> None:
    value = objective_value(sample_result.problem, sample_result.assignment)
    assert sample_result.objective == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_gap_is_zero_when_optimal_and_relative_when_feasible() -> None:
    problem = alloc.Problem(
        customers(3, potential=[1, 2, 3]), reps(2), objective=alloc.MinimizeImbalance("potential")
    )
    optimal = solve_exact(problem)
    assert optimal.status is alloc.Status.OPTIMAL
    assert optimal.gap == 0.0
    feasible = alloc.Result(
        problem, alloc.Status.FEASIBLE, optimal.assignment, 4.0, 3.0, "", alloc.SolveStats()
    )
    assert feasible.gap == pytest.approx(0.25)
    no_bound = alloc.Result(
        problem, alloc.Status.FEASIBLE, optimal.assignment, 4.0, -math.inf, "", alloc.SolveStats()
    )
    assert no_bound.gap is None and no_bound.bound is None
    assert "no valid bound" in no_bound.bound_note
    useless = alloc.Result(
        problem, alloc.Status.FEASIBLE, optimal.assignment, 4.0, 0.0, "", alloc.SolveStats()
    )
    assert useless.bound == 0.0 and useless.gap is None
    assert "too far below the plan to be informative" in useless.bound_note
    above = alloc.Result(
        problem, alloc.Status.FEASIBLE, optimal.assignment, 4.0, 5.0, "", alloc.SolveStats()
    )
    assert above.gap == 0.0


def test_pure_imbalance_feasible_result_says_its_bound_is_trivial() -> None:
    problem = alloc.datasets.make_problem(600, 12, seed=2)
    result = alloc.solve(problem, time_limit=1, seed=0)
    assert result.status.has_solution
    if result.status is alloc.Status.FEASIBLE:
        assert result.bound is not None and result.bound <= 1e-9
        assert result.gap is None
        assert "too far below the plan to be informative" in result.bound_note
        assert "rarely gets a bound above 0" in result.explanation
        assert "gap 100" not in result.summary()
    else:
        assert result.objective == pytest.approx(0.0, abs=1e-12)


def test_infeasible_result_has_empty_loads_and_metrics() -> None:
    problem = alloc.Problem(
        customers(2, workload=[5, 5]),
        reps(1, capacity=[6]),
        rules=[alloc.Capacity("workload", limit="capacity")],
    )
    result = solve_exact(problem)
    assert result.status is alloc.Status.INFEASIBLE
    assert result.loads.empty
    assert result.metrics == {}
    assert "INFEASIBLE" in result.summary()
    assert result.to_frame()["rep_id"].isna().all()


def test_status_has_solution() -> None:
    assert alloc.Status.OPTIMAL.has_solution and alloc.Status.FEASIBLE.has_solution
    assert not alloc.Status.INFEASIBLE.has_solution
    assert not alloc.Status.UNKNOWN.has_solution


def test_solve_rejects_bad_parameters() -> None:
    problem = alloc.Problem(customers(2, potential=[1, 2]), reps(2))
    for kwargs in (
        {"time_limit": -1},
        {"time_limit": 0},
        {"time_limit": math.inf},
        {"seed": 1.5},
        {"workers": 0},
    ):
        with pytest.raises(alloc.InvalidParameterError):
            alloc.solve(problem, **kwargs)
    with pytest.raises(alloc.InvalidParameterError, match="problem"):
        alloc.solve("not a problem")  # type: ignore[arg-type]


def test_problem_without_objective_is_optimal_with_any_feasible_plan() -> None:
    problem = alloc.Problem(
        customers(3, workload=[1, 2, 3]),
        reps(2, capacity=[3, 3]),
        rules=[alloc.Capacity("workload", limit="capacity")],
    )
    result = solve_exact(problem)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    assert result.objective == 0.0
