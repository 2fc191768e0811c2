"""Constraint-aware greedy construction.

Units are placed one at a time, hardest first: units with a single eligible rep, then
by regret (cost-driven objectives: the gap between a unit's cheapest and second
cheapest rep) or by size (balance objectives: largest share of a row first, as in LPT).
Each unit goes to the eligible rep that adds the least hard-row violation (rows with a
minimum start violated, so reps below a minimum attract units), then the least
objective, then the least squared deviation from fair shares.
"""

from __future__ import annotations

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows, violation

__all__ = ["greedy"]


def _order(model: Model, rows: Rows, rng: np.random.Generator) -> np.ndarray:
    U = model.n_units
    start = model.unit_start
    degree = np.diff(start)
    # Size of a unit: its largest weight relative to the mean per-rep capacity of a row.
    if rows.n_rows:
        per_rep = np.abs(rows.weight).sum(axis=0) / max(model.n_reps, 1)
        rel = np.abs(rows.weight) / np.where(per_rep > 0, per_rep, 1.0)
        pair_size = rel.max(axis=1)
        size = np.maximum.reduceat(pair_size, start[:-1]) if model.n_pairs else np.zeros(U)
    else:
        size = np.zeros(U)
    size = np.where(degree > 0, size, 0.0)
    regret = np.zeros(U)
    cost_driven = bool(np.any(model.cost != 0))
    if cost_driven and model.n_pairs:
        by_cost = model.cost[np.lexsort((model.cost, model.pair_unit))]
        first_pos = np.minimum(start[:-1], model.n_pairs - 1)
        second_pos = np.minimum(start[:-1] + 1, model.n_pairs - 1)
        regret = np.where(degree >= 2, by_cost[second_pos] - by_cost[first_pos], np.inf)
        regret = np.where(degree > 0, regret, 0.0)
    tie = rng.random(U)
    forced = (degree == 1).astype(float)
    # np.lexsort sorts by the last key first; negate for descending order.
    if cost_driven and not rows.imb_weight.any():
        keys: tuple[np.ndarray, ...] = (tie, size, regret, forced)
    else:
        keys = (tie, size, forced)
    return np.lexsort(tuple(-k for k in keys))


def greedy(
    model: Model,
    rows: Rows,
    seed: int = 0,
    deadline: Deadline | None = None,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """One chosen pair per unit (-1 for units with no eligible pair).

    If ``deadline`` passes, the units not yet placed go to random eligible reps at once,
    so the call returns in time on any size. ``first`` (a pair per unit, -1 where
    unset; e.g. `alloc.solvers.oversized.oversized_start`) places those units before
    the others.
    """
    rng = np.random.default_rng(seed)
    U, R = model.n_units, model.n_reps
    K = rows.n_rows
    chosen = np.full(U, -1, dtype=np.int64)
    loads = np.zeros((K, R))
    hi, lo, raw_hi, raw_lo = rows.hi, rows.lo, rows.raw_hi, rows.raw_lo
    scale = rows.pen_scale[:, None]
    share = rows.share
    imb_w = rows.imb_weight[:, None]
    start, pair_rep, W, cost = model.unit_start, model.pair_rep, rows.weight, model.cost
    order = _order(model, rows, rng)
    if first is not None and (first >= 0).any():
        preset = np.flatnonzero(first >= 0)
        chosen[preset] = first[preset]
        np.add.at(loads.T, pair_rep[first[preset]], W[first[preset]])
        order = order[first[order] < 0]
    for i, u in enumerate(order):
        if deadline is not None and i % 256 == 0 and deadline.expired():
            _spread(model, chosen, order[i:], rng)
            break
        a, b = start[u], start[u + 1]
        if a == b:
            continue
        reps = pair_rep[a:b]
        w = W[a:b].T  # (K, d)
        old = loads[:, reps]
        new = old + w
        limits = (lo[:, reps], hi[:, reps], raw_lo[:, reps], raw_hi[:, reps])
        viol_old = violation(old, *limits)
        viol_new = violation(new, *limits)
        d_pen = ((viol_new - viol_old) * scale).sum(axis=0)
        sh = share[:, reps]
        d_dev = (imb_w * (((new - sh) / sh) ** 2 - ((old - sh) / sh) ** 2)).sum(axis=0)
        best = np.lexsort((d_dev, cost[a:b], np.round(d_pen, 12)))[0]
        chosen[u] = a + best
        loads[:, reps[best]] += W[a + best]
    return chosen


def _spread(model: Model, chosen: np.ndarray, units: np.ndarray, rng: np.random.Generator) -> None:
    """Place ``units`` on a random eligible pair each, vectorised: a fast fallback that
    spreads load evenly; the local search repairs what it breaks."""
    start = model.unit_start
    degree = start[units + 1] - start[units]
    units, degree = units[degree > 0], degree[degree > 0]
    chosen[units] = start[units] + (rng.random(units.size) * degree).astype(np.int64)
