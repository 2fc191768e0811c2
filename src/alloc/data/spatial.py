"""Compile the territory rules of a problem into the model's `Geography`.

Rules are duck-typed, as everywhere in ``alloc.data``: a contiguity rule has
``neighbour_links(tables)`` and ``base_codes(tables)``; a dispersion term has
``points(tables)``, ``kind`` and ``weight``. Customer links become unit links (customers
kept together by ``Together`` are one unit); fixed centres with ``kind="sum"`` become a
per-pair cost instead of a geography term, so every solver handles them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alloc.data.context import Tables
from alloc.data.geography import Geography
from alloc.errors import InvalidProblemError, format_ids

__all__ = ["CHOSEN_CENTRE_UNIT_LIMIT", "compile_geography", "pairwise_distance"]

#: Chosen centres need a unit-to-unit distance matrix; above this many units it would
#: not fit in memory comfortably (n^2 floats), so such problems are refused.
CHOSEN_CENTRE_UNIT_LIMIT = 4_000


def pairwise_distance(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """``(len(a), len(b))`` distances: Euclidean on x/y or great-circle km on lat/lon."""
    # Imported here: alloc.geo loads shapely, which `import alloc` need not wait for.
    from alloc.geo.distances import distance_matrix

    return distance_matrix(a, b, metric="euclidean" if metric == "euclidean" else "haversine")


def _graph(
    tables: Tables, rules: Sequence[Any], unit: np.ndarray, n_units: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of the unit graph: symmetric, no self loops, no repeats."""
    ends = [rule.neighbour_links(tables) for rule in rules]
    a = unit[np.concatenate([e[0] for e in ends])] if ends else np.zeros(0, np.int64)
    b = unit[np.concatenate([e[1] for e in ends])] if ends else np.zeros(0, np.int64)
    keep = a != b
    src = np.concatenate([a[keep], b[keep]])
    dst = np.concatenate([b[keep], a[keep]])
    key = np.unique(src * n_units + dst)
    src, dst = key // n_units, key % n_units
    indptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_units), out=indptr[1:])
    return indptr, dst.astype(np.int64)


def _bases(
    tables: Tables,
    rules: Sequence[Any],
    unit: np.ndarray,
    pair_key: np.ndarray,
) -> np.ndarray:
    """Base unit per rep (-1: none); errors name reps whose bases clash or are ineligible."""
    m = tables.n_reps
    base = np.full(m, -1, dtype=np.int64)
    reps = tables.reps.index
    for rule in rules:
        codes = rule.base_codes(tables)
        clash = (base >= 0) & (codes >= 0) & (base != unit[np.maximum(codes, 0)])
        if clash.any():
            raise InvalidProblemError(
                f"{rule!r}: two Contiguous rules give reps {format_ids(list(reps[clash]))} "
                "different base units; keep one base per rep."
            )
        base = np.where(codes >= 0, unit[np.maximum(codes, 0)], base)
    used = base[base >= 0]
    shared = np.unique(used[np.bincount(used).take(used) > 1]) if used.size else used
    if shared.size:
        owners = [list(reps[base == u]) for u in shared.tolist()]
        raise InvalidProblemError(
            f"reps {format_ids(owners)} have base units kept together in one unit (a "
            "Together rule): each rep needs a base of its own."
        )
    has = np.flatnonzero(base >= 0)
    eligible = np.isin(base[has] * m + has, pair_key)
    if not eligible.all():
        bad = has[~eligible]
        customers = tables.customers.index
        named = [
            f"{reps[r]}->{customers[np.flatnonzero(unit == base[r])[0]]}" for r in bad.tolist()
        ]
        raise InvalidProblemError(
            f"base units may not go to their own rep under the other rules ({format_ids(named)}): "
            "the pair is missing from pairs= or a rule (Match, Forbid, Pin...) removes it. "
            "Allow the pair or choose another base."
        )
    return base


