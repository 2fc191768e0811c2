"""Integer apportionment: whole units split by weight, within bounds, summing exactly.

This is the arithmetic under every exact split in alloc: amounts are turned into integer
counts of a ``unit`` (`to_units`), divided by the largest remainder (Hamilton)
method (`hamilton`), clamped to per-item floors and caps (`split_units`) and
turned back into amounts (`from_units`). [`alloc.targets`][alloc.targets] builds its public
functions on it, and so does [`alloc.performance.split_pool`][alloc.performance.split_pool].

The names here are internal to alloc: they are public inside the package (other alloc
modules may import them from ``alloc.targets.apportion``) but are not re-exported by
[`alloc.targets`][alloc.targets] and may change without notice. Users call
[`alloc.targets.split`][alloc.targets.split].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, SolverError, format_ids
from alloc.validation import check_param, is_int, is_number

__all__ = [
    "BoundsLike",
    "FloatArray",
    "IntArray",
    "NoWeight",
    "WeightsLike",
    "as_weights",
    "bound_values",
    "cap_units",
    "check_bounds",
    "check_unit",
    "floor_units",
    "format_amount",
    "from_units",
    "hamilton",
    "split_units",
    "to_units",
]

#: Weights: a mapping label -> weight, a Series (its index gives the labels), or a 1-d
#: array-like (labels 0..n-1).
WeightsLike: TypeAlias = Mapping[Any, float] | pd.Series | Sequence[float] | npt.NDArray[Any]
#: Per-item bounds: one number for every item, a mapping / Series by label (missing
#: labels and NaN mean "no bound"), or an array-like aligned with the weights.
BoundsLike: TypeAlias = float | Mapping[Any, float] | pd.Series | Sequence[float] | npt.NDArray[Any]

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]

# Relative tolerance used when deciding whether a float amount is a multiple of unit.
_MULTIPLE_TOL = 1e-9
# Products of unit counts and integer weights below this bound use exact int64 arithmetic.
_INT_SAFE = 2**62


class NoWeight(Exception):
    """Units are left to place but every free item has zero weight."""

    def __init__(self, remaining: int) -> None:
        super().__init__(remaining)
        self.remaining = remaining


def check_unit(unit: object, owner: str) -> None:
    """Raise ``InvalidParameterError`` unless ``unit`` is positive and finite.

    ``owner`` names the public function in the message.
    """
    ok = is_number(unit) and math.isfinite(float(unit)) and float(unit) > 0  # type: ignore[arg-type]
    check_param("unit", unit, owner, ok, "a positive finite number (e.g. 1, 100 or 0.01)")


def to_units(value: object, unit: float, name: str, owner: str) -> int:
    """The number of whole units in ``value``, which must be a non-negative multiple.

    Parameters
    ----------
    value : int or float
        The amount; ints divided by an int unit use exact integer arithmetic, floats are
        accepted within a relative tolerance of 1e-9 of a multiple.
    unit : int or float
        The unit, already checked by `check_unit`.
    name, owner : str
        The parameter and the public function named in error messages.

    Returns
    -------
    int
        ``value / unit``.

    Raises
    ------
    InvalidParameterError
        ``value`` is not a finite number, is negative, or is not a multiple of ``unit``
        (the message suggests the two nearest multiples).

    Examples
    --------
    >>> to_units(1234.56, 0.01, "total", "split")
    123456
    """
    if not is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a finite number; got {value!r}."
        )
    if float(value) < 0:  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be >= 0; got {value!r}."
        )
    if is_int(value) and is_int(unit):
        units, rest = divmod(int(value), int(unit))  # type: ignore[call-overload]
        exact = rest == 0
    else:
        quotient = float(value) / float(unit)  # type: ignore[arg-type]
        units = round(quotient)
        exact = abs(quotient - units) <= _MULTIPLE_TOL * max(1.0, abs(quotient))
    if not exact:
        low = math.floor(float(value) / float(unit)) * unit  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a multiple of unit={unit!r}; "
            f"got {value!r}. Round it to a multiple of the unit (e.g. {low!r} or "
            f"{low + unit!r}) or choose a smaller unit."
        )
    return int(units)


def from_units(units: IntArray, unit: float, as_int: bool) -> npt.NDArray[Any]:
    """Turn unit counts back into amounts: ``units * unit``.

    Parameters
    ----------
    units : numpy.ndarray of int64
        Unit counts.
    unit : int or float
        The unit.
    as_int : bool
        Return int64 amounts (for an int total and unit) instead of float64. Float units
        whose inverse is a whole number (0.01, 0.5) divide by that number, so each
        amount is the float nearest to the decimal one.

    Examples
    --------
    >>> from_units(np.array([3334, 3333]), 0.01, as_int=False).tolist()
    [33.34, 33.33]
    """
    if as_int:
        return units * np.int64(unit)
    inverse = 1.0 / float(unit)
    if abs(inverse - round(inverse)) <= 1e-9 * inverse:
        # e.g. unit=0.01: k / 100 gives the float nearest to the decimal amount
        return units / float(round(inverse))
    return units * float(unit)


def as_weights(weights: object, name: str, owner: str) -> tuple[pd.Index, npt.NDArray[Any]]:
    """Check weights and return their labels and values.

    Parameters
    ----------
    weights : mapping, pandas.Series or 1-d array-like
        Non-negative finite weights with distinct labels (mapping keys, Series index, or
        0..n-1 for arrays); at least one.
    name, owner : str
        The argument and the public function named in error messages.

    Returns
    -------
    labels : pandas.Index
    values : numpy.ndarray
        int64 for integer (or bool) weights, so that splits by them are exact; else
        float64.

    Raises
    ------
    InvalidParameterError
        A DataFrame or an array that is not 1-d.
    InvalidProblemError
        No item, non-numeric, missing, infinite or negative weights, duplicated labels.
    """
    if isinstance(weights, pd.DataFrame):
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a mapping, Series or 1-d array; "
            "got a DataFrame. Select one column, e.g. df['potential']."
        )
    if isinstance(weights, pd.Series):
        index = weights.index
        raw = weights.to_numpy()
    elif isinstance(weights, Mapping):
        index = pd.Index(list(weights.keys()))
        raw = np.asarray(list(weights.values()))
    else:
        try:
            raw = np.asarray(weights)
        except Exception as exc:  # pragma: no cover - numpy raises for ragged input
            raise InvalidParameterError(
                f"the {name!r} parameter of {owner} must be a mapping, Series or 1-d "
                f"array; got {type(weights).__name__}."
            ) from exc
        if raw.ndim != 1:
            raise InvalidParameterError(
                f"the {name!r} parameter of {owner} must be a mapping, Series or 1-d "
                f"array; got an array of shape {raw.shape}."
            )
        index = pd.RangeIndex(raw.shape[0])
    if len(index) == 0:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} is empty; give at least one item."
        )
    if raw.dtype.kind in "iub":
        values: npt.NDArray[Any] = raw.astype(np.int64)
    else:
        try:
            values = pd.to_numeric(pd.Series(raw), errors="raise").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        except (TypeError, ValueError) as exc:
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} must hold numbers; got values of "
                f"type {raw.dtype}. Convert them with pd.to_numeric first."
            ) from exc
        bad = ~np.isfinite(values)
        if bad.any():
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} has missing or infinite values for "
                f"{format_ids(index[bad])}; give every item a finite weight (0 for none)."
            )
    negative = values < 0
    if negative.any():
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has negative values for "
            f"{format_ids(index[negative])}; weights must be >= 0."
        )
    if index.has_duplicates:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has duplicated labels "
            f"{format_ids(index[index.duplicated()].unique())}; give each item once."
        )
    return index, values


def bound_values(
    bound: object, index: pd.Index, name: str, owner: str, default: float
) -> FloatArray:
    """Per-item bound amounts aligned with ``index``, ``default`` where none is given.

    ``bound`` is None, one number for every item, a mapping / Series by label (missing
    labels and NaN mean no bound) or an array-like aligned with ``index``. Raises
    [`InvalidProblemError`][alloc.errors.InvalidProblemError] for unknown or duplicated labels, a
    wrong length or negative bounds.
    """
    n = len(index)
    if bound is None:
        return np.full(n, default)
    if is_number(bound):
        values = np.full(n, float(bound))  # type: ignore[arg-type]
    elif isinstance(bound, pd.Series | Mapping):
        series = bound if isinstance(bound, pd.Series) else pd.Series(dict(bound))
        unknown = series.index.difference(index)
        if len(unknown):
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} names items that are not in the "
                f"weights: {format_ids(unknown)}; remove them or add them to the weights."
            )
        if series.index.has_duplicates:
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} has duplicated labels "
                f"{format_ids(series.index[series.index.duplicated()].unique())}."
            )
        values = (
            pd.to_numeric(series, errors="coerce")
            .reindex(index)
            .to_numpy(dtype=np.float64, na_value=np.nan)
        )
        values = np.where(np.isnan(values), default, values)
    else:
        values = np.asarray(bound, dtype=np.float64)
        if values.shape != (n,):
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} has {values.size} values for {n} "
                "weights; give one per item, or a mapping by label."
            )
        values = np.where(np.isnan(values), default, values)
    bad = values < 0
    if bad.any():
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has negative values for "
            f"{format_ids(index[bad])}; bounds must be >= 0."
        )
    return values


def floor_units(amounts: FloatArray, unit: float) -> FloatArray:
    """Floors in units: the smallest multiple of unit at or above each floor."""
    with np.errstate(invalid="ignore"):
        return np.ceil(amounts / float(unit) - _MULTIPLE_TOL)


def cap_units(amounts: FloatArray, unit: float) -> FloatArray:
    """Caps in units: the largest multiple of unit at or below each cap (inf stays inf)."""
    with np.errstate(invalid="ignore"):
        return np.floor(amounts / float(unit) + _MULTIPLE_TOL)


def hamilton(n_units: int, weights: npt.NDArray[Any]) -> IntArray:
    """Largest remainder apportionment of ``n_units`` whole units by ``weights``.

    Every item gets the floor of its quota ``n_units * w / sum(w)`` and the units left
    over go, one each, to the largest remainders; ties go to the larger weight, then to
    the earlier item. Integer weights use exact integer arithmetic.

    Parameters
    ----------
    n_units : int
        Units to place, >= 0.
    weights : numpy.ndarray
        Non-negative weights (int64 or float64, as from `as_weights`).

    Returns
    -------
    numpy.ndarray of int64
        Units per item, summing to ``n_units``.

    Raises
    ------
    NoWeight
        ``n_units > 0`` and every weight is 0.

    Examples
    --------
    >>> hamilton(10, np.array([1, 1, 1])).tolist()
    [4, 3, 3]
    """
    n = weights.shape[0]
    if n_units == 0:
        return np.zeros(n, dtype=np.int64)
    if weights.dtype.kind in "iu":
        total_weight = int(weights.sum())
        if total_weight <= 0:
            raise NoWeight(n_units)
        if total_weight < _INT_SAFE and n_units * int(weights.max()) < _INT_SAFE:
            product = weights.astype(np.int64) * np.int64(n_units)
            base = product // np.int64(total_weight)
            remainder: npt.NDArray[Any] = product % np.int64(total_weight)
            extra = n_units - int(base.sum())
            order = np.lexsort((-weights, -remainder))
            base[order[:extra]] += 1
            return base.astype(np.int64)
        weights = weights.astype(np.float64)
    total = float(weights.sum())
    if total <= 0:
        raise NoWeight(n_units)
    quota = n_units * (weights / total)
    floor = np.floor(quota)
    remainder = quota - floor
    base = floor.astype(np.int64)
    order = np.lexsort((-weights, -remainder))
    extra = n_units - int(base.sum())
    # In exact arithmetic 0 <= extra < n; float rounding of quotas near an integer can
    # push it just outside, which the branches below absorb without breaking the sum.
    if extra >= n:
        base += extra // n
        extra %= n
    if extra >= 0:
        base[order[:extra]] += 1
    else:
        for i in order[::-1]:
            if extra == 0:
                break
            if base[i] > 0:
                base[i] -= 1
                extra += 1
    return base


def split_units(
    n_units: int,
    weights: npt.NDArray[Any],
    low: FloatArray | None = None,
    high: FloatArray | None = None,
) -> IntArray:
    """Split ``n_units`` by weights within per-item unit bounds ``[low, high]``.

    The continuous target is ``x_i = clip(lam * w_i, low_i, high_i)`` with ``lam`` such
    that the ``x_i`` sum to ``n_units``; it is found by clamping: compute proportional
    shares of what is left among the free items, fix the items that violate a bound on
    the side with the larger total violation at that bound, and repeat. The free items'
    shares are then rounded by `hamilton`. The caller checks that
    ``sum(low) <= n_units <= sum(high)`` (see `check_bounds`).

    Parameters
    ----------
    n_units : int
        Units to place, >= 0.
    weights : numpy.ndarray
        Non-negative weights (int64 or float64).
    low, high : numpy.ndarray of float64, optional
        Per-item bounds in units (from `floor_units` and `cap_units`);
        no bound when None.

    Returns
    -------
    numpy.ndarray of int64
        Units per item, within the bounds, summing to ``n_units``.

    Raises
    ------
    NoWeight
        Units are left for items that all have weight 0.

    Examples
    --------
    >>> split_units(100, np.array([1, 1, 1, 1]), high=np.array([10.0, np.inf, np.inf, np.inf]))
    array([10, 30, 30, 30])
    """
    n = weights.shape[0]
    if low is None and high is None:
        return hamilton(n_units, weights)
    lo = np.zeros(n) if low is None else low
    hi = np.full(n, np.inf) if high is None else high
    out = np.zeros(n, dtype=np.int64)
    fixed = np.zeros(n, dtype=bool)
    while True:
        free = np.flatnonzero(~fixed)
        rest = n_units - int(out[fixed].sum())
        if free.size == 0:
            if rest != 0:
                raise NoWeight(rest)
            break
        wf = weights[free].astype(np.float64)
        total = float(wf.sum())
        share = rest * (wf / total) if total > 0 else np.zeros(free.size)
        f, c = lo[free], hi[free]
        below, above = share < f, share > c
        if not (below.any() or above.any()):
            out[free] = hamilton(rest, weights[free])
            break
        v_below = float((f - share)[below].sum())
        v_above = float((share - c)[above].sum())
        if v_below >= v_above:
            out[free[below]] = f[below].astype(np.int64)
            fixed[free[below]] = True
        if v_above >= v_below:
            out[free[above]] = c[above].astype(np.int64)
            fixed[free[above]] = True
    if int(out.sum()) != n_units or (out < lo).any() or (out > hi).any():  # pragma: no cover
        raise SolverError("internal error in alloc.targets: a split broke its bounds.")
    return out


def check_bounds(
    n_units: int,
    low: FloatArray,
    high: FloatArray,
    index: pd.Index,
    unit: float,
    what: str,
    owner: str,
) -> None:
    """Raise ``InvalidProblemError`` unless the bounds admit ``n_units``.

    Floors above caps, floors summing to more than ``n_units`` or caps to less are
    reported with the amounts; ``what`` names the amount split (e.g. ``"total"``).
    """
    crossed = low > high
    if crossed.any():
        raise InvalidProblemError(
            f"the 'floors' and 'caps' arguments of {owner} leave no multiple of "
            f"unit={unit!r} between floor and cap for {format_ids(index[crossed])}; "
            "lower those floors or raise those caps."
        )
    need, room = float(low.sum()), float(high.sum())
    if need > n_units:
        raise InvalidProblemError(
            f"the 'floors' argument of {owner} needs {format_amount(need * unit)} in total but the "
            f"{what} is {format_amount(n_units * unit)}; lower the floors or raise the {what}."
        )
    if room < n_units:
        raise InvalidProblemError(
            f"the 'caps' argument of {owner} allows {format_amount(room * unit)} in total but the "
            f"{what} is {format_amount(n_units * unit)}; raise the caps or lower the {what}."
        )


def format_amount(amount: float) -> str:
    """An amount for a message, with thousands separators: ``format_amount(1e6) == '1,000,000'``."""
    return f"{amount:,.10g}"
