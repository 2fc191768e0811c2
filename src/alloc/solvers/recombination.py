"""Balanced connected partitions by spanning-tree cuts: recursive bisection and ReCom.

Cutting one edge of a spanning tree splits a connected set of units into two connected
parts; the load of every part on every row is one subtree sum, so all ``n - 1`` cuts of
a tree are judged at once. A random spanning tree (the minimum spanning tree of random
edge weights) gives a fresh set of cuts cheaply; this is the move of the redistricting
literature (ReCom, DeFord, Duchin and Solomon 2021) and of recursive tree bisection.

A part is *valid* for a group of reps when it can still be shared among them: every
unit eligible for some rep of the group, the base units of the group's reps inside it
and no other base unit, and, on every hard row of the model (balance windows,
capacities, account limits), its load inside ``[sum of lo, sum of hi]`` over the
group's reps. For a group of one rep this is exactly that rep's window (with the rep's
own pair weights); for larger groups it is a necessary condition (with the smallest and
largest pair weight of each unit when weights depend on the rep), and among valid cuts
those whose larger groups sit well inside their windows are preferred, so that they
can be split again.

- `bisect`: two connected parts, one for each of two groups of reps;
- `recursive_partition`: a complete contiguous plan by recursive bisection;
- `recombine`: merge two adjacent territories and split them again (a ReCom step);
- `repair`: recombine violated territories with their neighbours until every window
  holds.

Among valid cuts the one with the lowest dispersion is chosen: distance to the nearest
fixed centre of the group's reps, or to the best single centre unit of each part.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.contiguity import is_connected, pieces_per_territory
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows
from alloc.solvers.tree_cuts import Cut, Node, Part, PartRules

__all__ = ["Part", "TreeCutter", "bisect", "recombine", "recursive_partition", "repair"]

#: Random spanning trees tried by one bisection before it gives up.
_TRIES = 300
#: A bisection stops drawing trees once it holds this many valid halving cuts, or once
#: it has drawn ``_MIN_TREES`` trees and holds any valid cut; it takes cuts that do not
#: halve its reps only after ``_LONG_WAIT`` trees.
_POOL = 6
_MIN_TREES = 24
_LONG_WAIT = 96
#: Cuts whose dispersion is measured before one is chosen.
_MEASURED = 8
#: Candidate centre units sampled when a part is large (dispersion of a cut).
_CENTRE_SAMPLE = 300
#: Trees drawn between two attempts to balance the nearest miss into a valid cut.
_BALANCE_EVERY = 16
#: Re-splits of a part before its parent's split is given up.
_RETRIES = 2
#: Random trees per ReCom step of `TreeCutter.repair`, and reshaping steps of fitting
#: territories allowed when the descent is stuck.
_PAIR_TRIES = 48
_SHAKES = 30
#: Adjacent pairs tried by one perturbation of a feasible plan.
_PERTURB_PAIRS = 4


class TreeCutter:
    """Spanning-tree cuts on one model: bisection, recursive partition, recombination.

    Parameters
    ----------
    model
        The compiled model: eligible pairs and hard rows.
    geography
        Its neighbour graph (required), base units and dispersion term.
    rows
        The model's stacked rows (`alloc.solvers.state.Rows.from_model`); the windows
        used are the allowed limits ``rows.lo``/``rows.hi`` of the hard rows.
    """

    def __init__(self, model: Model, geography: Geography, rows: Rows):
        self.model, self.geo = model, geography
        self.rules = PartRules(model, geography, rows)
        r = self.rules
        self.n_units, self.n_reps = r.n_units, r.n_reps
        self.elig, self.weight, self.lo, self.hi = r.elig, r.weight, r.lo, r.hi
        self.src, self.dst, self.base, self.fair = r.src, r.dst, r.base, r.fair
        self.fits, self.slack = r.fits, r.slack

    def _spread(self, part: Part) -> float:
        """Dispersion proxy of a part: to its reps' nearest fixed centre, or to the
        best single centre unit."""
        geo, units = self.geo, part.units
        if geo.centre_kind is None or units.size == 0:
            return 0.0
        if geo.fixed_distance is not None:
            d = np.asarray(geo.fixed_distance)[np.ix_(units, part.reps)].min(axis=1)
            return float(d.max() if geo.centre_kind == "max" else d.sum())
        if geo.distance is None:
            return 0.0
        step = max(1, units.size // _CENTRE_SAMPLE)
        sub = np.asarray(geo.distance)[np.ix_(units, units[::step])]
        per_centre = sub.max(axis=0) if geo.centre_kind == "max" else sub.sum(axis=0)
        return float(per_centre.min())

    def _dispersion(self, parts: tuple[Part, Part]) -> float:
        a, b = self._spread(parts[0]), self._spread(parts[1])
        return max(a, b) if self.geo.centre_kind == "max" else a + b

    # ---- bisection --------------------------------------------------------------------
    def bisect(
        self,
        units: np.ndarray,
        reps: np.ndarray,
        rng: np.random.Generator,
        *,
        tries: int = _TRIES,
        deadline: Deadline | None = None,
        best_effort: bool = False,
    ) -> tuple[Part, Part] | None:
        """Two connected parts of ``units``, each valid for its group of ``reps``.

        ``units`` must induce a connected subgraph and ``reps`` hold at least two reps.
        Returns None when no valid cut turned up in ``tries`` random trees (or by the
        deadline), or with ``best_effort`` the cut nearest to valid.
        """
        units = np.asarray(units, dtype=np.int64)
        reps = np.asarray(reps, dtype=np.int64)
        if units.size < 2 or reps.size < 2:
            return None
        node = Node(self.rules, units, reps)
        if not node.valid:
            return None
        pool: list[Cut] = []
        misses: list[Cut] = []
        nearest: Cut | None = None
        for trial in range(tries):
            if deadline is not None and deadline.expired():
                break
            tree = node.random_tree(rng)
            if tree is None:
                return None
            valid, miss = node.cuts(tree, rng)
            pool.extend(valid)
            if miss is not None:
                misses.append(miss)
                if nearest is None or miss.excess < nearest.excess:
                    nearest = miss
            halving = sum(c.balanced for c in pool)
            if not halving and misses and (trial + 1) % _BALANCE_EVERY == 0:
                misses.sort(key=lambda c: c.excess)
                fixed = node.balance(misses[0], rng)
                pool.extend([fixed] if fixed is not None else [])
                halving += fixed is not None and fixed.balanced
                misses = misses[1:4]
            # Halving cuts are preferred: other cuts are taken only after a long wait.
            if halving >= _POOL or (halving and trial + 1 >= _MIN_TREES):
                break
            if pool and trial + 1 >= _LONG_WAIT:
                break
        if not pool and best_effort and nearest is not None:
            return node.parts(nearest)
        return self._choose(node, pool)

    def _choose(self, node: Node, pool: list[Cut]) -> tuple[Part, Part] | None:
        """The valid cut of lowest dispersion among the best placed ones."""
        if not pool:
            return None
        if any(c.balanced for c in pool):
            pool = [c for c in pool if c.balanced]
        top = max(c.slack for c in pool)
        ranked = sorted(pool, key=lambda c: (c.slack < top / 2, -c.slack))
        measured = ranked[:_MEASURED]
        candidates = [
            (self._dispersion(p), i, p) for i, p in enumerate(node.parts(c) for c in measured)
        ]
        candidates.sort(key=lambda x: (x[0], x[1]))
        later = [node.parts(c) for c in ranked[_MEASURED:]]
        for parts in [p for _, _, p in candidates] + later:
            if self.fits(parts[0].units, parts[0].reps) and self.fits(
                parts[1].units, parts[1].reps
            ):
                return parts
        return None

    # ---- recursive partition ----------------------------------------------------------
    def _leaf(self, units: np.ndarray, reps: np.ndarray, out: np.ndarray) -> bool:
        """Give a part to one rep of ``reps`` (the others stay empty) when that fits."""
        for r in reps.tolist():
            others = reps[reps != r]
            if self.fits(units, np.array([r])) and all(
                self.fits(units[:0], np.array([o])) for o in others.tolist()
            ):
                if np.all(self.base[others] < 0):
                    out[units] = r
                    return True
        return False

    def partition(
        self,
        units: np.ndarray,
        reps: np.ndarray,
        rng: np.random.Generator,
        deadline: Deadline,
        out: np.ndarray,
        retries: int = _RETRIES,
    ) -> bool:
        """Share the connected ``units`` among ``reps`` by recursive bisection.

        Writes each unit's rep into ``out``; True when every part fits its rep.
        """
        if reps.size == 1 or units.size == 1:
            return self._leaf(units, reps, out)
        for _ in range(retries):
            if deadline.expired():
                return False
            split = self.bisect(units, reps, rng, deadline=deadline)
            if split is None:
                return False
            if all(self.partition(p.units, p.reps, rng, deadline, out, retries) for p in split):
                return True
        return False

    def _components(self) -> list[np.ndarray]:
        n = self.n_units
        graph = csr_matrix((np.ones(self.src.size), (self.src, self.dst)), shape=(n, n))
        count, labels = connected_components(graph, directed=False)
        return [np.flatnonzero(labels == c) for c in range(count)]

    def _share_components(self, comps: list[np.ndarray]) -> list[np.ndarray] | None:
        """Reps for each component of a disconnected map: bases first, then free reps by
        the components' sizes (largest remainder, at least one each)."""
        owner = np.full(self.n_units, -1, dtype=np.int64)
        for c, units in enumerate(comps):
            owner[units] = c
        groups: list[list[int]] = [[] for _ in comps]
        for r in np.flatnonzero(self.base >= 0).tolist():
            groups[int(owner[self.base[r]])].append(r)
        free = np.flatnonzero(self.base < 0)
        size = np.array([u.size for u in comps], dtype=float)
        need = np.array([0 if g else 1 for g in groups])
        extra = free.size - int(need.sum())
        if extra < 0:
            return None
        want = size / size.sum() * free.size - need
        add = np.floor(np.maximum(want, 0)).astype(int)
        while add.sum() > extra:
            add[np.argmax(add)] -= 1
        order = np.argsort(-(want - add), kind="stable")
        add[order[: extra - int(add.sum())]] += 1
        it = iter(free.tolist())
        for c, k in enumerate((need + add).tolist()):
            groups[c].extend(next(it) for _ in range(k))
        return [np.array(sorted(g), dtype=np.int64) for g in groups]

    def sketch(
        self,
        units: np.ndarray,
        reps: np.ndarray,
        rng: np.random.Generator,
        deadline: Deadline,
        out: np.ndarray,
    ) -> None:
        """Share the connected ``units`` among ``reps`` by recursive bisection, taking
        the cut nearest to valid where no valid cut turns up (for `repair` to finish)."""
        if reps.size == 1 or units.size == 1:
            if not self._leaf(units, reps, out):
                based = reps[self.base[reps] >= 0]
                out[units] = based[0] if based.size else reps[0]
            return
        split = self.bisect(units, reps, rng, deadline=deadline, best_effort=True)
        if split is None:  # nothing to cut (the deadline passed): one rep takes all
            out[units] = reps[0]
            return
        for part in split:
            self.sketch(part.units, part.reps, rng, deadline, out)

    def plan(self, rng: np.random.Generator, deadline: Deadline) -> tuple[np.ndarray, bool] | None:
        """The best complete plan found by the deadline, and whether it is feasible.

        Recursive bisection (nearest cuts where no valid one turns up), then the ReCom
        descent of `repair`; restarts until a feasible plan or the deadline. Every
        territory is connected. None when the units cannot be shared at all (a unit
        with no eligible rep, or a component whose reps cannot hold its load).
        """
        if self.n_units == 0 or np.any(np.diff(self.model.unit_start) == 0):
            return None
        comps = self._components()
        groups = self._share_components(comps) if len(comps) > 1 else [np.arange(self.n_reps)]
        if groups is None:
            return None
        if any(r.size == 0 or not self.fits(u, r) for u, r in zip(comps, groups, strict=True)):
            return None
        best: tuple[np.ndarray, float] | None = None
        everyone = np.arange(self.n_reps)
        while best is None or not deadline.expired():
            out = np.full(self.n_units, -1, dtype=np.int64)
            for units, reps in zip(comps, groups, strict=True):
                self.sketch(units, reps, rng, deadline, out)
            out, feasible = self.descend(out, rng, deadline)
            if feasible:
                return out, True
            excess = self.excess(out, everyone) + float(self.broken(out).size)
            if best is None or excess < best[1]:
                best = (out, excess)
        return best[0], False

    def recursive_partition(
        self, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        """A complete plan (rep per unit) with every territory connected and within its
        windows (see `plan`); None when none was found by the deadline."""
        found = self.plan(rng, deadline)
        return found[0] if found is not None and found[1] else None

    # ---- recombination ----------------------------------------------------------------
    def recombine(
        self,
        rep_of: np.ndarray,
        reps: np.ndarray,
        rng: np.random.Generator,
        *,
        tries: int = _TRIES,
        deadline: Deadline | None = None,
    ) -> np.ndarray | None:
        """Merge the territories of ``reps`` and share them again (a ReCom step).

        Two reps: one bisection (both windows kept); more: a recursive partition of
        their union. Returns a new ``rep_of`` or None (union not connected, or no valid
        split found).
        """
        reps = np.asarray(reps, dtype=np.int64)
        units = np.flatnonzero(np.isin(rep_of, reps))
        if units.size < 2 or not is_connected(self.geo.indptr, self.geo.indices, units):
            return None
        if not self.fits(units, reps):
            return None
        out = np.asarray(rep_of, dtype=np.int64).copy()
        if reps.size == 2:
            split = self.bisect(units, reps, rng, tries=tries, deadline=deadline)
            if split is None:
                return None
            for part in split:
                out[part.units] = part.reps[0]
            return out
        ok = self.partition(units, reps, rng, deadline or Deadline.never(), out)
        return out if ok else None

    def broken(self, rep_of: np.ndarray) -> np.ndarray:
        """Reps whose territory breaks a window, is not connected or misses its base."""
        R = self.n_reps
        bad = np.zeros(R, dtype=bool)
        ok = rep_of >= 0
        pairs = self.elig[np.flatnonzero(ok), rep_of[ok]]
        bad[rep_of[ok][pairs < 0]] = True
        loads = np.zeros((self.weight.shape[1], R))
        good = np.flatnonzero(ok)[pairs >= 0]
        for k in range(loads.shape[0]):
            loads[k] = np.bincount(
                rep_of[good], weights=self.weight[self.elig[good, rep_of[good]], k], minlength=R
            )
        bad |= np.any((loads < self.lo) | (loads > self.hi), axis=0)
        pieces = pieces_per_territory(self.geo.indptr, self.geo.indices, rep_of, R)
        bad |= pieces > 1
        has = self.base >= 0
        bad[has] |= rep_of[self.base[has]] != np.flatnonzero(has)
        return np.flatnonzero(bad)

    def _neighbourhood(
        self, rep_of: np.ndarray, r: int, size: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``r`` and up to ``size - 1`` territories nearest it in the territory graph."""
        s, d = rep_of[self.src], rep_of[self.dst]
        cross = (s != d) & (s >= 0) & (d >= 0)
        links = np.unique(
            np.concatenate([s[cross] * self.n_reps + d[cross], d[cross] * self.n_reps + s[cross]])
        )
        chosen = [r]
        frontier = [r]
        while frontier and len(chosen) < size:
            nxt: list[int] = []
            for x in frontier:
                around = links[(links // self.n_reps) == x] % self.n_reps
                for y in rng.permutation(around).tolist():
                    if y not in chosen and len(chosen) < size:
                        chosen.append(int(y))
                        nxt.append(int(y))
            frontier = nxt
        return np.array(chosen, dtype=np.int64)

    def excess(self, rep_of: np.ndarray, reps: np.ndarray) -> float:
        """How far the territories of ``reps`` are outside their windows, in fair
        shares (plus one per unit not eligible for its rep)."""
        total = 0.0
        for r in np.asarray(reps).tolist():
            units = np.flatnonzero(rep_of == r)
            pairs = self.elig[units, r]
            load = self.weight[pairs[pairs >= 0]].sum(axis=0)
            over = np.maximum(load - self.hi[:, r], 0) + np.maximum(self.lo[:, r] - load, 0)
            total += float((over / self.fair).sum()) + float(np.sum(pairs < 0))
        return total

    def _improve_pair(
        self, rep_of: np.ndarray, a: int, b: int, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        """A ReCom step on ``a`` and ``b`` that lowers their excess, or None."""
        pair = np.array([a, b])
        units = np.flatnonzero(np.isin(rep_of, pair))
        if units.size < 2 or not is_connected(self.geo.indptr, self.geo.indices, units):
            return None
        split = self.bisect(
            units, pair, rng, tries=_PAIR_TRIES, deadline=deadline, best_effort=True
        )
        if split is None:
            return None
        out = rep_of.copy()
        for part in split:
            out[part.units] = part.reps[0]
        if self.excess(out, pair) < self.excess(rep_of, pair) - 1e-12:
            return out
        return None

    def _territory_links(self, rep_of: np.ndarray) -> np.ndarray:
        """(R, R) bool: territories that share a border."""
        s, d = rep_of[self.src], rep_of[self.dst]
        cross = (s != d) & (s >= 0) & (d >= 0)
        links = np.zeros((self.n_reps, self.n_reps), dtype=bool)
        links[s[cross], d[cross]] = True
        return links | links.T

    def repair(
        self, rep_of: np.ndarray, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        """Recombine broken territories with their neighbours until all windows hold.

        Each step merges a broken territory with an adjacent one and splits the union
        again by the tree cut (balanced if need be) nearest to both windows, kept when
        it lowers their excess (a ReCom descent). When no pair improves, a broken
        territory and a growing group of nearby territories are shared again by
        recursive bisection. Returns a feasible plan or None.
        """
        current = np.asarray(rep_of, dtype=np.int64)
        if np.any(current < 0):
            return None
        out, feasible = self.descend(current, rng, deadline)
        return out if feasible else None

    def descend(
        self, rep_of: np.ndarray, rng: np.random.Generator, deadline: Deadline
    ) -> tuple[np.ndarray, bool]:
        """The ReCom descent of `repair`: the plan it ends with and whether it is
        feasible. When stuck, fitting territories next to broken ones are recombined
        (a step that keeps their windows) to reshape the map, up to ``_SHAKES`` times."""
        current = np.asarray(rep_of, dtype=np.int64).copy()
        shakes = _SHAKES
        while not deadline.expired():
            bad = self.broken(current)
            if bad.size == 0:
                return current, True
            step = self._repair_step(current, bad, rng, deadline)
            if step is None and shakes > 0:
                shakes -= 1
                step = self._shake(current, bad, rng, deadline)
            if step is None:
                break
            current = step
        return current, self.broken(current).size == 0

    def perturb(
        self, rep_of: np.ndarray, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        """One ReCom step for a search: on a plan that breaks windows, a step that
        lowers the excess of a broken territory and a neighbour; on a feasible plan, a
        random adjacent pair split again within both windows. None when none worked."""
        current = np.asarray(rep_of, dtype=np.int64)
        if np.any(current < 0):
            return None
        bad = self.broken(current)
        if bad.size:
            return self._repair_step(current, bad, rng, deadline)
        links = np.argwhere(np.triu(self._territory_links(current)))
        for i in rng.permutation(links.shape[0])[:_PERTURB_PAIRS].tolist():
            out = self.recombine(current, links[i], rng, tries=_PAIR_TRIES, deadline=deadline)
            if out is not None:
                return out
        return None

    def _shake(
        self, current: np.ndarray, bad: np.ndarray, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        """Recombine two adjacent fitting territories, one of them next to a broken one."""
        links = self._territory_links(current)
        fitting = np.ones(self.n_reps, dtype=bool)
        fitting[bad] = False
        near = np.flatnonzero(links[bad].any(axis=0) & fitting)
        for b in rng.permutation(near).tolist():
            for c in rng.permutation(np.flatnonzero(links[b] & fitting)).tolist():
                out = self.recombine(
                    current, np.array([b, c]), rng, tries=_PAIR_TRIES, deadline=deadline
                )
                if out is not None and not np.array_equal(out, current):
                    return out
        return None

    def _repair_step(
        self, current: np.ndarray, bad: np.ndarray, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        links = self._territory_links(current)
        for a in rng.permutation(bad).tolist():
            for b in rng.permutation(np.flatnonzero(links[a])).tolist():
                if deadline.expired():
                    return None
                better = self._improve_pair(current, a, b, rng, deadline)
                if better is not None:
                    return better
        a = int(rng.choice(bad))
        size = 3
        while size <= self.n_reps and not deadline.expired():
            group = self._neighbourhood(current, a, size, rng)
            fixed = self.recombine(current, group, rng, deadline=deadline.share(0.5))
            if fixed is not None or group.size < size or size == self.n_reps:
                return fixed
            size = min(self.n_reps, 2 * size)
        return None


# ---- module-level entry points ----------------------------------------------------------
def bisect(
    model: Model,
    geography: Geography,
    rows: Rows,
    units: np.ndarray,
    reps: np.ndarray,
    rng: np.random.Generator,
    *,
    tries: int = _TRIES,
    deadline: Deadline | None = None,
) -> tuple[Part, Part] | None:
    """Split connected ``units`` into two connected parts valid for two groups of ``reps``.

    Parameters
    ----------
    model, geography, rows
        The compiled model, its neighbour graph and its stacked rows.
    units
        Unit indices inducing a connected subgraph.
    reps
        At least two rep indices; each rep's base unit (if any) must be in ``units``.
    rng
        Source of the random spanning trees.
    tries
        Random trees drawn at most.
    deadline
        Optional time limit.

    Returns
    -------
    tuple of Part or None
        Two parts (units and the reps that will share them) covering ``units`` and
        ``reps``; a part with one rep fits that rep's windows exactly. None when no
        valid cut was found.
    """
    return TreeCutter(model, geography, rows).bisect(
        units, reps, rng, tries=tries, deadline=deadline
    )


def recursive_partition(
    model: Model, geography: Geography, rows: Rows, rng: np.random.Generator, deadline: Deadline
) -> np.ndarray | None:
    """A feasible contiguous plan by recursive spanning-tree bisection.

    Parameters
    ----------
    model, geography, rows
        The compiled model, its neighbour graph and its stacked rows.
    rng
        Source of the random spanning trees.
    deadline
        When to give up.

    Returns
    -------
    numpy.ndarray or None
        ``(n_units,)`` rep per unit: every territory connected, with its base unit,
        its units eligible and every hard row within its window; None if none was found.
    """
    return TreeCutter(model, geography, rows).recursive_partition(rng, deadline)


def recombine(
    model: Model,
    geography: Geography,
    rows: Rows,
    rep_of: np.ndarray,
    a: int,
    b: int,
    rng: np.random.Generator,
    tries: int = _TRIES,
) -> np.ndarray | None:
    """Merge adjacent territories ``a`` and ``b`` and split them again by a tree cut.

    Parameters
    ----------
    model, geography, rows
        The compiled model, its neighbour graph and its stacked rows.
    rep_of
        ``(n_units,)`` rep per unit (not changed).
    a, b
        The two reps whose territories are merged.
    rng
        Source of the random spanning trees.
    tries
        Random trees drawn at most.

    Returns
    -------
    numpy.ndarray or None
        A new ``rep_of`` where ``a`` and ``b`` are connected, keep their bases and fit
        their windows, every other unit unchanged; None when the union is not connected
        or no valid cut was found.
    """
    cutter = TreeCutter(model, geography, rows)
    return cutter.recombine(np.asarray(rep_of), np.array([a, b]), rng, tries=tries)


def repair(
    model: Model,
    geography: Geography,
    rows: Rows,
    rep_of: np.ndarray,
    rng: np.random.Generator,
    deadline: Deadline,
) -> np.ndarray | None:
    """Make a complete plan feasible by recombining its broken territories.

    Parameters
    ----------
    model, geography, rows
        The compiled model, its neighbour graph and its stacked rows.
    rep_of
        ``(n_units,)`` rep per unit, every unit assigned (not changed).
    rng
        Source of the random choices.
    deadline
        When to give up.

    Returns
    -------
    numpy.ndarray or None
        A plan with every territory connected and within its windows, or None.
    """
    return TreeCutter(model, geography, rows).repair(np.asarray(rep_of), rng, deadline)
