"""Tests for alloc.rebalancing.exact: the CP-SAT polish within the call's deadline."""

from __future__ import annotations

import numpy as np
from rebalancing_cases import three_reps

from alloc.rebalancing.exact import cp_solve
from alloc.rebalancing.setup import make_budget, place_forced, prepare
from alloc.solvers.cpsat import Scaled
from alloc.solvers.deadline import Deadline


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
