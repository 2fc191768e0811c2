"""Parameter checks of [`rebalance`][alloc.rebalancing.rebalance] and
[`tradeoff`][alloc.rebalancing.tradeoff]: budgets, time, seed, incumbent, protect, value and
tolerance, each read into the form the search uses or rejected in alloc's one message
form (`alloc.validation`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from alloc.data.geography import needs_territory_solver
from alloc.data.model import Model
from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.solvers.staged import has_priorities
from alloc.validation import check_fraction, check_param, is_int, is_real_at_least, parse_flags

__all__ = [
    "check_budgets",
    "check_common",
    "check_disruption",
    "incumbent_series",
    "protected_mask",
    "tolerance_rows",
    "values",
]


def check_common(
    owner: str,
    problem: object,
    max_moves: object,
    max_moved_value: object,
    time_limit: object,
    seed: object,
) -> None:
    """The parameters both public functions share."""
    checks = [
        ("problem", type(problem).__name__, isinstance(problem, Problem), "an alloc.Problem"),
        (
            "max_moves",
            max_moves,
            max_moves is None or (is_int(max_moves) and is_real_at_least(max_moves, 0)),
            "None or a non-negative integer",
        ),
        (
            "max_moved_value",
            max_moved_value,
            max_moved_value is None or is_real_at_least(max_moved_value, 0),
            "None or a non-negative finite number",
        ),
        (
            "time_limit",
            time_limit,
            is_real_at_least(time_limit, 0, strict=True),
            "a positive number of seconds",
        ),
        ("seed", seed, is_int(seed), "an integer"),
    ]
    for name, value, ok, expected in checks:
        check_param(name, value, owner, bool(ok), expected)
    if isinstance(problem, Problem) and needs_territory_solver(problem.model):
        # Its moves ignore contiguity and chosen centres: refuse rather than return a
        # plan alloc.check rejects.
        raise InvalidProblemError(
            f"{owner} does not handle Contiguous rules or MinimizeDispersion with chosen "
            "centres or kind='max' yet. Solve with alloc.solve and a MinimizeDisruption "
            "term (few moves from the current plan) instead."
        )
    if isinstance(problem, Problem) and has_priorities(problem):
        # Its search knows neither global caps nor stages (issue 14).
        raise InvalidProblemError(
            f"{owner} does not handle Budget rules or a Lexicographic objective. Solve "
            "with alloc.solve (a Budget on MinimizeDisruption caps the moves) instead."
        )


#: What ``MinimizeDisruption`` terms count a move against in rebalancing.
DISRUPTION_BASES = ("incumbent", "owner")


def check_disruption(disruption: object, owner: str) -> str:
    """``disruption`` of [`rebalance`][alloc.rebalancing.rebalance]: ``"incumbent"`` or
    ``"owner"``."""
    check_param(
        "disruption",
        disruption,
        owner,
        disruption in DISRUPTION_BASES,
        "'incumbent' (moves away from the plan being repaired cost) or 'owner' (moves "
        "away from the terms' owner column cost)",
    )
    return str(disruption)


def check_budgets(budgets: object, owner: str) -> list[int]:
    """The budgets of [`tradeoff`][alloc.rebalancing.tradeoff] as a list (not yet sorted)."""
    if isinstance(budgets, str | bytes) or not isinstance(budgets, Iterable):
        raise InvalidParameterError(
            f"the 'budgets' parameter of {owner} must be an iterable of non-negative "
            f"integers; got {budgets!r}."
        )
    items = list(budgets)
    check_param(
        "budgets",
        items,
        owner,
        bool(items) and all(is_int(b) and b >= 0 for b in items),
        "a non-empty iterable of non-negative integers",
    )
    return items


def incumbent_series(problem: Problem, incumbent: object, owner: str) -> pd.Series:
    """The incumbent as a Series customer_id -> rep_id, its customers checked."""
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
    if isinstance(incumbent, pd.DataFrame):
        if {c_col, r_col} <= set(incumbent.columns):
            series = pd.Series(incumbent[r_col].to_numpy(), index=incumbent[c_col].to_numpy())
        else:
            raise InvalidParameterError(
                f"the 'incumbent' parameter of {owner} must be a Series customer_id -> rep_id "
                f"or a DataFrame with columns {c_col!r} and {r_col!r}; got a DataFrame with "
                f"columns {format_ids(map(str, incumbent.columns), 8)}."
            )
    elif isinstance(incumbent, dict):
        series = pd.Series(incumbent, dtype=object)
    elif isinstance(incumbent, pd.Series):
        series = incumbent
    else:
        raise InvalidParameterError(
            f"the 'incumbent' parameter of {owner} must be a pandas Series customer_id -> "
            f"rep_id (or a dict, or a DataFrame with the id columns); got "
            f"{type(incumbent).__name__}."
        )
    dup = series.index[series.index.duplicated()].unique()
    if len(dup):
        raise InvalidProblemError(
            f"incumbent names customers more than once: {format_ids(dup)}; give one rep per "
            f"customer."
        )
    unknown = series.index.difference(problem.customer_ids)
    if len(unknown):
        raise InvalidProblemError(
            f"incumbent names customers that are not in the problem: {format_ids(unknown)}. "
            f"Drop customers who left (incumbent.drop(ids)) or add them with "
            f"problem.with_customers(...)."
        )
    return series


def protected_mask(problem: Problem, protect: object, owner: str) -> np.ndarray:
    """Per customer: protected or not, from a flag column or a list of customer ids.

    A flag column is read by [`alloc.validation.parse_flags`][alloc.validation.parse_flags]: a cell
    that is not a yes/no value raises [`InvalidProblemError`][alloc.errors.InvalidProblemError]
    naming its rows.
    """
    n = problem.n_customers
    if protect is None:
        return np.zeros(n, dtype=bool)
    customers = problem.tables.customers
    if isinstance(protect, str):
        if protect not in customers.columns:
            raise InvalidParameterError(
                f"the 'protect' parameter of {owner} must be a customer column name or a list "
                f"of customer ids; {protect!r} is not a column (columns: "
                f"{format_ids(map(str, customers.columns), 12)})."
            )
        return parse_flags(customers[protect], column=protect, what="customers")
    if isinstance(protect, pd.Series | pd.Index | np.ndarray | list | tuple | set | frozenset):
        ids = list(
            protect.index[protect.astype(bool)]
            if isinstance(protect, pd.Series) and protect.dtype == bool
            else protect
        )
        codes = (
            problem.customer_ids.get_indexer(pd.Index(ids, dtype=object))
            if ids
            else np.zeros(0, np.int64)
        )
        missing = [i for i, c in zip(ids, codes, strict=True) if c < 0]
        if missing:
            raise InvalidProblemError(
                f"protect names customers that are not in the problem: {format_ids(missing)}."
            )
        mask = np.zeros(n, dtype=bool)
        mask[codes] = True
        return mask
    raise InvalidParameterError(
        f"the 'protect' parameter of {owner} must be None, a customer column name or a list "
        f"of customer ids; got {type(protect).__name__}."
    )


def values(problem: Problem, value: object, owner: str) -> np.ndarray:
    """Per customer: the value a move of it counts (1 each when ``value`` is None)."""
    if value is None:
        return np.ones(problem.n_customers)
    customers = problem.tables.customers
    ok = isinstance(value, str) and value in customers.columns
    if ok:
        series = pd.to_numeric(customers[value], errors="coerce")
        ok = bool(
            series.notna().all()
            and np.isfinite(series.to_numpy(float)).all()
            and (series >= 0).all()
        )
    check_param(
        "value",
        value,
        owner,
        ok,
        "None (count customers) or a numeric, non-negative customer column",
    )
    return np.asarray(customers[value].to_numpy(dtype=float))  # type: ignore[index]


def tolerance_rows(model: Model, n_rows: int, tolerance: object, owner: str) -> np.ndarray | None:
    """Target max deviation per model row (NaN: none), or None without a tolerance."""
    if tolerance is None:
        return None
    if not isinstance(tolerance, Mapping):
        check_param(
            "tolerance",
            tolerance,
            owner,
            is_real_at_least(tolerance, 0),
            "None, a number >= 0 (0.01 = 1 %) or a dict {metric: number}",
        )
        check_fraction("tolerance", tolerance, owner)
    # Soft windows (Balance(soft=True)) compile into imbalance rows too; a tolerance is
    # about the objective's MinimizeImbalance terms only.
    terms = [t for t in model.imbalances if not _soft_window(t)]
    metrics = [t.metric for t in terms]
    if not metrics:
        raise InvalidParameterError(
            f"the 'tolerance' parameter of {owner} must be None for a problem without "
            f"imbalance terms (add alloc.MinimizeImbalance(...) to the objective); "
            f"got {tolerance!r}."
        )
    if isinstance(tolerance, Mapping):
        unknown = [m for m in tolerance if m not in metrics]
        check_param(
            "tolerance",
            tolerance,
            owner,
            not unknown and all(is_real_at_least(v, 0) for v in tolerance.values()),
            f"a number >= 0 or a dict from imbalance metrics ({format_ids(metrics)}) "
            f"to numbers >= 0",
        )
        for v in tolerance.values():
            check_fraction("tolerance", v, owner)
        per_metric = {str(k): float(v) for k, v in tolerance.items()}
    else:
        per_metric = dict.fromkeys(metrics, float(tolerance))  # type: ignore[arg-type]
    tol = np.full(n_rows, np.nan)
    base = len(model.constraints)
    for j, term in enumerate(model.imbalances):
        if term.metric in per_metric and not _soft_window(term):
            tol[base + j] = per_metric[term.metric]
    return tol


def _soft_window(term: object) -> bool:
    """True for an imbalance row of a soft ``Balance`` window (its source is the rule)."""
    return hasattr(getattr(term, "source", None), "soft_terms")
