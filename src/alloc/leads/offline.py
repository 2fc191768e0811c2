"""[`hindsight`][alloc.leads.hindsight]: the offline optimum over the whole horizon.

Knowing every lead in advance, route them to maximise total expected value with the
same hard caps (per rep and period) and the same fairness window as the routers, on
the final counts::

    max  sum_p ev_p x_p
    s.t. sum_{p of lead i} x_p <= 1                    (each lead at most once)
         sum_{p of rep r, period t} x_p <= cap_r       (caps)
         y_r <= (1 + f) w_r Y,  y_r >= (1 - f) w_r Y   (window; Y = leads routed)
         x_p in {0, 1}                                 (or [0, 1] for the LP bound)

Leads may be left out (the fallback queue), so the model is always feasible. HiGHS
(``highspy``) solves the MIP within a time limit; ``method="lp"`` solves the LP
relaxation only, a valid upper bound on every router under the same caps and window.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.leads.data import LeadInputs, WinProb, prepare_inputs
from alloc.leads.reporting import FALLBACK_AT_CAP, FALLBACK_NO_REP, rep_table, route_table
from alloc.solvers.deadline import Deadline
from alloc.validation import check_fraction, check_param, is_real_at_least

__all__ = ["HINDSIGHT_LEFT_OUT", "Hindsight", "hindsight"]

#: Reason of a lead with an eligible rep that the optimum leaves out.
HINDSIGHT_LEFT_OUT = "fallback: left out by the optimum"
#: Relative gap at which HiGHS may stop and report its plan optimal.
MIP_REL_GAP = 1e-6


@dataclass(frozen=True)
class Hindsight:
    """The outcome of [`hindsight`][alloc.leads.hindsight].

    Attributes
    ----------
    status : str
        ``"OPTIMAL"`` (proven within a relative gap of 1e-6), ``"FEASIBLE"`` (a plan,
        the time limit stopped the proof), ``"BOUND"`` (the LP relaxation's bound and
        no plan: ``method="lp"``, or the MIP found no plan in time) or ``"UNKNOWN"``
        (no plan and no bound in time).
    expected_value : float or None
        Expected value of the plan (``None`` without a plan).
    bound : float or None
        A proven upper bound on the expected value of any routing with these caps and
        this window (``None`` when none was proven).
    routes, by_rep : pandas.DataFrame or None
        As for [`Simulation`][alloc.leads.Simulation], for the plan (``None`` without one).
    seconds : float
        Wall time of the solve.
    """

    status: str
    expected_value: float | None
    bound: float | None
    routes: pd.DataFrame | None
    by_rep: pd.DataFrame | None
    seconds: float

    @property
    def gap(self) -> float | None:
        """``(bound - expected_value) / bound`` when both are known."""
        if self.expected_value is None or self.bound is None or self.bound <= 0:
            return None
        return max(0.0, (self.bound - self.expected_value) / self.bound)


def _model(inputs: LeadInputs, fairness: float, integral: bool) -> Any:
    import highspy
    from scipy.sparse import csr_matrix, vstack

    from alloc.solvers.mip import add_rows, quiet_highs

    k = inputs.pair_lead.size
    n_reps = inputs.n_reps
    n_cols = k + 1  # the pairs, then Y
    cols = np.arange(k)
    ev = inputs.pair_p * inputs.value[inputs.pair_lead]
    period = inputs.period_of_lead[inputs.pair_lead]
    cell = period * n_reps + inputs.pair_rep
    used_cells, cell_row = np.unique(cell, return_inverse=True)
    used_leads, lead_row = np.unique(inputs.pair_lead, return_inverse=True)
    share = inputs.weight_share
    reps = np.arange(n_reps)

    def window(coef: np.ndarray) -> csr_matrix:
        r = np.concatenate([inputs.pair_rep, reps])
        c = np.concatenate([cols, np.full(n_reps, k)])
        return csr_matrix((np.r_[np.ones(k), -coef], (r, c)), shape=(n_reps, n_cols))

    blocks = [
        csr_matrix((np.ones(k), (lead_row, cols)), shape=(used_leads.size, n_cols)),
        csr_matrix((np.ones(k), (cell_row, cols)), shape=(used_cells.size, n_cols)),
        csr_matrix(
            (np.r_[np.ones(k), -1.0], (np.zeros(k + 1, dtype=np.int64), np.r_[cols, k])),
            shape=(1, n_cols),
        ),
        window((1.0 + fairness) * share),
        window((1.0 - fairness) * share),
    ]
    matrix = vstack(blocks).tocsr()
    inf = highspy.kHighsInf
    row_lo = np.concatenate(
        [
            np.full(used_leads.size + used_cells.size, -inf),
            [0.0],
            np.full(n_reps, -inf),
            np.zeros(n_reps),
        ]
    )
    row_hi = np.concatenate(
        [
            np.ones(used_leads.size),
            inputs.cap[used_cells % n_reps].astype(float),
            [0.0],
            np.zeros(n_reps),
            np.full(n_reps, inf),
        ]
    )
    highs = quiet_highs(highspy)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    upper = np.r_[np.ones(k), inf]
    highs.addVars(n_cols, np.zeros(n_cols), upper)
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), np.r_[-ev, 0.0])
    if integral:
        highs.changeColsIntegrality(
            k, cols.astype(np.int32), np.full(k, highspy.HighsVarType.kInteger)
        )
    add_rows(highs, matrix, row_lo, row_hi)
    return highs


def _read(highs: Any, integral: bool, k: int) -> tuple[str, np.ndarray | None, float | None]:
    import highspy

    status = highs.getModelStatus()
    info = highs.getInfo()
    has_plan = info.primal_solution_status == 2
    if not integral:
        if status == highspy.HighsModelStatus.kOptimal:
            return "BOUND", None, -float(info.objective_function_value)
        return "UNKNOWN", None, None
    dual = -float(info.mip_dual_bound)
    bound = dual if math.isfinite(dual) and abs(dual) < 1e30 else None
    if not has_plan:
        return "UNKNOWN", None, bound
    x = np.asarray(highs.getSolution().col_value, dtype=float)[:k] > 0.5
    if status == highspy.HighsModelStatus.kOptimal:
        return "OPTIMAL", x, bound
    return "FEASIBLE", x, bound


def hindsight(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    win_prob: WinProb,
    *,
    capacity: str = "daily_cap",
    fairness: float = 0.1,
    method: str = "mip",
    time_limit: float = 120.0,
    seed: int = 0,
) -> Hindsight:
    """The offline optimum: every lead known in advance, same caps and fairness window.

    Parameters
    ----------
    leads, reps, win_prob, capacity :
        As for [`simulate`][alloc.leads.simulate].
    fairness : float
        Each rep's final share of routed leads must lie within ``(1 +- fairness)`` of
        its weight share.
    method : {"mip", "lp"}
        ``"lp"``: the LP relaxation only (a bound; 20,000 leads x 10 eligible reps take
        8-35 s). ``"mip"``: the LP relaxation, then HiGHS branch-and-cut with the
        time left for a plan (and a tighter bound); on long horizons the MIP may find
        no plan in time, and the result is then the LP bound (status ``"BOUND"``).
    time_limit : float
        Seconds for HiGHS.
    seed : int
        Seeds the won/lost draws of the plan's routes (as in ``simulate``).

    Returns
    -------
    Hindsight

    Examples
    --------
    >>> import alloc.leads as al
    >>> s = al.make_leads(n_leads=200, n_reps=10, n_days=5, seed=0)
    >>> best = al.hindsight(s.leads, s.reps, s.win_prob, fairness=0.2)
    >>> best.status, best.gap is not None and best.gap < 1e-5
    ('OPTIMAL', True)
    """
    check_fraction("fairness", fairness, "hindsight")
    check_param("method", method, "hindsight", method in ("mip", "lp"), "'mip' or 'lp'")
    check_param(
        "time_limit",
        time_limit,
        "hindsight",
        is_real_at_least(time_limit, 0, strict=True),
        "a number of seconds > 0",
    )
    inputs = prepare_inputs(leads, reps, win_prob, capacity=capacity, owner="hindsight")
    deadline = Deadline.after(float(time_limit))
    t0 = time.perf_counter()
    integral = method == "mip"
    if inputs.pair_lead.size == 0:
        return _empty(inputs, integral, seed, time.perf_counter() - t0)
    # The LP relaxation first: its optimum is a valid bound even when the MIP search
    # runs out of time before it has a plan or a bound of its own.
    relaxed = _model(inputs, float(fairness), integral=False)
    relaxed.setOptionValue("time_limit", max(deadline.seconds(), 1e-3))
    relaxed.run()
    status, chosen, bound = _read(relaxed, False, inputs.pair_lead.size)
    if integral and not deadline.expired():
        highs = _model(inputs, float(fairness), integral=True)
        highs.setOptionValue("time_limit", max(deadline.seconds(), 1e-3))
        highs.run()
        mip_status, chosen, mip_bound = _read(highs, True, inputs.pair_lead.size)
        if mip_bound is not None:
            bound = mip_bound if bound is None else min(bound, mip_bound)
        if chosen is not None:
            status = mip_status
    seconds = time.perf_counter() - t0
    if chosen is None:
        return Hindsight(status, None, bound, None, None, seconds)
    assign = np.full(inputs.n_leads, -1, dtype=np.int64)
    assign[inputs.pair_lead[chosen]] = inputs.pair_rep[chosen]
    return _with_routes(inputs, assign, status, bound, seed, seconds)


def _with_routes(
    inputs: LeadInputs,
    assign: np.ndarray,
    status: str,
    bound: float | None,
    seed: int,
    seconds: float,
) -> Hindsight:
    has_pair = np.zeros(inputs.n_leads, dtype=bool)
    has_pair[inputs.pair_lead] = True
    # A lead left out while one of its reps still had room was left out by choice (the
    # window); otherwise the caps left no room for it.
    per = np.zeros((inputs.n_periods, inputs.n_reps), dtype=np.int64)
    routed = assign >= 0
    np.add.at(per, (inputs.period_of_lead[routed], assign[routed]), 1)
    room = (
        per[inputs.period_of_lead[inputs.pair_lead], inputs.pair_rep] < inputs.cap[inputs.pair_rep]
    )
    full = has_pair.copy()
    full[inputs.pair_lead[room]] = False
    reason = np.where(
        routed, "hindsight optimum", np.where(full, FALLBACK_AT_CAP, HINDSIGHT_LEFT_OUT)
    ).astype(object)
    reason = np.where(has_pair, reason, FALLBACK_NO_REP)
    routes = route_table(inputs, assign, reason, seed)
    value = float(routes["expected_value"].sum())
    if bound is not None:
        bound = max(bound, value)  # the plan's own value (HiGHS tolerances aside)
    return Hindsight(status, value, bound, routes, rep_table(inputs, assign, routes), seconds)


def _empty(inputs: LeadInputs, integral: bool, seed: int, seconds: float) -> Hindsight:
    """No eligible pair at all: every lead goes to the fallback queue, value 0."""
    assign = np.full(inputs.n_leads, -1, dtype=np.int64)
    if not integral:
        return Hindsight("BOUND", None, 0.0, None, None, seconds)
    return _with_routes(inputs, assign, "OPTIMAL", 0.0, seed, seconds)
