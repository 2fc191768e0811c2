"""A branch-and-cut search (HiGHS, through its ``highspy`` binding) on a set of pairs.

CP-SAT and a MIP solver find different plans: on knapsack-like capacity rows HiGHS's
cuts and LP-guided diving close the last units of cost that CP-SAT's search misses
(measured with a scratch script on the GAP type C suite, HiGHS alone 20 s on a core of
2 pairs per customer: c201600 18,805 and c401600 17,149, where alloc's CP-SAT core
search ended at 18,809 and 17,155 in 60 s), and on small models it proves optimality
where CP-SAT does not (GAP e20100, 2,000 pairs: HiGHS optimal in about 42 s; plain
CP-SAT ended 10-34 units above it in 60 s, in two benchmark runs). The portfolio runs
it in two ways: as a turn on a narrow core between CP-SAT runs, and, on small models,
on the whole model beside CP-SAT (`MipSearch` runs in its own thread and can be
stopped).

``highspy`` rather than ``scipy.optimize.milp`` (which wraps an older HiGHS): it takes a
start plan, runs in a thread that releases the GIL, and stops on request, so HiGHS can
search beside CP-SAT and end when the portfolio's deadline or proof comes.

Only linear objectives with hard rows fit; the data stay in floats (HiGHS needs no
integer scaling). A plan is returned only when HiGHS reports one; the caller re-scores
it on the true rows before keeping it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows


@dataclass(frozen=True)
class MipResult:
    status: str  # "OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"
    chosen: np.ndarray | None  # chosen pair per unit (global pair ids)
    wall_time: float
    # HiGHS's proven lower bound on the cost over the searched pairs (-inf if none).
    bound: float = -math.inf


class MipSearch:
    """HiGHS on the flagged pairs, in a background thread until done or stopped.

    ``start()`` returns at once; ``running()`` says whether HiGHS is still searching;
    ``proved`` is set when it ends with a proven optimum; ``finish()`` stops it if
    needed, waits for it and returns the best plan found. HiGHS's time limit is what is
    left of ``deadline`` when ``start()`` is called; with nothing left it does not start
    (and ``finish()`` returns no plan).
    """

    def __init__(
        self,
        model: Model,
        rows: Rows,
        *,
        pair_mask: np.ndarray,
        deadline: Deadline,
        start: np.ndarray | None = None,
    ) -> None:
        self._model = model
        self._deadline = deadline
        self._t0 = time.perf_counter()
        self._idx = np.flatnonzero(pair_mask)
        self._unit = model.pair_unit[self._idx]
        self._thread: threading.Thread | None = None
        self._result: MipResult | None = None
        self.proved = threading.Event()
        if np.unique(self._unit).size < model.n_units:
            self._result = MipResult("INFEASIBLE", None, 0.0)
            return
        self._highs = _build(model, rows, self._idx, start)

    def start(self) -> MipSearch:
        if self._result is None:
            self._thread = solve_in_thread(self._highs, self._deadline, self._wait)
            if self._thread is None:
                self._result = MipResult("UNKNOWN", None, time.perf_counter() - self._t0)
        return self

    def _wait(self, solving: threading.Thread) -> None:
        import highspy

        solving.join()
        if self._highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            self.proved.set()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def finish(self) -> MipResult:
        if self._result is not None:
            return self._result
        if self._thread is not None:
            self._highs.cancelSolve()
            self._thread.join()
        self._result = self._read()
        return self._result

    def _read(self) -> MipResult:
        wall = time.perf_counter() - self._t0
        return read_result(self._highs, self._model, self._idx, wall)


def solve_mip(
    model: Model,
    rows: Rows,
    *,
    pair_mask: np.ndarray,
    deadline: Deadline,
    start: np.ndarray | None = None,
) -> MipResult:
    """Minimise the linear cost over the flagged pairs subject to the hard rows.

    ``start`` (a chosen pair per unit, every pair flagged) is handed to HiGHS as its
    first plan. No objective cutoff is passed: a row ``cost <= incumbent - 1`` did not
    help HiGHS find better plans on the GAP type C cores (measured in a scratch script).
    """
    search = MipSearch(model, rows, pair_mask=pair_mask, deadline=deadline, start=start)
    search.start()
    if search._thread is not None:
        search._thread.join()
    return search.finish()


def read_result(highs: Any, model: Model, idx: np.ndarray, wall: float) -> MipResult:
    """Status, plan and dual bound of a finished HiGHS MIP whose first columns are the
    pairs ``idx`` (global pair ids), in that order; other columns are ignored."""
    import highspy

    status = highs.getModelStatus()
    info = highs.getInfo()
    bound = float(info.mip_dual_bound)
    bound = bound if math.isfinite(bound) and abs(bound) < 1e30 else -math.inf
    if status == highspy.HighsModelStatus.kInfeasible:
        return MipResult("INFEASIBLE", None, wall)
    if info.primal_solution_status != 2:  # 2: a feasible plan is known
        return MipResult("UNKNOWN", None, wall, bound)
    x = np.asarray(highs.getSolution().col_value)[: idx.size] > 0.5
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    chosen[model.pair_unit[idx[x]]] = idx[x]
    if (chosen < 0).any():
        return MipResult("UNKNOWN", None, wall, bound)
    optimal = status == highspy.HighsModelStatus.kOptimal
    return MipResult("OPTIMAL" if optimal else "FEASIBLE", chosen, wall, bound)


def solve_in_thread(
    highs: Any, deadline: Deadline, then: Callable[[threading.Thread], None]
) -> threading.Thread | None:
    """Start ``highs`` in its own thread, with ``deadline`` as its time limit (the only
    place a deadline becomes HiGHS's), and ``then(solving)`` in a watcher thread, which
    is returned; None, and nothing started, when no time is left."""
    seconds = deadline.seconds()
    if seconds <= 0:
        return None
    highs.setOptionValue("time_limit", seconds)
    solving = highs.startSolve()
    watcher = threading.Thread(target=then, args=(solving,), daemon=True)
    watcher.start()
    return watcher


_STDOUT_LOCK = threading.Lock()


def add_rows(highs: Any, matrix: Any, row_lo: np.ndarray, row_hi: np.ndarray) -> None:
    """Add the rows of a scipy CSR ``matrix`` with limits ``row_lo``/``row_hi`` to HiGHS."""
    highs.addRows(
        matrix.shape[0],
        row_lo,
        row_hi,
        matrix.nnz,
        matrix.indptr[:-1].astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data.astype(float),
    )


def quiet_highs(highspy: Any) -> Any:
    """A ``Highs`` instance with its output off.

    HiGHS prints a banner on the standard output when the first instance is made, before
    any option can be set; a library must not write there (``alloc solve`` may be piped),
    so the file descriptor is pointed at the null device for the construction.
    """
    import os
    import sys

    with _STDOUT_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    highs.setOptionValue("output_flag", False)
    # highspy keeps the locks of startSolve() on the class, shared by every instance: a
    # second HiGHS search in another thread (the branch and cut beside CP-SAT while the
    # LP relaxation runs) fails with "Solver is already running". Each instance gets
    # its own; HiGHS itself runs instances on different threads independently.
    if hasattr(highs, "_Highs__solver_stopped"):
        highs._Highs__solver_stopped = threading.RLock()
        highs._Highs__solver_started = threading.Lock()
    return highs


def _build(model: Model, rows: Rows, idx: np.ndarray, start: np.ndarray | None) -> Any:
    # Imported here: most solves never reach a HiGHS turn.
    import highspy
    from scipy.sparse import csr_matrix, vstack

    k = idx.size
    columns = np.arange(k)
    unit = model.pair_unit[idx]
    rep = model.pair_rep[idx]
    blocks = [csr_matrix((np.ones(k), (unit, columns)), shape=(model.n_units, k))]
    lower = [np.ones(model.n_units)]
    upper = [np.ones(model.n_units)]
    for h in np.flatnonzero(rows.pen_scale > 0).tolist():
        lo, hi = rows.raw_lo[h], rows.raw_hi[h]  # HiGHS's own tolerance (1e-7) is wider
        used = np.isfinite(lo) | np.isfinite(hi)
        if not used.any():
            continue
        a = csr_matrix((rows.weight[idx, h], (rep, columns)), shape=(model.n_reps, k))
        blocks.append(a[used])
        lower.append(lo[used])
        upper.append(hi[used])
    matrix = vstack(blocks).tocsr()
    inf = highspy.kHighsInf
    row_lo = np.concatenate(lower)
    row_hi = np.concatenate(upper)
    row_lo = np.where(np.isfinite(row_lo), row_lo, -inf)
    row_hi = np.where(np.isfinite(row_hi), row_hi, inf)

    highs = quiet_highs(highspy)
    # One thread: beside CP-SAT it takes one core, and HiGHS's MIP search is serial.
    highs.setOptionValue("threads", 1)
    # A zero gap: HiGHS's default (1e-4 relative) would stop up to 0.01 % short, and the
    # caller skips CP-SAT on a core HiGHS reports optimal.
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.HandleUserInterrupt = True  # cancelSolve() stops the search
    col_ids = columns.astype(np.int32)
    highs.addVars(k, np.zeros(k), np.ones(k))
    highs.changeColsCost(k, col_ids, np.asarray(model.cost, dtype=float)[idx])
    highs.changeColsIntegrality(k, col_ids, np.full(k, highspy.HighsVarType.kInteger))
    add_rows(highs, matrix, row_lo, row_hi)
    if start is not None:
        position = np.full(model.n_pairs, -1, dtype=np.int64)
        position[idx] = columns
        at = position[start]
        if (at >= 0).all():
            solution = highspy.HighsSolution()
            values = np.zeros(k)
            values[at] = 1.0
            solution.col_value = values.tolist()
            solution.value_valid = True
            highs.setSolution(solution)
    return highs
