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

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.contiguity import (
    edge_list,
    is_connected,
    leaves_connected,
    pieces_per_territory,
)
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows
from alloc.solvers.territory_start import eligibility

__all__ = ["Part", "TreeCutter", "bisect", "recombine", "recursive_partition", "repair"]

#: Random spanning trees tried by one bisection before it gives up.
_TRIES = 300
#: A bisection stops drawing trees once it holds this many valid halving cuts, or once
#: it has drawn ``_MIN_TREES`` trees and holds any valid cut.
_POOL = 6
_MIN_TREES = 24
_LONG_WAIT = 96
#: Valid cuts kept from one tree (the best placed ones), and cuts whose dispersion is
#: measured before one is chosen.
_PER_TREE = 4
_MEASURED = 8
#: Above this many eligibility classes in a part, eligibility is checked on the chosen
#: cut only instead of on every cut.
_MAX_CLASSES = 32
#: Candidate centre units sampled when a part is large (dispersion of a cut).
_CENTRE_SAMPLE = 300
#: Share of a window left out at each end when a part that will be split again is
#: balanced: it aims at the middle of its window so its own parts can fit theirs.
_INNER = 0.25
#: Trees drawn between two attempts to balance the nearest miss into a valid cut.
_BALANCE_EVERY = 16
#: Improving swaps whose connectivity is checked per balancing step.
_SWAP_CHECKS = 30
#: Balancing: steps per unit of the part, kicks at local minima, how long a kicked
#: unit stays, and units tried per kick.
_BALANCE_STEPS = 3
_KICKS = 12
_TABU = 4
_KICK_CHECKS = 10
#: Re-splits of a part before its parent's split is given up.
_RETRIES = 2
#: Random trees per ReCom step of `TreeCutter.repair`.
_PAIR_TRIES = 48


@dataclass(frozen=True, eq=False)
class Part:
    """A connected set of units and the reps that will share it."""

    units: np.ndarray
    reps: np.ndarray


@dataclass(eq=False)
class _Tree:
    """A rooted spanning tree over a part's units (local indices)."""

    pred: np.ndarray  # parent of each node, -1 at the root
    levels: list[np.ndarray]  # nodes by depth, root first
    depth: np.ndarray

    def subtree_sums(self, values: np.ndarray) -> np.ndarray:
        """Row ``v``: the sum of ``values`` over the subtree below (and with) ``v``."""
        out = values.copy()
        for level in reversed(self.levels[1:]):
            np.add.at(out, self.pred[level], out[level])
        return out

    def subtree(self, v: int) -> np.ndarray:
        """Mask of the nodes in the subtree of ``v``."""
        inside = np.zeros(self.pred.shape[0], dtype=bool)
        inside[v] = True
        for level in self.levels[int(self.depth[v]) + 1 :]:
            inside[level] = inside[self.pred[level]]
        return inside


@dataclass(eq=False)
class _Cut:
    """A valid cut: the subtree of ``node`` goes to the base reps inside it and the
    first ``m`` free reps of ``order``; the rest to the other reps."""

    tree: _Tree
    node: int
    m: int
    order: np.ndarray
    balanced: bool
    slack: float
    excess: float = 0.0  # how far outside the windows (in fair shares); 0 when valid
    fixed: tuple[Part, Part] | None = None  # the parts after `_Node.balance`


