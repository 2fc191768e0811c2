"""The budget-aware local search of rebalancing (one chosen pair per unit).

It keeps a *surrogate* of the objective that is separable by rep: hard-row violation
first, then the weighted excess of each rep's relative deviation over a threshold ``t``
(``sum_r max(0, |dev_r| - t)``), plus linear costs. Each round ranks shifts and
(sampled and guided) swaps by improvement per unit of budget consumed, budget-freeing
moves first, and applies the best ones on disjoint reps. `Search.run` lowers the
thresholds step by step; `Search.prune` reverts moves that do not pay for
themselves; `Search.polish` makes free moves on the true objective. Move changes
are computed by the kernel of `alloc.solvers.state`.
"""

from __future__ import annotations

import math

import numpy as np

from alloc.rebalancing.plan import (
    PEN_DIGITS,
    Plan,
    Snapshot,
    better,
    key_lt,
    key_not_worse,
)
from alloc.rebalancing.setup import Budget, Setup
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import (
    Moves,
    TopDeviations,
    abs_deviation,
    deviations_after,
    max_after,
    penalty_change,
    side_change,
    violation,
)

__all__ = ["Search"]


class Search(Plan):
    """State and moves of the budget-aware local search.

    Parameters beyond `Plan`'s: ``frozen`` keeps
    protected customers in place (until `unfreeze`); ``rng`` draws the sampled
    moves; ``shift_bonus`` is the weight, in the ranking of moves only, of the change in
    total |deviation| of the reps a move touches: among moves that remove the same
    excess, the ones that shift more (fewer moves per unit of shift) rank first.
    """

    batch_cut = 0.25
    swap_limit = 12_000
    shift_limit = 50_000
    paid_share = 1 / 16
    max_per_round = math.inf
    first_step = 0.5

    def __init__(
        self,
        setup: Setup,
        chosen: np.ndarray,
        budget: Budget,
        tol: np.ndarray | None,
        *,
        frozen: bool,
        rng: np.random.Generator,
        x_weight: np.ndarray | None = None,
        shift_bonus: float = 0.0,
    ) -> None:
        super().__init__(setup, chosen, budget, tol, x_weight)
        m, rows = setup.model, setup.rows
        self.frozen, self.rng, self.shift_bonus = frozen, rng, shift_bonus
        self.rounds = 0
        self.thresholds = np.zeros(rows.n_rows)
        if tol is not None:
            self.thresholds = np.where(self.is_imb & np.isfinite(tol), tol, 0.0)
            self.use_cost = False
        else:
            self.use_cost = bool(np.any(m.cost != 0))
        protected_units = np.zeros(m.n_units, dtype=bool)
        protected_units[m.pair_unit[setup.mp > 0]] = True
        self.protected_units = protected_units

    def unfreeze(self) -> None:
        """From now on protected customers may move (a repair when frozen is infeasible)."""
        self.frozen = False

    def excess(self) -> float:
        """The search's surrogate of the objective, without costs."""
        dev = self.deviations()
        exc = np.maximum(dev - self.thresholds[:, None], 0.0)
        return float((exc.sum(axis=1) * self.x_weight).sum())

    # ---- move evaluation --------------------------------------------------------------
    def _delta(
        self, ra: np.ndarray, rb: np.ndarray, da: np.ndarray, db: np.ndarray, dcost: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(penalty change, surrogate change) of moves changing rep ra by da and rb by db."""
        rows, moves = self.setup.rows, Moves(ra, rb, da, db, dcost)
        d_pen = np.zeros(ra.size)
        if self.hard.size:
            d_pen = penalty_change(rows, self.loads, moves, self.hard)
        d_x = dcost.astype(float) if self.use_cost else np.zeros(ra.size)
        k = self.soft
        if k.size:
            t = self.thresholds[k]

            def exc(load: np.ndarray, share: np.ndarray) -> np.ndarray:
                return np.maximum(abs_deviation(load, share) - t, 0.0)

            d_x = d_x + side_change(exc, self.loads, moves, (rows.share,), k) @ self.x_weight[k]
        return d_pen, d_x

    def _extreme_reps(self, n: int) -> np.ndarray:
        """Mask of the ``n`` reps with the largest surrogate excess (or violation)."""
        rows = self.setup.rows
        score = np.zeros(self.setup.model.n_reps)
        if self.soft.size:
            dev = self.deviations()[self.soft] - self.thresholds[self.soft][:, None]
            score += (np.maximum(dev, 0.0) * np.abs(self.x_weight[self.soft])[:, None]).sum(0)
        if self.hard.size:
            L = self.loads[self.hard]
            h = self.hard
            over = violation(L, rows.lo[h], rows.hi[h], rows.raw_lo[h], rows.raw_hi[h])
            score += 1e6 * (over * rows.pen_scale[self.hard][:, None]).sum(axis=0)
        mask = np.zeros(score.size, dtype=bool)
        mask[np.argsort(-score, kind="stable")[:n]] = True
        return mask & (score > 0)

    def active_reps(self) -> np.ndarray:
        """Reps whose surrogate can improve: beyond a threshold, or breaking a hard row."""
        rows = self.setup.rows
        active = np.zeros(self.setup.model.n_reps, dtype=bool)
        if self.soft.size:
            dev = self.deviations()[self.soft]
            active |= (dev > self.thresholds[self.soft][:, None]).any(axis=0)
        if self.hard.size:
            L = self.loads[self.hard]
            # rows.lo / rows.hi are the allowed limits (the tolerance is in them).
            active |= ((L > rows.hi[self.hard]) | (L < rows.lo[self.hard])).any(axis=0)
        return active

    def _candidates(self, free_only: bool, restrict: bool = True) -> dict[str, np.ndarray]:
        """Shifts and swaps touching an active rep (every rep when costs count)."""
        s, m, W = self.setup, self.setup.model, self.setup.rows.weight
        units = m.pair_unit
        ra_all = self.rep_of[units]
        every = not restrict or self.use_cost or free_only
        active = np.ones(m.n_reps, dtype=bool) if every else self.active_reps()
        q = np.flatnonzero((ra_all != m.pair_rep) & (active[ra_all] | active[m.pair_rep]))
        if q.size > self.shift_limit:
            # Large problems: every shift touching the most extreme reps, a sample of the rest.
            extreme = self._extreme_reps(8)
            near = extreme[ra_all[q]] | extreme[m.pair_rep[q]]
            rest = q[~near]
            room = max(0, self.shift_limit - int(near.sum()))
            if rest.size > room:
                rest = self.rng.choice(rest, size=room, replace=False)
            q = np.sort(np.concatenate([q[near], rest]))
        p = self.chosen[units[q]]
        cand_u, cand_v = units[q], np.full(q.size, -1, dtype=np.int64)
        cand_qu, cand_qv = q, np.full(q.size, -1, dtype=np.int64)
        tu, tv = self._swap_pairs(active, every)
        if tu.size:
            tq = m.pair_index(tu, self.rep_of[tv])
            tqv = m.pair_index(tv, self.rep_of[tu])
            ok = (tq >= 0) & (tqv >= 0)
            cand_u = np.concatenate([cand_u, tu[ok]])
            cand_v = np.concatenate([cand_v, tv[ok]])
            cand_qu = np.concatenate([cand_qu, tq[ok]])
            cand_qv = np.concatenate([cand_qv, tqv[ok]])
            p = np.concatenate([p, self.chosen[tu[ok]]])
        is_swap = cand_v >= 0
        pv = np.where(is_swap, self.chosen[np.maximum(cand_v, 0)], 0)
        qv_safe = np.maximum(cand_qv, 0)
        d_m = s.mc[cand_qu] - s.mc[p] + np.where(is_swap, s.mc[qv_safe] - s.mc[pv], 0)
        d_v = s.mv[cand_qu] - s.mv[p] + np.where(is_swap, s.mv[qv_safe] - s.mv[pv], 0.0)
        d_p = s.mp[cand_qu] - s.mp[p] + np.where(is_swap, s.mp[qv_safe] - s.mp[pv], 0)
        keep = np.ones(cand_u.size, dtype=bool)
        if self.frozen:
            keep &= d_p <= 0
        if free_only:
            keep &= (d_m <= 0) & (d_v <= 1e-12)
        if self.budget.finite:
            keep &= self.moves + d_m <= self.budget.moves
            keep &= self.moved_value + d_v <= self.budget.value * (1 + 1e-12) + 1e-9
        idx = np.flatnonzero(keep)
        cand_u, cand_v, cand_qu, cand_qv, p, pv = (
            a[idx] for a in (cand_u, cand_v, cand_qu, cand_qv, p, pv)
        )
        is_swap = is_swap[idx]
        ra = self.rep_of[cand_u]
        rb = m.pair_rep[cand_qu]
        qv_safe = np.maximum(cand_qv, 0)
        da = -W[p] + np.where(is_swap[:, None], W[qv_safe], 0.0)
        db = W[cand_qu] - np.where(is_swap[:, None], W[pv], 0.0)
        dcost = m.cost[cand_qu] - m.cost[p] + np.where(is_swap, m.cost[qv_safe] - m.cost[pv], 0.0)
        return {
            "u": cand_u,
            "v": cand_v,
            "qu": cand_qu,
            "qv": cand_qv,
            "ra": ra,
            "rb": rb,
            "da": da,
            "db": db,
            "dcost": dcost,
            "d_m": d_m[idx],
            "d_v": d_v[idx],
            "d_p": d_p[idx],
        }

    def _swap_pairs(
        self, active: np.ndarray, every: bool, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Units at active reps paired with sampled units at other reps."""
        limit = self.swap_limit if limit is None else limit
        m = self.setup.model
        movable = np.diff(m.unit_start) > 1
        if self.frozen:
            movable &= ~self.protected_units
        if every:
            # Every movable unit: a random eligible rep and a random unit there.
            base = np.flatnonzero(movable)
            if base.size == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.int64)
            draws = max(1, min(4, limit // base.size))
            u = np.repeat(base, draws)
            deg = np.diff(m.unit_start)[u]
            qu = m.unit_start[u] + (self.rng.random(u.size) * deg).astype(np.int64)
            rb = m.pair_rep[qu]
            by_rep = np.argsort(self.rep_of, kind="stable")
            rep_start = np.searchsorted(self.rep_of[by_rep], np.arange(m.n_reps + 1))
            count = rep_start[rb + 1] - rep_start[rb]
            ok = (rb != self.rep_of[u]) & (count > 0)
            u, rb, count = u[ok], rb[ok], count[ok]
            v = by_rep[rep_start[rb] + (self.rng.random(u.size) * count).astype(np.int64)]
            ok = movable[v]
            return u[ok], v[ok]
        gu, gv = self._guided_swaps(movable)
        if self.budget.finite:
            ru, rv = self._replacement_swaps(movable, limit)
            gu, gv = np.concatenate([gu, ru]), np.concatenate([gv, rv])
        at_hot = np.flatnonzero(active[self.rep_of] & movable)
        others = np.flatnonzero(movable)
        if at_hot.size == 0 or others.size == 0 or limit <= 0:
            return gu, gv
        if at_hot.size > max(1, limit // 8):
            at_hot = self.rng.choice(at_hot, size=max(1, limit // 8), replace=False)
        k = max(1, limit // at_hot.size)
        if k >= others.size:
            u, v = np.repeat(at_hot, others.size), np.tile(others, at_hot.size)
        else:
            u = np.repeat(at_hot, k)
            v = self.rng.choice(others, size=u.size, replace=True)
        ok = self.rep_of[u] != self.rep_of[v]
        return np.concatenate([gu, u[ok]]), np.concatenate([gv, v[ok]])

    def _replacement_swaps(self, movable: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Each moved unit paired with the units still at its home rep: the swap sends
        the moved unit home and another in its place, a different move for no budget."""
        m, s = self.setup.model, self.setup
        moved = np.flatnonzero((s.mc[self.chosen] > 0) & (s.home >= 0) & movable)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        if moved.size == 0:
            return empty
        home_rep = m.pair_rep[s.home[moved]]
        by_rep = np.argsort(self.rep_of, kind="stable")
        rep_start = np.searchsorted(self.rep_of[by_rep], np.arange(m.n_reps + 1))
        count = rep_start[home_rep + 1] - rep_start[home_rep]
        if count.sum() > limit:
            # Large problems: a sample of the units at each home rep.
            take = np.minimum(count, max(1, limit // moved.size))
        else:
            take = count
        u = np.repeat(moved, take)
        start = np.repeat(rep_start[home_rep], take)
        size = np.repeat(count, take)
        if take.sum() < count.sum():
            offset = (self.rng.random(u.size) * size).astype(np.int64)
        else:
            offset = np.arange(u.size) - np.repeat(np.cumsum(take) - take, take)
        v = by_rep[start + offset]
        ok = movable[v] & (s.mc[self.chosen[v]] == 0)
        return u[ok], v[ok]

    def _guided_swaps(self, movable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each unit u at a rep with excess and each other rep b it may go to, the
        units at b whose weight is closest to what would bring u's rep to its threshold."""
        m, rows = self.setup.model, self.setup.rows
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        soft = self.soft
        if soft.size == 0:
            return empty
        L, S = self.loads[soft], rows.share[soft]
        dev = (L - S) / S
        t = self.thresholds[soft][:, None]
        over, under = np.maximum(dev - t, 0.0), np.maximum(-dev - t, 0.0)
        exc = np.maximum(over, under) * np.abs(self.x_weight[soft])[:, None]
        hot = np.flatnonzero(exc.max(axis=0) > 0)
        if hot.size == 0:
            return empty
        row_of = np.zeros(m.n_reps, dtype=np.int64)
        row_of[hot] = np.argmax(exc[:, hot], axis=0)
        # Change of load each hot rep needs in its row (negative: shed).
        need = np.zeros(m.n_reps)
        j = row_of[hot]
        need[hot] = np.where(over[j, hot] > 0, -over[j, hot], under[j, hot]) * S[j, hot]
        units = np.flatnonzero(np.isin(self.rep_of, hot) & movable)
        if units.size == 0:
            return empty
        deg = np.diff(m.unit_start)[units]
        if deg.sum() > self.swap_limit:
            # Large problems: units of the most extreme reps first, then a sample.
            extreme = self._extreme_reps(4)[self.rep_of[units]]
            budget_left = self.swap_limit - int(deg[extreme].sum())
            rest = np.flatnonzero(~extreme)
            if budget_left > 0 and rest.size:
                take = min(rest.size, max(1, budget_left // max(1, int(deg[rest].mean()))))
                rest = self.rng.choice(rest, size=take, replace=False)
            else:
                rest = rest[:0]
            keep = np.sort(np.concatenate([np.flatnonzero(extreme), rest]))
            units, deg = units[keep], deg[keep]
        uu = np.repeat(units, deg)
        offsets = np.arange(uu.size) - np.repeat(np.cumsum(deg) - deg, deg)
        q = m.unit_start[uu] + offsets
        b = m.pair_rep[q]
        keep = b != self.rep_of[uu]
        uu, b = uu[keep], b[keep]
        a = self.rep_of[uu]
        cur = self.chosen
        u_out: list[np.ndarray] = []
        v_out: list[np.ndarray] = []
        for jj in np.unique(row_of[a]).tolist():
            k = int(soft[jj])
            sel = row_of[a] == jj
            su, sb, sa = uu[sel], b[sel], a[sel]
            weight = rows.weight[cur, k]
            scale = float(np.abs(weight).max()) + 1.0
            key = self.rep_of * 4.0 + weight / scale + 1.5
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            ideal = weight[su] + need[sa]
            query = sb * 4.0 + np.clip(ideal / scale, -1.0, 1.0) + 1.5
            pos = np.searchsorted(sorted_key, query)
            for shift in (-1, 0):
                idx = np.clip(pos + shift, 0, order.size - 1)
                v = order[idx]
                ok = (self.rep_of[v] == sb) & movable[v]
                u_out.append(su[ok])
                v_out.append(v[ok])
        if not u_out:
            return empty
        return np.concatenate(u_out), np.concatenate(v_out)

    def step(self, free_only: bool = False, restrict: bool = True) -> bool:
        """One round: apply the best improving moves on disjoint reps within the budget."""
        c = self._candidates(free_only, restrict)
        if c["u"].size == 0:
            return False
        d_pen, d_x = self._delta(c["ra"], c["rb"], c["da"], c["db"], c["dcost"])
        pen_q = np.round(d_pen, PEN_DIGITS)
        d_p = c["d_p"]
        x_tol = 1e-12 * max(1.0, abs(self.excess()))
        improving = (
            (pen_q < 0) | ((pen_q == 0) & (d_p < 0)) | ((pen_q == 0) & (d_p == 0) & (d_x < -x_tol))
        )
        improving &= (d_p <= 0) | (pen_q < 0)
        good = np.flatnonzero(improving)
        if good.size == 0:
            return False
        use = self.budget.consumption(c["d_m"][good], c["d_v"][good])
        eff = np.where(use > 1e-15, use, 1e-12)
        tier = np.where(pen_q[good] < 0, 0, np.where(d_p[good] < 0, 1, 2))
        gain = np.where(tier == 0, pen_q[good], np.where(tier == 1, d_p[good], d_x[good]))
        if self.shift_bonus > 0 and self.soft.size:
            d_abs = self._abs_dev_change(c, good)
            gain = np.where(tier == 2, gain + self.shift_bonus * np.minimum(d_abs, 0.0), gain)
        ratio = gain / eff
        order = np.lexsort((c["d_v"][good], ratio, tier))
        if self.budget.finite:
            # With a finite budget, a round takes only moves nearly as good as its best,
            # so cheap-but-weak moves cannot use up the budget before strong ones.
            first = order[0]
            near = (tier != tier[first]) | (ratio <= self.batch_cut * ratio[first])
            near |= use <= 1e-15
            order = order[near[order]]
        order = good[order][: 8 * self.setup.model.n_reps + 8]
        moves, value = self.moves, self.moved_value
        # With a finite budget, few paid moves per round: after each, the next best may
        # touch the same reps; free moves (no budget used) are batched freely.
        paid_left = math.inf
        if self.budget.finite:
            spare = self.budget.moves - moves
            if not math.isfinite(spare):
                spare = (self.budget.value - value) / max(self.budget.unit_value, 1e-12) * 100
            paid_left = max(1, int(spare * self.paid_share))
        used_rep: set[int] = set()
        used_unit: set[int] = set()
        applied = 0
        for i in order.tolist():
            a, b = int(c["ra"][i]), int(c["rb"][i])
            u, v = int(c["u"][i]), int(c["v"][i])
            if a in used_rep or b in used_rep or u in used_unit or v in used_unit:
                continue
            nm, nv = moves + int(c["d_m"][i]), value + float(c["d_v"][i])
            if nm > self.budget.moves or nv > self.budget.value * (1 + 1e-12) + 1e-9:
                continue
            if applied >= self.max_per_round:
                break
            paid = c["d_m"][i] > 0 or c["d_v"][i] > 1e-12
            if paid:
                if paid_left <= 0:
                    continue
                paid_left -= 1
            self.apply(u, int(c["qu"][i]))
            if v >= 0:
                self.apply(v, int(c["qv"][i]))
            moves, value = nm, nv
            used_rep.update((a, b))
            used_unit.update((u, v) if v >= 0 else (u,))
            applied += 1
        if applied:
            self.rounds += 1
            self.recompute_loads()
        return applied > 0

    def _abs_dev_change(self, c: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        """Change of sum_r x_weight * |relative deviation| of candidates ``idx``."""
        rows, k = self.setup.rows, self.soft
        ra, rb = c["ra"][idx], c["rb"][idx]
        la, lb = self.loads[k][:, ra].T, self.loads[k][:, rb].T
        na, nb = la + c["da"][idx][:, k], lb + c["db"][idx][:, k]
        sa, sb = rows.share[k][:, ra].T, rows.share[k][:, rb].T
        d = (np.abs(na - sa) - np.abs(la - sa)) / sa + (np.abs(nb - sb) - np.abs(lb - sb)) / sb
        return np.asarray(d @ np.abs(self.x_weight[k]))

    def descend(self, deadline: Deadline, free_only: bool = False) -> None:
        """Rounds of `step` until none improves or the deadline."""
        while not deadline.expired():
            if self.step(free_only):
                continue
            # Nothing improves at the active reps: try moves anywhere once.
            if free_only or self.use_cost or not self.step(free_only, restrict=False):
                break

    # ---- drivers ----------------------------------------------------------------------
    def run(self, deadline: Deadline) -> Snapshot:
        """Search until no budgeted move improves or the deadline; return the best plan.

        Max-norm rows get a threshold below their current maximum (never below their
        tolerance); a row whose target was reached tries a bolder step next time, one
        that was not a smaller one, and a round that does not improve the plan is undone.
        """
        best = self.snapshot()
        rows = self.setup.rows
        max_rows = np.flatnonzero((self.x_weight != 0) & rows.is_max)
        if self.tol is not None:
            max_rows = np.flatnonzero(self.x_weight != 0)
        if max_rows.size == 0:
            self.descend(deadline)
            snap = self.snapshot()
            return snap if better(snap, best) else best
        target = (
            self.thresholds[max_rows].copy() if self.tol is not None else np.zeros(max_rows.size)
        )
        steps = np.full(max_rows.size, self.first_step)
        min_step = 0.004
        base = best  # the committed state each attempt starts from
        while not deadline.expired():
            current = self.max_dev()[max_rows]
            open_ = (current > target + 1e-12) & (steps >= min_step)
            if not open_.any():
                break
            self.thresholds[max_rows] = np.maximum(
                target, current * (1.0 - np.where(open_, steps, 0.0))
            )
            self.descend(deadline)
            snap = self.snapshot()
            reached = self.max_dev()[max_rows] <= self.thresholds[max_rows] * (1 + 1e-9) + 1e-15
            if better(snap, best):
                best = snap
            if bool(reached.all()) and better(snap, base):
                base = snap  # commit: the next target starts from here
                steps = np.minimum(0.5, steps * 1.5)
            else:
                # An unreached target may have spent the budget on a partial result: keep
                # it as a candidate only, and retry a smaller step from the committed state.
                self.restore(base)
                steps = np.where(open_, steps / 2.0, steps)  # every failure shrinks a step
        self.restore(best)
        if self.tol is not None:
            self.thresholds[max_rows] = target
        return best

    def prune(self, best: Snapshot, deadline: Deadline) -> Snapshot:
        """Revert discretionary moves that do not pay for themselves, most valuable first."""
        self.restore(best)
        s = self.setup
        key = self.prune_key()
        changed = True
        while changed and not deadline.expired():
            changed = False
            units = np.flatnonzero(s.mc[self.chosen] > 0)
            if units.size == 0:
                break
            prio = s.mp[self.chosen[units]] * 1e18 + s.mv[self.chosen[units]]
            for i, u in enumerate(units[np.argsort(-prio, kind="stable")].tolist()):
                if i % 16 == 0 and deadline.expired():
                    break
                home = int(s.home[u])
                if home < 0 or self.chosen[u] == home:
                    continue
                old = int(self.chosen[u])
                self.apply(u, home)
                new_key = self.prune_key()
                if key_not_worse(new_key, key):
                    key = new_key
                    changed = True
                else:
                    self.apply(u, old)
        self.recompute_loads()
        return self.snapshot()

    def polish(self, deadline: Deadline) -> Snapshot:
        """Free moves only (no budget used): improve the true objective one move at a time."""
        best = self.snapshot()
        while not deadline.expired():
            c = self._candidates(free_only=True)
            if c["u"].size == 0:
                break
            i = self._best_true(c, best.key)
            if i < 0:
                break
            self.apply(int(c["u"][i]), int(c["qu"][i]))
            if c["v"][i] >= 0:
                self.apply(int(c["v"][i]), int(c["qv"][i]))
            self.recompute_loads()
            snap = self.snapshot()
            if not key_lt(snap.key, best.key):
                self.restore(best)
                break
            best = snap
        return best

    def _best_true(self, c: dict[str, np.ndarray], key: tuple[float, ...]) -> int:
        """Index of the candidate with the best exact key change (-1: none improves)."""
        rows = self.setup.rows
        moves = Moves(c["ra"], c["rb"], c["da"], c["db"], c["dcost"])
        d_pen = np.round(penalty_change(rows, self.loads, moves), PEN_DIGITS)
        top = TopDeviations.of(self.deviations())
        ea, eb = deviations_after(rows, self.loads, moves)
        d_abs = side_change(abs_deviation, self.loads, moves, (rows.share,))
        d_obj = c["dcost"].astype(float)
        new_max = np.zeros((moves.size, rows.n_rows))
        for k in range(rows.n_rows):
            if not self.is_imb[k]:
                continue
            new_max[:, k] = max_after(top, k, moves, ea[:, k], eb[:, k])
            w = rows.imb_weight[k]
            if rows.is_max[k]:
                d_obj = d_obj + w * (new_max[:, k] - top.val[k, 0])
            elif rows.is_sum[k]:
                d_obj = d_obj + w * d_abs[:, k]
        d_tol = np.zeros(moves.size)
        if self.tol is not None:
            tol_rows = np.flatnonzero(self.x_weight != 0)
            old_gap = np.maximum(top.val[tol_rows, 0] - self.tol[tol_rows], 0.0).sum()
            new_gap = np.maximum(new_max[:, tol_rows] - self.tol[tol_rows], 0.0).sum(axis=1)
            d_tol = np.round(new_gap - old_gap, 12)
        d_p = c["d_p"]
        obj_tol = 1e-12 * max(1.0, abs(key[-1]))
        d_obj_q = np.where(np.abs(d_obj) <= obj_tol, 0.0, d_obj)
        ok = (d_pen <= 0) & (d_p <= 0) & (d_tol <= 0)
        better = ok & ((d_pen < 0) | (d_p < 0) | (d_tol < 0) | (d_obj_q < 0))
        if not better.any():
            return -1
        cand = np.flatnonzero(better)
        j = cand[np.lexsort((d_obj_q[cand], d_tol[cand], d_p[cand], d_pen[cand]))[0]]
        return int(j)
