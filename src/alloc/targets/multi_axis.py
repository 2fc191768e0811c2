"""Targets over several axes at once (month x product x rep) with every marginal exact.

[`decompose`][alloc.targets.decompose] splits the total along each axis with the largest remainder
method, fits a joint table to those marginals by iterative proportional fitting, and rounds it
to whole units with one min-cost flow per axis so that every marginal holds exactly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from alloc.errors import (
    AllocWarning,
    InvalidParameterError,
    InvalidProblemError,
    SolverError,
    format_ids,
)
from alloc.targets.apportion import (
    FloatArray,
    IntArray,
    NoWeight,
    WeightsLike,
    as_weights,
    check_unit,
    from_units,
    hamilton,
    to_units,
)
from alloc.validation import check_param, is_int

__all__ = ["decompose"]


def _ipf(
    seed: FloatArray, margins: list[FloatArray], tol: float, max_iter: int
) -> tuple[FloatArray, int, float]:
    """Iterative proportional fitting of ``seed`` to one-axis ``margins``."""
    table = seed.copy()
    k = table.ndim
    others = [tuple(b for b in range(k) if b != a) for a in range(k)]
    err = math.inf
    checkpoint = math.inf
    for iteration in range(1, max_iter + 1):
        for a in range(k):
            current = table.sum(axis=others[a])
            factor = np.divide(margins[a], current, out=np.zeros_like(current), where=current > 0)
            shape = [1] * k
            shape[a] = -1
            table *= factor.reshape(shape)
        err = max(float(np.abs(table.sum(axis=others[a]) - margins[a]).max()) for a in range(k))
        if err <= tol:
            return table, iteration, err
        if iteration % 25 == 0:
            # Stalled (zero cells make the margins unreachable): stop early.
            if err > 0.99 * checkpoint:
                return table, iteration, err
            checkpoint = err
    return table, max_iter, err


# Cost per unit of absolute deviation in the rounding flows (fractions resolved to 1e-3).
_COST_SCALE = 1000
# Extra cost factor for putting units in cells whose fitted value is 0 (structural zeros).
_ZERO_CELL_COST = 30


def _round_2d(fit: FloatArray, rows: IntArray, cols: IntArray) -> IntArray:
    """Integer matrix with row sums ``rows`` and column sums ``cols`` nearest to ``fit``.

    A min-cost flow (OR-Tools) on the bipartite graph rows -> columns, where the cost
    of a unit is the change in ``sum |z - fit|`` it causes. First only "round up" arcs
    (cells with a fractional part, capacity 1) are offered: when ``fit`` has (nearly)
    these margins this finds a rounding with every cell the floor or ceiling of its
    value, which always exists for two axes. If that is infeasible (the fit misses a
    margin), arcs that go beyond the ceiling or below the floor are added, with cells
    whose fit is 0 as the last resort; the problem is then always feasible.
    """
    from ortools.graph.python import min_cost_flow

    n_rows, n_cols = fit.shape
    base = np.maximum(np.floor(fit + 1e-9), 0).astype(np.int64)
    frac = np.clip(fit - base, 0.0, None)
    row_gap = rows - base.sum(axis=1)
    col_gap = cols - base.sum(axis=0)
    if not row_gap.any() and not col_gap.any():
        return base
    supplies = np.concatenate([row_gap, -col_gap]).astype(np.int64)
    nodes = np.arange(n_rows + n_cols, dtype=np.int64)
    up_i, up_j = np.nonzero(frac > 0)
    up_cost = np.round((1.0 - 2.0 * frac[up_i, up_j]) * _COST_SCALE).astype(np.int64)
    for complete in (False, True):
        if not complete and ((row_gap < 0).any() or (col_gap < 0).any()):
            continue
        flow = min_cost_flow.SimpleMinCostFlow()
        up = flow.add_arcs_with_capacity_and_unit_cost(
            up_i, n_rows + up_j, np.ones(up_i.size, dtype=np.int64), up_cost
        )
        if complete:
            all_i, all_j = np.divmod(np.arange(fit.size, dtype=np.int64), n_cols)
            big = np.full(fit.size, int(max(rows.sum(), 1)), dtype=np.int64)
            over_cost = np.where(fit.ravel() > 0, 1, _ZERO_CELL_COST) * _COST_SCALE
            over = flow.add_arcs_with_capacity_and_unit_cost(
                all_i, n_rows + all_j, big, over_cost.astype(np.int64)
            )
            down_i, down_j = np.nonzero(base > 0)
            down = flow.add_arcs_with_capacity_and_unit_cost(
                n_rows + down_j,
                down_i,
                base[down_i, down_j],
                np.full(down_i.size, _COST_SCALE, dtype=np.int64),
            )
        flow.set_nodes_supplies(nodes, supplies)
        status = flow.solve()
        if status != flow.OPTIMAL:
            if not complete:
                continue
            raise SolverError(  # pragma: no cover
                f"internal error in alloc.targets: the rounding flow ended with {status}."
            )
        z = base.copy()
        z[up_i, up_j] += flow.flows(up)
        if complete:
            z.ravel()[:] += flow.flows(over)
            z[down_i, down_j] -= flow.flows(down)
        return z
    raise SolverError("internal error in alloc.targets: no rounding found.")  # pragma: no cover


def _integer_table(fit: FloatArray, margins: list[IntArray]) -> IntArray:
    """A non-negative integer table with exactly the given one-axis margins, near ``fit``.

    Axes are rounded one at a time: the fit summed over the later axes is rounded with
    `_round_2d` as a matrix (cells so far) x (next axis) whose row totals are the
    integers fixed by the previous step and whose column totals are the next axis's
    margin. Each step keeps the totals fixed before it and adds the next margin
    exactly, so at the end every margin holds. Axes are taken shortest first, so that
    only the last step works on the full table.
    """
    k = fit.ndim
    perm = [int(a) for a in np.argsort(fit.shape, kind="stable")]
    work = np.ascontiguousarray(fit.transpose(perm))
    shape = work.shape
    totals = margins[perm[0]].astype(np.int64)
    for s in range(1, k):
        n_rows = int(np.prod(shape[:s]))
        step = work.reshape(n_rows, shape[s], -1).sum(axis=2)
        totals = _round_2d(step, totals, margins[perm[s]]).ravel()
    table = np.ascontiguousarray(totals.reshape(shape).transpose(np.argsort(perm)))
    others = [tuple(b for b in range(k) if b != a) for a in range(k)]
    broken = (
        any((table.sum(axis=others[a]) != margins[a]).any() for a in range(k)) or (table < 0).any()
    )
    if broken:  # pragma: no cover
        raise SolverError("internal error in alloc.targets: integer repair missed a margin.")
    return table


def _seed_from_table(
    seed_table: pd.DataFrame,
    names: list[str],
    labels: list[pd.Index],
    margins: list[FloatArray],
    owner: str,
) -> FloatArray:
    if not isinstance(seed_table, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'seed_table' parameter of {owner} must be a DataFrame with axis columns "
            f"and a 'weight' column; got {type(seed_table).__name__}."
        )
    if "weight" not in seed_table.columns:
        raise InvalidProblemError(
            f"the 'seed_table' argument of {owner} has no 'weight' column; add one."
        )
    axis_cols = [c for c in seed_table.columns if c != "weight"]
    unknown = [c for c in axis_cols if c not in names]
    if unknown or not axis_cols:
        raise InvalidProblemError(
            f"the 'seed_table' argument of {owner} must have columns named after axes "
            f"({format_ids(names)}) plus 'weight'; got unknown columns "
            f"{format_ids(unknown) or 'none'} and axis columns {format_ids(axis_cols) or 'none'}."
        )
    weights = pd.to_numeric(seed_table["weight"], errors="coerce")
    bad = (weights.isna() | (weights < 0)).to_numpy()
    if bad.any():
        raise InvalidProblemError(
            f"the 'seed_table' argument of {owner} has missing or negative weights at rows "
            f"{format_ids(seed_table.index[bad])}; weights must be >= 0."
        )
    dup = seed_table.duplicated(subset=axis_cols).to_numpy()
    if dup.any():
        raise InvalidProblemError(
            f"the 'seed_table' argument of {owner} repeats axis combinations at rows "
            f"{format_ids(seed_table.index[dup])}; give each combination once."
        )
    covered = [names.index(c) for c in axis_cols]
    codes = []
    for col, a in zip(axis_cols, covered, strict=True):
        code = labels[a].get_indexer(pd.Index(seed_table[col]))
        if (code < 0).any():
            strangers = seed_table[col].to_numpy()[code < 0]
            raise InvalidProblemError(
                f"the 'seed_table' argument of {owner} has values in column {col!r} that "
                f"are not labels of that axis: {format_ids(pd.unique(strangers))}."
            )
        codes.append(code)
    sub_shape = tuple(len(labels[a]) for a in covered)
    sub = np.zeros(sub_shape)
    sub[tuple(codes)] = weights.to_numpy(dtype=np.float64)
    # Put the covered axes in axis order, then spread the uncovered ones by their margins.
    perm = np.argsort(covered)
    sub = np.transpose(sub, perm)
    full_shape = [len(lab) if a in covered else 1 for a, lab in enumerate(labels)]
    seed = sub.reshape(full_shape)
    for a in range(len(labels)):
        if a not in covered:
            shape = [1] * len(labels)
            shape[a] = -1
            seed = seed * margins[a].reshape(shape)
    return np.ascontiguousarray(seed, dtype=np.float64)


def decompose(
    total: float,
    axes: Mapping[str, WeightsLike],
    *,
    unit: float = 1,
    seed_table: pd.DataFrame | None = None,
    max_iter: int = 1000,
) -> pd.DataFrame:
    """Spread a total over the cross product of several axes with exact marginals.

    For axes such as month x product x rep, the result has one row per combination and
    the grand total and every one-axis marginal equal ``split(total, w, unit=unit)``
    for that axis's weights ``w`` exactly, in multiples of ``unit``, with no negative
    cell.

    Method:

    1. Marginals: each axis's weights are split with [`split`][alloc.targets.split] (largest
       remainder).
    2. Seed: the product of the axes' marginal shares (independence), or
       ``seed_table`` to keep a joint structure such as each rep's product mix.
    3. Iterative proportional fitting (IPF) scales the seed until every one-axis
       marginal matches (the product seed already does).
    4. Integer repair: the axes are rounded one at a time (shortest first) as a two-way
       table (cells fixed so far) x (next axis) by a min-cost flow (OR-Tools) that keeps
       its row and column totals exact and rounds each cell to the floor or ceiling of
       its fitted value, preferring large fractional parts. Every marginal is exact for
       any number of axes. Should no floor-or-ceiling rounding meet the totals (a fit
       that misses its marginals, e.g. from a seed table's zeros), the flow may also
       move cells further, so exactness never depends on it.

    The work is numpy over whole arrays plus one flow per axis (no Python loop per
    cell): 2,000 reps x 12 months x 10 products (240,000 cells) take well under a
    second.

    Parameters
    ----------
    total : int or float
        Amount to spread; a non-negative multiple of ``unit``.
    axes : mapping of str to weights
        Axis name -> weights (mapping, Series or array, as in [`split`][alloc.targets.split]). The
        axis labels are the weights' labels. Names become column names; ``"target"`` is
        reserved.
    unit : int or float, default 1
        Granularity of every cell.
    seed_table : pandas.DataFrame, optional
        Joint structure to keep: columns named after some or all axes plus a
        ``"weight"`` column, one row per combination. Missing combinations have weight
        0 (a structural zero: the cell stays 0 whenever the marginals can be met
        without it); axes not among the columns are spread by their marginals.
    max_iter : int, default 1000
        Maximum IPF sweeps. If the seed's zero pattern makes the marginals unreachable,
        an [`AllocWarning`][alloc.errors.AllocWarning] says so; the result is still exact.

    Returns
    -------
    pandas.DataFrame
        One column per axis (in the order of ``axes``, first axis varying slowest)
        plus ``"target"`` (int64 when ``total`` and ``unit`` are ints, else float64).

    Raises
    ------
    InvalidParameterError
        ``axes`` empty or not a mapping, an axis named ``"target"``, bad ``unit`` or
        ``total``.
    InvalidProblemError
        Bad weights on an axis (see [`split`][alloc.targets.split]), or a malformed ``seed_table``.

    Examples
    --------
    >>> from alloc.targets import decompose
    >>> plan = decompose(100, {"month": {"jan": 1, "feb": 1}, "product": {"a": 1, "b": 3}})
    >>> plan
      month product  target
    0   jan       a      12
    1   jan       b      38
    2   feb       a      13
    3   feb       b      37
    >>> plan.groupby("month", sort=False)["target"].sum().to_dict()
    {'jan': 50, 'feb': 50}
    >>> plan.groupby("product")["target"].sum().to_dict()
    {'a': 25, 'b': 75}
    """
    owner = "decompose"
    check_unit(unit, owner)
    n_units = to_units(total, unit, "total", owner)
    as_int = is_int(total) and is_int(unit)
    ok = isinstance(axes, Mapping) and len(axes) > 0
    check_param("axes", axes, owner, ok, "a non-empty mapping axis name -> weights")
    names = list(axes.keys())
    check_param("axes", names, owner, "target" not in names, "axis names other than 'target'")
    check_param("max_iter", max_iter, owner, is_int(max_iter) and max_iter >= 1, "an int >= 1")
    labels: list[pd.Index] = []
    margin_units: list[IntArray] = []
    for name in names:
        index, values = as_weights(axes[name], f"axes[{name!r}]", owner)
        labels.append(index)
        try:
            margin_units.append(hamilton(n_units, values))
        except NoWeight:
            raise InvalidProblemError(
                f"the 'axes' argument of {owner} has only zero weights on axis {name!r}; "
                "give some of its labels a positive weight."
            ) from None
    margins = [m.astype(np.float64) for m in margin_units]
    shape = tuple(len(lab) for lab in labels)
    k = len(shape)
    if n_units == 0:
        fit = np.zeros(shape)
    elif seed_table is None:
        fit = np.full((1,) * k, float(n_units))
        for a in range(k):
            dims = [1] * k
            dims[a] = -1
            fit = fit * (margins[a] / n_units).reshape(dims)
        fit = np.ascontiguousarray(fit)
    else:
        seed = _seed_from_table(seed_table, names, labels, margins, owner)
        tol = max(1e-6, 1e-12 * n_units)
        fit, sweeps, err = _ipf(seed, margins, tol, max_iter)
        if err > tol:
            warnings.warn(
                f"decompose: the seed_table's zero cells leave some marginals unreachable "
                f"by proportional fitting (largest gap {err:.3g} units after {sweeps} "
                "sweeps); the result still meets every marginal exactly but puts units in "
                "cells the seed table gives weight 0. Add those combinations to the seed "
                "table with a small weight to choose where they go.",
                AllocWarning,
                stacklevel=2,
            )
    table = _integer_table(fit, margin_units)
    frame = pd.MultiIndex.from_product(labels, names=names).to_frame(index=False)
    frame["target"] = from_units(table.ravel(), unit, as_int)
    return frame
