"""The whole model as a MIP in floats (HiGHS): a proof where CP-SAT's integer model is
approximate.

CP-SAT needs integers. Distances in floats, or imbalance terms whose reference loads are
not small rationals (fair shares by ``fte`` 0.8 : 1.5, soft windows at 0.814 of a share),
are scaled approximately, so CP-SAT's OPTIMAL is then no proof and a tiny problem came
back FEASIBLE with a bound below its optimum (fuzzing: 9 customers x 3 reps, a soft
window on potential by fte and travel: FEASIBLE, gap 0.2 %). HiGHS keeps the data in
floats: this module gives it the LP relaxation of `alloc.solvers.lp` (assignment rows,
every hard row at its raw limits, a deviation column per max-norm term and per rep of a
sum-norm term, the ``Budget`` rows) with the pair columns made integer. Its dual bound is
the bound of a relaxation (HiGHS's feasibility tolerances only widen the rows), so it is
valid; a plan is returned only when HiGHS has one, and the caller re-scores it on the
raw rows before keeping it. Meant for models of at most a few thousand pairs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from alloc.data.model import Model
from alloc.data.tolerance import OPTIMALITY_TOL, bound_closes
from alloc.solvers.deadline import Deadline
from alloc.solvers.lp import build_lp
from alloc.solvers.mip import MipResult, read_result, solve_in_thread
from alloc.solvers.state import Rows, score_of

__all__ = ["FloatMipSearch", "solve_float_mip"]


def solve_float_mip(
    model: Model, rows: Rows, deadline: Deadline, start: np.ndarray | None = None
) -> MipResult:
    """Minimise the model's objective exactly (in floats) with HiGHS's branch and cut.

    Parameters
    ----------
    model, rows : Model, Rows
        The compiled model and its rows (``Rows.from_model(model)``).
    deadline : Deadline
        HiGHS stops there (its bound and best plan then stand).
    start : ndarray, optional
        A chosen pair per unit, handed to HiGHS as its first plan.

    Returns
    -------
    MipResult
        ``status`` "OPTIMAL" (HiGHS proved its plan optimal), "FEASIBLE", "INFEASIBLE"
        (within HiGHS's tolerances: no proof on the raw rows) or "UNKNOWN"; ``bound`` is
        HiGHS's dual bound (``-inf`` without one).
    """
    return FloatMipSearch(model, rows, deadline, start=start).start().finish(wait=True)


class FloatMipSearch:
    """`solve_float_mip` in a background thread, to run beside CP-SAT.

    ``start()`` returns at once; ``proved`` is set when HiGHS ends with a proven
    optimum (CP-SAT's ``stop``); ``finish(wait=...)`` waits for HiGHS to end (at the
    deadline at the latest) or stops it, and returns what it has. HiGHS's search runs
    in its own thread and releases the GIL (`alloc.solvers.mip`).
    """

    def __init__(
        self, model: Model, rows: Rows, deadline: Deadline, start: np.ndarray | None = None
    ) -> None:
        self._model = model
        self._rows = rows
        self._deadline = deadline
        self._t0 = time.perf_counter()
        self._thread: threading.Thread | None = None
        self._result: MipResult | None = None
        self._error: BaseException | None = None
        self.proved = threading.Event()
        if model.n_pairs == 0:
            self._result = MipResult("UNKNOWN", None, 0.0)
            return
        self._highs = _configured(model, rows, start)

    def start(self) -> FloatMipSearch:
        if self._result is None:
            self._thread = solve_in_thread(self._highs, self._deadline, self._wait)
            if self._thread is None:
                self._result = MipResult("UNKNOWN", None, 0.0)
        return self

    def _wait(self, solving: threading.Thread) -> None:
        try:
            self._read(solving)
        except BaseException as error:  # raised again by finish(), in the caller's thread
            self._error = error

    def _read(self, solving: threading.Thread) -> None:
        solving.join()
        wall = time.perf_counter() - self._t0
        res = read_result(self._highs, self._model, np.arange(self._model.n_pairs), wall)
        self._result = res
        # CP-SAT is stopped only for a plan that meets the raw rows and whose objective
        # meets HiGHS's bound: a proof within HiGHS's tolerances alone (huge or tiny
        # values) must not cut short CP-SAT's own proof.
        if res.status == "OPTIMAL" and res.chosen is not None:
            rows, chosen = self._rows, res.chosen
            score = score_of(self._model, rows, chosen, rows.loads(self._model, chosen))
            if score.penalty == 0 and bound_closes(score.objective, res.bound):
                self.proved.set()

    def finish(self, *, wait: bool) -> MipResult:
        """HiGHS's result; ``wait=False`` stops a search still running first."""
        if self._result is not None:
            return self._result
        assert self._thread is not None, "finish() before start()"
        if not wait:
            self._highs.cancelSolve()
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def _configured(model: Model, rows: Rows, start: np.ndarray | None) -> Any:
    """The HiGHS instance: the LP of `alloc.solvers.lp` with integer pair columns."""
    import highspy

    highs, n_cols = build_lp(model, rows, with_budgets=True)
    # The LP's settings (interior point, no crossover, no presolve) suit one large LP;
    # a branch and cut wants HiGHS's defaults with a zero gap.
    highs.setOptionValue("solver", "choose")
    highs.setOptionValue("presolve", "on")
    highs.setOptionValue("run_crossover", "on")
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", OPTIMALITY_TOL)  # what proves a plan (bound_closes)
    # alloc's rows hold to 1e-9 (data.tolerance); at HiGHS's 1e-6 it found plans that
    # break a window by 1e-6 and a bound that far below the true optimum.
    highs.setOptionValue("mip_feasibility_tolerance", 1e-9)
    highs.setOptionValue("primal_feasibility_tolerance", 1e-9)
    highs.HandleUserInterrupt = True  # cancelSolve() stops the search (FloatMipSearch)
    pairs = np.arange(model.n_pairs, dtype=np.int32)
    kinds = np.full(model.n_pairs, highspy.HighsVarType.kInteger)
    highs.changeColsIntegrality(model.n_pairs, pairs, kinds)
    if start is not None and (start >= 0).all():
        solution = highspy.HighsSolution()
        values = np.zeros(n_cols)
        values[start] = 1.0
        solution.col_value = values.tolist()  # deviation columns: HiGHS completes them
        solution.value_valid = True
        highs.setSolution(solution)
    return highs
