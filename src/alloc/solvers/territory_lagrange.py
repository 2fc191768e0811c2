"""Lagrangian reach: shrink a unit's reach ball with combinations of its rows.

The reach ball of unit ``c`` (`alloc.solvers.territory_reach`) keeps the units joined
to ``c`` by a path whose load stays within each upper limit, one row at a time. Rows
taken together cut far deeper. For multipliers ``pi`` (``pi[k] > 0`` on a row with an
upper limit, ``< 0`` on a row with a lower one), every territory ``S`` meeting the
windows has ``sum(a[u] for u in S) <= B`` with ``a = W @ pi`` and
``B = sum(pi[k] * (hi[k] if pi[k] > 0 else lo[k]))``. ``S`` holds ``c`` (and the other
fixed units) and, when it holds ``v``, a path ``Q`` from ``c`` to ``v``, so

    sum(a[S]) >= sum(a[fixed]) + sum(min(a[u], 0) for the other units)
                 + sum(max(a[u], 0) for the other units on Q)

and the last sum is at least ``d(v)``, the lightest path from ``c`` to ``v`` that pays
``max(a, 0)`` for each unit entered (fixed units free). A unit with
``L0 + d(v) > B`` (``L0`` the first two terms) is in no territory that meets the
windows: it leaves the ball; with ``L0 > B`` even ``c`` fails, and no territory of the
rep can hold it. Repeated over a fan of directions until nothing changes: Cobb County
(Georgia, population and elderly population, k = 10: people at most 1.05 shares while
gathering 0.95 of the elderly) keeps 25 of its 99 units, and CP-SAT proves it in 0.05 s
instead of 5-7 s.

The test is exact arithmetic on floats with the limits widened by a relative margin,
and it only removes units no window-meeting territory can hold, so every proof on the
smaller ball holds on the whole map.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from alloc.solvers.deadline import Deadline

__all__ = ["directions", "prune_ball"]

#: Angles per pair of rows (every 5 degrees: the unit directions of each row included).
_ANGLES = 72
#: Pairs of rows combined at most (the directions grow with the square of the rows).
_MAX_PAIRS = 10
#: Relative margin on every limit and on the comparison: a proof never rests on a tie.
_MARGIN = 1e-7


def directions(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Multipliers ``(n_directions, n_rows)`` to try: each row alone both ways and a fan
    of angles over pairs of rows, each row scaled by the size of its limits; only sides
    with a finite limit are used (a component pointing at an open side is dropped)."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    h = lo.size
    limits = np.where(np.isfinite(hi), np.abs(hi), 0.0)
    limits = np.maximum(limits, np.where(np.isfinite(lo), np.abs(lo), 0.0))
    scale = 1.0 / np.where(limits > 0, limits, 1.0)
    angles = np.linspace(0.0, 2 * np.pi, _ANGLES, endpoint=False)
    out = [np.eye(h) * s for s in (1.0, -1.0)]
    pairs = [(i, j) for i in range(h) for j in range(i + 1, h)][:_MAX_PAIRS]
    for i, j in pairs:
        fan = np.zeros((_ANGLES, h))
        fan[:, i], fan[:, j] = np.cos(angles), np.sin(angles)
        out.append(fan)
    pi = np.vstack(out) * scale
    pi[np.abs(pi) < 1e-12] = 0.0
    usable = ((pi <= 0) | np.isfinite(hi)) & ((pi >= 0) | np.isfinite(lo))
    pi = pi[usable.all(axis=1) & (pi != 0).any(axis=1)]
    return np.unique(pi, axis=0)


def prune_ball(
    members: np.ndarray,
    fixed: np.ndarray,
    weight: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    deadline: Deadline,
) -> np.ndarray | None:
    """The members of a reach ball that some window-meeting territory may hold.

    Parameters
    ----------
    members
        The ball's units (unit indices); ``fixed`` marks those every territory holds
        (the unit itself and a base unit; paths are measured from the first of them:
        a connected territory joins every unit to each of them).
    weight
        ``(len(members), n_rows)`` each member's weight on the hard rows.
    lo, hi
        The rep's windows on those rows (infinite where open).
    indptr, indices
        The neighbour graph over all units (CSR).
    deadline
        Directions are tried until it expires (the ball so far is returned).

    Returns
    -------
    numpy.ndarray or None
        A boolean mask over ``members`` (fixed units always kept), or None when no
        territory can meet the windows (a proof for this rep).
    """
    members = np.asarray(members, dtype=np.int64)
    fixed = np.asarray(fixed, dtype=bool)
    hi = np.asarray(hi, dtype=float) + _MARGIN * np.maximum(1.0, np.abs(hi))
    lo = np.asarray(lo, dtype=float) - _MARGIN * np.maximum(1.0, np.abs(lo))
    pis = directions(lo, hi)
    # The limit each direction's multiplier meets (0 where it is 0: no inf * 0).
    sides = np.where(pis > 0, np.where(np.isfinite(hi), hi, 0.0), 0.0) + np.where(
        pis < 0, np.where(np.isfinite(lo), lo, 0.0), 0.0
    )
    bounds = (pis * sides).sum(axis=1)
    keep = np.ones(members.size, dtype=bool)
    if pis.size == 0 or not fixed.any():
        return keep
    graph = _ball_graph(members, indptr, indices)
    root = int(np.flatnonzero(fixed)[0])
    changed = True
    while changed and not deadline.expired():
        changed = False
        for pi, bound in zip(pis, bounds.tolist(), strict=True):
            if deadline.expired():
                break
            a = weight @ pi
            inside = keep & ~fixed
            floor = float(a[fixed].sum() + np.minimum(a[inside], 0.0).sum())
            slack = _MARGIN * (abs(bound) + float(np.abs(a[keep]).sum()) + 1e-300)
            if floor > bound + slack:
                return None
            far = _lightest_paths(graph, keep, fixed, np.maximum(a, 0.0), root)
            out = keep & ~(floor + far <= bound + slack)
            if out[fixed].any():
                return None
            if out.any():
                keep &= ~out
                changed = True
    return keep


def _ball_graph(members: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> csr_matrix:
    """The neighbour graph among the members, in the members' positions (CSR, data 1)."""
    m = members.size
    whole = csr_matrix(
        (np.ones(indices.size), indices, indptr), shape=(indptr.size - 1, indptr.size - 1)
    )
    inner = whole[members][:, members].tocsr()
    inner.sum_duplicates()
    inner.sort_indices()
    return csr_matrix((inner.data, inner.indices.copy(), inner.indptr.copy()), shape=(m, m))


def _lightest_paths(
    graph: csr_matrix, keep: np.ndarray, fixed: np.ndarray, cost: np.ndarray, root: int
) -> np.ndarray:
    """Lightest path from ``root`` to each member through kept members, paying ``cost``
    for each member entered (fixed ones free); infinite where none exists."""
    step = np.where(fixed, 0.0, cost)
    # Entering a unit costs its step (+ a hair: csgraph drops zero-weight edges); arcs
    # into or out of dropped members are removed.
    heads = graph.indices[: graph.nnz]
    tails = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))
    open_arc = keep[heads] & keep[tails]
    data = np.where(open_arc, step[heads] + 1e-300, 0.0)
    weighted = csr_matrix((data, heads.copy(), graph.indptr.copy()), shape=graph.shape)
    weighted.eliminate_zeros()
    far = dijkstra(weighted, indices=root)
    return np.where(keep, far, np.inf)
