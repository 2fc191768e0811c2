"""Tests for alloc.rebalancing.exact: the CP-SAT polish within the call's deadline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rebalancing_cases import brute_force_budget, discretionary, three_reps

import alloc
from alloc.rebalancing import rebalance
from alloc.rebalancing.exact import cp_solve
from alloc.rebalancing.setup import make_budget, place_forced, prepare
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import Scaled


def solve_three_reps(deadline: Deadline):
    problem, incumbent = three_reps()
    setup = prepare("rebalance", problem.without_reps(["r3"]), incumbent, "potential", None)
    model = setup.model
    return cp_solve(
        setup,
        Scaled.from_rows(model, setup.rows),
        place_forced(setup, 0),
        make_budget(setup, 1, None),
        None,
        np.arange(model.n_units),
        np.ones(model.n_reps, dtype=bool),
        deadline,
        0,
        frozen=False,
        lexicographic=True,
    )


def test_cp_sat_proves_the_one_move_plan_optimal():
    out = solve_three_reps(Deadline.after(10.0))
    assert out.status == "OPTIMAL" and out.proven and out.chosen is not None


def test_cp_sat_is_not_started_once_the_deadline_has_passed():
    out = solve_three_reps(Deadline.after(0.0))
    assert out.status == "UNKNOWN" and out.chosen is None and not out.proven


@pytest.mark.parametrize("share", [None, "fte"])
def test_sum_norm_with_rational_shares_is_proven_optimal_with_fewest_moves(share):
    # The shared CP-SAT builder models the sum norm exactly (rational fair shares), so
    # the polish proves what alloc.solve proves; the old builder rounded the shares.
    customers = pd.DataFrame({"customer_id": list("abcdef"), "potential": [8, 2, 3, 1, 3, 1]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2", "r3"], "fte": [1.0, 1.0, 0.5]})
    objective = alloc.MinimizeImbalance("potential", norm="sum", share=share)
    problem = alloc.Problem(customers, reps, objective=objective)
    incumbent = pd.Series({"a": "r1", "b": "r1", "c": "r2", "d": "r2", "e": "r3", "f": "r3"})
    for max_moves in (1, None):
        result = rebalance(problem, incumbent, max_moves=max_moves, time_limit=5)
        best_objective, fewest_moves = brute_force_budget(problem, incumbent, max_moves)
        assert result.status is alloc.Status.OPTIMAL
        assert result.objective == pytest.approx(best_objective, abs=1e-9)
        assert len(discretionary(result)) == fewest_moves
