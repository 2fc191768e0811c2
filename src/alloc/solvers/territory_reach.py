"""Reach test: a proof that no connected territory can hold some unit within its windows.

A connected territory ``S`` holding unit ``c`` contains, for each of its units ``v``, a
path from ``c`` to ``v`` inside ``S``; on a row whose weights are never negative that
path's load is at most the load of ``S``, hence at most the rep's upper limit. So ``S``
lies in the *reach* of ``c``: the units whose lightest path from ``c`` (the weights of
every unit on it, both ends included: a node-weighted shortest path) stays within the
upper limit on every such row. If no fractional ``x`` on the reach, with ``x[c] = 1``,
meets every hard row's window of the rep (an LP), no territory of that rep can hold
``c``; when that holds for every rep eligible for ``c``, the problem has no plan.

The test catches what counting misses: a dense unit whose neighbours are dense too
(a city ringed by suburbs) cannot gather the area its window asks for before its
population runs over, while without contiguity far-away empty units would do. It is a
necessary condition only: passing it proves nothing. Units are tried heaviest first
(largest share of an upper limit) until the deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from alloc.data.model import Model
from alloc.solvers.contiguity import edge_list
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows
from alloc.solvers.territory_start import eligibility

__all__ = ["ReachBalls", "ReachConflict", "lightest_per_unit", "reach_conflicts"]

#: Sources per Dijkstra call (memory: this many rows of ``n_units`` floats per row).
_CHUNK = 256
#: The first chunk of sources (chunks double up to _CHUNK while they are quick).
_FIRST_CHUNK = 8
#: Relative margin added to every limit of the LP: a proof never rests on a tie.
_MARGIN = 1e-7
#: Units tested at most (heaviest first); the test is a quick proof, not a search.
_MAX_UNITS = 5_000
#: Conflicts after which the test stops (one is a proof; a few name the pattern).
_ENOUGH = 10


@dataclass(frozen=True)
class ReachConflict:
    """A unit no connected territory can hold.

    Attributes
    ----------
    unit
        The unit's index.
    reach
        Units in its reach for the rep class that reaches furthest.
    rows
        Hard rows whose windows alone (on that reach) cannot be met; empty when only
        their combination fails.
    path_rows
        The rows whose upper limits bound the reach.
    windows
        Every hard row of the LP that fails (the windows that cannot all be met; the
        path rows are only some of them).
    """

    unit: int
    reach: int
    rows: tuple[int, ...]
    path_rows: tuple[int, ...]
    windows: tuple[int, ...] = ()


def _hard_rows(rows: Rows) -> np.ndarray:
    finite = np.isfinite(rows.lo).any(axis=1) | np.isfinite(rows.hi).any(axis=1)
    return np.flatnonzero((rows.pen_scale > 0) & finite)


def _rep_classes(model: Model, rows: Rows, elig: np.ndarray, hard: np.ndarray) -> list[int]:
    """One rep per class of reps the test cannot tell apart (same eligibility, pair
    weights, windows and no base unit); every rep with a base unit on its own."""
    geography = model.geography
    assert geography is not None
    seen: dict[bytes, int] = {}
    out = []
    for r in range(model.n_reps):
        if geography.base[r] >= 0:
            out.append(r)
            continue
        pairs = elig[:, r]
        weights = np.where(pairs[:, None] >= 0, rows.weight[np.maximum(pairs, 0)][:, hard], 0)
        key = b"".join(
            a.tobytes() for a in (pairs >= 0, weights, rows.lo[hard, r], rows.hi[hard, r])
        )
        if key not in seen:
            seen[key] = r
            out.append(r)
    return out


def lightest_per_unit(model: Model, values: np.ndarray) -> np.ndarray:
    """Each unit's smallest value over its pairs, ``(n_units, values.shape[1])``; 0 for a
    unit without pairs (no territory holds it, and a path through it is no territory's
    path either, so any value keeps path loads a lower bound). ``reduceat`` alone read
    the next unit's pair for such a unit, or past the end for the last one (IndexError).
    """
    out = np.zeros((model.n_units, values.shape[1]))
    has_pairs = np.diff(model.unit_start) > 0
    if has_pairs.any():
        out[has_pairs] = np.minimum.reduceat(values, model.unit_start[:-1][has_pairs], axis=0)
    return out


def _path_rows(model: Model, rows: Rows, hard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hard rows usable for reach (no negative weight, a finite upper limit somewhere)
    and each unit's lightest pair weight on them, ``(n_units, len(rows))``."""
    lightest = lightest_per_unit(model, rows.weight[:, hard])
    usable = (lightest.min(axis=0) >= 0) & np.isfinite(rows.hi[hard]).any(axis=1)
    return hard[usable], lightest[:, usable]


