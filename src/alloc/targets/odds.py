"""Quotas with equal odds: every book gets the same chance of reaching its quota.

[`set_quotas`][alloc.targets.set_quotas] reads a forecast table (quantile columns ``p10``,
``p50``, ``p90``... per book, as from [`forecast`][alloc.targets.forecast]), finds by bisection
the one quantile level ``q`` at which the books' quantiles (within floors and caps) add up
to the total, and apportions the total exactly in whole units around those amounts with
the integer machinery of [`alloc.targets.apportion`][alloc.targets.apportion]. Each book's
estimated probability of reaching its quota is then about ``1 - q``, the same for all,
up to one unit's effect and the floors and caps.

A book's distribution between the given levels is read by linear interpolation of its
quantiles; below the lowest and above the highest level the first and last segments are
extended to the levels 0 and 1 (never below 0). The more levels the forecast has, the
finer the odds.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import (
    NoWeight,
    bound_values,
    cap_units,
    check_bounds,
    check_unit,
    floor_units,
    from_units,
    split_units,
    to_units,
)
from alloc.validation import is_int

__all__ = ["QuantileGrid", "attain_probability", "quantile_column", "quantile_grid", "set_quotas"]

FloatArray = npt.NDArray[np.float64]

_LEVEL_COLUMN = re.compile(r"^p(\d+(?:\.\d+)?)$")
#: Bisection steps on the quantile level: 2^-60 is below float resolution.
_BISECT_STEPS = 60


class QuantileGrid:
    """Per-book quantile functions, piecewise linear on a shared grid of levels.

    Attributes
    ----------
    levels : numpy.ndarray
        Increasing levels from 0 to 1 (the forecast's levels with 0 and 1 added).
    values : numpy.ndarray
        Shape (books, levels): non-decreasing amounts per book.
    """

    def __init__(self, levels: FloatArray, values: FloatArray) -> None:
        self.levels = levels
        self.values = values

    def at(self, q: float) -> FloatArray:
        """Every book's amount at level ``q`` in [0, 1]."""
        i = int(np.clip(np.searchsorted(self.levels, q, side="right") - 1, 0, self.levels.size - 2))
        lo, hi = self.levels[i], self.levels[i + 1]
        frac = (q - lo) / (hi - lo)
        return self.values[:, i] + frac * (self.values[:, i + 1] - self.values[:, i])


def quantile_column(name: object) -> bool:
    """Whether a column name reads as a quantile level (``p10``, ``p97.5``...)."""
    match = _LEVEL_COLUMN.match(str(name))
    return match is not None and 0 < float(match.group(1)) < 100


def quantile_grid(table: pd.DataFrame, owner: str) -> QuantileGrid:
    """Read the quantile columns (``p10``, ``p50``...) of a forecast table.

    Raises
    ------
    InvalidParameterError
        ``table`` is not a DataFrame.
    InvalidProblemError
        Fewer than two quantile columns, missing or non-finite quantiles, no books, or
        duplicated book ids.
    """
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'forecast' parameter of {owner} must be a DataFrame of quantile columns "
            f"(p10, p50, p90...) per book, as from alloc.targets.forecast; got "
            f"{type(table).__name__}."
        )
    found = sorted(
        (float(m.group(1)) / 100, str(c))
        for c in table.columns
        if (m := _LEVEL_COLUMN.match(str(c))) and 0 < float(m.group(1)) < 100
    )
    if len(found) < 2:
        raise InvalidProblemError(
            f"the forecast given to {owner} needs at least two quantile columns named "
            f"like 'p10' and 'p90'; it has {format_ids(table.columns, limit=10)}."
        )
    if table.empty:
        raise InvalidProblemError(f"the forecast given to {owner} has no books.")
    if table.index.has_duplicates:
        raise InvalidProblemError(
            f"the forecast given to {owner} lists books more than once: "
            f"{format_ids(table.index[table.index.duplicated()].unique())}."
        )
    names = [name for _, name in found]
    raw = table[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(raw).all(axis=1)
    if bad.any():
        raise InvalidProblemError(
            f"the forecast given to {owner} has missing or non-numeric quantiles for books "
            f"{format_ids(table.index[bad])}."
        )
    # Quantiles estimated separately can cross by rounding; a quantile function cannot.
    inner = np.maximum.accumulate(np.maximum(raw, 0.0), axis=1)
    levels = np.array([lv for lv, _ in found])
    low_slope = (inner[:, 1] - inner[:, 0]) / (levels[1] - levels[0])
    high_slope = (inner[:, -1] - inner[:, -2]) / (levels[-1] - levels[-2])
    at_zero = np.maximum(inner[:, 0] - low_slope * levels[0], 0.0)
    at_one = inner[:, -1] + high_slope * (1 - levels[-1])
    values = np.column_stack([at_zero, inner, at_one])
    return QuantileGrid(np.r_[0.0, levels, 1.0], values)


def attain_probability(grid: QuantileGrid, amounts: FloatArray) -> FloatArray:
    """Each book's probability of selling at least its amount: ``1 - F(amount-)``.

    ``F(x-)`` is the largest level whose quantile is below ``x``, read off the piecewise
    linear quantile function; amounts at or below the level-0 quantile give 1, above the
    level-1 quantile 0.
    """
    values, levels = grid.values, grid.levels
    out = np.empty(values.shape[0])
    for b in range(values.shape[0]):
        row, x = values[b], float(amounts[b])
        below = np.flatnonzero(row < x)
        if below.size == 0:
            out[b] = 1.0
            continue
        i = int(below[-1])
        if i == row.size - 1:
            out[b] = 0.0
            continue
        frac = (x - row[i]) / (row[i + 1] - row[i])
        out[b] = 1.0 - (levels[i] + frac * (levels[i + 1] - levels[i]))
    return np.clip(out, 0.0, 1.0)


def _common_level(grid: QuantileGrid, target: float, low: FloatArray, high: FloatArray) -> float:
    """The level q at which the books' clipped quantiles sum to ``target`` (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(_BISECT_STEPS):
        mid = (lo + hi) / 2
        if float(np.clip(grid.at(mid), low, high).sum()) < target:
            lo = mid
        else:
            hi = mid
    return hi


def set_quotas(
    forecast: pd.DataFrame,
    total: float,
    *,
    unit: float = 1,
    floors: object = None,
    caps: object = None,
) -> pd.DataFrame:
    """Quotas summing exactly to ``total`` that every book has the same odds of reaching.

    One common quantile level ``q`` of every book's forecast distribution is found by
    bisection so that the books' quantiles at ``q`` (clipped to their floors and caps)
    add up to ``total``; the total is then split exactly in whole units in proportion
    to those amounts, within the floors and caps (largest remainders). A total beyond
    every book's level-1 (or below its level-0) quantile is split in proportion to those
    quantiles.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Indexed by book, with at least two quantile columns named after their level
        (``p10``, ``p50``, ``p90``...), as returned by [`forecast`][alloc.targets.forecast];
        other columns are ignored. More levels give finer odds.
    total : int or float
        Amount to share out; a non-negative multiple of ``unit``.
    unit : int or float, default 1
        Granularity of the quotas (e.g. 1000 for whole thousands).
    floors, caps : number, mapping or Series by book, optional
        Lowest and highest quota per book (one number for every book, or by book id;
        missing books and NaN mean no bound). Floors are rounded up and caps down to
        multiples of ``unit``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``forecast``, with ``quota`` (multiples of ``unit`` summing to
        ``total``; int64 when ``total`` and ``unit`` are ints) and ``p_attain`` (each
        book's estimated probability of selling at least its quota, read off its
        quantiles). ``attrs["level"]`` holds the common level ``q``; books not held by a
        floor or cap have ``p_attain`` close to ``1 - q``.

    Raises
    ------
    InvalidProblemError
        Missing quantile columns or values, duplicated books, floors or caps that name
        unknown books or cannot hold the total, a positive total while every book's
        forecast (and cap room) is zero.
    InvalidParameterError
        A bad ``unit`` or a ``total`` that is negative or not a multiple of ``unit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.targets import set_quotas
    >>> fc = pd.DataFrame({"p10": [80, 300], "p50": [100, 400], "p90": [120, 500]},
    ...                   index=pd.Index(["ann", "bob"], name="rep"))
    >>> q = set_quotas(fc, 500, unit=10)
    >>> q["quota"].to_dict()
    {'ann': 100, 'bob': 400}
    >>> q["p_attain"].round(2).to_dict()
    {'ann': 0.5, 'bob': 0.5}
    """
    owner = "set_quotas"
    check_unit(unit, owner)
    n_units = to_units(total, unit, "total", owner)
    grid = quantile_grid(forecast, owner)
    index = forecast.index
    low = floor_units(bound_values(floors, index, "floors", owner, 0.0), unit)
    high = cap_units(bound_values(caps, index, "caps", owner, np.inf), unit)
    check_bounds(n_units, low, high, index, unit, "total", owner)
    amount_low, amount_high = low * float(unit), high * float(unit)
    target = n_units * float(unit)
    if float(np.clip(grid.at(1.0), amount_low, amount_high).sum()) < target:
        weights, level = grid.at(1.0), 1.0
    elif float(np.clip(grid.at(0.0), amount_low, amount_high).sum()) > target:
        weights, level = grid.at(0.0), 0.0
    else:
        level = _common_level(grid, target, amount_low, amount_high)
        weights = np.clip(grid.at(level), amount_low, amount_high)
    try:
        units = split_units(n_units, weights / float(unit), low, high)
    except NoWeight as exc:
        raise InvalidProblemError(
            f"{owner} cannot share out the total: the books that can still take quota all "
            "have a zero forecast; give them floors, or raise the caps of books that sell."
        ) from exc
    quota = from_units(units, unit, as_int=is_int(total) and is_int(unit))
    p_attain = attain_probability(grid, np.asarray(quota, dtype=np.float64))
    out = pd.DataFrame({"quota": quota, "p_attain": p_attain}, index=index)
    out.attrs["level"] = float(level)
    return out
