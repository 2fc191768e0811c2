"""[`plan_prospecting`][alloc.leads.plan_prospecting]: which prospects each rep works, when.

Each rep has prospects (potential, conversion probability, effort in hours) and, per
period, the hours left after serving its book. The plan picks, for every rep, which
prospects to work in which period to maximise expected new potential::

    max  sum_{j, t} d^t p_j v_j x_jt
    s.t. sum_t x_jt <= 1                     (each prospect worked once at most)
         sum_{j of rep r} h_j x_jt <= free_rt (each rep's free hours per period)
         x_jt in {0, 1}

with ``d = 1 - discount`` (a discount makes earlier conversions worth more). A
prospect's effort is spent within one period. The reps' problems are independent (one
multi-period knapsack each); they are stacked into one block-diagonal MIP for HiGHS,
which solves such blocks exactly in well under a second at a few thousand prospects.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, SolverError, format_ids
from alloc.solvers.deadline import Deadline
from alloc.validation import check_param, is_real_at_least

__all__ = ["ProspectPlan", "plan_prospecting"]

_REL_GAP = 1e-6


@dataclass(frozen=True)
class ProspectPlan:
    """The outcome of [`plan_prospecting`][alloc.leads.plan_prospecting].

    Attributes
    ----------
    status : str
        ``"OPTIMAL"`` (proven within a relative gap of 1e-6), ``"FEASIBLE"`` (time limit)
        or ``"UNKNOWN"`` (no plan in time; ``plan`` is then empty).
    plan : pandas.DataFrame
        One row per planned prospect: ``prospect_id, rep_id, period, hours,
        expected_potential`` (``p_convert * potential``, undiscounted).
    by_rep_period : pandas.DataFrame
        ``rep_id, period, free_hours, planned_hours, expected_potential``.
    expected_potential : float
        Total expected new potential of the plan (undiscounted).
    bound : float or None
        Proven upper bound on the discounted objective.
    seconds : float
        Wall time of the solve.
    """

    status: str
    plan: pd.DataFrame
    by_rep_period: pd.DataFrame
    expected_potential: float
    bound: float | None
    seconds: float


def _free_hours(capacity: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(capacity, pd.DataFrame):
        raise InvalidParameterError(
            "the 'capacity' parameter of plan_prospecting must be a DataFrame (rep_id, "
            f"period, free_hours); got {type(capacity).__name__}."
        )
    if "free_hours" in capacity.columns:
        free = pd.to_numeric(capacity["free_hours"], errors="coerce")
    elif {"hours", "book_hours"} <= set(capacity.columns):
        free = pd.to_numeric(capacity["hours"], errors="coerce") - pd.to_numeric(
            capacity["book_hours"], errors="coerce"
        )
    else:
        raise InvalidProblemError(
            "the capacity table needs 'free_hours', or 'hours' and 'book_hours' (free = "
            f"hours - book_hours); it has {format_ids(list(map(str, capacity.columns)), 12)}."
        )
    missing = [c for c in ("rep_id", "period") if c not in capacity.columns]
    if missing:
        raise InvalidProblemError(f"the capacity table lacks column(s) {format_ids(missing)}.")
    bad = ~np.isfinite(free.to_numpy(dtype=float)) | (free.to_numpy(dtype=float) < 0)
    if bad.any():
        rows = capacity[bad]
        cells = list(zip(rows["rep_id"].tolist(), rows["period"].tolist(), strict=True))
        raise InvalidProblemError(
            f"free hours must be finite and >= 0; (rep_id, period) {format_ids(cells)} have "
            f"{format_ids(free[bad].tolist())} (book hours above the rep's hours?)."
        )
    table = pd.DataFrame(
        {"rep_id": capacity["rep_id"], "period": capacity["period"], "free_hours": free}
    )
    dup = table.duplicated(["rep_id", "period"])
    if dup.any():
        cells = list(zip(table["rep_id"][dup], table["period"][dup], strict=True))
        raise InvalidProblemError(
            f"the capacity table repeats (rep_id, period) {format_ids(cells)}."
        )
    return table.sort_values(["rep_id", "period"], kind="stable").reset_index(drop=True)


def _check_prospects(prospects: pd.DataFrame, reps: set[object]) -> pd.DataFrame:
    if not isinstance(prospects, pd.DataFrame):
        raise InvalidParameterError(
            "the 'prospects' parameter of plan_prospecting must be a DataFrame; got "
            f"{type(prospects).__name__}."
        )
    needed = ["prospect_id", "rep_id", "potential", "p_convert", "effort_hours"]
    missing = [c for c in needed if c not in prospects.columns]
    if missing:
        raise InvalidProblemError(f"the prospects table lacks column(s) {format_ids(missing)}.")
    dup = prospects["prospect_id"][prospects["prospect_id"].duplicated()].unique().tolist()
    if dup:
        raise InvalidProblemError(f"prospect ids must be unique; {format_ids(dup)} repeat.")
    unknown = sorted(set(prospects["rep_id"]) - reps, key=str)
    if unknown:
        raise InvalidProblemError(
            f"prospects name reps {format_ids(unknown)} that have no row in the capacity "
            "table; add their free hours."
        )
    for column, low, high in (
        ("potential", 0.0, math.inf),
        ("p_convert", 0.0, 1.0),
        ("effort_hours", 0.0, math.inf),
    ):
        x = pd.to_numeric(prospects[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x) | (x < low) | (x > high)
        if column == "effort_hours":
            bad |= x <= 0
        if bad.any():
            raise InvalidProblemError(
                f"column {column!r} of prospects must be in "
                f"{'(0, inf)' if column == 'effort_hours' else f'[{low:g}, {high:g}]'}; prospects "
                f"{format_ids(prospects['prospect_id'][bad].tolist())} have "
                f"{format_ids(prospects[column][bad].tolist())}."
            )
    return prospects


def plan_prospecting(
    prospects: pd.DataFrame,
    capacity: pd.DataFrame,
    *,
    discount: float = 0.0,
    time_limit: float = 30.0,
) -> ProspectPlan:
    """Plan prospecting hours per rep and period to maximise expected new potential.

    Parameters
    ----------
    prospects : pandas.DataFrame
        ``prospect_id, rep_id, potential`` (>= 0), ``p_convert`` (in [0, 1]) and
        ``effort_hours`` (> 0, spent within one period).
    capacity : pandas.DataFrame
        ``rep_id, period`` and ``free_hours``, or ``hours`` and ``book_hours`` (the
        free hours are what is left after serving the book).
    discount : float
        Per-period discount in [0, 1): a conversion ``t`` periods later (in the order
        of each rep's periods) is worth ``(1 - discount) ** t``.
    time_limit : float
        Seconds for HiGHS.

    Returns
    -------
    ProspectPlan

    Examples
    --------
    >>> prospects = pd.DataFrame({"prospect_id": ["a", "b", "c"], "rep_id": "r1",
    ...     "potential": [100.0, 80.0, 60.0], "p_convert": [0.2, 0.5, 0.5],
    ...     "effort_hours": [10.0, 8.0, 5.0]})
    >>> capacity = pd.DataFrame({"rep_id": "r1", "period": [1, 2], "free_hours": [10.0, 5.0]})
    >>> plan = plan_prospecting(prospects, capacity)
    >>> plan.status, plan.expected_potential, sorted(plan.plan["prospect_id"])
    ('OPTIMAL', 70.0, ['b', 'c'])
    """
    check_param(
        "discount",
        discount,
        "plan_prospecting",
        is_real_at_least(discount, 0) and float(discount) < 1,
        "a number in [0, 1)",
    )
    check_param(
        "time_limit",
        time_limit,
        "plan_prospecting",
        is_real_at_least(time_limit, 0, strict=True),
        "a number of seconds > 0",
    )
    free = _free_hours(capacity)
    prospects = _check_prospects(prospects, set(free["rep_id"]))
    deadline = Deadline.after(float(time_limit))
    t0 = time.perf_counter()
    # Columns: every (prospect, period of its rep) whose effort fits the period.
    free["step"] = free.groupby("rep_id", sort=False).cumcount()
    pairs = prospects[
        ["prospect_id", "rep_id", "potential", "p_convert", "effort_hours"]
    ].reset_index(drop=True)
    pairs["j"] = np.arange(len(pairs))
    cols = pairs.merge(free.reset_index().rename(columns={"index": "cell"}), on="rep_id")
    cols = cols[cols["effort_hours"] <= cols["free_hours"] + 1e-9].reset_index(drop=True)
    value = (cols["p_convert"] * cols["potential"]).to_numpy(dtype=float)
    weight = (1.0 - float(discount)) ** cols["step"].to_numpy(dtype=float)
    chosen, status, bound = _solve(
        cols,
        value * weight,
        len(pairs),
        len(free),
        free["free_hours"].to_numpy(dtype=float),
        deadline,
    )
    picked = cols[chosen] if chosen is not None else cols.iloc[:0]
    plan = pd.DataFrame(
        {
            "prospect_id": picked["prospect_id"].to_numpy(),
            "rep_id": picked["rep_id"].to_numpy(),
            "period": picked["period"].to_numpy(),
            "hours": picked["effort_hours"].to_numpy(dtype=float),
            "expected_potential": (picked["p_convert"] * picked["potential"]).to_numpy(dtype=float),
        }
    )
    used = plan.groupby(["rep_id", "period"])[["hours", "expected_potential"]].sum()
    table = (
        free[["rep_id", "period", "free_hours"]]
        .merge(
            used.rename(columns={"hours": "planned_hours"}).reset_index(),
            on=["rep_id", "period"],
            how="left",
        )
        .fillna({"planned_hours": 0.0, "expected_potential": 0.0})
    )
    # The plan is re-checked on the tables, not trusted from the solver.
    if (table["planned_hours"] > table["free_hours"] + 1e-6).any() or plan[
        "prospect_id"
    ].duplicated().any():
        raise SolverError("plan_prospecting: HiGHS returned a plan that breaks a rep's free hours")
    return ProspectPlan(
        status,
        plan,
        table,
        float(plan["expected_potential"].sum()),
        bound,
        time.perf_counter() - t0,
    )


def _solve(
    cols: pd.DataFrame,
    objective: np.ndarray,
    n_prospects: int,
    n_cells: int,
    free: np.ndarray,
    deadline: Deadline,
) -> tuple[np.ndarray | None, str, float | None]:
    import highspy
    from scipy.sparse import csr_matrix, vstack

    from alloc.solvers.mip import quiet_highs

    k = len(cols)
    if k == 0:
        return np.zeros(0, dtype=bool), "OPTIMAL", 0.0
    at = np.arange(k)
    matrix = vstack(
        [
            csr_matrix((np.ones(k), (cols["j"].to_numpy(), at)), shape=(n_prospects, k)),
            csr_matrix(
                (cols["effort_hours"].to_numpy(dtype=float), (cols["cell"].to_numpy(), at)),
                shape=(n_cells, k),
            ),
        ]
    ).tocsr()
    inf = highspy.kHighsInf
    highs = quiet_highs(highspy)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", _REL_GAP)
    highs.setOptionValue("time_limit", max(deadline.seconds(), 1e-3))
    highs.addVars(k, np.zeros(k), np.ones(k))
    highs.changeColsCost(k, at.astype(np.int32), -objective)
    highs.changeColsIntegrality(k, at.astype(np.int32), np.full(k, highspy.HighsVarType.kInteger))
    highs.addRows(
        matrix.shape[0],
        np.full(matrix.shape[0], -inf),
        np.r_[np.ones(n_prospects), free],
        matrix.nnz,
        matrix.indptr[:-1].astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data.astype(float),
    )
    highs.run()
    info = highs.getInfo()
    dual = -float(info.mip_dual_bound)
    bound = dual if math.isfinite(dual) and abs(dual) < 1e30 else None
    if info.primal_solution_status != 2:
        return None, "UNKNOWN", bound
    x = np.asarray(highs.getSolution().col_value, dtype=float) > 0.5
    optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return x, "OPTIMAL" if optimal else "FEASIBLE", bound
