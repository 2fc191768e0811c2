"""CP-SAT on the LP relaxation's neighbourhoods (alloc.solvers.lp_neighbourhoods) and the
loosening window search (alloc.solvers.plateau.loosening_search)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.lp import LpSearch
from alloc.solvers.lp_neighbourhoods import (
    active_units,
    disagreeing_units,
    relaxation_induced_search,
)
from alloc.solvers.plateau import loosening_search
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows, score_of
from conftest import model_brute_force

# The tiny problems leave some customers a single eligible rep (on purpose).
pytestmark = pytest.mark.filterwarnings("ignore::alloc.errors.DataWarning")


def _key_accounts(seed: int, n: int = 9, m: int = 3) -> alloc.Problem:
    """A few customers, one senior (R0) who alone may serve the key accounts, each
    customer with a current owner; potential imbalance + 1/n x customers moved."""
    rng = np.random.default_rng(seed)
    potential = np.round(rng.lognormal(5, 0.8, n))
    owner = np.array([f"R{j}" for j in rng.integers(0, m, n)], dtype=object)
    key = rng.random(n) < 0.3
    owner[key] = "R0"
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "potential": potential,
            "owner": owner,
            "key_account": key,
        }
    )
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(m)], "level": ["senior"] + ["junior"] * (m - 1)}
    )
    objective = alloc.MinimizeImbalance("potential") + (1.0 / n) * alloc.MinimizeDisruption("owner")
    rules = [alloc.KeyAccounts("key_account", levels="senior")]
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def _home(model: Model) -> np.ndarray:
    """Every unit on its cheapest pair (its current owner)."""
    start = model.unit_start
    cheapest = [int(np.argmin(model.cost[start[u] : start[u + 1]])) for u in range(model.n_units)]
    return start[:-1] + np.array(cheapest)


def _lp_fraction(model: Model, rows: Rows) -> np.ndarray:
    relaxed = LpSearch(model, rows, Deadline.after(30.0), vertex=True).start().finish()
    assert relaxed.optimal and relaxed.fraction is not None
    return relaxed.fraction


def test_lp_neighbourhoods_reach_the_optimum_where_local_search_stops_above_it() -> None:
    problem = _key_accounts(13)
    model = problem.model
    rows = Rows.from_model(model)
    optimum = model_brute_force(model, rows)
    # One descent of local search (shifts, swaps, chains) from the owners' plan: a local
    # optimum above the optimum, since the better plans need moves that pay only together.
    search = LocalSearch(model, rows, _home(model), seed=0)
    movable = np.flatnonzero(model.degree > 1)
    search._descend(movable, Deadline.after(60.0), swap_sample=400)
    stuck = search.chosen.copy()
    assert search.score().objective > optimum + 1e-3
    fraction = _lp_fraction(model, rows)
    plan = relaxation_induced_search(
        model, rows, Scaled.from_rows(model, rows), stuck, fraction, Deadline.after(5.0), 0
    )
    after = score_of(model, rows, plan, rows.loads(model, plan))
    assert after.penalty == 0
    assert abs(after.objective - optimum) <= 1e-9
    assert alloc.check(problem, _assignment(problem, plan)) == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_lp_neighbourhoods_never_return_a_worse_plan_and_keep_every_rule(seed: int) -> None:
    problem = _key_accounts(seed, n=8)
    model = problem.model
    rows = Rows.from_model(model)
    start = _home(model)
    before = score_of(model, rows, start, rows.loads(model, start))
    fraction = _lp_fraction(model, rows)
    plan = relaxation_induced_search(
        model, rows, Scaled.from_rows(model, rows), start, fraction, Deadline.after(0.5), seed
    )
    after = score_of(model, rows, plan, rows.loads(model, plan))
    assert after.penalty == 0
    assert after.objective <= before.objective + 1e-12
    assert after.objective >= model_brute_force(model, rows) - 1e-9


def test_disagreeing_and_active_units_follow_the_lp_values() -> None:
    problem = _key_accounts(4)
    model = problem.model
    home = _home(model)
    # An LP that keeps every unit home agrees everywhere; one that splits unit 0 or
    # moves it whole does not agree on it.
    fraction = np.zeros(model.n_pairs)
    fraction[home] = 1.0
    assert disagreeing_units(home, fraction).size == 0
    assert active_units(model, home, fraction).size == 0
    lo, hi = model.unit_start[0], model.unit_start[1]
    other = lo if home[0] != lo else hi - 1
    fraction[lo:hi] = 0.0
    fraction[other] = 1.0
    assert disagreeing_units(home, fraction).tolist() == [0]
    moved = home.copy()
    moved[0] = other
    # The plan now agrees with the LP on unit 0, but both keep it off its owner.
    assert disagreeing_units(moved, fraction).size == 0
    assert active_units(model, moved, fraction).tolist() == [0]


def test_loosening_search_trades_a_little_deviation_for_fewer_moves() -> None:
    # Two reps, R0 owning everything: a balanced plan needs moves; the windows that
    # a balanced start would keep allow far fewer of them once widened.
    n = 40
    rng = np.random.default_rng(2)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "potential": np.round(rng.lognormal(4, 1.0, n)) + 1,
            "owner": "R0",
        }
    )
    reps = pd.DataFrame({"rep_id": ["R0", "R1"]})
    # A move costs 0.02: each one must win 2 points of deviation.
    objective = alloc.MinimizeImbalance("potential") + 0.02 * alloc.MinimizeDisruption("owner")
    problem = alloc.Problem(customers, reps, objective=objective)
    model = problem.model
    rows = Rows.from_model(model)
    # Balanced with many small customers moved: a tight plan paying for many moves.
    k = int(np.flatnonzero(rows.is_max)[0])
    size = rows.weight[model.unit_start[:-1], k]
    chosen = _home(model)
    moved = 0.0
    for u in np.argsort(size).tolist():
        if moved + size[u] > size.sum() / 2:
            continue
        chosen[u] = model.pair_index(np.array([u]), np.array([1]))[0]
        moved += size[u]
    before = score_of(model, rows, chosen, rows.loads(model, chosen))
    plan = loosening_search(model, rows, chosen, Deadline.after(2.0), seed=0)
    after = score_of(model, rows, plan, rows.loads(model, plan))
    assert after.penalty == 0
    assert after.objective < before.objective - 0.02
    assert (model.cost[plan] > 0).sum() < (model.cost[chosen] > 0).sum()


def _assignment(problem: alloc.Problem, chosen: np.ndarray) -> pd.Series:
    from alloc.solvers.run_state import to_assignment

    return to_assignment(problem, chosen)
