"""A lower bound for territory design with chosen centres: the p-median LP (HiGHS).

For chosen centres, ``"sum"`` dispersion and interchangeable reps (the case of
`alloc.solvers.territory_centres`), the LP relaxation of the centre-based model without
contiguity::

    min  sum_{u, v} w d[u, v] z[u, v] + (pair costs, the same for every plan)
    sum_v z[u, v] = 1,   z[u, v] <= z[v, v],   sum_v z[v, v] = n_reps (<= when a
    territory may be empty)
    lo[k] z[v, v] <= sum_u w[k, u] z[u, v] <= hi[k] z[v, v]     each hard row k
    0 <= z <= 1

is a relaxation of the territory problem (drop contiguity and integrality), so its
optimum is a valid bound. The rows use the allowed limits (the library's comparison
tolerance included), which only widens them. HiGHS's dual simplex solves it; the value
is taken only at a proven LP optimum, less a margin of 1e-7 relative for its tolerances.
"""

from __future__ import annotations

import math

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.mip import add_rows, quiet_highs
from alloc.solvers.state import Rows
from alloc.solvers.territory_cp import interchangeable_reps

__all__ = ["centre_lp_bound"]

#: Above this many units the LP (n^2 columns) is not attempted.
LP_UNIT_LIMIT = 1_500


def _matrix(model: Model, rows: Rows) -> tuple[object, np.ndarray, np.ndarray]:
    """The LP's constraint matrix (scipy CSR) and its row limits."""
    from scipy.sparse import coo_matrix

    n = model.n_units
    col = np.arange(n * n).reshape(n, n)  # z[u, v]
    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    next_row = 0

    def block(
        rr: np.ndarray, cc: np.ndarray, vv: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> None:
        nonlocal next_row
        r_idx.append(rr + next_row)
        c_idx.append(cc)
        vals.append(vv)
        lo.append(low)
        hi.append(high)
        next_row += low.size

    units = np.arange(n)
    # sum_v z[u, v] = 1
    block(np.repeat(units, n), col.ravel(), np.ones(n * n), np.ones(n), np.ones(n))
    # z[u, v] - z[v, v] <= 0 for u != v
    u, v = np.nonzero(~np.eye(n, dtype=bool))
    k = np.arange(u.size)
    block(
        np.concatenate([k, k]),
        np.concatenate([col[u, v], col[v, v]]),
        np.concatenate([np.ones(u.size), -np.ones(u.size)]),
        np.full(u.size, -np.inf),
        np.zeros(u.size),
    )
    first = model.unit_start[:-1]
    must_fill = False
    for row in range(rows.n_rows):
        if rows.is_max[row] or rows.is_sum[row]:
            continue
        w = rows.weight[first, row]
        low, high = float(rows.lo[row, 0]), float(rows.hi[row, 0])
        must_fill |= low > 0 or high < 0
        for limit, sign in ((high, 1.0), (low, -1.0)):
            if not math.isfinite(limit):
                continue
            # sign * (sum_u w[u] z[u, v] - limit z[v, v]) <= 0 for each centre v
            rr = np.repeat(units, n)
            cc = col.T.ravel()  # for centre v (row v): z[0, v], ..., z[n-1, v]
            vv = np.tile(w, n).astype(float)
            vv = vv - limit * (np.arange(n * n) % (n + 1) == 0)  # the diagonal z[v, v]
            block(rr, cc, sign * vv, np.full(n, -np.inf), np.zeros(n))
    count = float(model.n_reps)
    block(
        np.zeros(n, np.int64),
        col[units, units],
        np.ones(n),
        np.array([count if must_fill else 0.0]),
        np.array([count]),
    )
    matrix = coo_matrix(
        (np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
        shape=(next_row, n * n),
    ).tocsr()
    return matrix, np.concatenate(lo), np.concatenate(hi)


def centre_lp_bound(model: Model, rows: Rows, deadline: Deadline) -> float | None:
    """The p-median LP bound (see the module docstring), or None when it does not apply
    or HiGHS did not prove the LP optimal within ``deadline``."""
    g = model.geography
    if (
        g is None
        or not g.chooses_centres
        or g.centre_kind != "sum"
        or model.imbalances
        or model.n_units > LP_UNIT_LIMIT
        or not interchangeable_reps(model)
    ):
        return None
    assert g.distance is not None
    import highspy

    seconds = deadline.seconds()  # the HiGHS wrapper: the deadline becomes seconds
    if seconds <= 0:
        return None
    n = model.n_units
    matrix, row_lo, row_hi = _matrix(model, rows)
    highs = quiet_highs(highspy)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", seconds)
    inf = highspy.kHighsInf
    cost = g.centre_weight * np.asarray(g.distance, float).ravel()
    highs.addVars(n * n, np.zeros(n * n), np.ones(n * n))
    highs.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), cost)
    add_rows(
        highs,
        matrix,
        np.where(np.isfinite(row_lo), row_lo, -inf),
        np.where(np.isfinite(row_hi), row_hi, inf),
    )
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    value = float(highs.getInfo().objective_function_value)
    constant = float(model.cost[model.unit_start[:-1]].sum())
    return value + constant - 1e-7 * max(1.0, abs(value))
