"""Graph routines on a neighbour graph (CSR) split into territories, for territory search.

A territory is the set of units with the same label in ``rep_of`` (``-1``: unassigned).
These routines answer the questions a contiguity-preserving search asks: how many
connected pieces each territory has, which (unit, territory) moves cross a border, and
whether a unit can leave its territory without cutting it in two. They work on plain
numpy CSR arrays (``indptr``, ``indices``) and never import networkx.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

__all__ = [
    "border_moves",
    "edge_list",
    "hop_distances",
    "is_connected",
    "leaves_connected",
    "piece_labels",
    "pieces_per_territory",
]


def edge_list(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) arrays of every directed edge of the CSR graph."""
    n = indptr.shape[0] - 1
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    return src, np.asarray(indices, dtype=np.int64)


def piece_labels(indptr: np.ndarray, indices: np.ndarray, rep_of: np.ndarray) -> np.ndarray:
    """Label of the connected piece of each unit within its own territory.

    Edges between units of different territories (or touching an unassigned unit) are
    dropped; each unit gets the label of its component in what remains.
    """
    n = rep_of.shape[0]
    src, dst = edge_list(indptr, indices)
    keep = (rep_of[src] == rep_of[dst]) & (rep_of[src] >= 0)
    graph = csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), (n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def pieces_per_territory(
    indptr: np.ndarray, indices: np.ndarray, rep_of: np.ndarray, n_reps: int
) -> np.ndarray:
    """``(n_reps,)`` number of connected pieces of each territory (0 when empty)."""
    labels = piece_labels(indptr, indices, rep_of)
    assigned = rep_of >= 0
    out = np.zeros(n_reps, dtype=np.int64)
    if not assigned.any():
        return out
    pairs = np.unique(np.stack([rep_of[assigned], labels[assigned]]), axis=1)
    np.add.at(out, pairs[0], 1)
    return out


def border_moves(
    indptr: np.ndarray, indices: np.ndarray, rep_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (unit, territory) pairs where the unit touches that other territory.

    Sorted by unit then territory; unassigned units and neighbours are left out.
    """
    src, dst = edge_list(indptr, indices)
    target = rep_of[dst]
    keep = (target >= 0) & (rep_of[src] >= 0) & (target != rep_of[src])
    if not keep.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    key = np.unique(src[keep] * (int(rep_of.max()) + 1) + target[keep])
    width = int(rep_of.max()) + 1
    return key // width, key % width


def is_connected(indptr: np.ndarray, indices: np.ndarray, members: np.ndarray) -> bool:
    """Whether the units ``members`` induce a connected subgraph (empty: True)."""
    if members.size <= 1:
        return True
    inside = np.zeros(indptr.shape[0] - 1, dtype=bool)
    inside[members] = True
    seen = {int(members[0])}
    queue = deque(seen)
    while queue:
        x = queue.popleft()
        for y in indices[indptr[x] : indptr[x + 1]].tolist():
            if inside[y] and y not in seen:
                seen.add(y)
                queue.append(y)
    return len(seen) == members.size


def leaves_connected(
    indptr: np.ndarray, indices: np.ndarray, rep_of: np.ndarray, unit: int
) -> bool:
    """Whether ``unit`` can leave its territory without splitting the piece it is in.

    True when the unit's neighbours in its territory stay linked to each other without
    it: first through the ring of the unit's own neighbours (enough on most planar
    maps), else by a breadth-first search inside the territory that stops as soon as
    every one of them is reached.
    """
    r = rep_of[unit]
    around = indices[indptr[unit] : indptr[unit + 1]]
    mates = around[rep_of[around] == r]
    if mates.size <= 1:
        return True
    targets = set(mates.tolist())
    # Ring check: links among the unit's neighbours that stay in the territory.
    ring = _reach(indptr, indices, rep_of, unit, int(mates[0]), targets, local=targets)
    if ring:
        return True
    return _reach(indptr, indices, rep_of, unit, int(mates[0]), targets, local=None)


def _reach(
    indptr: np.ndarray,
    indices: np.ndarray,
    rep_of: np.ndarray,
    removed: int,
    start: int,
    targets: set[int],
    local: set[int] | None,
) -> bool:
    """BFS inside ``start``'s territory without ``removed``; True once all targets seen.

    With ``local``, the search stays within those units (a cheap sufficient check).
    """
    r = rep_of[start]
    seen = {start}
    left = len(targets) - 1
    queue = deque([start])
    while queue:
        x = queue.popleft()
        for y in indices[indptr[x] : indptr[x + 1]].tolist():
            if y == removed or y in seen or rep_of[y] != r:
                continue
            if local is not None and y not in local:
                continue
            seen.add(y)
            if y in targets:
                left -= 1
                if left == 0:
                    return True
            queue.append(y)
    return False


def hop_distances(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """``(len(sources), n)`` number of edges from each source (``inf``: unreachable)."""
    n = indptr.shape[0] - 1
    graph = csr_matrix((np.ones(indices.shape[0], dtype=np.int8), indices, indptr), (n, n))
    if sources.size == 0:
        return np.zeros((0, n))
    return np.asarray(shortest_path(graph, indices=sources, unweighted=True), dtype=float)
