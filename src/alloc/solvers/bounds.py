"""Lower bounds on the optimal objective: the LP relaxation, solved with GLOP.

The relaxation keeps every hard row and the assignment equalities, with ``0 <= x <= 1``
and imbalance terms linearised by deviation variables; it runs on the unscaled float
data, so its value is a valid bound for the true objective (up to LP tolerances, which
are subtracted). For objectives made only of imbalance terms the LP bound is almost
always 0: deviations cannot be negative, and the relaxation can split customers.
"""

from __future__ import annotations

import math

import numpy as np
from ortools.linear_solver import pywraplp

from alloc.data.model import Model, restricted_groups
from alloc.solvers.state import Rows

__all__ = ["imbalance_bound", "lp_bound"]


def lp_bound(model: Model, rows: Rows, time_limit: float) -> float:
    """Value of the LP relaxation (``-inf`` if it could not be solved in time)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None or time_limit <= 0:
        return -math.inf
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    P, R = model.n_pairs, model.n_reps
    x = [solver.NumVar(0.0, 1.0, "") for _ in range(P)]
    start = model.unit_start
    for u in range(model.n_units):
        ct = solver.Constraint(1.0, 1.0)
        for p in range(start[u], start[u + 1]):
            ct.SetCoefficient(x[p], 1.0)
    by_rep = [np.flatnonzero(model.pair_rep == r) for r in range(R)]
    objective = solver.Objective()
    for p in np.flatnonzero(model.cost != 0).tolist():
        objective.SetCoefficient(x[p], float(model.cost[p]))
    inf = solver.infinity()
    for k in range(rows.n_rows):
        w = rows.weight[:, k]
        soft = bool(rows.is_max[k] or rows.is_sum[k])
        z = solver.NumVar(0.0, inf, "") if rows.is_max[k] else None
        if z is not None:
            objective.SetCoefficient(z, float(rows.imb_weight[k]))
        for r in range(R):
            idx = by_rep[r]
            if not soft:
                lo = rows.lo[k, r] if np.isfinite(rows.lo[k, r]) else -inf
                hi = rows.hi[k, r] if np.isfinite(rows.hi[k, r]) else inf
                if lo == -inf and hi == inf:
                    continue
                ct = solver.Constraint(float(lo), float(hi))
                for p in idx.tolist():
                    ct.SetCoefficient(x[p], float(w[p]))
                continue
            share = float(rows.share[k, r])
            # dev >= (load - share)/share and dev >= (share - load)/share
            dev = z if z is not None else solver.NumVar(0.0, inf, "")
            if z is None:
                objective.SetCoefficient(dev, float(rows.imb_weight[k]))
            up = solver.Constraint(-inf, 1.0)
            down = solver.Constraint(-inf, -1.0)
            for p in idx.tolist():
                up.SetCoefficient(x[p], float(w[p]) / share)
                down.SetCoefficient(x[p], -float(w[p]) / share)
            up.SetCoefficient(dev, -1.0)
            down.SetCoefficient(dev, -1.0)
    objective.SetMinimization()
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        return -math.inf
    value = objective.Value()
    return value - 1e-7 * max(1.0, abs(value))


def imbalance_bound(model: Model, rows: Rows) -> float:
    """A bound for max-norm imbalance terms from customers that few reps may serve.

    For every group of units whose eligible reps all lie in a set S (a single customer,
    or e.g. "key accounts of retail, which only these seniors may serve"), some rep of S
    carries at least its share of their load: ``max_r dev_r >= value(group) /
    share(S) - 1``. The bound is the weighted sum over max-norm terms of the largest
    such figure (0 when every group fits in its reps' fair shares). It makes structural
    imbalance visible instead of reporting a trivial bound of 0.
    """
    if model.n_pairs == 0:
        return 0.0
    start = model.unit_start[:-1]
    groups = restricted_groups(model)
    total = 0.0
    for k in np.flatnonzero(rows.is_max).tolist():
        weight, share = rows.weight[:, k], rows.share[k]
        # Single units: whichever eligible rep serves u carries at least value[u].
        excess = (weight - share[model.pair_rep]) / share[model.pair_rep]
        best = float(np.minimum.reduceat(excess, start).max())
        value = np.minimum.reduceat(weight, start)
        for mask, inside in groups:
            if inside.any():
                best = max(best, float(value[inside].sum() / share[mask].sum()) - 1.0)
        total += float(rows.imb_weight[k]) * max(0.0, best)
    return total
