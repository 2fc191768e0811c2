"""Tests for alloc.rebalancing.search: deadlines and protected customers."""

from __future__ import annotations

import numpy as np
from rebalancing_cases import capacity_case, three_reps

from alloc.rebalancing.search import Search
from alloc.rebalancing.setup import make_budget, place_forced, prepare
from alloc.solvers.deadline import Deadline


def test_an_expired_deadline_leaves_the_plan_as_it_is():
    problem, incumbent = three_reps()
    setup = prepare("rebalance", problem.without_reps(["r3"]), incumbent, "potential", None)
    start = place_forced(setup, 0)
    search = Search(
        setup,
        start.copy(),
        make_budget(setup, 1, None),
        None,
        frozen=False,
        rng=np.random.default_rng(0),
    )
    found = search.run(Deadline.after(0.0))
    assert found.moves == 0
    np.testing.assert_array_equal(found.chosen, start)
    assert search.run(Deadline.after(5.0)).key[-1] < found.key[-1]


def test_frozen_protected_customers_move_only_after_unfreeze():
    problem, incumbent = capacity_case()
    setup = prepare("rebalance", problem, incumbent, "potential", ["a", "b", "c"])
    start = place_forced(setup, 0)
    search = Search(
        setup,
        start.copy(),
        make_budget(setup, 1, None),
        None,
        frozen=True,
        rng=np.random.default_rng(0),
    )
    frozen = search.run(Deadline.after(5.0))
    assert frozen.key[0] > 0 and frozen.moves == 0  # r1 over capacity: only a protected move helps
    search.unfreeze()
    repaired = search.run(Deadline.after(5.0))
    assert repaired.key[0] == 0 and repaired.key[1] == 1 and repaired.moves == 1
