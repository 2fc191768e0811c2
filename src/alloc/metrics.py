"""Fairness and fit figures for any assignment (a solver's, the status quo, a policy's).

Figures are computed from the problem's tables through the independent checker's
load function, never from solver state, so the same numbers describe every plan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from alloc import objectives as O
from alloc import rules as R
from alloc.checker import _as_series, check, objective_value, rep_loads
from alloc.data.problem import Problem

__all__ = ["evaluate", "gini", "loads_table"]


def gini(values: np.ndarray | pd.Series) -> float:
    """Gini coefficient of non-negative values (0 = all equal)."""
    v = np.sort(np.asarray(values, dtype=float))
    if v.size == 0 or v.sum() <= 0:
        return 0.0
    n = v.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def _share_column(problem: Problem, metric: str) -> str | None:
    for item in (*problem.objective, *problem.rules):
        if isinstance(item, (O.MinimizeImbalance, R.Balance)) and item.metric == metric:
            return item.share
    return None


def _customer_metrics(problem: Problem) -> list[str]:
    cols = set(problem.customers.columns)
    return [m for m in problem.metric_names() if m in cols]


def loads_table(problem: Problem, assignment: Any) -> pd.DataFrame:
    """Per-rep count and load of every metric a rule or term uses, with share and deviation.

    For a customer metric ``m``: ``m`` (load), ``m_share`` (fair share) and ``m_dev``
    (``(load - share) / share``). Pair metrics (fit, cost) show the load only.
    """
    a = _as_series(problem, assignment)
    frame = pd.DataFrame({"count": rep_loads(problem, a, None).astype(int)})
    customer_cols = set(problem.customers.columns)
    for metric in problem.metric_names():
        load = rep_loads(problem, a, metric)
        frame[metric] = load
        if metric in customer_cols:
            total = float(problem.customers[metric].astype(float).sum())
            share_col = _share_column(problem, metric)
            w = (
                pd.Series(1.0, index=problem.rep_ids)
                if share_col is None
                else problem.reps[share_col].astype(float)
            )
            share = total * w / w.sum()
            frame[f"{metric}_share"] = share
            with np.errstate(divide="ignore", invalid="ignore"):
                frame[f"{metric}_dev"] = np.where(share > 0, (load - share) / share, 0.0)
    frame.index.name = problem.id_columns["rep"]
    return frame


def evaluate(problem: Problem, assignment: Any) -> dict[str, Any]:
    """Metrics of any complete assignment: objective, feasibility, fairness and fit.

    Returns a flat dict: ``objective``, ``feasible``, ``violations`` (count), and for each
    customer metric ``m``: ``m_max_dev`` (max |relative deviation|), ``m_range``
    (max - min relative deviation), ``m_cv``, ``m_gini``, ``m_max``, ``m_min``; for pair
    metrics their total; ``count_cv``; and ``moves`` (customers not with their current
    owner) when a ``MinimizeDisruption`` term names the owner column.

    Examples
    --------
    >>> import pandas as pd, alloc
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "potential": [4.0, 3, 1]})
    >>> reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    >>> p = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    >>> alloc.evaluate(p, pd.Series({"a": "r1", "b": "r2", "c": "r2"}))["potential_max_dev"]
    0.0
    """
    a = _as_series(problem, assignment)
    loads = loads_table(problem, a)
    violations = check(problem, a)
    out: dict[str, Any] = {
        "objective": objective_value(problem, a),
        "feasible": not violations,
        "violations": len(violations),
    }
    cols = set(problem.customers.columns)
    for metric in problem.metric_names():
        load = loads[metric]
        if metric in cols:
            dev = loads[f"{metric}_dev"]
            out[f"{metric}_max_dev"] = float(dev.abs().max())
            out[f"{metric}_range"] = float(dev.max() - dev.min())
            mean = float(load.mean())
            out[f"{metric}_cv"] = float(load.std(ddof=0) / mean) if mean > 0 else 0.0
            out[f"{metric}_gini"] = gini(load.clip(lower=0))
            out[f"{metric}_max"] = float(load.max())
            out[f"{metric}_min"] = float(load.min())
        else:
            out[f"{metric}_total"] = float(load.sum())
    counts = loads["count"].astype(float)
    out["count_cv"] = float(counts.std(ddof=0) / counts.mean()) if counts.mean() > 0 else 0.0
    owner_col = next(
        (t.owner_col for t in problem.objective if isinstance(t, O.MinimizeDisruption)), None
    )
    if owner_col is None and "owner" in cols:
        owner_col = "owner"
    if owner_col is not None:
        owner = problem.customers[owner_col].reindex(a.index)
        out["moves"] = int((owner.notna() & (owner.to_numpy() != a.to_numpy())).sum())
    return out
