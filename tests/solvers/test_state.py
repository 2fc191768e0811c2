"""Tests for alloc.solvers.state: the move-delta kernel against a full recomputation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.solvers.state import (
    Moves,
    Rows,
    TopDeviations,
    abs_deviation,
    move_delta,
    penalty_change,
    score_of,
    side_change,
    violation,
)


@st.composite
def scored_plans(draw):
    """A small compiled model with hard and soft rows, random costs and a random plan."""
    n = draw(st.integers(3, 12))
    m = draw(st.integers(2, 5))
    potential = draw(st.lists(st.integers(1, 50), min_size=n, max_size=n))
    work = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "potential": np.asarray(potential, float),
            "work": np.asarray(work, float),
        }
    )
    caps = draw(st.lists(st.integers(1, sum(work)), min_size=m, max_size=m))
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)], "cap": np.asarray(caps, float)})
    rules = [alloc.Capacity("work", limit="cap")] if draw(st.booleans()) else []
    if draw(st.booleans()):
        rules.append(alloc.Balance("potential", tolerance=draw(st.sampled_from([0.05, 0.3]))))
    norm = draw(st.sampled_from(["max", "sum"]))
    objective = alloc.MinimizeImbalance("potential", norm=norm)
    if draw(st.booleans()):
        second = draw(st.sampled_from(["max", "sum"]))
        objective = objective + 0.5 * alloc.MinimizeImbalance("work", norm=second)
    problem = alloc.Problem(customers, reps, rules=rules, objective=objective)
    model = problem.model
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        model = dataclasses.replace(model, cost=rng.normal(size=model.n_pairs))
    start = model.unit_start
    chosen = np.array([rng.integers(start[u], start[u + 1]) for u in range(model.n_units)])
    return model, chosen, rng


def candidate_moves(model, rows: Rows, chosen: np.ndarray, rng: np.random.Generator):
    """Every shift, and random swaps: (moves, list of (unit, new pair) changes)."""
    W, c, rep_of = rows.weight, model.cost, model.pair_rep[chosen]
    units = model.pair_unit
    q = np.flatnonzero(rep_of[units] != model.pair_rep)
    u = units[q]
    p = chosen[u]
    ra, rb = rep_of[u], model.pair_rep[q]
    da, db, dc = -W[p], W[q], c[q] - c[p]
    changes = [[(int(a), int(b))] for a, b in zip(u, q, strict=True)]
    for _ in range(20):
        a, b = rng.integers(model.n_units, size=2)
        qa = model.pair_index(np.array([a]), np.array([rep_of[b]]))[0]
        qb = model.pair_index(np.array([b]), np.array([rep_of[a]]))[0]
        if rep_of[a] == rep_of[b] or qa < 0 or qb < 0:
            continue
        pa, pb = chosen[a], chosen[b]
        ra = np.append(ra, rep_of[a])
        rb = np.append(rb, rep_of[b])
        da = np.vstack([da, W[qb] - W[pa]])
        db = np.vstack([db, W[qa] - W[pb]])
        dc = np.append(dc, c[qa] + c[qb] - c[pa] - c[pb])
        changes.append([(int(a), int(qa)), (int(b), int(qb))])
    return Moves(ra, rb, da.reshape(len(changes), -1), db.reshape(len(changes), -1), dc), changes


@settings(deadline=None)
@given(scored_plans(), st.one_of(st.none(), st.floats(0.0, 2.0)))
def test_kernel_deltas_equal_a_full_recomputation_of_the_score(case, level):
    # ``level``: a floor on every max-norm row (Rows.floor), below which the tiebreak
    # ignores deviations; None: no floor.
    model, chosen, rng = case
    rows = Rows.from_model(model)
    if level is not None:
        rows = dataclasses.replace(rows, floor=np.where(rows.is_max, level, 0.0))
    loads = rows.loads(model, chosen)
    moves, changes = candidate_moves(model, rows, chosen, rng)
    if moves.size == 0:
        return
    max_rows = np.flatnonzero(rows.is_max)
    top = TopDeviations.of(abs_deviation(loads[max_rows], rows.share[max_rows]))
    delta = move_delta(rows, loads, moves, top, max_rows)
    before = score_of(model, rows, chosen, loads)
    for i, change in enumerate(changes):
        after_chosen = chosen.copy()
        for u, q in change:
            after_chosen[u] = q
        after = score_of(model, rows, after_chosen, rows.loads(model, after_chosen))
        tol = 1e-9 * max(1.0, abs(before.objective), abs(after.objective))
        assert delta.penalty[i] == pytest.approx(after.penalty - before.penalty, abs=1e-9)
        assert delta.objective[i] == pytest.approx(after.objective - before.objective, abs=tol)
        assert delta.tiebreak[i] == pytest.approx(after.tiebreak - before.tiebreak, abs=1e-9)


@settings(deadline=None)
@given(scored_plans())
def test_row_subsets_give_the_same_changes_as_the_full_kernel(case):
    model, chosen, rng = case
    rows = Rows.from_model(model)
    loads = rows.loads(model, chosen)
    moves, _ = candidate_moves(model, rows, chosen, rng)
    hard = np.flatnonzero(rows.pen_scale > 0)
    limits = (rows.lo, rows.hi, rows.raw_lo, rows.raw_hi)
    full = side_change(violation, loads, moves, limits)
    part = side_change(violation, loads, moves, limits, hard)
    np.testing.assert_array_equal(full[:, hard], part)
    np.testing.assert_allclose(
        penalty_change(rows, loads, moves, hard), penalty_change(rows, loads, moves), atol=1e-12
    )


def test_top_deviations_pad_rows_with_fewer_than_three_reps():
    top = TopDeviations.of(np.array([[0.1, 0.3]]))
    assert top.idx.tolist() == [[1, 0, -1]]
    assert top.val.tolist() == [[0.3, 0.1, 0.0]]


def test_the_tiebreak_ignores_deviations_below_the_floor():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "potential": [1.0, 1.0, 4.0]})
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    model = problem.model
    rows = Rows.from_model(model)
    chosen = model.pair_index(np.arange(3), np.array([0, 0, 1]))  # loads 2 and 4 of 3
    loads = rows.loads(model, chosen)
    plain = score_of(model, rows, chosen, loads)
    assert plain.tiebreak == pytest.approx(2 * (1 / 3) ** 2)
    floored = dataclasses.replace(rows, floor=np.array([0.25]))
    score = score_of(model, floored, chosen, loads)
    assert score.objective == plain.objective
    assert score.tiebreak == pytest.approx(2 * (1 / 3 - 0.25) ** 2)
