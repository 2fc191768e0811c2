"""Basis values: several columns blended into one basis, or a basis given as weights.

[`blend`][alloc.targets.blend] mixes columns as shares of their totals (e.g. 70 % potential, 30 %
history); `resolve_basis` reads the basis argument of
[`alloc.targets.cascade`][alloc.targets.cascade], either weights or a
``(DataFrame, {column: weight})`` pair to blend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import as_weights
from alloc.validation import check_param, is_number

__all__ = ["blend", "resolve_basis"]


def blend(data: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Blend several basis columns into one, each column taken as shares of its total.

    ``blend(df, {"potential": 0.7, "history": 0.3})`` is
    ``0.7 * df.potential / df.potential.sum() + 0.3 * df.history / df.history.sum()``
    (divided by the sum of the blend weights), so the mix means "70 % by share of
    potential, 30 % by share of history" whatever the columns' scales. The result sums
    to 1 and can be used wherever a basis or weights are expected.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per item (e.g. per rep or per customer), indexed by item id.
    weights : mapping of str to float
        Column -> non-negative blend weight; the weights need not sum to 1.

    Returns
    -------
    pandas.Series
        The blended basis, indexed like ``data``, named ``"basis"``.

    Raises
    ------
    InvalidProblemError
        A named column is missing, has negative or missing values, or sums to 0.
    InvalidParameterError
        ``weights`` is empty, negative or sums to 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.targets import blend
    >>> df = pd.DataFrame({"potential": [300, 100], "history": [10, 30]}, index=["r1", "r2"])
    >>> blend(df, {"potential": 0.5, "history": 0.5}).to_dict()
    {'r1': 0.5, 'r2': 0.5}
    """
    owner = "blend"
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'data' parameter of {owner} must be a pandas DataFrame; "
            f"got {type(data).__name__}."
        )
    ok = isinstance(weights, Mapping) and len(weights) > 0
    check_param("weights", weights, owner, ok, "a non-empty mapping column -> weight")
    bad_w = [c for c, w in weights.items() if not is_number(w) or not float(w) >= 0]
    check_param("weights", weights, owner, not bad_w, "a mapping to non-negative numbers")
    weight_sum = float(sum(float(w) for w in weights.values()))
    check_param("weights", weights, owner, weight_sum > 0, "weights with a positive sum")
    missing = [c for c in weights if c not in data.columns]
    if missing:
        raise InvalidProblemError(
            f"the 'data' argument of {owner} has no column {format_ids(missing)}; "
            f"available columns: {format_ids(data.columns, limit=10)}."
        )
    out = pd.Series(0.0, index=data.index.copy(), name="basis")
    for column, w in weights.items():
        col = pd.to_numeric(data[column], errors="coerce").astype(np.float64)
        bad = col.isna() | (col < 0)
        if bad.any():
            raise InvalidProblemError(
                f"the 'data' argument of {owner} has missing or negative values in column "
                f"{column!r} for {format_ids(data.index[bad.to_numpy()])}."
            )
        col_total = float(col.sum())
        if col_total <= 0 and float(w) > 0:
            raise InvalidProblemError(
                f"the 'data' argument of {owner} has column {column!r} summing to 0, so it "
                "has no shares to blend; give it weight 0 or drop it."
            )
        if float(w) > 0:
            out = out + (float(w) / weight_sum) * (col / col_total)
    return out.rename("basis")


def resolve_basis(basis: object, owner: str) -> tuple[pd.Index, npt.NDArray[Any]]:
    """A basis given as weights, or as ``(DataFrame, {column: weight})`` for a blend."""
    if isinstance(basis, tuple):
        if len(basis) != 2 or not isinstance(basis[0], pd.DataFrame):
            raise InvalidParameterError(
                f"the 'basis' parameter of {owner} must be a Series / mapping of values, "
                "or a pair (DataFrame, {column: weight}) for a blend; got a tuple of "
                f"length {len(basis)}."
            )
        return as_weights(blend(basis[0], basis[1]), "basis", owner)
    return as_weights(basis, "basis", owner)
