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

import math
import time

import numpy as np

from alloc.data.model import Model
from alloc.data.tolerance import OPTIMALITY_TOL
from alloc.solvers.deadline import Deadline
from alloc.solvers.lp import build_lp
from alloc.solvers.mip import MipResult
from alloc.solvers.state import Rows

__all__ = ["solve_float_mip"]


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
    import highspy

    t0 = time.perf_counter()
    seconds = deadline.seconds()  # the HiGHS wrapper: the deadline becomes seconds
    if seconds <= 0 or model.n_pairs == 0:
        return MipResult("UNKNOWN", None, 0.0)
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
    highs.setOptionValue("time_limit", seconds)
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
    highs.run()
    return _read(highs, model, time.perf_counter() - t0)


def _read(highs: object, model: Model, wall: float) -> MipResult:
    import highspy

    status = highs.getModelStatus()  # type: ignore[attr-defined]
    info = highs.getInfo()  # type: ignore[attr-defined]
    bound = float(info.mip_dual_bound)
    bound = bound if math.isfinite(bound) and abs(bound) < 1e30 else -math.inf
    if status == highspy.HighsModelStatus.kInfeasible:
        return MipResult("INFEASIBLE", None, wall)
    if info.primal_solution_status != 2:  # 2: a feasible plan is known
        return MipResult("UNKNOWN", None, wall, bound)
    x = np.asarray(highs.getSolution().col_value)[: model.n_pairs] > 0.5  # type: ignore[attr-defined]
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    chosen[model.pair_unit[x]] = np.flatnonzero(x)
    if (chosen < 0).any():
        return MipResult("UNKNOWN", None, wall, bound)
    optimal = status == highspy.HighsModelStatus.kOptimal
    return MipResult("OPTIMAL" if optimal else "FEASIBLE", chosen, wall, bound)