def _dispersion(
    tables: Tables,
    term: Any,
    unit: np.ndarray,
    n_units: int,
    base: np.ndarray,
    base_customer: np.ndarray,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(fixed_distance (n_units, n_reps), distance (n_units, n_units))``, one None."""
    matrix = term.matrix(tables)
    if matrix is not None:
        metric, points, rep_points = "matrix", np.zeros((0, 2)), None
    else:
        metric, points, rep_points = term.points(tables)
    if rep_points is None and (base >= 0).any():
        if not (base >= 0).all():
            missing = list(tables.reps.index[base < 0])
            raise InvalidProblemError(
                f"{term!r}: the centres are the reps' base units, but reps "
                f"{format_ids(missing)} have none. Give every rep a base, or coordinates "
                f"in the reps table ({list(term.xy)} or {list(term.latlon)})."
            )
        if matrix is None:
            rep_points = points[base_customer]
    per_customer = None
    if matrix is not None and (base >= 0).any():
        per_customer = matrix[:, base_customer]
    elif rep_points is not None:
        per_customer = pairwise_distance(points, rep_points, metric)
    if per_customer is not None:
        fixed = np.zeros((n_units, tables.n_reps))
        if term.kind == "sum":
            np.add.at(fixed, unit, per_customer)
        else:
            np.maximum.at(fixed, unit, per_customer)
        return fixed, None
    if n_units != unit.size or not np.array_equal(unit, np.arange(unit.size)):
        raise InvalidProblemError(
            f"{term!r}: chosen centres (reps without coordinates or base units) do not "
            "combine with Together rules yet; give the reps coordinates or base units, or "
            "drop the Together rule."
        )
    if n_units > CHOSEN_CENTRE_UNIT_LIMIT:
        raise InvalidProblemError(
            f"{term!r}: choosing centres among {n_units:,} units needs a {n_units:,} x "
            f"{n_units:,} distance matrix (limit {CHOSEN_CENTRE_UNIT_LIMIT:,} units). Give "
            "the reps coordinates or base units, or aggregate the units."
        )
    return None, matrix if matrix is not None else pairwise_distance(points, points, metric)


def compile_geography(
    tables: Tables,
    rules: Sequence[Any],
    objective: Sequence[Any],
    unit: np.ndarray,
    n_units: int,
    pair_key: np.ndarray,
) -> tuple[Geography | None, np.ndarray | None]:
    """``(geography, fixed-centre cost per unit pair)`` of the territory rules and terms.

    The geography is None when the problem needs none (no ``Contiguous`` rule, and a
    dispersion term with fixed centres and ``kind="sum"``, which becomes the cost).
    ``pair_key`` is ``unit * n_reps + rep`` of the eligible unit pairs (sorted).
    """
    contiguity = [r for r in rules if hasattr(r, "neighbour_links")]
    dispersion = [t for t in objective if hasattr(t, "points") and hasattr(t, "kind")]
    if not contiguity and not dispersion:
        return None, None
    if len(dispersion) > 1:
        raise InvalidProblemError(
            f"the objective has {len(dispersion)} MinimizeDispersion terms; keep one."
        )
    m = tables.n_reps
    base_customer = np.full(m, -1, dtype=np.int64)
    for rule in contiguity:
        codes = rule.base_codes(tables)
        base_customer = np.where(codes >= 0, codes, base_customer)
    base = _bases(tables, contiguity, unit, pair_key)
    kind, weight, fixed, distance, cost = None, 0.0, None, None, None
    if dispersion:
        term = dispersion[0]
        fixed, distance = _dispersion(tables, term, unit, n_units, base, base_customer)
        kind, weight = term.kind, float(term.weight)
        if fixed is not None and kind == "sum":
            cost = weight * fixed[pair_key // m, pair_key % m]
            kind, weight, fixed = None, 0.0, None
    if not contiguity and kind is None:
        return None, cost
    indptr, indices = (
        _graph(tables, contiguity, unit, n_units)
        if contiguity
        else (np.zeros(n_units + 1, np.int64), np.zeros(0, np.int64))
    )
    geography = Geography(
        indptr=indptr,
        indices=indices,
        contiguous=bool(contiguity),
        base=base,
        centre_kind=kind,
        centre_weight=weight,
        fixed_distance=fixed,
        distance=distance,
    )
    return geography, cost
