"""Plateau search (alloc.solvers.plateau): max-norm terms as hard windows under costs."""

from __future__ import annotations

import numpy as np
import pandas as pd

import alloc
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.lp import LpSearch
from alloc.solvers.plateau import LP_WINDOW_MARGIN, lp_window_search, plateau_search, windowed
from alloc.solvers.state import Rows, score_of


def _disruption_problem(n: int = 400, m: int = 10, seed: int = 4) -> alloc.Problem:
    rng = np.random.default_rng(seed)
    potential = np.round(rng.lognormal(7, 1.0, n), -1) + 10
    owner = rng.integers(0, m // 2, n)  # every customer owned by the first half
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "potential": potential,
            "owner": [f"R{j}" for j in owner],
        }
    )
    reps = pd.DataFrame({"rep_id": [f"R{j}" for j in range(m)]})
    objective = alloc.MinimizeImbalance("potential") + (1.0 / n) * alloc.MinimizeDisruption("owner")
    return alloc.Problem(customers, reps, objective=objective)


def test_windowed_rows_turn_max_terms_into_hard_windows_below_the_current_maximum() -> None:
    problem = _disruption_problem()
    model = problem.model
    rows = Rows.from_model(model)
    chosen = greedy(model, rows, 0)
    loads = rows.loads(model, chosen)
    window = windowed(rows, loads, 0.1)
    k = int(np.flatnonzero(rows.is_max)[0])
    top = float((np.abs(loads[k] - rows.share[k]) / rows.share[k]).max())
    assert not window.is_max.any() and window.imb_weight[k] == 0 and window.pen_scale[k] > 0
    np.testing.assert_allclose(window.hi[k], rows.share[k] * (1 + 0.9 * top))
    np.testing.assert_allclose(window.lo[k], rows.share[k] * (1 - 0.9 * top))
    # The plan that defined the windows breaks them (its top rep is above 0.9 x top).
    assert score_of(model, window, chosen, loads).penalty > 0


def test_plateau_search_never_returns_a_worse_plan_and_lowers_a_plateau() -> None:
    problem = _disruption_problem()
    model = problem.model
    rows = Rows.from_model(model)
    # Every customer with its owner: the first half of the reps carry everything, a
    # plateau no single move lowers without paying a move.
    every_rep = model.cost.reshape(model.n_units, model.n_reps)  # no rules: all eligible
    start = model.unit_start[:-1] + np.argmin(every_rep, axis=1)
    before = score_of(model, rows, start, rows.loads(model, start))
    plan, after = plateau_search(model, rows, start, Deadline.after(3.0), seed=0)
    assert after.penalty == 0
    assert after.objective < before.objective - 0.1
    assert after == score_of(model, rows, plan, rows.loads(model, plan))


def test_lp_reports_its_max_norm_deviation_and_the_window_search_meets_windows_above_it() -> None:
    problem = _disruption_problem()
    model = problem.model
    rows = Rows.from_model(model)
    relaxed = LpSearch(model, rows, Deadline.after(30.0), vertex=True).start().finish()
    assert relaxed.optimal and relaxed.start is not None and relaxed.deviation is not None
    k = int(np.flatnonzero(rows.is_max)[0])
    z = float(relaxed.deviation[k])
    # The LP's value is its deviation term plus its (fractional) moves, none negative.
    assert 0.0 <= rows.imb_weight[k] * z <= relaxed.bound + 1e-7
    assert np.isnan(np.delete(relaxed.deviation, k)).all()
    start = relaxed.start
    plan = lp_window_search(model, rows, start, relaxed.deviation, Deadline.after(3.0), seed=0)
    loads = rows.loads(model, plan)
    after = score_of(model, rows, plan, loads)
    assert after.penalty == 0
    deviation = np.abs(loads[k] - rows.share[k]) / rows.share[k]
    assert deviation.max() <= z + LP_WINDOW_MARGIN + 1e-9
    assert after.objective < score_of(model, rows, start, rows.loads(model, start)).objective
    assert after.objective >= relaxed.bound - 1e-9
