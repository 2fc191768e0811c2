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

from alloc.data.model import Model
from alloc.solvers.state import Rows

__all__ = ["lp_bound"]


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


def largest_unit_bound(model: Model, rows: Rows) -> float:
    """A bound for max-norm imbalance terms from single customers.

    Whichever eligible rep ``r`` serves unit ``u``, its load is at least ``value[u]``, so
    ``max_r dev_r >= min_{r eligible for u} (value[u] - share[r]) / share[r]`` for every
    unit. A customer larger than every eligible rep's fair share forces a deviation no
    plan can avoid; this makes that visible instead of reporting a trivial bound of 0.
    """
    if model.n_pairs == 0:
        return 0.0
    total = 0.0
    start = model.unit_start[:-1]
    for k in np.flatnonzero(rows.is_max).tolist():
        share = rows.share[k, model.pair_rep]
        excess = (rows.weight[:, k] - share) / share
        per_unit = np.minimum.reduceat(excess, start)
        total += float(rows.imb_weight[k]) * max(0.0, float(per_unit.max()))
    return total