def _finite_parts(limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(finite values with infinities as 0, 1 where infinite) so sums never see inf."""
    inf = ~np.isfinite(limit)
    return np.where(inf, 0.0, limit), inf.astype(float)


def _window(fin: np.ndarray, inf: np.ndarray, sign: float) -> np.ndarray:
    return np.where(inf > 0.5, sign * np.inf, fin)


class _Node:
    """One part to split: its units, its reps and the per-unit columns of a cut."""

    def __init__(self, cutter: TreeCutter, units: np.ndarray, reps: np.ndarray):
        self.cutter, self.units, self.reps = cutter, units, reps
        s, g = units.size, reps.size
        pos = np.full(cutter.n_units, -1, dtype=np.int64)
        pos[units] = np.arange(s)
        inside = (pos[cutter.src] >= 0) & (pos[cutter.dst] >= 0)
        self.a, self.b = pos[cutter.src[inside]], pos[cutter.dst[inside]]
        local = csr_matrix(
            (np.ones(2 * self.a.size), (np.r_[self.a, self.b], np.r_[self.b, self.a])), shape=(s, s)
        )
        self.indptr, self.indices = local.indptr, local.indices
        pairs = cutter.elig[np.ix_(units, reps)]
        ok = pairs >= 0
        base = cutter.base[reps]
        based = base >= 0
        self.valid = bool(ok.any(axis=1).all()) and bool(np.all(pos[base[based]] >= 0))
        self.valid &= np.unique(base[based]).size == int(based.sum())
        W = cutter.weight[np.maximum(pairs, 0)]  # (s, g, K)
        self.wmin = np.where(ok[..., None], W, np.inf).min(axis=1)
        self.wmax = np.where(ok[..., None], W, -np.inf).max(axis=1)
        lo_fin, lo_inf = _finite_parts(cutter.lo[:, reps].T)  # (g, K)
        hi_fin, hi_inf = _finite_parts(cutter.hi[:, reps].T)
        self.limits = np.hstack([lo_fin, lo_inf, hi_fin, hi_inf])  # (g, 4K)
        self.free = np.flatnonzero(~based)
        self.base_pos = np.where(based, pos[np.maximum(base, 0)], -1)
        per_unit = np.zeros((s, self.limits.shape[1] + 1))
        if based.any():
            np.add.at(
                per_unit,
                self.base_pos[based],
                np.hstack([self.limits[based], np.ones((int(based.sum()), 1))]),
            )
        self.classes, cls = (np.zeros((0, g), bool), np.zeros(s, np.int64))
        if not ok.all():
            self.classes, cls = np.unique(ok, axis=0, return_inverse=True)
            cls = np.asarray(cls).ravel()
        self.check_classes = 0 < self.classes.shape[0] <= _MAX_CLASSES
        class_cols = np.zeros((s, 0))
        if self.check_classes:
            C = self.classes.shape[0]
            count = np.zeros((s, C))
            count[np.arange(s), cls] = 1.0
            by_base = np.zeros((s, C))
            for j in np.flatnonzero(based).tolist():
                by_base[self.base_pos[j]] += self.classes[:, j]
            class_cols = np.hstack([count, by_base])
        finite_max = np.nan_to_num(self.wmax, posinf=0.0, neginf=0.0)
        self.share = np.maximum(np.abs(finite_max.sum(axis=0)) / g, 1e-12)
        self.columns = np.hstack(
            [np.nan_to_num(self.wmin), np.nan_to_num(self.wmax), per_unit, class_cols]
        )

    # ---- one tree ---------------------------------------------------------------------
    def random_tree(self, rng: np.random.Generator) -> _Tree | None:
        s = self.units.size
        weights = rng.random(self.a.size) + 1e-3
        graph = csr_matrix((weights, (self.a, self.b)), shape=(s, s))
        tree = minimum_spanning_tree(graph)
        root = int(rng.integers(s))
        order, pred = breadth_first_order(tree, root, directed=False, return_predecessors=True)
        if order.size < s:
            return None
        pred = np.where(pred < 0, -1, pred).astype(np.int64)
        depth = np.zeros(s, dtype=np.int64)
        depth[order[1:]] = 1
        up = np.where(pred < 0, root, pred)
        while np.any(up != root):
            depth += np.where(up != root, depth[up], 0)
            up = up[up]
        # depth now counts hops to the root (pointer jumping); group nodes by it.
        by_depth = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max()) + 2))
        levels = [by_depth[bounds[i] : bounds[i + 1]] for i in range(bounds.size - 1)]
        return _Tree(pred, levels, depth)

    def cuts(self, tree: _Tree, rng: np.random.Generator) -> tuple[list[_Cut], _Cut | None]:
        """The valid cuts of one tree, best placed first (at most ``_PER_TREE``), and
        the cut closest to valid (a start for `balance`) when none is valid."""
        K = self.wmin.shape[1]
        g = self.reps.size
        sub = tree.subtree_sums(self.columns)
        total = self.columns.sum(axis=0)
        nodes = np.flatnonzero(tree.pred >= 0)
        A, B = sub[nodes], total - sub[nodes]
        order = rng.permutation(self.free.size)
        free_limits = self.limits[self.free[order]]
        cum = np.vstack([np.zeros((1, free_limits.shape[1])), np.cumsum(free_limits, axis=0)])
        m = np.arange(self.free.size + 1)
        nb = 4 * K  # base limit columns start after wmin, wmax
        k1 = A[:, 2 * K + nb][:, None] + m[None, :]
        k2 = g - k1
        ok = (k1 >= 0.5) & (k2 >= 0.5)
        if self.check_classes:
            ok &= self._eligible(A, B, order, m)
        if not ok.any():
            return [], None
        balanced = np.abs(k1 - k2) <= 1.5
        limA = A[:, None, 2 * K : 2 * K + nb] + cum[None, :, :]
        limB = B[:, None, 2 * K : 2 * K + nb] + (cum[-1] - cum)[None, :, :]
        slackA, overA = self._fit(A[:, :K], A[:, K : 2 * K], limA, k1 >= 1.5)
        slackB, overB = self._fit(B[:, :K], B[:, K : 2 * K], limB, k2 >= 1.5)
        over = np.where(ok, overA + overB, np.inf)
        slack = np.minimum(np.where(k1 >= 1.5, slackA, 1.0), np.where(k2 >= 1.5, slackB, 1.0))

        def cut(e: int, j: int) -> _Cut:
            return _Cut(tree, int(nodes[e]), j, order, bool(balanced[e, j]), float(slack[e, j]))

        e, j = np.nonzero(ok & (over <= 0))
        best = np.lexsort((-slack[e, j], ~balanced[e, j]))[:_PER_TREE]
        valid = [cut(int(e[i]), int(j[i])) for i in best.tolist()]
        if any(c.balanced for c in valid):
            return valid, None
        # The nearest halving cut (any cut when halving is impossible) to balance.
        near = np.where(balanced, over, np.inf) if np.isfinite(over[balanced]).any() else over
        e0, j0 = np.unravel_index(int(np.argmin(near)), near.shape)
        miss = cut(int(e0), int(j0))
        miss.excess = float(over[e0, j0])
        return valid, miss

    def _fit(
        self, low: np.ndarray, high: np.ndarray, lim: np.ndarray, split_again: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """How far inside the windows ``lim`` (E, M, 4K) the middle of loads in
        ``[low, high]`` (E, K) lies (0 at an edge, 0.5 in the middle), and how far
        outside them the loads are (0 when they can meet them; in fair shares). A side
        to be split again (``split_again``, (E, M)) must meet the inner windows."""
        K = low.shape[1]
        lo = _window(lim[..., :K], lim[..., K : 2 * K], -1.0)
        hi = _window(lim[..., 2 * K : 3 * K], lim[..., 3 * K :], 1.0)
        low, high = low[:, None, :], high[:, None, :]
        width = hi - lo
        finite = np.isfinite(width) & (width > 0)
        inner = finite & split_again[..., None]
        margin = np.where(inner, _INNER * np.where(finite, width, 0.0), 0.0)
        scale = 1e-12 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
        over = np.maximum(low - hi + margin - scale, 0.0)
        over = over + np.maximum(lo + margin - high - scale, 0.0)
        mid = (low + high) / 2
        rel = np.where(finite, np.minimum(mid - lo, hi - mid) / np.where(finite, width, 1.0), 1.0)
        return rel.min(axis=2, initial=1.0), (over / self.share).sum(axis=2)

    def _eligible(
        self, A: np.ndarray, B: np.ndarray, order: np.ndarray, m: np.ndarray
    ) -> np.ndarray:
        """(E, M): every unit of both sides has an eligible rep in its side's group."""
        C = self.classes.shape[0]
        start = A.shape[1] - 2 * C
        countA, baseA = A[:, start : start + C], A[:, start + C :]
        countB, baseB = B[:, start : start + C], B[:, start + C :]
        f = self.free.size
        by_free = self.classes[:, self.free[order]]  # (C, f)
        if f == 0:
            first, last = np.full(C, f), np.full(C, -1)
        else:
            has = by_free.any(axis=1)
            first = np.where(has, np.argmax(by_free, axis=1), f)
            last = np.where(has, f - 1 - np.argmax(by_free[:, ::-1], axis=1), -1)
        okA = (
            (countA[:, None, :] < 0.5)
            | (baseA[:, None, :] > 0.5)
            | (first[None, None, :] < m[None, :, None])
        )
        okB = (
            (countB[:, None, :] < 0.5)
            | (baseB[:, None, :] > 0.5)
            | (last[None, None, :] >= m[None, :, None])
        )
        return np.all(okA & okB, axis=2)

    # ---- a chosen cut -----------------------------------------------------------------
    def parts(self, cut: _Cut) -> tuple[Part, Part]:
        if cut.fixed is not None:
            return cut.fixed
        inside = cut.tree.subtree(cut.node)
        base_in = (self.base_pos >= 0) & inside[np.maximum(self.base_pos, 0)]
        mine = base_in.copy()
        mine[self.free[cut.order[: cut.m]]] = True
        return (
            Part(self.units[inside], self.reps[mine]),
            Part(self.units[~inside], self.reps[~mine]),
        )

    def balance(self, cut: _Cut, rng: np.random.Generator) -> _Cut | None:
        """Shift border units between the two sides of a near-valid cut until both fit.

        Each step moves the border unit (or trades the pair of border units) that most
        reduces the excess over the windows (inner windows for a side that will be
        split again), keeping both sides connected; base units stay. At a local
        minimum a random border unit moves and stays put for a few steps (a kick).
        Returns the fitting cut or None.
        """
        first, second = self.parts(cut)
        groups = (first.reps, second.reps)
        pos = np.full(self.cutter.n_units, -1, dtype=np.int64)
        pos[self.units] = np.arange(self.units.size)
        side = np.ones(self.units.size, dtype=np.int64)
        side[pos[first.units]] = 0
        lo, hi = self._targets(groups)
        allowed = np.stack(
            [(self.cutter.elig[np.ix_(self.units, g)] >= 0).any(axis=1) for g in groups]
        )
        fixed = np.zeros(self.units.size, dtype=bool)
        fixed[self.base_pos[self.base_pos >= 0]] = True
        tabu = np.full(self.units.size, -1, dtype=np.int64)
        kicks = _KICKS
        for step in range(_BALANCE_STEPS * self.units.size):
            low = np.stack([self.wmin[side == i].sum(axis=0) for i in (0, 1)])
            high = np.stack([self.wmax[side == i].sum(axis=0) for i in (0, 1)])
            now = self._excess(low[None], high[None], lo, hi)[0]
            if now <= 0:
                break
            movable = ~fixed & (np.bincount(side, minlength=2)[side] > 1) & (tabu < step)
            cross = side[self.a] != side[self.b]
            border = np.unique(np.concatenate([self.a[cross], self.b[cross]]))
            border = border[movable[border] & allowed[1 - side[border], border]]
            if self._shift(side, border, low, high, lo, hi, now):
                continue
            if self._swap(side, border, low, high, lo, hi, now):
                continue
            if kicks == 0 or not self._kick(side, border, rng, tabu, step):
                return None
            kicks -= 1
        else:
            return None
        parts = (Part(self.units[side == 0], groups[0]), Part(self.units[side == 1], groups[1]))
        if not all(self.cutter.fits(p.units, p.reps) for p in parts):
            return None
        slack = min(self.cutter.slack(p) for p in parts)
        return _Cut(cut.tree, cut.node, cut.m, cut.order, cut.balanced, slack, 0.0, parts)

    def _kick(
        self,
        side: np.ndarray,
        border: np.ndarray,
        rng: np.random.Generator,
        tabu: np.ndarray,
        step: int,
    ) -> bool:
        """Move a random border unit that can leave its side; it stays for a while."""
        for u in rng.permutation(border)[:_KICK_CHECKS].tolist():
            if leaves_connected(self.indptr, self.indices, side, u):
                side[u] = 1 - side[u]
                tabu[u] = step + _TABU
                return True
        return False

    def _targets(self, groups: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(2, K) windows each side aims at: a rep's own, or the inner part of a group's."""
        lo = np.stack([self.cutter.lo[:, g].sum(axis=1) for g in groups])
        hi = np.stack([self.cutter.hi[:, g].sum(axis=1) for g in groups])
        width = hi - lo
        inner = np.array([[g.size > 1] for g in groups]) & np.isfinite(width)
        return np.where(inner, lo + _INNER * width, lo), np.where(inner, hi - _INNER * width, hi)

    def _excess(
        self, low: np.ndarray, high: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> np.ndarray:
        """(n,) total excess over the windows of both sides, in fair shares."""
        over = np.maximum(low - hi, 0.0) + np.maximum(lo - high, 0.0)
        return (over / self.share).sum(axis=(1, 2))

    def _shift(
        self,
        side: np.ndarray,
        border: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        now: float,
    ) -> bool:
        """Move the border unit that lowers the excess most and keeps its side connected."""
        if border.size == 0:
            return False
        sign = np.where(side[border] == 0, 1.0, -1.0)[:, None]
        step_low, step_high = self.wmin[border] * sign, self.wmax[border] * sign
        new_low = np.stack([low[0] - step_low, low[1] + step_low], axis=1)
        new_high = np.stack([high[0] - step_high, high[1] + step_high], axis=1)
        after = self._excess(new_low, new_high, lo[None], hi[None])
        for i in np.argsort(after, kind="stable").tolist():
            if after[i] >= now - 1e-12:
                return False
            u = int(border[i])
            if leaves_connected(self.indptr, self.indices, side, u):
                side[u] = 1 - side[u]
                return True
        return False

    def _swap(
        self,
        side: np.ndarray,
        border: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        now: float,
    ) -> bool:
        """Trade two border units between the sides when that lowers the excess and
        keeps both sides connected."""
        first, second = border[side[border] == 0], border[side[border] == 1]
        if first.size == 0 or second.size == 0:
            return False
        u, v = (x.ravel() for x in np.meshgrid(first, second, indexing="ij"))
        step_low = (self.wmin[u] - self.wmin[v])[:, None, :]
        step_high = (self.wmax[u] - self.wmax[v])[:, None, :]
        new_low = np.concatenate([low[0] - step_low, low[1] + step_low], axis=1)
        new_high = np.concatenate([high[0] - step_high, high[1] + step_high], axis=1)
        after = self._excess(new_low, new_high, lo[None], hi[None])
        for i in np.argsort(after, kind="stable")[:_SWAP_CHECKS].tolist():
            if after[i] >= now - 1e-12:
                return False
            side[[u[i], v[i]]] = side[[v[i], u[i]]]
            if all(
                is_connected(self.indptr, self.indices, np.flatnonzero(side == k)) for k in (0, 1)
            ):
                return True
            side[[u[i], v[i]]] = side[[v[i], u[i]]]
        return False


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
        self.model, self.geo, self.rows = model, geography, rows
        self.n_units, self.n_reps = model.n_units, model.n_reps
        self.elig = eligibility(model)
        hard = (rows.pen_scale > 0) & (
            np.isfinite(rows.lo).any(axis=1) | np.isfinite(rows.hi).any(axis=1)
        )
        keep = np.flatnonzero(hard)
        self.weight = rows.weight[:, keep]
        self.lo, self.hi = rows.lo[keep], rows.hi[keep]
        src, dst = edge_list(geography.indptr, geography.indices)
        one_way = src < dst
        self.src, self.dst = src[one_way], dst[one_way]
        self.base = np.asarray(geography.base, dtype=np.int64)
        self.fair = np.maximum(np.abs(self.weight.sum(axis=0)) / max(self.n_reps, 1), 1e-12)
        self.base_owner = np.full(self.n_units, -1, dtype=np.int64)
        has = np.flatnonzero(self.base >= 0)
        self.base_owner[self.base[has]] = has

    # ---- checks -----------------------------------------------------------------------
    def fits(self, units: np.ndarray, reps: np.ndarray) -> bool:
        """Whether ``units`` may go to the group ``reps`` (exact for one rep, else the
        necessary condition of the module docstring); connectivity is not checked."""
        if units.size == 0:
            return bool(np.all(self.lo[:, reps] <= 0) and np.all(self.hi[:, reps] >= 0))
        pairs = self.elig[np.ix_(units, reps)]
        ok = pairs >= 0
        if not ok.any(axis=1).all():
            return False
        base = self.base[reps]
        if np.any(~np.isin(base[base >= 0], units)):
            return False
        owner = self.base_owner[units]
        if np.any((owner >= 0) & ~np.isin(owner, reps)):
            return False
        W = self.weight[np.maximum(pairs, 0)]
        low = np.where(ok[..., None], W, np.inf).min(axis=1).sum(axis=0)
        high = np.where(ok[..., None], W, -np.inf).max(axis=1).sum(axis=0)
        lo, hi = self.lo[:, reps].sum(axis=1), self.hi[:, reps].sum(axis=1)
        return bool(np.all(low <= hi) and np.all(high >= lo))

    def slack(self, part: Part) -> float:
        """How far inside its group's windows a part's middle load lies (0.5: middle;
        1 for a part of one rep, which is not split again)."""
        if part.reps.size < 2:
            return 1.0
        pairs = self.elig[np.ix_(part.units, part.reps)]
        ok = pairs >= 0
        W = self.weight[np.maximum(pairs, 0)]
        low = np.where(ok[..., None], W, np.inf).min(axis=1).sum(axis=0)
        high = np.where(ok[..., None], W, -np.inf).max(axis=1).sum(axis=0)
        lo, hi = self.lo[:, part.reps].sum(axis=1), self.hi[:, part.reps].sum(axis=1)
        width = hi - lo
        finite = np.isfinite(width) & (width > 0)
        mid = (low + high) / 2
        rel = np.minimum(mid - lo, hi - mid) / np.where(finite, width, 1.0)
        return float(np.where(finite, rel, 1.0).min(initial=1.0))

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
        node = _Node(self, units, reps)
        if not node.valid:
            return None
        pool: list[_Cut] = []
        misses: list[_Cut] = []
        nearest: _Cut | None = None
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

    def _choose(self, node: _Node, pool: list[_Cut]) -> tuple[Part, Part] | None:
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

    def recursive_partition(
        self, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray | None:
        """A complete plan (rep per unit) with every territory connected and within its
        windows: recursive bisection, then `repair` of the parts that do not fit; None
        when none was found by the deadline."""
        if self.n_units == 0 or np.any(np.diff(self.model.unit_start) == 0):
            return None
        comps = self._components()
        groups = self._share_components(comps) if len(comps) > 1 else [np.arange(self.n_reps)]
        if groups is None:
            return None
        if any(r.size == 0 or not self.fits(u, r) for u, r in zip(comps, groups, strict=True)):
            return None
        while not deadline.expired():
            out = np.full(self.n_units, -1, dtype=np.int64)
            for units, reps in zip(comps, groups, strict=True):
                self.sketch(units, reps, rng, deadline, out)
            fixed = self.repair(out, rng, deadline)
            if fixed is not None:
                return fixed
        return None

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
        current = np.asarray(rep_of, dtype=np.int64).copy()
        if np.any(current < 0):
            return None
        while not deadline.expired():
            bad = self.broken(current)
            if bad.size == 0:
                return current
            step = self._repair_step(current, bad, rng, deadline)
            if step is None:
                return None
            current = step
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