def _widened(limit: np.ndarray | float) -> np.ndarray:
    """An upper limit plus the margin: path loads summed in another order than a
    plan's may differ from it in the last digits, and a tie must never look broken."""
    limit = np.asarray(limit, dtype=float)
    return limit + _MARGIN * np.maximum(1.0, np.abs(limit))


def _lp_fails(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, fixed: np.ndarray) -> bool:
    """True when no ``x`` in ``[0, 1]`` (1 on ``fixed``) has ``lo <= w.T x <= hi``."""
    lo = -_widened(-lo)
    hi = _widened(hi)
    low_sum = w[fixed].sum(axis=0) + np.minimum(w, 0)[~fixed].sum(axis=0)
    high_sum = w[fixed].sum(axis=0) + np.maximum(w, 0)[~fixed].sum(axis=0)
    if np.any(low_sum > hi) or np.any(high_sum < lo):
        return True  # box bounds alone fail: no LP needed
    keep_lo, keep_hi = np.isfinite(lo), np.isfinite(hi)
    if not (keep_lo.any() or keep_hi.any()):
        return False
    a_ub = np.vstack([w[:, keep_hi].T, -w[:, keep_lo].T])
    b_ub = np.concatenate([hi[keep_hi], -lo[keep_lo]])
    bounds = np.column_stack([fixed.astype(float), np.ones(w.shape[0])])
    # Imported here: scipy.optimize takes 0.4-0.7 s to import, and most solves never
    # come here (every `alloc.solve` imports this module through the portfolio).
    from scipy.optimize import linprog

    result = linprog(np.zeros(w.shape[0]), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    return bool(result.status == 2)  # 2: proven infeasible


class _Reach:
    """Node-weighted path loads from a chunk of sources, one matrix per usable row."""

    def __init__(self, model: Model, rows: Rows, path_rows: np.ndarray, lightest: np.ndarray):
        geography = model.geography
        assert geography is not None
        self.n = model.n_units
        self.lightest = lightest
        self.limit = _widened(rows.hi[path_rows].max(axis=1))  # the loosest upper limits
        src, dst = edge_list(geography.indptr, geography.indices)
        self.graphs = [
            # Entering v costs v's weight (+ a hair: csgraph drops zero-weight edges).
            csr_matrix((lightest[dst, j] + 1e-300, (src, dst)), shape=(self.n, self.n))
            for j in range(lightest.shape[1])
        ]

    def loads(self, sources: np.ndarray) -> list[np.ndarray]:
        out = []
        for j, graph in enumerate(self.graphs):
            far = dijkstra(graph, indices=sources, limit=float(self.limit[j]))
            out.append(far + self.lightest[sources, j][:, None])
        return out


def reach_conflicts(model: Model, rows: Rows, deadline: Deadline) -> list[ReachConflict]:
    """Units that no connected territory can hold within its windows (see the module).

    Parameters
    ----------
    model
        A compiled model whose geography asks for contiguity.
    rows
        Its stacked rows (`alloc.solvers.state.Rows.from_model`); the allowed limits
        ``rows.lo`` / ``rows.hi`` of the hard rows are used, widened by a hair.
    deadline
        When to stop testing (the units not reached are not claimed either way).

    Returns
    -------
    list of ReachConflict
        Empty when no unit fails (which proves nothing); otherwise a proof that the
        model has no plan with connected territories.
    """
    geography = model.geography
    if geography is None or not geography.contiguous or geography.indices.size == 0:
        return []
    hard = _hard_rows(rows)
    path_rows, lightest = _path_rows(model, rows, hard)
    if path_rows.size == 0 or model.n_units == 0:
        return []
    elig = eligibility(model)
    reps = _rep_classes(model, rows, elig, hard)
    share = lightest / np.maximum(rows.hi[path_rows].max(axis=1), 1e-300)
    order = np.argsort(-share.max(axis=1), kind="stable")[:_MAX_UNITS]
    reach = _Reach(model, rows, path_rows, lightest)
    found: list[ReachConflict] = []
    # Chunks start small and double while they take little of the time left: on a large
    # map every ball covers the whole map, and 256 Dijkstra runs at once overran the
    # deadline (2.5 s of a 1 s share on a 150 x 150 grid) and held 256 x n loads.
    first, size = 0, _FIRST_CHUNK
    while first < order.size and not deadline.expired():
        sources = order[first : first + size]
        first += sources.size
        started = time.perf_counter()
        loads = reach.loads(sources)
        for i, c in enumerate(sources.tolist()):
            if deadline.expired():
                break
            conflict = _unit_conflict(model, rows, elig, reps, hard, path_rows, c, loads, i)
            if conflict is not None:
                found.append(conflict)
        if len(found) >= _ENOUGH:
            break
        if 8 * (time.perf_counter() - started) < deadline.remaining():
            size = min(2 * size, _CHUNK)
    return found


class ReachBalls:
    """The reach ball of units, per rep class: the only units a connected territory of
    that rep holding the unit can contain (see the module), for exact tests on them
    (`alloc.solvers.territory_units`).

    ``reps`` are one rep per class the reach cannot tell apart (every rep with a base
    unit on its own); ``hard`` the hard rows; ``elig`` each (unit, rep)'s pair or -1.
    """

    def __init__(self, model: Model, rows: Rows):
        self.model, self.rows = model, rows
        self.hard = _hard_rows(rows)
        self.path_rows, lightest = _path_rows(model, rows, self.hard)
        self.elig = eligibility(model)
        self.reps = _rep_classes(model, rows, self.elig, self.hard)
        self._reach = _Reach(model, rows, self.path_rows, lightest) if self.path_rows.size else None

    def balls(self, units: np.ndarray) -> list[dict[int, tuple[np.ndarray, np.ndarray]]]:
        """For each unit, ``{rep: (members, fixed)}`` over the rep classes that may hold
        it: the units of its ball and which of them must be in the territory (the unit
        and the rep's base). Without a usable row the ball is every eligible unit."""
        units = np.asarray(units, dtype=np.int64)
        loads = self._reach.loads(units) if self._reach is not None else []
        out = []
        for i, c in enumerate(units.tolist()):
            unit = _Unit(self.model, self.rows, self.elig, self.path_rows, loads, i, c)
            out.append({r: found for r in self.reps if (found := unit.reach(r)) is not None})
        return out


@dataclass(frozen=True, eq=False)
class _Unit:
    """What the LPs of one unit share: the model's arrays and the unit's path loads."""

    model: Model
    rows: Rows
    elig: np.ndarray
    path_rows: np.ndarray
    loads: list[np.ndarray]  # per usable row: (chunk, n_units) path loads
    i: int  # the unit's position in the chunk
    c: int  # the unit

    def reach(self, r: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Units rep ``r``'s territory may hold with ``c``, and which must be in it
        (``c`` and the rep's base); None when the rep cannot hold ``c``."""
        base = np.asarray(self.model.geography.base)  # type: ignore[union-attr]
        if self.elig[self.c, r] < 0:
            return None
        inside = self.elig[:, r] >= 0
        for j, k in enumerate(self.path_rows.tolist()):
            inside &= self.loads[j][self.i] <= _widened(self.rows.hi[k, r])
        others = np.flatnonzero(base >= 0)
        inside[base[others[others != r]]] = False
        if not inside[self.c] or (base[r] >= 0 and not inside[base[r]]):
            return None
        members = np.flatnonzero(inside)
        fixed = (members == self.c) | (members == base[r])
        return members, fixed

    def fails(self, reps: list[int], rows: np.ndarray) -> bool:
        """Whether no rep of ``reps`` can meet the windows of ``rows`` with ``c``."""
        for r in reps:
            found = self.reach(r)
            if found is None:
                continue
            members, fixed = found
            w = self.rows.weight[self.elig[members, r]][:, rows]
            if not _lp_fails(w, self.rows.lo[rows, r], self.rows.hi[rows, r], fixed):
                return False
        return True


def _unit_conflict(
    model: Model,
    rows: Rows,
    elig: np.ndarray,
    reps: list[int],
    hard: np.ndarray,
    path_rows: np.ndarray,
    c: int,
    loads: list[np.ndarray],
    i: int,
) -> ReachConflict | None:
    """The conflict of unit ``c`` when every rep (class) eligible for it fails."""
    unit = _Unit(model, rows, elig, path_rows, loads, i, c)
    if not unit.fails(reps, hard):
        return None
    widest = max((found[0].size for r in reps if (found := unit.reach(r))), default=0)
    alone = tuple(int(k) for k in hard.tolist() if unit.fails(reps, np.array([k])))
    return ReachConflict(
        c,
        widest,
        alone,
        tuple(int(k) for k in path_rows.tolist()),
        tuple(int(k) for k in hard.tolist()),
    )
