"""Periods and parts: seasonality weights from sales history, and exact splits of a total.

* [`seasonality`][alloc.targets.seasonality] turns sales history into period weights (months or
  quarters).
* [`split`][alloc.targets.split] divides a total by weights with the largest remainder (Hamilton)
  method, honouring floors and caps; the parts are multiples of ``unit`` and sum exactly to the
  total.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from alloc.errors import AllocWarning, InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import (
    BoundsLike,
    FloatArray,
    NoWeight,
    WeightsLike,
    as_weights,
    bound_values,
    cap_units,
    check_bounds,
    check_unit,
    floor_units,
    from_units,
    split_units,
    to_units,
)
from alloc.validation import check_param, is_int

__all__ = ["seasonality", "split"]


def seasonality(
    history: pd.DataFrame,
    date_col: str,
    value_col: str,
    *,
    freq: Literal["M", "Q"] = "M",
    years: Sequence[int] | None = None,
) -> pd.Series:
    """Period weights (months or quarters) from sales history, summing to 1.

    Each year's values are summed per period and turned into that year's *share
    profile* (period value / year value); the weights are the mean of the yearly
    profiles, so every year counts equally whatever its volume, and are normalised to
    sum to 1.

    Missing periods: a period with no rows in a year counts as 0 for that year. Such a
    year may be only partly covered by the history (e.g. data starting in March), which
    would bias the profile, so the missing periods are reported: an
    [`AllocWarning`][alloc.errors.AllocWarning] names them, and the result's
    ``attrs["missing_periods"]`` maps each affected year to its missing periods
    (``{}`` when there are none). Pass ``years=`` to leave partial years out.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per sale (or per period), with a date column and a value column.
    date_col : str
        Column with the dates (datetimes or strings pandas can parse).
    value_col : str
        Column with the values (revenue, volume, ...); must be numeric. Returns
        (negative rows) are allowed as long as no period of a year is negative overall.
    freq : {"M", "Q"}, default "M"
        Months (index 1..12) or quarters (index 1..4).
    years : sequence of int, optional
        Calendar years to use; all years present in the history by default.

    Returns
    -------
    pandas.Series
        Weights named ``"weight"``, indexed by period (``"month"`` 1..12 or
        ``"quarter"`` 1..4), summing to 1. ``attrs["years"]`` lists the years used and
        ``attrs["missing_periods"]`` the periods without rows, by year.

    Raises
    ------
    InvalidProblemError
        Missing columns, unparseable dates, non-numeric values, requested years absent
        from the history, a negative period total, or a year whose total is not positive.
    InvalidParameterError
        ``freq`` is not ``"M"`` or ``"Q"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.targets import seasonality
    >>> history = pd.DataFrame({
    ...     "date": pd.to_datetime(["2023-01-15", "2023-04-02", "2023-07-09",
    ...                             "2023-10-20", "2024-02-11", "2024-05-05",
    ...                             "2024-08-30", "2024-11-12"]),
    ...     "revenue": [10, 20, 30, 40, 40, 30, 20, 10],
    ... })
    >>> seasonality(history, "date", "revenue", freq="Q").round(3).tolist()
    [0.25, 0.25, 0.25, 0.25]
    >>> seasonality(history, "date", "revenue", freq="Q", years=[2023]).tolist()
    [0.1, 0.2, 0.3, 0.4]
    """
    owner = "seasonality"
    if not isinstance(history, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'history' parameter of {owner} must be a pandas DataFrame; "
            f"got {type(history).__name__}."
        )
    check_param("freq", freq, owner, freq in ("M", "Q"), "'M' (months) or 'Q' (quarters)")
    missing_cols = [c for c in (date_col, value_col) if c not in history.columns]
    if missing_cols:
        raise InvalidProblemError(
            f"the 'history' argument of {owner} has no column {format_ids(missing_cols)}; "
            f"available columns: {format_ids(history.columns, limit=10)}."
        )
    dates = pd.to_datetime(history[date_col], errors="coerce")
    bad_dates = dates.isna()
    if bad_dates.any():
        raise InvalidProblemError(
            f"the 'history' argument of {owner} has missing or unparseable dates in "
            f"column {date_col!r} at rows {format_ids(history.index[bad_dates.to_numpy()])}; "
            "fix or drop those rows."
        )
    values = pd.to_numeric(history[value_col], errors="coerce")
    bad_values = values.isna() | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=0.0))
    if bad_values.any():
        raise InvalidProblemError(
            f"the 'history' argument of {owner} has missing or non-numeric values in "
            f"column {value_col!r} at rows "
            f"{format_ids(history.index[bad_values.to_numpy()])}; fix or drop those rows."
        )
    year = dates.dt.year
    n_periods = 12 if freq == "M" else 4
    period = dates.dt.month if freq == "M" else dates.dt.quarter
    if years is not None:
        wanted = [int(y) for y in years]
        absent = sorted(set(wanted) - set(year.unique().tolist()))
        if absent:
            raise InvalidProblemError(
                f"the 'years' argument of {owner} asks for years without history: "
                f"{format_ids(absent)}; the history covers "
                f"{format_ids(sorted(year.unique().tolist()))}."
            )
        keep = year.isin(wanted).to_numpy()
        year, period, values = year[keep], period[keep], values[keep]
    if len(values) == 0:
        raise InvalidProblemError(f"the 'history' argument of {owner} has no rows.")
    periods = pd.RangeIndex(1, n_periods + 1)
    keys = [year.rename("year"), period.rename("period")]
    grouped = values.astype(np.float64).groupby(keys)
    table = grouped.sum().unstack(fill_value=0).reindex(columns=periods, fill_value=0)
    table = table.astype(np.float64)
    counts = grouped.size().unstack(fill_value=0).reindex(columns=periods, fill_value=0)
    neg_rows, neg_cols = np.nonzero(table.to_numpy() < 0)
    if neg_rows.size:
        cells = [
            (int(table.index[int(i)]), int(j) + 1) for i, j in zip(neg_rows, neg_cols, strict=True)
        ]
        raise InvalidProblemError(
            f"the 'history' argument of {owner} has negative totals for (year, period) "
            f"{format_ids(cells)}; seasonality needs non-negative period totals."
        )
    year_total = table.sum(axis=1)
    empty_years = year_total.index[year_total.to_numpy() <= 0]
    if len(empty_years):
        raise InvalidProblemError(
            f"the 'history' argument of {owner} has years with no positive total: "
            f"{format_ids(empty_years)}; leave them out with years=."
        )
    profiles = table.div(year_total, axis=0)
    weights = profiles.mean(axis=0)
    weights = weights / weights.sum()
    weights.index = pd.RangeIndex(1, n_periods + 1, name="month" if freq == "M" else "quarter")
    weights.name = "weight"
    missing: dict[int, list[int]] = {}
    for y, row in counts.iterrows():
        gaps = [int(p) for p in periods if row[p] == 0]
        if gaps:
            missing[int(y)] = gaps  # type: ignore[call-overload]
    weights.attrs["years"] = [int(y) for y in table.index]  # type: ignore[call-overload]
    weights.attrs["missing_periods"] = missing
    if missing:
        what = "months" if freq == "M" else "quarters"
        detail = "; ".join(f"{y}: {', '.join(map(str, p))}" for y, p in missing.items())
        warnings.warn(
            f"seasonality: some {what} have no rows and count as 0 for their year "
            f"({detail}). If a year is only partly covered by the history, leave it out "
            "with years=.",
            AllocWarning,
            stacklevel=2,
        )
    return weights


def split(
    total: float,
    weights: WeightsLike,
    *,
    unit: float = 1,
    floors: BoundsLike | None = None,
    caps: BoundsLike | None = None,
) -> pd.Series:
    """Split ``total`` by ``weights`` into multiples of ``unit`` that sum exactly to it.

    The method is the largest remainder (Hamilton) method on whole units: with
    ``n = total / unit`` units, item ``i`` has the quota ``q_i = n * w_i / sum(w)``; it
    gets ``floor(q_i)`` units, and the ``n - sum(floor(q))`` units left over go one each
    to the largest remainders ``q_i - floor(q_i)``. Ties go to the larger weight, then
    to the earlier item. Without floors and caps every part is therefore within one unit
    of its proportional share (``|part_i / unit - q_i| < 1``) and the parts sum to
    ``total`` exactly.

    Floors and caps are honoured by redistribution: an item whose proportional share
    falls below its floor (above its cap) is set to that bound and the rest is re-split
    among the remaining items by weight, until no bound is violated. The result is the
    rounding of ``clip(lam * w_i, floor_i, cap_i)`` for the ``lam`` that makes these sum
    to ``total``. Floors are rounded up and caps down to multiples of ``unit``.

    Parameters
    ----------
    total : int or float
        Amount to split; a non-negative multiple of ``unit``.
    weights : mapping, pandas.Series or 1-d array-like
        Non-negative weights; the result keeps their labels (mapping keys, Series
        index, or 0..n-1 for arrays) and order.
    unit : int or float, default 1
        Granularity of the parts (1, 100, 0.01, ...).
    floors, caps : number, mapping, pandas.Series or 1-d array-like, optional
        Per-item minimum and maximum amounts: one number for all items, a mapping /
        Series by label (missing labels or NaN mean no bound) or an array aligned with
        ``weights``.

    Returns
    -------
    pandas.Series
        The parts, indexed like the weights. The dtype is int64 when ``total`` and
        ``unit`` are both ints, else float64 (each part is ``k * unit`` for an int
        ``k``, and the ``k`` sum exactly to ``total / unit``).

    Raises
    ------
    InvalidParameterError
        ``unit`` is not positive, or ``total`` is negative or not a multiple of ``unit``.
    InvalidProblemError
        Bad weights (empty, negative, missing, duplicated labels), all weights zero with
        a positive amount to place, or floors and caps that cannot be met (a floor above
        its cap, floors summing to more than ``total``, caps summing to less).

    Examples
    --------
    >>> from alloc.targets import split
    >>> split(100, [1, 1, 1]).tolist()
    [34, 33, 33]
    >>> split(1_000, {"north": 5, "south": 3, "west": 2}, unit=100).to_dict()
    {'north': 500, 'south': 300, 'west': 200}
    >>> split(100.0, [1, 1, 1], unit=0.01).tolist()
    [33.34, 33.33, 33.33]
    >>> split(100, {"a": 1, "b": 1, "c": 8}, floors={"a": 20}).to_dict()
    {'a': 20, 'b': 9, 'c': 71}
    >>> split(100, [1, 1, 1, 1], caps=[10, None, None, None]).tolist()
    [10, 30, 30, 30]
    """
    owner = "split"
    check_unit(unit, owner)
    n_units = to_units(total, unit, "total", owner)
    as_int = is_int(total) and is_int(unit)
    index, values = as_weights(weights, "weights", owner)
    low: FloatArray | None = None
    high: FloatArray | None = None
    if floors is not None or caps is not None:
        low = floor_units(bound_values(floors, index, "floors", owner, 0.0), unit)
        high = cap_units(bound_values(caps, index, "caps", owner, np.inf), unit)
        check_bounds(n_units, low, high, index, unit, "total", owner)
    try:
        parts = split_units(n_units, values, low, high)
    except NoWeight as exc:
        raise InvalidProblemError(
            f"the 'weights' argument of {owner} gives no weight to the items that could "
            f"take the remaining {exc.remaining * unit!r} of the total (all their weights "
            "are 0); give some of them a positive weight or raise their floors."
        ) from None
    name = weights.name if isinstance(weights, pd.Series) else None
    return pd.Series(from_units(parts, unit, as_int), index=index.copy(), name=name)
