"""Start plans for territory search: seed units, then region growing over the map.

All territories grow at once, breadth first over the neighbour graph: the territory
furthest below its targets (the middle of its windows, or its fair share) takes the
frontier unit closest to its centre, as long as the unit fits under the territory's
upper limits. Units left over are attached to an adjacent territory; a unit with no
eligible territory next to it goes to its least filled eligible rep (the plan is then
not contiguous, and the search reports it).
"""

from __future__ import annotations

import heapq

import numpy as np

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.contiguity import hop_distances
from alloc.solvers.state import Rows

__all__ = ["eligibility", "grow", "spread_seeds"]


def eligibility(model: Model) -> np.ndarray:
    """``(n_units, n_reps)`` pair index of each eligible (unit, rep), ``-1`` elsewhere."""
    out = np.full((model.n_units, model.n_reps), -1, dtype=np.int64)
    out[model.pair_unit, model.pair_rep] = np.arange(model.n_pairs)
    return out


def _targets(rows: Rows, n_units: int, n_reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows that measure how full a territory is, and each rep's target on them.

    Hard rows aim at the middle of their window (or at their one finite limit);
    imbalance rows at the fair share. Without any such row, the unit count is used.
    """
    hard = rows.pen_scale > 0
    lo = np.where(np.isfinite(rows.raw_lo), rows.raw_lo, np.nan)
    hi = np.where(np.isfinite(rows.raw_hi), rows.raw_hi, np.nan)
    mid = np.where(np.isnan(lo), hi, np.where(np.isnan(hi), lo, (lo + hi) / 2))
    target = np.where(hard[:, None], mid, rows.share)
    use = np.flatnonzero(np.all(np.nan_to_num(target, nan=0.0) > 0, axis=1))
    if use.size == 0:
        return use, np.full((1, n_reps), n_units / max(n_reps, 1))
    return use, target[use]


def spread_seeds(
    model: Model,
    geography: Geography,
    elig: np.ndarray,
    taken: np.ndarray,
    reps: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """One seed unit per rep in ``reps``, not in ``taken``, eligible for that rep.

    Fixed centres: the eligible unit nearest the rep's centre. Otherwise k-means++
    style: each next seed is drawn with probability growing with the squared distance
    (unit-to-unit, or hops on the graph) to the seeds already placed.
    """
    taken = taken.copy()
    seeds = np.full(reps.shape[0], -1, dtype=np.int64)
    n = model.n_units
    near = np.full(n, np.inf)
    for i, r in enumerate(reps.tolist()):
        ok = (elig[:, r] >= 0) & ~taken
        if not ok.any():
            continue
        if geography.fixed_distance is not None:
            d = np.where(ok, geography.fixed_distance[:, r], np.inf)
            u = int(np.argmin(d))
        else:
            finite = np.where(np.isfinite(near), near, 0.0)
            reach = ok & np.isfinite(near)
            weight = np.where(reach if reach.any() else ok, finite**2 + 1e-12, 0.0)
            if not np.isfinite(near).any():
                weight = ok.astype(float)
            u = int(rng.choice(n, p=weight / weight.sum()))
        seeds[i] = u
        taken[u] = True
        near = np.minimum(near, _distance_from(geography, u))
    return seeds


def _distance_from(geography: Geography, unit: int) -> np.ndarray:
    if geography.distance is not None:
        return np.asarray(geography.distance[unit], dtype=float)
    if geography.indices.size:
        return hop_distances(geography.indptr, geography.indices, np.array([unit]))[0]
    return np.ones(geography.n_units)


def _centre_distance(geography: Geography, anchors: np.ndarray) -> np.ndarray:
    """``(n_units, n_reps)`` distance used to order each territory's frontier."""
    if geography.fixed_distance is not None:
        return np.asarray(geography.fixed_distance, dtype=float)
    n, R = geography.n_units, anchors.shape[0]
    out = np.zeros((n, R))
    valid = anchors >= 0
    if geography.distance is not None:
        out[:, valid] = np.asarray(geography.distance)[:, anchors[valid]]
    elif geography.indices.size:
        out[:, valid] = hop_distances(geography.indptr, geography.indices, anchors[valid]).T
    return out


def grow(
    model: Model,
    geography: Geography,
    rows: Rows,
    rng: np.random.Generator,
    rep_of: np.ndarray | None = None,
    noise: float = 0.0,
) -> np.ndarray:
    """A complete ``rep_of`` (rep per unit) grown from ``rep_of``'s assigned units.

    ``rep_of`` (default: none assigned) may fix some units; base units are always
    assigned to their rep; empty territories get seeds from `spread_seeds`. ``noise``
    scales each frontier distance by a random factor ``exp(noise * N(0, 1))``, for
    varied restarts.
    """
    n, R = model.n_units, model.n_reps
    elig = eligibility(model)
    rep_of = np.full(n, -1, dtype=np.int64) if rep_of is None else rep_of.astype(np.int64)
    base = np.asarray(geography.base)
    has_base = base >= 0
    rep_of[base[has_base]] = np.flatnonzero(has_base)
    _link_pinned(model, geography, elig, rep_of, base)
    anchors = np.full(R, -1, dtype=np.int64)
    anchors[has_base] = base[has_base]
    for r in np.flatnonzero(~has_base & (np.bincount(rep_of[rep_of >= 0], minlength=R) > 0)):
        anchors[r] = int(np.flatnonzero(rep_of == r)[0])
    empty = np.flatnonzero(anchors < 0)
    if empty.size:
        seeds = spread_seeds(model, geography, elig, rep_of >= 0, empty, rng)
        anchors[empty] = seeds
        rep_of[seeds[seeds >= 0]] = empty[seeds >= 0]
    dist = _centre_distance(geography, anchors)
    if noise > 0:
        dist = dist * np.exp(noise * rng.standard_normal(dist.shape))
    _grow_regions(model, geography, rows, rng, elig, rep_of, dist)
    _attach_leftovers(model, geography, rows, elig, rep_of)
    return rep_of


def _link_pinned(
    model: Model, geography: Geography, elig: np.ndarray, rep_of: np.ndarray, base: np.ndarray
) -> None:
    """Give units only one rep may take (pinned) to that rep, joined to the rep's base
    (or first pinned unit) by a shortest path of free units the rep may serve.

    Grown from scattered pinned units alone, a territory stays in pieces that single
    border moves cannot join; the paths make one connected skeleton to grow from.
    """
    single = np.flatnonzero((np.diff(model.unit_start) == 1) & (rep_of < 0))
    if single.size == 0:
        return
    owner = model.pair_rep[model.unit_start[:-1][single]]
    rep_of[single] = owner
    if not geography.indices.size:
        return
    for r in np.unique(owner).tolist():
        members = np.flatnonzero(rep_of == r)
        root = int(base[r]) if base[r] >= 0 else int(members[0])
        parent = np.full(model.n_units, -2, dtype=np.int64)
        parent[root] = -1
        queue = [root]
        for u in queue:  # BFS over units the rep may take and nobody else holds
            around = geography.neighbours(u)
            ok = (parent[around] == -2) & (elig[around, r] >= 0)
            ok &= (rep_of[around] < 0) | (rep_of[around] == r)
            for v in around[ok].tolist():
                parent[v] = u
                queue.append(v)
        for m in members.tolist():
            v = m
            while v >= 0 and parent[v] != -2:
                if rep_of[v] < 0:
                    rep_of[v] = r
                v = int(parent[v])


def _grow_regions(
    model: Model,
    geography: Geography,
    rows: Rows,
    rng: np.random.Generator,
    elig: np.ndarray,
    rep_of: np.ndarray,
    dist: np.ndarray,
) -> None:
    """Grow every territory at once from its assigned units (updates ``rep_of``)."""
    R = model.n_reps
    use, target = _targets(rows, model.n_units, R)
    weight = rows.weight[:, use] if use.size else np.ones((model.n_pairs, 1))
    hard_hi = rows.hi[use] if use.size else np.full((1, R), np.inf)
    cap = np.where(rows.pen_scale[use][:, None] > 0, hard_hi, np.inf) if use.size else hard_hi
    load = np.zeros((weight.shape[1], R))
    done = rep_of >= 0
    np.add.at(load.T, rep_of[done], weight[elig[done, rep_of[done]]])
    graph = geography.indices.size > 0
    jitter = rng.random(model.n_units) * 1e-9
    frontier: list[list[tuple[float, int]]] = [[] for _ in range(R)]

    def push_around(u: int, r: int) -> None:
        if not graph:  # without a map every unit is on every frontier from the start
            return
        around = geography.neighbours(u)
        for v in around[(rep_of[around] < 0) & (elig[around, r] >= 0)].tolist():
            heapq.heappush(frontier[r], (dist[v, r] + jitter[v], v))

    if graph:
        for u in np.flatnonzero(done).tolist():
            push_around(u, int(rep_of[u]))
    else:
        for r in range(R):
            free = np.flatnonzero((rep_of < 0) & (elig[:, r] >= 0))
            frontier[r] = sorted(
                zip((dist[free, r] + jitter[free]).tolist(), free.tolist(), strict=True)
            )
    active = np.array([len(f) > 0 for f in frontier])
    while active.any():
        fill = (load / target).mean(axis=0)
        r = int(np.flatnonzero(active)[np.argmin(fill[active])])
        placed = False
        while frontier[r] and not placed:
            _, u = heapq.heappop(frontier[r])
            q = elig[u, r]
            if rep_of[u] >= 0 or np.any(load[:, r] + weight[q] > cap[:, r]):
                continue
            rep_of[u] = r
            load[:, r] += weight[q]
            push_around(u, r)
            placed = True
        active[r] = placed or bool(frontier[r])


def _attach_leftovers(
    model: Model, geography: Geography, rows: Rows, elig: np.ndarray, rep_of: np.ndarray
) -> None:
    """Give every unassigned unit a rep: an adjacent territory when one is eligible."""
    use, target = _targets(rows, model.n_units, model.n_reps)
    weight = rows.weight[:, use] if use.size else np.ones((model.n_pairs, 1))
    load = np.zeros((weight.shape[1], model.n_reps))
    done = rep_of >= 0
    np.add.at(load.T, rep_of[done], weight[elig[done, rep_of[done]]])
    changed = True
    while changed and (rep_of < 0).any():
        changed = False
        for u in np.flatnonzero(rep_of < 0).tolist():
            around = geography.neighbours(u) if geography.indices.size else np.zeros(0, int)
            reps = np.unique(rep_of[around])
            reps = reps[(reps >= 0) & (elig[u, np.maximum(reps, 0)] >= 0)]
            if reps.size == 0:
                continue
            fill = (load[:, reps] / target[:, reps]).mean(axis=0)
            r = int(reps[np.argmin(fill)])
            rep_of[u] = r
            load[:, r] += weight[elig[u, r]]
            changed = True
    for u in np.flatnonzero(rep_of < 0).tolist():
        reps = np.flatnonzero(elig[u] >= 0)
        if reps.size == 0:
            continue
        fill = (load[:, reps] / target[:, reps]).mean(axis=0)
        r = int(reps[np.argmin(fill)])
        rep_of[u] = r
        load[:, r] += weight[elig[u, r]]
