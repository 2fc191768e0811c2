"""The bound from the reps that may take an oversized customer (alloc.solvers.rep_bound)."""

from __future__ import annotations

import math

import pytest

import alloc
from alloc.solvers.bounds import imbalance_bound
from alloc.solvers.deadline import Deadline
from alloc.solvers.rep_bound import oversized_unit_bound
from alloc.solvers.state import Rows
from conftest import model_brute_force, oversized_customer_problem


def _problem(seed: int, disruption: bool, match: bool = True) -> alloc.Problem:
    return oversized_customer_problem(seed, 8, disruption=disruption, match=match)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("disruption", [False, True])
@pytest.mark.parametrize("match", [False, True])
def test_oversized_unit_bound_never_exceeds_the_brute_force_optimum(
    seed: int, disruption: bool, match: bool
) -> None:
    model = _problem(seed, disruption, match).model
    rows = Rows.from_model(model)
    bound = oversized_unit_bound(model, rows, Deadline.after(10))
    assert math.isfinite(bound)
    assert bound <= model_brute_force(model, rows) + 1e-9


def test_oversized_unit_bound_is_above_the_hall_count_when_the_rep_needs_workload() -> None:
    # Every rep eligible: the Hall-type count sees only the big customer's own excess.
    model = _problem(0, False, match=False).model
    rows = Rows.from_model(model)
    assert (
        oversized_unit_bound(model, rows, Deadline.after(10)) > imbalance_bound(model, rows) + 0.01
    )


def test_no_oversized_unit_gives_no_bound() -> None:
    model = alloc.datasets.make_problem(200, 5, seed=1).model
    assert oversized_unit_bound(model, Rows.from_model(model), Deadline.after(10)) == -math.inf
