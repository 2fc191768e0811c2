"""Tests for alloc.solvers.cpsat: the one CP-SAT builder and the solve wrappers.

The builder tests use tiny models whose optimum is checked by hand; the last test
compares ``solve_cpsat`` with brute force on small random problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alloc
from alloc.solvers.cpsat import (
    CpBuild,
    Scaled,
    add_imbalance,
    build_model,
    fixed_loads,
    run,
    solve_cpsat,
)
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows, score_of


def _problem(
    work: list[int], capacity: list[int], objective: object = None, **rep_cols: list[object]
) -> alloc.Problem:
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(work))], "work": work})
    reps = pd.DataFrame(
        {"rep_id": [f"r{j}" for j in range(len(capacity))], "capacity": capacity, **rep_cols}
    )
    return alloc.Problem(
        customers,
        reps,
        rules=[alloc.Capacity("work", limit="capacity")],
        objective=objective,
    )


def _build(problem: alloc.Problem, **kw: object) -> CpBuild:
    model = problem.model
    rows = Rows.from_model(model)
    return build_model(model, rows, Scaled.from_rows(model, rows), **kw)  # type: ignore[arg-type]


def _loads(build: CpBuild, plan: np.ndarray, k: int) -> np.ndarray:
    """Unscaled row-k loads of a plan, computed without CP-SAT."""
    return build.rows.loads(build.model, plan)[k]


def test_build_has_one_x_per_pair_and_one_z_per_max_norm_row() -> None:
    problem = _problem([1, 2, 3], [10, 10], alloc.MinimizeImbalance("work"))
    build = _build(problem)
    assert len(build.x) == problem.model.n_pairs == 6
    assert sorted(build.z) == [1] and build.d == {}
    assert len(build.terms) == 1


def test_solution_of_the_built_model_is_the_hand_checked_balance() -> None:
    # Work 1, 2, 3 on two reps: the best split is {3} / {1, 2} with loads 3 and 3.
    problem = _problem([1, 2, 3], [10, 10], alloc.MinimizeImbalance("work"))
    build = _build(problem)
    solution = run(build, Deadline.after(10))
    assert solution.optimal and solution.value(build.z[1]) == 0
    plan = build.chosen(solution)
    assert sorted(_loads(build, plan, 0)) == [3.0, 3.0]


def test_extra_row_without_literal_binds() -> None:
    # A hand-made row: customer c2 (work 3) must not go to r0.
    problem = _problem([1, 2, 3], [10, 10], alloc.MinimizeImbalance("work"))
    build = _build(problem)
    bad = (build.model.pair_unit[build.pairs] == 2) & (build.model.pair_rep[build.pairs] == 0)
    build.add_pair_row(bad.astype(np.int64), hi=0)
    solution = run(build, Deadline.after(10))
    plan = build.chosen(solution)
    assert build.model.pair_rep[plan[2]] == 1
    assert solution.value(build.z[1]) == 0  # {1, 2} on r0 still balances


def test_extra_row_with_an_enforcement_literal_binds_only_when_the_literal_is_true() -> None:
    # Load of r0 at most 1 is only possible with c0 alone on r0: imbalance |1 - 5| > 0.
    problem = _problem([1, 2, 3], [10, 10], alloc.MinimizeImbalance("work"))
    for forced, z_zero in ((True, False), (False, True)):
        build = _build(problem)
        lit = build.cp.new_bool_var("limit")
        build.add_row(build.load(0, 0), hi=int(build.scaled.factor[0] * 1), enforce=lit)
        build.cp.add(lit == int(forced))
        solution = run(build, Deadline.after(10))
        assert solution.optimal
        assert (solution.value(build.z[1]) == 0) is z_zero


def test_load_includes_the_base_of_fixed_units() -> None:
    # c0 (work 5) is fixed on r0; c1 and c2 (work 1 each) are optimised: both go to r1.
    problem = _problem([5, 1, 1], [10, 10], alloc.MinimizeImbalance("work"))
    model = problem.model
    rows = Rows.from_model(model)
    scaled = Scaled.from_rows(model, rows)
    fixed = np.array([model.unit_start[u] for u in range(3)])  # everyone on r0
    units = np.array([1, 2])
    mask = np.ones(2, dtype=bool)
    base, other = fixed_loads(model, rows, scaled, units, mask, fixed)
    assert base[0].tolist() == [5 * scaled.factor[0], 0]
    build = build_model(model, rows, scaled, units=units, rep_mask=mask, base=base, other_dev=other)
    solution = run(build, Deadline.after(10))
    plan = build.chosen(solution, fixed)
    assert model.pair_rep[plan].tolist() == [0, 1, 1]
    assert _loads(build, plan, 0).tolist() == [5.0, 2.0]


def test_hard_row_of_a_full_rep_counts_the_fixed_units() -> None:
    # r0 holds c0 (work 5) with capacity 5: the optimised c1 cannot join it.
    problem = _problem([5, 1], [5, 10], alloc.MinimizeImbalance("work"))
    model = problem.model
    rows = Rows.from_model(model)
    scaled = Scaled.from_rows(model, rows)
    fixed = np.array([model.unit_start[0], model.unit_start[1]])
    units = np.array([1])
    base, other = fixed_loads(model, rows, scaled, units, np.ones(2, bool), fixed)
    build = build_model(model, rows, scaled, units=units, base=base, other_dev=other)
    solution = run(build, Deadline.after(10))
    assert model.pair_rep[build.chosen(solution, fixed)[1]] == 1


def test_sum_norm_with_rational_shares_is_modelled_exactly() -> None:
    # Shares 2 : 1 of total 6: shares 4 and 2; the plan {3, 1} / {2} has deviations
    # |4 - 4| / 4 + |2 - 2| / 2 = 0.
    problem = _problem(
        [3, 1, 2], [10, 10], alloc.MinimizeImbalance("work", share="fte", norm="sum"), fte=[2, 1]
    )
    build = _build(problem)
    assert build.scaled.share_den[1] == 3 and sorted(build.d) == [(1, 0), (1, 1)]
    solution = run(build, Deadline.after(10))
    assert solution.optimal and solution.bound == pytest.approx(0.0)
    assert _loads(build, build.chosen(solution), 0).tolist() == [4.0, 2.0]


def test_own_objective_and_lexicographic_second_solve() -> None:
    # First minimise the imbalance, then, with z held at its optimum, put c0 on r1.
    problem = _problem([1, 1, 2], [10, 10], alloc.MinimizeImbalance("work"))
    build = _build(problem)
    first = run(build, Deadline.after(10))
    assert first.optimal
    build.cp.add(build.z[1] <= first.value(build.z[1]))
    c0_on_r0 = (build.model.pair_unit[build.pairs] == 0) & (build.model.pair_rep[build.pairs] == 0)
    build.minimize(build.pair_sum(c0_on_r0.astype(np.int64)))
    build.hint_plan(build.chosen(first))
    second = run(build, Deadline.after(10))
    plan = build.chosen(second)
    assert second.optimal and build.model.pair_rep[plan[0]] == 1
    assert sorted(_loads(build, plan, 0).tolist()) == [2.0, 2.0]


def test_hard_rows_hold_only_when_their_rule_literal_is_true() -> None:
    # Work 2 and 2 against capacities 1 and 1: infeasible with the rule, feasible without.
    problem = _problem([2, 2], [1, 1])
    for enforced, status in ((True, "INFEASIBLE"), (False, "OPTIMAL")):
        build = _build(problem, enforce=["capacity"], objective=False)
        assert list(build.literals) == ["capacity"]
        assert len(build.cp.Proto().objective.vars) == 0
        build.cp.add(build.literals["capacity"] == int(enforced))
        assert run(build, Deadline.after(10)).status == status


def test_imbalance_added_after_own_rows_is_hinted_and_solves_the_same() -> None:
    problem = _problem([1, 2, 3, 4], [10, 10], alloc.MinimizeImbalance("work", norm="sum"))
    plan = np.array([problem.model.unit_start[u] for u in range(4)])  # all on r0
    whole = _build(problem, hint=plan)
    later = _build(problem, hint=plan, objective=False)
    add_imbalance(later)
    later.minimize(sum(v * c for v, c in later.terms))
    assert sorted(later.d) == sorted(whole.d)
    # Every variable hinted: x, and each d at the plan's deviation.
    hinted = later.cp.Proto().solution_hint.vars
    assert len(hinted) == len(later.x) + len(later.d)
    a, b = run(whole, Deadline.after(10)), run(later, Deadline.after(10))
    assert a.optimal and b.optimal and a.bound == pytest.approx(b.bound)


def test_run_with_an_expired_deadline_does_not_start_the_solver() -> None:
    build = _build(_problem([1, 2, 3], [10, 10], alloc.MinimizeImbalance("work")))
    solution = run(build, Deadline.after(0.0))
    assert solution.status == "UNKNOWN" and solution.solver is None and not solution.found


# ---- solve_cpsat against brute force -------------------------------------------------------
@st.composite
def _small_problems(draw: st.DrawFn) -> alloc.Problem:
    n = draw(st.integers(2, 5))
    m = draw(st.integers(2, 3))
    work = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
    capacity = draw(st.lists(st.integers(5, 25), min_size=m, max_size=m))
    norm = draw(st.sampled_from(["max", "sum"]))
    return _problem(work, capacity, alloc.MinimizeImbalance("work", norm=norm))


@given(problem=_small_problems())
def test_solve_cpsat_optimum_equals_brute_force(problem: alloc.Problem) -> None:
    from conftest import brute_force

    model = problem.model
    rows = Rows.from_model(model)
    res = solve_cpsat(model, rows, Scaled.from_rows(model, rows), deadline=Deadline.after(20))
    best = brute_force(problem)
    if best is None:
        assert res.chosen is None
        return
    assert res.status == "OPTIMAL" and res.chosen is not None
    score = score_of(model, rows, res.chosen, rows.loads(model, res.chosen))
    assert score.penalty == 0
    assert score.objective == pytest.approx(best, abs=1e-9)
