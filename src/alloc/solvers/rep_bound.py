"""A bound from the rep that must carry an oversized customer.

When one customer alone exceeds a rep's fair share on a max-norm term at every rep
that may serve it (a key account worth 2.3 fair shares), the LP relaxation splits it and
says 0, and the Hall-type count (`alloc.solvers.bounds.imbalance_bound`) charges only
that customer's own excess. But the rep that takes it must also be near its shares on
the other terms (workload, ...), which only other customers can give it, each adding
to the terms that are already too high. This module bounds that trade-off: for the
customer ``u`` and each rep ``r`` that may serve it, a small LP over the other units
eligible at ``r`` (fractions ``0 <= x_c <= 1``) minimises

    sum over imbalance terms k of weight_k * |dev_k(r)|  +  the costs at r above each
    unit's cheapest pair,

with ``r``'s hard rows kept, where ``dev_k(r)`` is rep ``r``'s relative deviation with
``u`` and the fractions. Every plan puts ``u`` at some ``r``, a max-norm term is at
least ``r``'s deviation and a sum-norm term at least its ``|dev|``, other units cost at
least their cheapest pair: so the smallest of these LP values, plus every unit's
cheapest cost, is a lower bound (for non-negative term weights). The LP value is
recomputed from HiGHS's duals as a Lagrangian value, valid for any duals, as in
`alloc.solvers.lp`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.mip import add_rows, quiet_highs
from alloc.solvers.state import Rows

__all__ = [
    "RepLp",
    "lagrangian_value",
    "oversized_excess",
    "oversized_unit_bound",
    "rep_lp",
    "solve_small_lp",
]

#: How many of the most oversized units are tried (each costs one small LP per rep).
_UNITS = 1
_FLOAT_MARGIN = 1e-9


def oversized_excess(model: Model, rows: Rows) -> np.ndarray:
    """Per unit: the weighted excess over the fair share, summed over max-norm terms,
    at its least loaded eligible rep (0 for units that fit a share somewhere)."""
    start = model.unit_start[:-1]
    excess = np.zeros(model.n_units)
    if model.n_pairs == 0 or np.any(np.diff(model.unit_start) == 0):
        return excess  # a unit without a pair: no plan exists (the pre-check says so)
    for k in np.flatnonzero(rows.is_max).tolist():
        share = rows.share[k][model.pair_rep]
        over = np.minimum.reduceat(rows.weight[:, k] / share - 1.0, start)
        excess += rows.imb_weight[k] * np.maximum(over, 0.0)
    return excess


def oversized_unit_bound(model: Model, rows: Rows, deadline: Deadline) -> float:
    """The bound described in the module docstring, or ``-inf`` when no unit alone
    exceeds a max-norm share at every eligible rep, or on negative term weights.

    Parameters
    ----------
    model, rows : Model, Rows
    deadline : Deadline
        The LPs stop there; the units done so far still give a valid bound.

    Returns
    -------
    float
    """
    if (
        model.n_pairs == 0
        or not rows.is_max.any()
        or np.any(rows.imb_weight < 0)
        or model.n_reps < 2
    ):
        return -math.inf
    cheapest = np.minimum.reduceat(model.cost, model.unit_start[:-1])
    base = float(cheapest.sum())
    excess = oversized_excess(model, rows)
    candidates = [int(u) for u in np.argsort(-excess)[:_UNITS] if excess[u] > 0]
    best = -math.inf
    for u in candidates:
        values = []
        for q in range(int(model.unit_start[u]), int(model.unit_start[u + 1])):
            if deadline.expired():
                return best
            values.append(rep_lp(model, rows, u, q, deadline, cheapest).value)
        best = max(best, base + min(values))
    return best


@dataclass(frozen=True)
class RepLp:
    """The LP of the module docstring for unit ``u`` on pair ``q``'s rep.

    ``value`` bounds the objective above every unit's cheapest cost for any plan that
    puts ``u`` there (``-inf`` if HiGHS gave no duals); ``pairs`` are the other pairs
    at that rep and ``x`` their LP fractions (empty without a primal solution).
    """

    value: float
    pairs: np.ndarray
    x: np.ndarray


def rep_lp(
    model: Model,
    rows: Rows,
    u: int,
    q: int,
    deadline: Deadline,
    cheapest: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> RepLp:
    """Lower bound on the objective above every unit's cheapest cost when unit ``u``
    takes pair ``q`` (see the module docstring), and the LP's fractions of the other
    units there.

    ``exclude`` (a unit mask) leaves those units out of the LP: the value is then a
    bound only for plans where they are elsewhere (`alloc.solvers.oversized` uses it
    to place several oversized units, not as a bound).
    """
    from scipy.sparse import csr_matrix, hstack, vstack

    if cheapest is None:
        cheapest = np.minimum.reduceat(model.cost, model.unit_start[:-1])
    imb = np.flatnonzero(rows.is_max | rows.is_sum)
    r = int(model.pair_rep[q])
    keep = (model.pair_rep == r) & (model.pair_unit != u)
    if exclude is not None:
        keep &= ~exclude[model.pair_unit]
    pairs = np.flatnonzero(keep)
    n_x, n_t = pairs.size, imb.size
    extra = float(model.cost[q] - cheapest[u])
    # Columns: x (one per pair at r), then t (one per imbalance term).
    above_cheapest = model.cost[pairs] - cheapest[model.pair_unit[pairs]]
    obj = np.concatenate([above_cheapest, rows.imb_weight[imb]])
    lo_col = np.zeros(n_x + n_t)
    blocks: list[Any] = []
    row_lo: list[float] = []
    row_hi: list[float] = []
    caps = []
    for i, k in enumerate(imb.tolist()):
        share = float(rows.share[k, r])
        a = rows.weight[pairs, k] / share
        own = float(rows.weight[q, k]) / share
        caps.append(max(1.0, own + float(np.abs(a).sum())) + 1.0)
        t = np.zeros(n_t)
        t[i] = 1.0
        # t - a.x >= own - 1 ;  t + a.x >= 1 - own
        blocks.append(hstack([csr_matrix(-a), csr_matrix(t)]))
        blocks.append(hstack([csr_matrix(a), csr_matrix(t)]))
        row_lo.extend([own - 1.0, 1.0 - own])
        row_hi.extend([math.inf, math.inf])
    for k in np.flatnonzero(rows.pen_scale > 0).tolist():
        # The allowed limits (the rules' own widened by the comparison tolerance): every
        # plan the checker accepts meets them.
        lo, hi = rows.lo[k, r], rows.hi[k, r]
        if not (math.isfinite(lo) or math.isfinite(hi)):
            continue
        own = float(rows.weight[q, k])
        blocks.append(hstack([csr_matrix(rows.weight[pairs, k]), csr_matrix((1, n_t))]))
        row_lo.append(lo - own)
        row_hi.append(hi - own)
    hi_col = np.concatenate([np.ones(n_x), np.array(caps)])
    matrix = vstack(blocks).tocsr()
    lows, highs_ = np.array(row_lo), np.array(row_hi)
    solved = solve_small_lp(matrix, obj, lo_col, hi_col, lows, highs_, deadline)
    if solved is None:
        return RepLp(-math.inf, pairs, np.zeros(0))
    duals, columns = solved
    value = extra + lagrangian_value(matrix, obj, lo_col, hi_col, lows, highs_, duals)
    return RepLp(value, pairs, columns[:n_x])


def solve_small_lp(
    matrix: Any,
    obj: np.ndarray,
    lo_col: np.ndarray,
    hi_col: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    deadline: Deadline,
    *,
    presolve: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """HiGHS's row duals and column values of the LP, or None when it gave no duals.

    ``presolve`` is off by default: on a rep's LP (a handful of rows) the simplex method
    needs a millisecond where presolve alone took 0.13 s; a group's LP has a row per
    customer and gains from it.
    """
    import highspy

    highs = quiet_highs(highspy)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("solver", "simplex")
    highs.setOptionValue("presolve", "on" if presolve else "off")
    seconds = deadline.seconds()  # the HiGHS wrapper: the deadline becomes seconds
    if seconds <= 0:
        return None
    highs.setOptionValue("time_limit", seconds)
    inf = highspy.kHighsInf
    n = obj.size
    highs.addVars(n, lo_col, hi_col)
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), obj)
    add_rows(
        highs,
        matrix,
        np.where(np.isfinite(row_lo), row_lo, -inf),
        np.where(np.isfinite(row_hi), row_hi, inf),
    )
    highs.run()
    solution = highs.getSolution()
    if not solution.dual_valid:
        return None
    columns = np.asarray(solution.col_value, dtype=float) if solution.value_valid else None
    if columns is None or columns.size != n:
        columns = np.zeros(n)
    return np.asarray(solution.row_dual, dtype=float), columns


def lagrangian_value(
    matrix: Any,
    obj: np.ndarray,
    lo_col: np.ndarray,
    hi_col: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    duals: np.ndarray,
) -> float:
    """The LP's Lagrangian value at row duals ``duals`` (a lower bound for any duals)."""
    y = np.where(np.isfinite(row_lo), np.maximum(duals, 0.0), 0.0) + np.where(
        np.isfinite(row_hi), np.minimum(duals, 0.0), 0.0
    )
    rhs = np.where(y > 0, y * np.where(np.isfinite(row_lo), row_lo, 0.0), 0.0) + np.where(
        y < 0, y * np.where(np.isfinite(row_hi), row_hi, 0.0), 0.0
    )
    reduced = obj - matrix.T @ y
    columns = np.where(reduced >= 0, reduced * lo_col, reduced * hi_col)
    terms = np.concatenate([rhs, columns])
    value = float(math.fsum(terms.tolist()))
    return value - _FLOAT_MARGIN * max(1.0, float(np.abs(terms).sum()))
