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
tolerance included), which only widens them. HiGHS's interior point method solves it
(`CentreLp`, in a thread beside CP-SAT); the bound is recomputed from its
row duals, so it is valid for any duals HiGHS returns.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.mip import add_rows, quiet_highs, solve_in_thread
from alloc.solvers.state import Rows
from alloc.solvers.territory_cp import interchangeable_reps

__all__ = ["CentreLp", "applies", "centre_lp_bound"]

#: Above this many units the LP (n^2 columns) is not attempted.
LP_UNIT_LIMIT = 1_500


def _matrix(model: Model, rows: Rows) -> tuple[Any, np.ndarray, np.ndarray]:
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


def applies(model: Model) -> bool:
    """True when the p-median LP is a relaxation of ``model`` (see the module docstring)."""
    g = model.geography
    return bool(
        g is not None
        and g.chooses_centres
        and g.centre_kind == "sum"
        and not model.imbalances
        and model.n_units <= LP_UNIT_LIMIT
        and interchangeable_reps(model)
    )


def centre_lp_bound(model: Model, rows: Rows, deadline: Deadline) -> float | None:
    """The p-median LP bound (see the module docstring), or None when it does not apply
    or HiGHS ended without duals within ``deadline``."""
    return CentreLp(model, rows).start(deadline).bound(wait=True)


class CentreLp:
    """The p-median LP in a thread of its own, to run beside CP-SAT.

    HiGHS's interior point method without crossover: on a 12 x 12 grid (144 units,
    20,736 columns) it ends in a third of the dual simplex's time (4.5 s against
    14.9 s on a busy machine). The bound is not HiGHS's objective but the Lagrangian
    value at its row duals (`_dual_bound`), valid for any duals, so an interior point
    that is not exactly optimal, or a search stopped early, still gives a valid bound.
    """

    def __init__(self, model: Model, rows: Rows) -> None:
        self._model = model
        self._highs: Any = None
        self._thread: threading.Thread | None = None
        self._value: float | None = None
        if not applies(model):
            return
        import highspy

        g = model.geography
        assert g is not None and g.distance is not None
        n = model.n_units
        matrix, row_lo, row_hi = _matrix(model, rows)
        self._matrix, self._row_lo, self._row_hi = matrix, row_lo, row_hi
        self._cost = g.centre_weight * np.asarray(g.distance, float).ravel()
        highs = quiet_highs(highspy)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("solver", "ipm")
        highs.setOptionValue("run_crossover", "off")
        highs.HandleUserInterrupt = True  # bound(wait=False) stops it
        inf = highspy.kHighsInf
        highs.addVars(n * n, np.zeros(n * n), np.ones(n * n))
        highs.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), self._cost)
        add_rows(
            highs,
            matrix,
            np.where(np.isfinite(row_lo), row_lo, -inf),
            np.where(np.isfinite(row_hi), row_hi, inf),
        )
        self._highs = highs

    def start(self, deadline: Deadline) -> CentreLp:
        """Start HiGHS (it stops at ``deadline``); returns at once."""
        if self._highs is not None:
            self._thread = solve_in_thread(self._highs, deadline, self._read)
        return self

    def _read(self, solving: threading.Thread) -> None:
        solving.join()
        solution = self._highs.getSolution()
        duals = np.asarray(solution.row_dual, dtype=float)
        if not solution.dual_valid or duals.size != self._matrix.shape[0]:
            return
        value = _dual_bound(self._matrix, self._row_lo, self._row_hi, self._cost, duals)
        constant = float(self._model.cost[self._model.unit_start[:-1]].sum())
        if math.isfinite(value):
            self._value = value + constant - 1e-9 * max(1.0, abs(value))

    def bound(self, *, wait: bool) -> float | None:
        """The bound (None without one); ``wait=False`` stops a search still running."""
        if self._thread is None:
            return None
        if not wait:
            self._highs.cancelSolve()
        self._thread.join()
        return self._value


def _dual_bound(
    matrix: Any, row_lo: np.ndarray, row_hi: np.ndarray, cost: np.ndarray, duals: np.ndarray
) -> float:
    """min over 0 <= z <= 1 of ``cost z - y (A z - limits)``: a lower bound for any ``y``.

    For a plan ``z`` within the rows, ``y_i (A z)_i >= y_i lo_i`` where ``y_i > 0`` and
    ``>= y_i hi_i`` where ``y_i < 0``; a dual pricing a limit that does not exist is
    clipped to zero. Float noise in the duals then only weakens the bound.
    """
    y = np.where((duals > 0) & ~np.isfinite(row_lo), 0.0, duals)
    y = np.where((y < 0) & ~np.isfinite(row_hi), 0.0, y)
    limits = np.where(y > 0, np.where(np.isfinite(row_lo), row_lo, 0.0), 0.0) + np.where(
        y < 0, np.where(np.isfinite(row_hi), row_hi, 0.0), 0.0
    )
    reduced = cost - matrix.T @ y
    return float(np.minimum(reduced, 0.0).sum() + (y * limits).sum())
