"""A branch-and-cut search (HiGHS, through ``scipy.optimize.milp``) on a core of pairs.

CP-SAT and a MIP solver find different plans: on knapsack-like capacity rows HiGHS's
cuts and LP-guided diving close the last units of cost that CP-SAT's search misses
(measured with a scratch script on the GAP type C suite, HiGHS alone 20 s on a core of
2 pairs per customer: c201600 18,805 and c401600 17,149, where alloc's CP-SAT core
search ended at 18,809 and 17,155 in 60 s). The portfolio gives it a share of long
solves between CP-SAT runs.

Only linear objectives with hard rows fit; the data stay in floats (HiGHS needs no
integer scaling). A plan is returned only when HiGHS reports one; the caller re-scores
it on the true rows before keeping it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from alloc.data.model import Model
from alloc.solvers.state import Rows


@dataclass(frozen=True)
class MipResult:
    status: str  # "OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"
    chosen: np.ndarray | None  # chosen pair per unit (global pair ids)
    wall_time: float


def solve_mip(
    model: Model,
    rows: Rows,
    *,
    pair_mask: np.ndarray,
    time_limit: float,
) -> MipResult:
    """Minimise the linear cost over the flagged pairs subject to the hard rows.

    No objective cutoff is passed: a row ``cost <= incumbent - 1`` did not help HiGHS
    find better plans on the GAP type C cores (measured in a scratch script, 15 s).
    """
    # Imported here: scipy.optimize takes a noticeable part of a second to import, and
    # most solves never reach this turn.
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    t0 = time.perf_counter()
    idx = np.flatnonzero(pair_mask)
    k = idx.size
    unit = model.pair_unit[idx]
    if np.unique(unit).size < model.n_units:
        return MipResult("INFEASIBLE", None, time.perf_counter() - t0)
    cost = np.asarray(model.cost, dtype=float)[idx]
    columns = np.arange(k)
    constraints = [
        LinearConstraint(csr_matrix((np.ones(k), (unit, columns)), shape=(model.n_units, k)), 1, 1)
    ]
    rep = model.pair_rep[idx]
    for h in np.flatnonzero(rows.pen_scale > 0).tolist():
        lo, hi = rows.lo[h], rows.hi[h]
        used = np.isfinite(lo) | np.isfinite(hi)
        if not used.any():
            continue
        a = csr_matrix((rows.weight[idx, h], (rep, columns)), shape=(model.n_reps, k))
        constraints.append(LinearConstraint(a[used], lo[used], hi[used]))
    remaining = time_limit - (time.perf_counter() - t0)
    if remaining < 0.05:
        return MipResult("UNKNOWN", None, time.perf_counter() - t0)
    res = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(k),
        bounds=Bounds(0, 1),
        # A zero gap: HiGHS's default (1e-4 relative) would stop up to 0.01 % short,
        # and the caller skips CP-SAT on a core HiGHS reports optimal.
        options={"time_limit": remaining, "disp": False, "mip_rel_gap": 0.0},
    )
    wall = time.perf_counter() - t0
    if res.x is None:
        # status 2: infeasible; anything else without a plan says nothing.
        return MipResult("INFEASIBLE" if res.status == 2 else "UNKNOWN", None, wall)
    x = np.asarray(res.x) > 0.5
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    chosen[unit[x]] = idx[x]
    if (chosen < 0).any():
        return MipResult("UNKNOWN", None, wall)
    return MipResult("OPTIMAL" if res.status == 0 else "FEASIBLE", chosen, wall)
