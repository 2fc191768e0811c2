"""The LP relaxation of every objective, solved with HiGHS, and a bound that is always valid.

The relaxation keeps the assignment equalities, every hard row (at the rules' raw limits)
and ``0 <= x <= 1``; imbalance terms are linearised with deviation variables (one per
rep for sum-norm terms, one per term for max-norm terms), so cost, fit, travel and
disruption terms mixed with imbalance terms are all covered.

The bound is not HiGHS's objective value: it is recomputed from HiGHS's row duals ``y``
as the Lagrangian value of the integer problem with the side rows relaxed,

    sum over units of min over its pairs of (c - A' y)  +  sum of rows' y * limit
    + sum over deviation variables of min(0, reduced cost * its largest value),

which is a lower bound for *any* ``y`` (the sign of each dual is clipped to the limit
that exists). So the bound stays valid with float noise in the duals, with interior-point
duals that are not exactly optimal, and on the raw float data; at HiGHS's optimum it
equals the LP value (the assignment polytope is integral). Deviation variables get finite
upper bounds (the largest deviation any fractional plan can reach) so their reduced costs
cannot make the bound ``-inf``.

``highspy`` runs in a background thread that releases the GIL: the portfolio starts it
beside local search and CP-SAT and collects the bound at the end.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.lp_classes import Shape, classes_of, spread
from alloc.solvers.mip import add_rows, quiet_highs, solve_in_thread
from alloc.solvers.state import Rows

__all__ = ["LpRelaxation", "LpSearch", "build_lp", "lp_relaxation", "lp_seconds"]

#: Relative margin taken off the recomputed bound for floating-point summation error.
_FLOAT_MARGIN = 1e-9


@dataclass(frozen=True)
class LpRelaxation:
    """Outcome of the LP relaxation.

    ``bound`` is a valid lower bound on the optimal objective (``-inf`` when none was
    obtained); ``status`` is HiGHS's model status in words ("Optimal", "Time limit
    reached", ...) or why HiGHS did not run; ``optimal`` says whether HiGHS solved the
    LP to optimality (then ``bound`` is its value up to float noise).
    """

    bound: float
    status: str
    optimal: bool
    time: float
    # A plan rounded from the LP's solution (None unless ``optimal``): each unit on its
    # pair with the largest LP value, or, for the class LP, each class spread over its
    # reps in the LP's proportions. On balance models with a bound above 0 it is a far
    # better start than a greedy plan (2,000 x 20 with regional restrictions: 0.345
    # against the greedy's 1.75 and local search's 0.436; the optimum is about 0.311).
    start: np.ndarray | None = field(default=None, repr=False)
    # The LP's value of each max-norm term's deviation variable, per row of ``rows``
    # (NaN for the other rows; None unless ``optimal``): where windows for those terms
    # belong (`alloc.solvers.plateau.lp_window_search`).
    deviation: np.ndarray | None = field(default=None, repr=False)
    # The LP's value of each pair of the model (for the class LP: the fraction of the
    # pair's class that its rep takes; None unless ``optimal``): where the LP and a plan
    # disagree (`alloc.solvers.lp_neighbourhoods`).
    fraction: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Layout:
    """Where each block of the LP sits, to recompute the bound from the duals."""

    n_pairs: int
    n_units: int
    side_lo: np.ndarray  # limits of the side rows (every row after the unit rows)
    side_hi: np.ndarray
    dev_cap: np.ndarray  # upper bound of each deviation column
    objective: np.ndarray  # cost of every column (pairs, then deviations)
    side: Any  # scipy.sparse CSR matrix: side rows x columns


class LpSearch:
    """HiGHS on the LP relaxation in a background thread until done or stopped.

    ``start()`` returns at once; ``done`` is set when HiGHS has ended; ``finish()``
    waits for HiGHS (stopping it at the deadline it was given), and returns the
    `LpRelaxation`. With nothing left of the deadline, or on a model without pairs,
    HiGHS does not start.
    """

    def __init__(
        self,
        model: Model,
        rows: Rows,
        deadline: Deadline,
        *,
        by_class: bool = False,
        interruptible: bool = True,
        vertex: bool = False,
    ) -> None:
        """``vertex``: end on a vertex of the LP (HiGHS's crossover after the interior
        point method), whose rounded plan moves far fewer units off their cheapest pair
        than an interior point's (2,000 x 20 key accounts with disruption: 0.31 against
        0.76 rounded; crossover added 0.03 s there and 0.5 s to a class LP of 20,000 x
        200). ``interruptible``: `finish` may stop HiGHS early. Otherwise HiGHS runs to its
        time limit, and ``finish(wait=False)`` leaves it running and returns no bound:
        HiGHS's interrupt check calls back into Python, and beside a search that holds
        the interpreter it made the LP 2.5 to 10 times slower (class LP of 20,000 x 200
        with regional restrictions: 1.6 s alone, 4.0 s beside a Python loop, over 20 s
        beside local search on a busy machine)."""
        self._model, self._rows, self._deadline = model, rows, deadline
        self._interruptible = interruptible
        # The class LP (alloc.solvers.lp_classes) when the full one would be too slow.
        self._classes = classes_of(model, rows) if by_class else None
        self._t0 = time.perf_counter()
        self._thread: threading.Thread | None = None
        self._result: LpRelaxation | None = None
        self.done = threading.Event()
        self._full: _Layout | None = None  # the full model's layout, for the class LP
        if model.n_pairs == 0 or model.n_units == 0:
            self._result = LpRelaxation(-math.inf, "empty model", False, 0.0)
            self.done.set()
            return
        if self._classes is None:
            self._highs, self._layout = _build(model, rows)
        else:
            self._highs, self._layout = _build(self._classes.shape, self._classes.rows)
        self._highs.HandleUserInterrupt = interruptible
        if vertex:
            self._highs.setOptionValue("run_crossover", "on")

    @property
    def n_pairs(self) -> int:
        """Pair columns of the LP HiGHS solves (classes' pairs for the class LP)."""
        return int(self._layout.n_pairs) if hasattr(self, "_layout") else 0

    @property
    def n_units(self) -> int:
        """Assignment rows of the LP HiGHS solves (classes for the class LP)."""
        return int(self._layout.n_units) if hasattr(self, "_layout") else 0

    @property
    def by_class(self) -> bool:
        """Whether this is the LP over classes of units (the full one was too slow)."""
        return self._classes is not None

    def start(self) -> LpSearch:
        if self._result is not None:
            return self
        self._thread = solve_in_thread(self._highs, self._deadline, self._wait)
        if self._thread is None:
            self._result = LpRelaxation(-math.inf, "no time left", False, 0.0)
            self.done.set()
        return self

    def _wait(self, solving: threading.Thread) -> None:
        try:
            solving.join()
        finally:
            self.done.set()
        if self._classes is not None:
            # The bound is read on the full model's layout: built here, in this thread,
            # so that it is ready when the search ends if HiGHS ended earlier (0.6 s at
            # 100,000 customers); finish() joins this thread before reading.
            self._full = _layout(self._model, self._rows)

    def stop(self) -> None:
        """Stop HiGHS (when it is interruptible) without reading its result."""
        if self._result is None and self._thread is not None and self._interruptible:
            self._highs.cancelSolve()

    def finish(self, *, wait: bool = True, plan: bool = True) -> LpRelaxation:
        """The relaxation's bound; stops HiGHS first unless ``wait`` (then it runs to its
        own time limit). ``plan=False`` skips the rounded plan, the pair values and the
        deviations (about 1 s at 100,000 customers), for a caller that wants the bound
        only; the result is kept, so a later call returns it as it is."""
        if self._result is not None:
            return self._result
        if self._thread is not None:
            if not wait and not self._interruptible and not self.done.is_set():
                self._result = LpRelaxation(
                    -math.inf, "stopped", False, time.perf_counter() - self._t0
                )
                return self._result
            if not wait:
                self._highs.cancelSolve()
            self._thread.join()
        self._result = self._read(plan)
        return self._result

    def _full_layout(self) -> _Layout:
        if self._full is None:
            self._full = _layout(self._model, self._rows)
        return self._full

    def _read(self, plan: bool) -> LpRelaxation:
        import highspy

        highs, wall = self._highs, time.perf_counter() - self._t0
        status = highs.getModelStatus()
        words = highs.modelStatusToString(status)
        if status == highspy.HighsModelStatus.kInfeasible:
            # HiGHS decides infeasibility within its own tolerances, which is no proof on
            # the raw rows (the portfolio proves infeasibility with CP-SAT): no bound.
            return LpRelaxation(-math.inf, words, False, wall)
        solution = highs.getSolution()
        duals = np.asarray(solution.row_dual, dtype=float)
        expected = self._layout.n_units + self._layout.side.shape[0]
        if not solution.dual_valid or duals.size != expected:
            # HiGHS refused the model (e.g. coefficients of 1e15 it deems infinite) and
            # left its solution empty: no bound rather than a crash.
            return LpRelaxation(-math.inf, words, False, wall)
        side = duals[self._layout.n_units :]
        full = self._layout if self._classes is None else self._full_layout()
        bound = _dual_bound(self._model, full, side)
        optimal = status == highspy.HighsModelStatus.kOptimal
        start = deviation = fraction = None
        if optimal and solution.value_valid and plan:
            values = np.asarray(solution.col_value, dtype=float)
            x = values[: self._layout.n_pairs]
            if self._classes is None:
                start, fraction = _largest(self._model, x), np.clip(x, 0.0, 1.0)
            else:
                start = spread(self._classes, x, self._model, self._rows)
                fraction = np.clip(x[self._classes.pair_of], 0.0, 1.0)
            deviation = _max_deviations(self._rows, values[self._layout.n_pairs :])
        wall = time.perf_counter() - self._t0
        return LpRelaxation(bound, words, optimal, wall, start, deviation, fraction)


def lp_relaxation(model: Model, rows: Rows, deadline: Deadline) -> LpRelaxation:
    """Solve the LP relaxation of ``model`` within ``deadline`` and return its bound.

    Parameters
    ----------
    model : Model
    rows : Rows
        The model's stacked rows (``Rows.from_model(model)``).
    deadline : Deadline
        HiGHS stops there; the bound from its duals at that point is still valid.

    Returns
    -------
    LpRelaxation
    """
    return LpSearch(model, rows, deadline).start().finish()


def lp_seconds(n_pairs: int) -> float:
    """Rough seconds HiGHS's interior-point method needs for the LP relaxation.

    Fitted on make_problem's balance models on a 2-core machine (25 k pairs 0.4 s,
    250 k pairs 20 s); generous, since a run that cannot finish is wasted.
    """
    return 0.4 * (n_pairs / 25_000) ** 1.7


def _largest(model: Model, x: np.ndarray) -> np.ndarray:
    """Each unit on its pair with the largest LP value (ties: the first pair)."""
    start = model.unit_start[:-1]
    top = np.maximum.reduceat(x, start)
    pair_ids = np.arange(x.size)
    candidates = np.where(x >= top[model.pair_unit], pair_ids, x.size)
    return np.minimum.reduceat(candidates, start).astype(np.int64)


def _max_deviations(rows: Rows, dev_values: np.ndarray) -> np.ndarray:
    """The LP's max-norm deviation per row (NaN for other rows), from the deviation
    columns in `_layout`'s order (one per max-norm term, one per rep per sum-norm term)."""
    out = np.full(rows.n_rows, np.nan)
    at = 0
    for k in np.flatnonzero(rows.is_max | rows.is_sum).tolist():
        if rows.is_max[k]:
            out[k] = max(0.0, float(dev_values[at]))
            at += 1
        else:
            at += rows.share.shape[1]
    return out


def _dual_bound(model: Model, layout: _Layout, side: np.ndarray) -> float:
    """The Lagrangian value at the side rows' duals ``side`` (a valid lower bound for any
    duals)."""
    # A dual may only price a limit that exists; clip the others to zero.
    side = np.where(np.isfinite(layout.side_lo), np.maximum(side, 0.0), 0.0) + np.where(
        np.isfinite(layout.side_hi), np.minimum(side, 0.0), 0.0
    )
    pos = np.where(side > 0, side * np.where(np.isfinite(layout.side_lo), layout.side_lo, 0.0), 0.0)
    neg = np.where(side < 0, side * np.where(np.isfinite(layout.side_hi), layout.side_hi, 0.0), 0.0)
    reduced = layout.objective - layout.side.T @ side
    pair_reduced = reduced[: layout.n_pairs]
    per_unit = np.minimum.reduceat(pair_reduced, model.unit_start[:-1])
    dev_reduced = reduced[layout.n_pairs :]
    devs = np.minimum(0.0, dev_reduced * layout.dev_cap)
    terms = np.concatenate([per_unit, devs, pos, neg])
    value = float(math.fsum(terms.tolist()))
    scale = float(np.abs(terms).sum())
    return value - _FLOAT_MARGIN * max(1.0, scale)


def build_lp(model: Model, rows: Rows, *, with_budgets: bool = False) -> tuple[Any, int]:
    """A quiet HiGHS instance holding the LP relaxation and its number of columns (the
    pairs first, in model order, then the deviation columns); ``with_budgets`` adds one
    row per ``Budget`` (`alloc.solvers.float_mip` makes the pairs integer)."""
    import highspy
    from scipy.sparse import csr_matrix

    highs, layout = _build(model, rows)
    n_cols = int(layout.objective.size)
    if with_budgets and model.budgets:
        weight = np.zeros((len(model.budgets), n_cols))
        for i, budget in enumerate(model.budgets):
            weight[i, : model.n_pairs] = budget.weight
        caps = np.array([float(b.hi) for b in model.budgets])
        add_rows(highs, csr_matrix(weight), np.full(caps.size, -highspy.kHighsInf), caps)
    return highs, n_cols


def _build(model: Model | Shape, rows: Rows) -> tuple[Any, _Layout]:
    """HiGHS loaded with the LP relaxation of ``model``, and the LP's layout."""
    # Imported here: importing alloc must not load HiGHS and scipy.
    from scipy.sparse import csr_matrix, vstack

    layout = _layout(model, rows)
    P, U = model.n_pairs, model.n_units
    n_cols = layout.objective.size
    unit_rows = csr_matrix((np.ones(P), (model.pair_unit, np.arange(P))), shape=(U, n_cols))
    matrix = vstack([unit_rows, layout.side]).tocsr()
    return _highs_of(layout, matrix), layout


def _layout(model: Model | Shape, rows: Rows) -> _Layout:
    """The side rows (every row but the units'), their limits and the columns' costs."""
    from scipy.sparse import csr_matrix, hstack, vstack

    P, R, U = model.n_pairs, model.n_reps, model.n_units
    pair_ids = np.arange(P)
    rep = model.pair_rep
    blocks: list[Any] = []
    lows: list[np.ndarray] = []
    highs_: list[np.ndarray] = []
    for k in np.flatnonzero(rows.pen_scale > 0).tolist():
        lo, hi = rows.raw_lo[k], rows.raw_hi[k]
        used = np.isfinite(lo) | np.isfinite(hi)
        if used.any():
            a = csr_matrix((rows.weight[:, k], (rep, pair_ids)), shape=(R, P))
            blocks.append(a[used])
            lows.append(lo[used])
            highs_.append(hi[used])
    dev_cost: list[np.ndarray] = []
    dev_cap: list[np.ndarray] = []
    dev_blocks: list[tuple[Any, np.ndarray]] = []  # (pair part, deviation column per row)
    for k in np.flatnonzero(rows.is_max | rows.is_sum).tolist():
        share = rows.share[k]
        a = csr_matrix((rows.weight[:, k] / share[rep], (rep, pair_ids)), shape=(R, P))
        # The largest deviation a fractional plan can reach, per rep.
        reach = np.bincount(rep, weights=np.abs(rows.weight[:, k]), minlength=R) / share
        cap = np.maximum(reach + 1.0, 1.0)
        first = sum(c.size for c in dev_cost)
        if rows.is_max[k]:
            column = np.full(R, first)
            dev_cost.append(np.array([rows.imb_weight[k]]))
            dev_cap.append(np.array([float(cap.max())]))
        else:
            column = first + np.arange(R)
            dev_cost.append(np.full(R, rows.imb_weight[k]))
            dev_cap.append(cap)
        # dev >= load/share - 1  ->  dev - load/share >= -1
        # dev >= 1 - load/share  ->  dev + load/share >= 1
        dev_blocks.append((-a, column))
        dev_blocks.append((a, column))
        lows.extend([np.full(R, -1.0), np.full(R, 1.0)])
        highs_.extend([np.full(R, np.inf), np.full(R, np.inf)])
    costs = np.concatenate(dev_cost) if dev_cost else np.zeros(0)
    caps = np.concatenate(dev_cap) if dev_cap else np.zeros(0)
    D = costs.size
    side_rows = [b.tocsr() if D == 0 else _pad(b, D) for b in blocks]
    for pair_part, column in dev_blocks:
        dev_part = csr_matrix((np.ones(R), (np.arange(R), column)), shape=(R, D))
        side_rows.append(hstack([pair_part, dev_part]).tocsr())
    n_cols = P + D
    side = vstack(side_rows).tocsr() if side_rows else csr_matrix((0, n_cols))
    side_lo = np.concatenate(lows) if lows else np.zeros(0)
    side_hi = np.concatenate(highs_) if highs_ else np.zeros(0)
    objective = np.concatenate([np.asarray(model.cost, dtype=float), costs])
    return _Layout(P, U, side_lo, side_hi, caps, objective, side)


def _highs_of(layout: _Layout, matrix: Any) -> Any:
    """A quiet HiGHS instance holding the LP (``matrix``: unit rows, then side rows)."""
    import highspy

    P, U = layout.n_pairs, layout.n_units
    n_cols = layout.objective.size
    side_lo, side_hi, caps, objective = (
        layout.side_lo,
        layout.side_hi,
        layout.dev_cap,
        layout.objective,
    )
    inf = highspy.kHighsInf
    row_lo = np.concatenate([np.ones(U), np.where(np.isfinite(side_lo), side_lo, -inf)])
    row_hi = np.concatenate([np.ones(U), np.where(np.isfinite(side_hi), side_hi, inf)])
    highs = quiet_highs(highspy)
    highs.setOptionValue("threads", 1)
    # Interior point without crossover: on balance rows the simplex method needed ten times
    # as long (2,000 x 20: 3.9 s vs 0.4 s), and the bound is recomputed from the duals,
    # so the vertex crossover would add nothing. Presolve off: HiGHS cannot be stopped
    # during presolve (measured: 19 s after a stop request on 3.8 M pairs), and the
    # portfolio must be able to stop it.
    highs.setOptionValue("solver", "ipm")
    highs.setOptionValue("run_crossover", "off")
    highs.setOptionValue("presolve", "off")
    highs.addVars(n_cols, np.zeros(n_cols), np.concatenate([np.ones(P), caps]))
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), objective)
    add_rows(highs, matrix, row_lo, row_hi)
    return highs


def _pad(block: Any, extra: int) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack([block, csr_matrix((block.shape[0], extra))]).tocsr()
