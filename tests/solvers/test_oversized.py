"""Customers bigger than a fair share placed first (alloc.solvers.oversized), and the
floor below which local search's tiebreak ignores a max-norm term's deviations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.solvers.bounds import imbalance_floors
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.oversized import oversized_greedy, oversized_start
from alloc.solvers.rep_bound import rep_lp
from alloc.solvers.state import Rows, score_of
from conftest import oversized_customer_problem


def _big_customer_problem() -> alloc.Problem:
    """One customer worth 2.8 fair shares of potential and little workload, which R0
    (the first rep that may serve it) and R3 may take. R0 can only add potential-heavy
    customers to reach its workload share, R3 workload-heavy ones."""
    rows = [("BIG", 100.0, 1.0, "x")]
    rows += [(f"P{i}", 10.0, 4.0, "p") for i in range(4)]
    rows += [(f"W{i}", 1.0, 8.0, "w") for i in range(4)]
    customers = pd.DataFrame(rows, columns=["customer_id", "potential", "workload", "industry"])
    reps = pd.DataFrame(
        {"rep_id": ["R0", "R1", "R2", "R3"], "skills": ["x;p", "p;w", "p;w", "x;w"]}
    )
    objective = alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload")
    return alloc.Problem(
        customers, reps, rules=[alloc.Match("industry", "skills")], objective=objective
    )


def _plans(model: alloc.data.model.Model):
    start = model.unit_start
    for offsets in itertools.product(*[range(b - a) for a, b in itertools.pairwise(start)]):
        yield start[:-1] + np.array(offsets)


def _objective(model: alloc.data.model.Model, rows: Rows, chosen: np.ndarray) -> float:
    return score_of(model, rows, chosen, rows.loads(model, chosen)).objective


def test_the_oversized_customer_goes_where_the_brute_force_optimum_has_it() -> None:
    problem = _big_customer_problem()
    model = problem.model
    rows = Rows.from_model(model)
    big = int(np.flatnonzero(problem.customer_ids == "BIG")[0])
    best: dict[int, float] = {}
    for chosen in _plans(model):
        rep = int(model.pair_rep[chosen[model.customer_unit[big]]])
        best[rep] = min(best.get(rep, math.inf), _objective(model, rows, chosen))
    optimum_rep = min(best, key=best.__getitem__)
    assert len(best) == 2 and best[optimum_rep] < max(best.values()) - 0.1  # the rep matters
    first = oversized_start(model, rows, Deadline.after(10))
    assert first is not None
    assert model.pair_rep[first[model.customer_unit[big]]] == optimum_rep
    # The plain greedy meets only empty reps with it and takes the first eligible one.
    plain = greedy(model, rows, 0)
    assert model.pair_rep[plain[model.customer_unit[big]]] != optimum_rep
    placed = oversized_greedy(model, rows, 0, Deadline.after(10))
    assert _objective(model, rows, placed) < _objective(model, rows, plain)


def test_companions_are_taken_whole_and_keep_the_reps_rows() -> None:
    model = _big_customer_problem().model
    rows = Rows.from_model(model)
    first = oversized_start(model, rows, Deadline.after(10))
    assert first is not None
    preset = np.flatnonzero(first >= 0)
    assert preset.size >= 2  # the oversized unit and at least one companion
    assert len(set(model.pair_rep[first[preset]].tolist())) == 1
    assert np.all(model.pair_unit[first[preset]] == preset)
    plan = greedy(model, rows, 0, first=first)
    np.testing.assert_array_equal(plan[preset], first[preset])


@pytest.mark.parametrize("seed", range(12))
def test_oversized_greedy_is_never_worse_than_the_plain_greedy(seed: int) -> None:
    model = oversized_customer_problem(seed, 9).model
    rows = Rows.from_model(model)
    placed = oversized_greedy(model, rows, seed, Deadline.after(10))
    plain = greedy(model, rows, seed)
    assert _objective(model, rows, placed) <= _objective(model, rows, plain) + 1e-12


def test_rep_lp_without_excluded_units_is_the_rep_bound_value() -> None:
    model = _big_customer_problem().model
    rows = Rows.from_model(model)
    u = 0
    for q in range(int(model.unit_start[u]), int(model.unit_start[u + 1])):
        full = rep_lp(model, rows, u, q, Deadline.after(10))
        excluded = np.zeros(model.n_units, dtype=bool)
        excluded[1] = True
        fewer = rep_lp(model, rows, u, q, Deadline.after(10), exclude=excluded)
        assert full.x.size == full.pairs.size
        assert fewer.value >= full.value - 1e-9  # fewer columns: never a lower LP
        assert not np.isin(model.pair_unit[fewer.pairs], [u, 1]).any()


def test_no_oversized_unit_leaves_the_greedy_as_it_was() -> None:
    model = alloc.datasets.make_problem(200, 5, seed=1).model
    rows = Rows.from_model(model)
    assert oversized_start(model, rows, Deadline.after(10)) is None
    np.testing.assert_array_equal(
        oversized_greedy(model, rows, 3, Deadline.after(10)), greedy(model, rows, 3)
    )


@pytest.mark.parametrize("seed", range(8))
def test_imbalance_floors_never_exceed_any_plans_max_deviation(seed: int) -> None:
    model = oversized_customer_problem(seed, 9).model
    rows = Rows.from_model(model)
    floors = imbalance_floors(model, rows)
    assert floors[rows.is_max].max() > 0  # the big customer exceeds a share everywhere
    assert np.all(floors[~rows.is_max] == 0)
    lowest = np.full(rows.n_rows, math.inf)
    for chosen in _plans(model):
        loads = rows.loads(model, chosen)
        dev = (np.abs(loads - rows.share) / rows.share).max(axis=1)
        lowest = np.minimum(lowest, dev)
    assert np.all(floors[rows.is_max] <= lowest[rows.is_max] + 1e-12)
