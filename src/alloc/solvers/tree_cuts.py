"""Cuts of random spanning trees of a part of the map, and balancing of near misses.

A *part* is a connected set of units to be shared by a group of reps. Cutting one
edge of a spanning tree of the part splits it into two connected sides; every side's
load on every hard row is a subtree sum, so all cuts of a tree are judged at once
(`Node.cuts`). A cut is *valid* when each side can still be shared by its group: every
unit eligible for some rep of the group, the group's base units inside and no other
base unit, and each row's load inside ``[sum of lo, sum of hi]`` of the group's reps
(exactly a rep's own window for a group of one; the smallest and largest pair weight of
each unit bound the load when weights depend on the rep). A side to be split again must
fit the inner part of its windows (``_INNER`` of the width left out at each end), so
its own parts can fit theirs. When no tree gives a valid cut, `Node.balance` moves
border units between the sides of the nearest miss (shifts, swaps, random kicks),
keeping both sides connected. `PartRules` holds what the checks need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.contiguity import edge_list, is_connected, leaves_connected
from alloc.solvers.state import Rows
from alloc.solvers.territory_start import eligibility

__all__ = ["Cut", "Node", "Part", "PartRules", "Tree"]

#: Valid cuts kept from one tree (the best placed ones).
_PER_TREE = 4
#: Above this many eligibility classes in a part, eligibility is checked on the chosen
#: cut only instead of on every cut.
_MAX_CLASSES = 32
#: Share of a window left out at each end for a side that will be split again.
_INNER = 0.25
#: Improving swaps whose connectivity is checked per balancing step.
_SWAP_CHECKS = 30
#: Balancing: steps per unit of the part, kicks at local minima, how long a kicked
#: unit stays, and units tried per kick.
_BALANCE_STEPS = 3
_KICKS = 12
_TABU = 4
_KICK_CHECKS = 10


@dataclass(frozen=True, eq=False)
class Part:
    """A connected set of units and the reps that will share it."""

    units: np.ndarray
    reps: np.ndarray


@dataclass(eq=False)
class Tree:
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
class Cut:
    """A valid cut: the subtree of ``node`` goes to the base reps inside it and the
    first ``m`` free reps of ``order``; the rest to the other reps."""

    tree: Tree
    node: int
    m: int
    order: np.ndarray
    balanced: bool
    slack: float
    excess: float = 0.0  # how far outside the windows (in fair shares); 0 when valid
    fixed: tuple[Part, Part] | None = None  # the parts after `Node.balance`


def _finite_parts(limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(finite values with infinities as 0, 1 where infinite) so sums never see inf."""
    inf = ~np.isfinite(limit)
    return np.where(inf, 0.0, limit), inf.astype(float)


def _window(fin: np.ndarray, inf: np.ndarray, sign: float) -> np.ndarray:
    return np.where(inf > 0.5, sign * np.inf, fin)


class Node:
    """One part to split: its units, its reps and the per-unit columns of a cut."""

    def __init__(self, cutter: PartRules, units: np.ndarray, reps: np.ndarray):
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
    def random_tree(self, rng: np.random.Generator) -> Tree | None:
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
        return Tree(pred, levels, depth)

    def cuts(self, tree: Tree, rng: np.random.Generator) -> tuple[list[Cut], Cut | None]:
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

        def cut(e: int, j: int) -> Cut:
            return Cut(tree, int(nodes[e]), j, order, bool(balanced[e, j]), float(slack[e, j]))

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
    def parts(self, cut: Cut) -> tuple[Part, Part]:
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

    def balance(self, cut: Cut, rng: np.random.Generator) -> Cut | None:
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
        return Cut(cut.tree, cut.node, cut.m, cut.order, cut.balanced, slack, 0.0, parts)

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
        with np.errstate(invalid="ignore"):  # inf - inf for a window open on both sides
            width = hi - lo
            inner = np.array([[g.size > 1] for g in groups]) & np.isfinite(width)
            return np.where(inner, lo + _INNER * width, lo), np.where(
                inner, hi - _INNER * width, hi
            )

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


class PartRules:
    """What a part must meet to be shared by a group of reps: eligibility, base units
    and the windows of the model's hard rows (with the neighbour graph's edges).

    Parameters
    ----------
    model
        The compiled model: eligible pairs and hard rows.
    geography
        Its neighbour graph, base units.
    rows
        The model's stacked rows (`alloc.solvers.state.Rows.from_model`); the windows
        used are the allowed limits ``rows.lo``/``rows.hi`` of the hard rows.
    """

    def __init__(self, model: Model, geography: Geography, rows: Rows):
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
        # A rep's typical load on each row: the mean pair weight times units per rep.
        per_pair = np.abs(self.weight.sum(axis=0)) / max(model.n_pairs, 1)
        self.fair = np.maximum(per_pair * self.n_units / max(self.n_reps, 1), 1e-12)
        self.base_owner = np.full(self.n_units, -1, dtype=np.int64)
        has = np.flatnonzero(self.base >= 0)
        self.base_owner[self.base[has]] = has

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
