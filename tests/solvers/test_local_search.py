"""The pass of single shifts: its screening never hides an improving shift."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import alloc
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.state import Rows


def _search(seed: int, smooth: bool) -> LocalSearch:
    problem = alloc.datasets.make_problem(400, 12, seed=seed)
    model = problem.model
    rows = Rows.from_model(model)
    start = greedy(model, rows, seed=seed)
    return LocalSearch(model, rows, start, seed=seed, smooth=smooth)


@pytest.mark.parametrize("smooth", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_screening_keeps_every_unit_with_an_improving_shift(seed: int, smooth: bool) -> None:
    search = _search(seed, smooth)
    units = np.flatnonzero(np.diff(search.model.unit_start) > 1)
    obj_tol = 1e-12 * max(1.0, abs(search.score().objective))
    screened = set(search._may_improve(units, obj_tol).tolist())
    improvable = set()
    for u in units.tolist():
        trial = copy.deepcopy(search)
        if trial.try_shift(u, obj_tol):
            improvable.add(u)
    assert improvable, "the greedy plan should leave some improving shift to find"
    assert improvable <= screened


@pytest.mark.parametrize("smooth", [True, False])
def test_a_pass_without_moves_leaves_no_improving_shift(smooth: bool) -> None:
    search = _search(3, smooth)
    units = np.flatnonzero(np.diff(search.model.unit_start) > 1)
    deadline = Deadline.after(60.0)
    obj_tol = 1e-12 * max(1.0, abs(search.score().objective))
    before = search.score()
    passes = 0
    while search._unit_pass(units, deadline, 50, obj_tol, shifts=True, swaps=False):
        passes += 1
        search.recompute()
        assert passes < 500
    assert passes > 0
    assert search.score().better_than(before)
    for u in units.tolist():
        assert not copy.deepcopy(search).try_shift(u, obj_tol), f"unit {u} can still improve"
