"""A bound from a group of reps and the customers they share: a small LP.

At 100,000 customers x 1,000 reps the LP relaxation of the whole model does not finish
in a solve's time (HiGHS's interior point ran 50 minutes on one such model without an
optimum), and the Hall-type count of `alloc.solvers.bounds.imbalance_bound` sees only
groups whose own customers exceed their fair shares. Between the two: for a set ``S`` of
reps, the LP over the units eligible at some rep of ``S`` and the pairs at ``S`` only,

- a unit whose eligible reps all lie in ``S`` (*forced*) is shared among ``S``
  entirely (``sum x = 1``), any other unit may be partly or not at all (``sum x <= 1``);
- every hard row of each rep of ``S`` within its allowed limits;
- minimise ``sum (cost - the unit's cheapest cost) x`` plus, per imbalance term, its
  weight times the largest relative deviation over ``S`` (max-norm) or the sum of the
  deviations over ``S`` (sum-norm).

Every plan gives a solution of this LP (its pairs at ``S``), with deviations over
``S`` no larger than over all reps and costs above each unit's cheapest: so the LP's
value plus every unit's cheapest cost bounds every plan's objective from below (for
non-negative term weights). On the combined family at 100,000 x 1,000 (benchmarks/
families.py), five reps who alone know one industry must carry 100.6 % of their fair
share of potential but only 94.9 % of workload from its 462 customers: every other
customer they take to close the workload gap adds potential, and the LP over those
five reps and their 4,104 customers gives 0.93 % (in 0.5 s) where the Hall-type count
gives 0.6 % on potential alone weighed against nothing on workload, and growing ``S``
to 33 reps left it unchanged.

Candidate groups are the most common eligible sets (as in
`alloc.data.model.restricted_groups`), tried fullest first (the load of the units with
exactly that set against the group's fair shares). The value is recomputed from
HiGHS's duals as a Lagrangian value, valid for any duals
(`alloc.solvers.rep_bound.lagrangian_value`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from alloc.data.model import Model, eligible_set_signatures
from alloc.solvers.deadline import Deadline
from alloc.solvers.rep_bound import lagrangian_value, solve_small_lp
from alloc.solvers.state import Rows

__all__ = ["group_bound", "group_lp"]

#: Eligible sets looked at (the most common ones), and the largest LP tried.
_GROUPS_LOOKED_AT = 5_000
_MAX_PAIRS = 40_000


def group_bound(model: Model, rows: Rows, deadline: Deadline) -> float:
    """The best bound of `group_lp` over the candidate groups tried by the deadline
    (``-inf`` when none applies: no imbalance term, a negative term weight, or fewer
    than three reps)."""
    if (
        model.n_pairs == 0
        or not (rows.is_max | rows.is_sum).any()
        or np.any(rows.imb_weight < 0)
        or model.n_reps < 3
        or np.any(np.diff(model.unit_start) == 0)
    ):
        return -math.inf
    cheapest = np.minimum.reduceat(model.cost, model.unit_start[:-1])
    base = float(cheapest.sum())
    best = -math.inf
    for mask in _ranked_groups(model, rows):
        if deadline.expired():
            break
        value = group_lp(model, rows, mask, deadline, cheapest)
        best = max(best, base + value)
    return best


def _ranked_groups(model: Model, rows: Rows) -> list[np.ndarray]:
    """Rep masks of the candidate groups, fullest first.

    A group is the eligible set shared by many units (the `_GROUPS_LOOKED_AT` most common);
    its fullness is the largest share of the group's fair shares that the units with
    exactly that set carry on any imbalance term (a cheap proxy for the forced load,
    which also counts units eligible at fewer of its reps).
    """
    R = model.n_reps
    degree = np.diff(model.unit_start)
    signature = eligible_set_signatures(model)
    _, first, sig_id, counts = np.unique(
        signature, return_index=True, return_inverse=True, return_counts=True
    )
    start = model.unit_start[:-1]
    terms = np.flatnonzero(rows.is_max | rows.is_sum).tolist()
    carried = [
        np.bincount(sig_id, np.minimum.reduceat(rows.weight[:, k], start), first.size)
        for k in terms
    ]
    pairs_per_rep = np.bincount(model.pair_rep, minlength=R)
    scored = []
    for g in np.argsort(-counts, kind="stable")[:_GROUPS_LOOKED_AT].tolist():
        u = int(first[g])
        if not 2 <= degree[u] < R:
            continue
        mask = np.zeros(R, dtype=bool)
        mask[model.pair_rep[model.unit_start[u] : model.unit_start[u + 1]]] = True
        if int(pairs_per_rep[mask].sum()) > _MAX_PAIRS:
            continue
        full = max(
            float(carried[i][g] / max(rows.share[k][mask].sum(), 1e-300))
            for i, k in enumerate(terms)
        )
        scored.append((-full, g, mask))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [mask for _, _, mask in scored]


def group_lp(
    model: Model,
    rows: Rows,
    mask: np.ndarray,
    deadline: Deadline,
    cheapest: np.ndarray | None = None,
) -> float:
    """The LP of the module docstring for the reps of ``mask``: a lower bound on every
    plan's objective above every unit's cheapest cost (``-inf`` without duals)."""
    from scipy.sparse import coo_matrix, hstack, vstack

    if cheapest is None:
        cheapest = np.minimum.reduceat(model.cost, model.unit_start[:-1])
    reps = np.flatnonzero(mask)
    pairs = np.flatnonzero(mask[model.pair_rep])
    if pairs.size == 0:
        return -math.inf
    n_s, n_x = reps.size, pairs.size
    unit_of = model.pair_unit[pairs]
    units, unit_row = np.unique(unit_of, return_inverse=True)
    rep_row = np.searchsorted(reps, model.pair_rep[pairs])
    at_s = np.bincount(unit_of, minlength=model.n_units)[units]
    forced = at_s == np.diff(model.unit_start)[units]
    cols = np.arange(n_x)
    # Rows of x: one per unit (= 1 forced, <= 1 otherwise), then per term and rep.
    x_blocks: list[Any] = [coo_matrix((np.ones(n_x), (unit_row, cols)), (units.size, n_x))]
    row_lo = [np.where(forced, 1.0, -math.inf)]
    row_hi = [np.ones(units.size)]
    dev_rows: list[tuple[int, int, int]] = []  # (first dev column, width, rows) per block
    dev_cost: list[float] = []
    for k in np.flatnonzero(rows.pen_scale > 0).tolist():
        # The allowed limits (the rules' own widened by the comparison tolerance).
        lo, hi = rows.lo[k, reps], rows.hi[k, reps]
        used = np.isfinite(lo) | np.isfinite(hi)
        if not used.any():
            continue
        a = coo_matrix((rows.weight[pairs, k], (rep_row, cols)), (n_s, n_x)).tocsr()[used]
        x_blocks.append(a)
        row_lo.append(lo[used])
        row_hi.append(hi[used])
        dev_rows.append((-1, 0, int(used.sum())))
    caps: list[float] = []
    for k in np.flatnonzero(rows.is_max | rows.is_sum).tolist():
        rel = rows.weight[pairs, k] / rows.share[k][model.pair_rep[pairs]]
        a = coo_matrix((rel, (rep_row, cols)), (n_s, n_x))
        # dev + a.x >= 1 and dev - a.x >= -1: dev >= |a.x - 1| at every rep of S.
        x_blocks += [a, -a]
        row_lo += [np.ones(n_s), -np.ones(n_s)]
        row_hi += [np.full(n_s, math.inf)] * 2
        width = 1 if rows.is_max[k] else n_s
        dev_rows.append((len(dev_cost), width, 2 * n_s))
        dev_cost += [float(rows.imb_weight[k])] * width
        # A finite cap keeps the Lagrangian value finite: no deviation exceeds it.
        per_rep = np.bincount(rep_row, weights=np.abs(rel), minlength=n_s)
        caps += [float(per_rep.max()) + 2.0] * width
    n_dev = len(dev_cost)
    d_blocks: list[Any] = [coo_matrix((units.size, n_dev))]
    for first, width, height in dev_rows:
        if first < 0:
            d_blocks.append(coo_matrix((height, n_dev)))
            continue
        inner = np.arange(height) % n_s if width > 1 else np.zeros(height, dtype=np.int64)
        d_blocks.append(
            coo_matrix((np.ones(height), (np.arange(height), first + inner)), (height, n_dev))
        )
    matrix = hstack([vstack(x_blocks), vstack(d_blocks)]).tocsr()
    obj = np.concatenate([model.cost[pairs] - cheapest[unit_of], dev_cost])
    lo_col = np.zeros(n_x + n_dev)
    hi_col = np.concatenate([np.ones(n_x), caps])
    lows, highs = np.concatenate(row_lo), np.concatenate(row_hi)
    solved = solve_small_lp(matrix, obj, lo_col, hi_col, lows, highs, deadline, presolve=True)
    if solved is None:
        return -math.inf
    return lagrangian_value(matrix, obj, lo_col, hi_col, lows, highs, solved[0])
