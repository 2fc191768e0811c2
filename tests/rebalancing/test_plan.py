"""Tests for alloc.rebalancing.plan: a plan's figures and key, without any search."""

from __future__ import annotations

import numpy as np
import pytest
from rebalancing_cases import three_reps

from alloc.checker import objective_value
from alloc.rebalancing.plan import Plan, Snapshot, better
from alloc.rebalancing.report import to_assignment
from alloc.rebalancing.setup import make_budget, place_forced, prepare


def test_plan_counts_discretionary_moves_and_value_and_scores_like_the_checker():
    problem, incumbent = three_reps()
    smaller = problem.without_reps(["r3"])
    setup = prepare("rebalance", smaller, incumbent, "potential", None)
    start = place_forced(setup, 0)
    plan = Plan(setup, start.copy(), make_budget(setup, 1, None))
    assert (plan.moves, plan.moved_value) == (0, 0.0)  # orphans e, f are forced: free
    assert plan.key()[-1] == pytest.approx(objective_value(smaller, to_assignment(smaller, start)))
    model = setup.model
    b = model.customer_unit[smaller.customer_ids.get_loc("b")]
    moved = start.copy()
    moved[b] = model.pair_index(np.array([b]), np.array([smaller.rep_ids.get_loc("r2")]))[0]
    plan.set_chosen(moved)
    assert (plan.moves, plan.moved_value) == (1, 2.0)
    assert plan.key()[-1] == pytest.approx(objective_value(smaller, to_assignment(smaller, moved)))
    assert plan.within_budget(plan.snapshot())


def test_equal_keys_prefer_fewer_moves():
    chosen = np.zeros(1, dtype=np.int64)
    few = Snapshot(chosen, (0.0, 0, 0.5), moves=1, value=3.0)
    many = Snapshot(chosen, (0.0, 0, 0.5), moves=2, value=1.0)
    worse = Snapshot(chosen, (0.0, 0, 0.6), moves=0, value=0.0)
    assert better(few, many) and not better(many, few)
    assert better(many, worse)
