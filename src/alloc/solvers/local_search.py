"""Vectorised local search: shift and swap moves with iterated perturbation.

Every move changes the loads of at most two reps, so its effect on every row (hard
constraints and imbalance terms) is evaluated for all candidate moves of a unit at once
with numpy. The score is lexicographic (violation, objective, squared deviation; see
`alloc.solvers.state`): starting from an infeasible construction the search first
repairs, and once feasible it never accepts a move that breaks a hard row.

Max-norm imbalance terms are evaluated exactly: the largest deviation over the reps a
move leaves alone comes from the top three deviations of each row.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import (
    Moves,
    Rows,
    Score,
    TopDeviations,
    abs_deviation,
    move_delta,
    score_of,
)

__all__ = ["LocalSearch"]

#: Up to this many pairs, each step evaluates every shift of every unit at once.
_WHOLE_NEIGHBOURHOOD_PAIRS = 60_000
#: Units screened at once in a pass of single shifts (`LocalSearch._unit_pass`).
_SHIFT_CHUNK = 256


class LocalSearch:
    """Improves one assignment (one chosen pair per unit) in place."""

    def __init__(
        self,
        model: Model,
        rows: Rows,
        chosen: np.ndarray,
        seed: int = 0,
        smooth: bool | None = None,
    ) -> None:
        """``smooth``: start with the squared-deviation phase (default: only for objectives
        made of imbalance terms alone; a caller that adds small move prices to the costs,
        like rebalancing, asks for it explicitly)."""
        if (chosen < 0).any():
            raise ValueError("local search needs a complete assignment")
        self.model, self.rows = model, rows
        self.rng = np.random.default_rng(seed)
        self.chosen = chosen.copy()
        self.rep_of = model.pair_rep[self.chosen].copy()
        self.loads = rows.loads(model, self.chosen)
        self._max_rows = np.flatnonzero(rows.is_max)
        self.moves = 0
        # Pure balance objectives first descend on squared deviations (smooth), then on
        # the true objective; with linear costs the true objective is used throughout.
        if smooth is None:
            smooth = bool(rows.imb_weight.any()) and not np.any(model.cost != 0)
        self.smooth = smooth
        self._refresh()

    # ---- bookkeeping ----------------------------------------------------------------
    def _refresh(self) -> None:
        """Recompute the per-row top-3 deviations used by max-norm terms."""
        rows = self.rows
        if self._max_rows.size == 0:
            return
        dev = abs_deviation(self.loads[self._max_rows], rows.share[self._max_rows])
        self._top = TopDeviations.of(dev)
        self._top_idx = self._top.idx

    def score(self) -> Score:
        return score_of(self.model, self.rows, self.chosen, self.loads)

    def recompute(self) -> None:
        """Recompute loads from scratch to remove floating-point drift."""
        self.loads = self.rows.loads(self.model, self.chosen)
        self._refresh()

    # ---- move evaluation ------------------------------------------------------------
    def _delta(
        self, ra: np.ndarray, rb: np.ndarray, da: np.ndarray, db: np.ndarray, dcost: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score change of moves changing rep ``ra`` by ``da`` and ``rb`` by ``db`` (n, K)."""
        # The smooth phase ranks moves by squared deviations only (see _best).
        top = None if self.smooth or self._max_rows.size == 0 else self._top
        delta = move_delta(self.rows, self.loads, Moves(ra, rb, da, db, dcost), top, self._max_rows)
        return delta.penalty, delta.objective, delta.tiebreak

    def _best(self, d_pen: np.ndarray, d_obj: np.ndarray, d_tb: np.ndarray, obj_tol: float) -> int:
        """Index of the best improving candidate, or -1."""
        if self.smooth:
            # Smooth phase: squared deviations stand in for the (flat) max-norm objective.
            d_obj = d_tb
            d_tb = np.zeros_like(d_tb)
        pen_q = np.round(d_pen, 9)
        obj_q = np.where(np.abs(d_obj) <= obj_tol, 0.0, d_obj)
        i = int(np.lexsort((d_tb, obj_q, pen_q))[0])
        if pen_q[i] < 0 or (pen_q[i] == 0 and obj_q[i] < 0):
            return i
        if pen_q[i] == 0 and obj_q[i] == 0 and d_tb[i] < -1e-12:
            return i
        return -1

    def _apply(self, u: int, q: int, refresh: bool = True) -> None:
        p = self.chosen[u]
        W = self.rows.weight
        r_old, r_new = self.rep_of[u], self.model.pair_rep[q]
        self.loads[:, r_old] -= W[p]
        self.loads[:, r_new] += W[q]
        self.chosen[u] = q
        self.rep_of[u] = r_new
        self.moves += 1
        if refresh and self._max_rows.size and not self.smooth:
            self._refresh()

    def try_shift(self, u: int, obj_tol: float) -> bool:
        m = self.model
        a, b = m.unit_start[u], m.unit_start[u + 1]
        if b - a <= 1:
            return False
        p = self.chosen[u]
        q = np.arange(a, b)
        q = q[q != p]
        W = self.rows.weight
        ra = np.full(q.size, self.rep_of[u])
        rb = m.pair_rep[q]
        da = np.broadcast_to(-W[p], (q.size, W.shape[1]))
        d_pen, d_obj, d_tb = self._delta(ra, rb, da, W[q], m.cost[q] - m.cost[p])
        i = self._best(d_pen, d_obj, d_tb, obj_tol)
        if i < 0:
            return False
        self._apply(u, int(q[i]))
        return True

    def try_swap(self, u: int, candidates: np.ndarray, obj_tol: float) -> bool:
        m = self.model
        r1 = self.rep_of[u]
        v = candidates[self.rep_of[candidates] != r1]
        if v.size == 0:
            return False
        r2 = self.rep_of[v]
        qu = m.pair_index_for(u, r2)
        qv = m.pair_index_at(v, int(r1))
        ok = (qu >= 0) & (qv >= 0)
        if not ok.any():
            return False
        v, r2, qu, qv = v[ok], r2[ok], qu[ok], qv[ok]
        pu, pv = self.chosen[u], self.chosen[v]
        W, c = self.rows.weight, m.cost
        da = W[qv] - W[pu]
        db = W[qu] - W[pv]
        d_pen, d_obj, d_tb = self._delta(
            np.full(v.size, r1), r2, da, db, c[qu] + c[qv] - c[pu] - c[pv]
        )
        i = self._best(d_pen, d_obj, d_tb, obj_tol)
        if i < 0:
            return False
        self._apply(u, int(qu[i]))
        self._apply(int(v[i]), int(qv[i]))
        return True

    # ---- driver ---------------------------------------------------------------------
    def run(
        self,
        deadline: Deadline | float,
        *,
        swap_sample: int = 400,
        on_improve: Callable[[Score], None] | None = None,
        kick_fraction: float = 0.01,
        until_feasible: bool = False,
        patience: float | None = None,
    ) -> tuple[np.ndarray, Score]:
        """Improve until ``deadline`` and return the best plan found and its score.

        A bare float is read as a ``time.perf_counter()`` instant (for callers that do not
        pass a `Deadline` yet). With ``until_feasible``, stop as soon as the best plan
        meets every hard row (a repair). With ``patience``, stop once that many seconds
        have passed without a better plan (checked after each descent).
        """
        if not isinstance(deadline, Deadline):
            deadline = Deadline(float(deadline))
        m = self.model
        movable = np.flatnonzero(np.diff(m.unit_start) > 1)
        best_chosen, best = self.chosen.copy(), self.score()
        if movable.size == 0:
            return best_chosen, best
        last_gain = time.perf_counter()
        while not deadline.expired() and not (until_feasible and best.penalty == 0):
            step = deadline
            if patience is not None:  # one descent may take the whole time (100,000 units)
                step = Deadline(min(deadline.at, last_gain + patience), deadline.stop)
            improved = self._descend(movable, step, swap_sample)
            current = self.score()
            gained = current.better_than(best)
            if gained:
                best_chosen, best = self.chosen.copy(), current
                last_gain = time.perf_counter()
                if on_improve is not None:
                    on_improve(best)
            if self.smooth:
                # The smooth phase ends at its first local optimum; polish on the objective
                # (with a patience of its own: the smooth phase rarely lowers the maximum).
                self.smooth = False
                self._refresh()
                last_gain = time.perf_counter()
                continue
            if patience is not None and not gained and time.perf_counter() - last_gain > patience:
                break
            if not improved and not current.better_than(best) and current != best:
                # Local optimum no better than the best: restart from the best.
                self.chosen = best_chosen.copy()
                self.rep_of = m.pair_rep[self.chosen].copy()
                self.recompute()
            if deadline.expired():
                break
            if not improved:
                self._kick(movable, kick_fraction)
        return best_chosen, best

    def _descend(self, movable: np.ndarray, deadline: Deadline, swap_sample: int) -> bool:
        """Improving moves until none is found; True if any move was made.

        While the score is separable by rep (smooth phase, or no max-norm terms), each
        round evaluates every shift (or a sampled swap per pair) at once and applies many
        improving moves on disjoint reps, whose effects add up exactly. Max-norm terms
        are then polished with moves at the most deviating reps, exact but one at a time.
        """
        any_move = False
        separable = self.smooth or self._max_rows.size == 0
        small = self.model.n_pairs <= _WHOLE_NEIGHBOURHOOD_PAIRS
        while not deadline.expired():
            obj_tol = 1e-12 * max(1.0, abs(self.score().objective))
            if separable and small:
                moved = self.batch_shift(obj_tol) or self.batch_swap(obj_tol)
                if not moved:
                    moved = any(self.chain_move() for _ in range(8))
            elif separable:
                # Large: in the smooth phase, batches of shifts over a random slice of
                # the units first (a pass over 20,000 units took 8 s, and the smooth
                # phase alone 60 s on 20,000 x 200), then passes over units.
                moved = self.smooth and any(
                    self.sampled_batch_shift(obj_tol, movable) for _ in range(3)
                )
                if not moved:
                    moved = self._unit_pass(movable, deadline, swap_sample, obj_tol, shifts=True)
                if not moved:
                    moved = self.batch_swap(obj_tol) or any(self.chain_move() for _ in range(8))
            else:
                moved = (
                    self.targeted_shift(obj_tol)
                    or self.targeted_swap(obj_tol, swap_sample * 10)
                    or (small and self.best_shift(obj_tol))
                    or any(self.chain_move() for _ in range(4))
                )
            if not moved and small:
                moved = self._unit_pass(movable, deadline, swap_sample, obj_tol, shifts=False)
            elif not moved and not separable:
                moved = self._unit_pass(movable, deadline, swap_sample, obj_tol, shifts=True)
            any_move |= moved
            if not moved:
                break
        self.recompute()
        return any_move

    # ---- batched moves on disjoint reps (separable scores) ---------------------------
    def _separable_key(self, d_obj: np.ndarray, d_tb: np.ndarray) -> np.ndarray:
        return d_tb if self.smooth else d_obj

    def _select_disjoint(
        self,
        d_pen: np.ndarray,
        key: np.ndarray,
        ra: np.ndarray,
        rb: np.ndarray,
        units: tuple[np.ndarray, ...],
        obj_tol: float,
    ) -> np.ndarray:
        """Indices of improving candidates, best first, touching each rep and unit once."""
        pen_q = np.round(d_pen, 9)
        good = np.flatnonzero((pen_q < 0) | ((pen_q == 0) & (key < -max(obj_tol, 1e-15))))
        if good.size == 0:
            return good
        order = good[np.lexsort((key[good], pen_q[good]))]
        order = order[: 8 * self.model.n_reps]
        used_rep: set[int] = set()
        used_unit: set[int] = set()
        picked = []
        for i in order.tolist():
            a, b = int(ra[i]), int(rb[i])
            us = [int(u[i]) for u in units]
            if a in used_rep or b in used_rep or any(u in used_unit for u in us):
                continue
            picked.append(i)
            used_rep.update((a, b))
            used_unit.update(us)
        return np.array(picked, dtype=np.int64)

    def batch_shift(self, obj_tol: float) -> bool:
        m, W = self.model, self.rows.weight
        units = m.pair_unit
        ra = self.rep_of[units]
        q = np.flatnonzero(ra != m.pair_rep)
        if q.size == 0:
            return False
        units, ra, rb = units[q], ra[q], m.pair_rep[q]
        p = self.chosen[units]
        d_pen, d_obj, d_tb = self._delta(ra, rb, -W[p], W[q], m.cost[q] - m.cost[p])
        picked = self._select_disjoint(
            d_pen, self._separable_key(d_obj, d_tb), ra, rb, (units,), obj_tol
        )
        for i in picked.tolist():
            self._apply(int(units[i]), int(q[i]), refresh=False)
        self._refresh()
        return picked.size > 0

    def sampled_batch_shift(self, obj_tol: float, movable: np.ndarray) -> bool:
        """`batch_shift` over the pairs of random units, about
        ``_WHOLE_NEIGHBOURHOOD_PAIRS`` pairs in all: on large models a round costs what
        it costs on small ones and still applies up to one move per rep pair."""
        m = self.model
        n_units = max(256, int(movable.size * _WHOLE_NEIGHBOURHOOD_PAIRS / max(m.n_pairs, 1)))
        units = self.rng.choice(movable, size=min(n_units, movable.size), replace=False)
        q, owner, ra, (d_pen, d_obj, d_tb) = self._shifts(self._pairs_of(units))
        rb = m.pair_rep[q]
        key = self._separable_key(d_obj, d_tb)
        picked = self._select_disjoint(d_pen, key, ra, rb, (owner,), obj_tol)
        for i in picked.tolist():
            self._apply(int(owner[i]), int(q[i]), refresh=False)
        self._refresh()
        return picked.size > 0

    def batch_swap(self, obj_tol: float) -> bool:
        """One random partner per eligible pair: unit u swaps with a unit at rep(q)."""
        m, W, c = self.model, self.rows.weight, self.model.cost
        by_rep = np.argsort(self.rep_of, kind="stable")
        rep_start = np.searchsorted(self.rep_of[by_rep], np.arange(m.n_reps + 1))
        units = m.pair_unit
        ra = self.rep_of[units]
        q = np.flatnonzero(ra != m.pair_rep)
        rb = m.pair_rep[q]
        count = rep_start[rb + 1] - rep_start[rb]
        q, rb, count = q[count > 0], rb[count > 0], count[count > 0]
        if q.size == 0:
            return False
        u = units[q]
        v = by_rep[rep_start[rb] + (self.rng.random(q.size) * count).astype(np.int64)]
        ra = self.rep_of[u]
        qv = m.pair_index(v, ra)
        ok = qv >= 0
        if not ok.any():
            return False
        u, v, q, qv, ra, rb = u[ok], v[ok], q[ok], qv[ok], ra[ok], rb[ok]
        pu, pv = self.chosen[u], self.chosen[v]
        d_pen, d_obj, d_tb = self._delta(
            ra, rb, W[qv] - W[pu], W[q] - W[pv], c[q] + c[qv] - c[pu] - c[pv]
        )
        picked = self._select_disjoint(
            d_pen, self._separable_key(d_obj, d_tb), ra, rb, (u, v), obj_tol
        )
        for i in picked.tolist():
            self._apply(int(u[i]), int(q[i]), refresh=False)
            self._apply(int(v[i]), int(qv[i]), refresh=False)
        self._refresh()
        return picked.size > 0

    # ---- ejection chains along the rep graph ----------------------------------------
    def _accepts(self, before: Score, after: Score) -> bool:
        if self.smooth:
            return Score(after.penalty, after.tiebreak, 0.0).better_than(
                Score(before.penalty, before.tiebreak, 0.0)
            )
        return after.better_than(before)

    def chain_move(self) -> bool:
        """Move load from an over-loaded rep to an under-loaded one along a path of reps.

        Each hop a -> b moves one unit from a to b whose values best match the transfer
        wanted, so intermediate reps end roughly where they were. This reaches balance
        across chains of overlapping skills that single shifts and swaps only diffuse
        through slowly. The chain is kept only if the score improves.
        """
        m, rows = self.model, self.rows
        imb = np.flatnonzero(rows.imb_weight != 0)
        if imb.size == 0:
            return False
        dev = (self.loads[imb] - rows.share[imb]) / rows.share[imb]
        signal = (rows.imb_weight[imb, None] * dev).sum(axis=0)
        order = np.argsort(signal)
        k = min(3, m.n_reps // 2)
        if k < 1:
            return False
        src = int(order[-1 - int(self.rng.integers(k))])
        dst = int(order[int(self.rng.integers(k))])
        if signal[src] <= 0 or signal[dst] >= 0:
            return False
        path = self._rep_path(src, dst)
        if path is None or len(path) < 2:
            return False
        want = (self.loads[:, src] - self.loads[:, dst]) / 2.0
        want[rows.imb_weight == 0] = 0.0
        # Move typical customers, not the largest: small transfers chain more reliably.
        typical = 2.0 * np.median(rows.weight[self.chosen[self.rep_of == src]], axis=0)
        want = np.minimum(want, typical)
        scale = np.where(rows.imb_weight != 0, rows.imb_weight / rows.share.mean(axis=1) ** 2, 0.0)
        before = self.score()
        applied: list[tuple[int, int]] = []
        best_len, best_score = 0, before
        for a, b in itertools.pairwise(path):
            units = np.flatnonzero(self.rep_of == a)
            q = m.pair_index_at(units, int(b))
            ok = q >= 0
            if applied:
                ok &= ~np.isin(units, [u for u, _ in applied])
            if not ok.any():
                break
            units, q = units[ok], q[ok]
            values = rows.weight[self.chosen[units]]
            err = ((values - want) ** 2 * scale).sum(axis=1)
            i = int(np.argmin(err))
            # The next hop passes on what this one brought, so intermediate reps net ~0.
            want = np.where(rows.imb_weight != 0, values[i], 0.0)
            applied.append((int(units[i]), int(self.chosen[units[i]])))
            self._apply(int(units[i]), int(q[i]), refresh=False)
            score = score_of(m, rows, self.chosen, self.loads)
            if self._accepts(best_score, score):
                best_len, best_score = len(applied), score
        # Keep the best improving prefix of the chain, undo the rest.
        for u, p_old in reversed(applied[best_len:]):
            self._apply(u, p_old, refresh=False)
            self.moves -= 2
        self._refresh()
        return best_len > 0

    def _rep_path(self, src: int, dst: int) -> list[int] | None:
        """Shortest path src -> dst in the graph 'a unit at a may go to b' (BFS)."""
        m = self.model
        a = self.rep_of[m.pair_unit]
        b = m.pair_rep
        edges = np.unique(a.astype(np.int64) * m.n_reps + b)
        ea, eb = edges // m.n_reps, edges % m.n_reps
        starts = np.searchsorted(ea, np.arange(m.n_reps + 1))
        parent = np.full(m.n_reps, -1, dtype=np.int64)
        parent[src] = src
        frontier = [src]
        while frontier and parent[dst] < 0:
            nxt = []
            for r in frontier:
                for t in self.rng.permutation(eb[starts[r] : starts[r + 1]]).tolist():
                    if parent[t] < 0:
                        parent[t] = r
                        nxt.append(t)
            frontier = nxt
        if parent[dst] < 0:
            return None
        path = [dst]
        while path[-1] != src:
            path.append(int(parent[path[-1]]))
        return path[::-1]

    def targeted_shift(self, obj_tol: float) -> bool:
        """Best shift out of or into the most deviating rep of each max-norm row."""
        m = self.model
        reps = np.unique(self._top_idx[:, 0])
        out_q = np.flatnonzero(np.isin(self.rep_of[m.pair_unit], reps))
        in_q = np.flatnonzero(np.isin(m.pair_rep, reps))
        return self._best_shift_among(np.unique(np.concatenate([out_q, in_q])), obj_tol)

    def _unit_pass(
        self,
        movable: np.ndarray,
        deadline: Deadline,
        swap_sample: int,
        obj_tol: float,
        shifts: bool,
        swaps: bool = True,
    ) -> bool:
        # The deadline (with its stop event: the portfolio ends a search when the LP
        # relaxation is done) is checked every few dozen units; a pass over 20,000 units
        # takes seconds, and checking the clock alone ran 10 s past the LP's end.
        moved = False
        order = self.rng.permutation(movable)
        if shifts:
            # Units in chunks: one vectorised look at a chunk's shifts (at the loads
            # when the chunk starts) finds the units that may have an improving one,
            # and only those are tried one by one, exactly. Near a local optimum few
            # units qualify (20,000 x 200: a pass took 9 s one unit at a time). A unit
            # that a move earlier in its chunk made improvable waits for the next pass,
            # which runs because that move was made.
            tried = 0
            for c in range(0, order.size, _SHIFT_CHUNK):
                if deadline.expired():
                    return moved
                for u in self._may_improve(order[c : c + _SHIFT_CHUNK], obj_tol).tolist():
                    tried += 1
                    if tried % 64 == 0 and deadline.expired():
                        return moved
                    moved |= self.try_shift(u, obj_tol)
        if not swaps:
            return moved
        by_rep = np.argsort(self.rep_of, kind="stable")
        rep_start = np.searchsorted(self.rep_of[by_rep], np.arange(self.model.n_reps + 1))
        for i, u in enumerate(order):
            if i % 32 == 0 and deadline.expired():
                return moved
            cand = self._swap_candidates(int(u), by_rep, rep_start, swap_sample)
            if cand.size and self.try_swap(int(u), cand, obj_tol):
                moved = True
        self.recompute()
        return moved

    def _may_improve(self, units: np.ndarray, obj_tol: float) -> np.ndarray:
        """The ``units`` (in their order) with a shift that `_best` would take now."""
        q, owner, _, (d_pen, d_obj, d_tb) = self._shifts(self._pairs_of(units))
        if q.size == 0:
            return q
        if self.smooth:
            d_obj, d_tb = d_tb, np.zeros_like(d_tb)
        # `_best`'s test, loosened by float noise so that no improving move is screened
        # out: the exact test runs again in try_shift.
        pen_q = np.round(d_pen, 9)
        obj_q = np.where(np.abs(d_obj) <= obj_tol, 0.0, d_obj)
        better = (pen_q < 0) | ((pen_q == 0) & ((obj_q < 0) | ((obj_q == 0) & (d_tb < -1e-13))))
        hit = np.zeros(self.model.n_units, dtype=bool)
        hit[owner[better]] = True
        return units[hit[units]]

    def _pairs_of(self, units: np.ndarray) -> np.ndarray:
        """Every eligible pair of ``units``, unit by unit."""
        m = self.model
        first = m.unit_start[units]
        count = m.unit_start[units + 1] - first
        offset = np.repeat(first - np.cumsum(count) + count, count)
        return offset + np.arange(int(count.sum()))

    def _shifts(
        self, q: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The shifts of their units to the pairs ``q`` (those not already chosen):
        ``(q, unit, current rep, (d_penalty, d_objective, d_tiebreak))``."""
        m, W = self.model, self.rows.weight
        owner = m.pair_unit[q]
        ra = self.rep_of[owner]
        keep = ra != m.pair_rep[q]
        q, owner, ra = q[keep], owner[keep], ra[keep]
        p = self.chosen[owner]
        delta = self._delta(ra, m.pair_rep[q], -W[p], W[q], m.cost[q] - m.cost[p])
        return q, owner, ra, delta

    def best_shift(self, obj_tol: float) -> bool:
        """Apply the best improving shift over all units at once, if any."""
        return self._best_shift_among(np.arange(self.model.n_pairs), obj_tol)

    def _best_shift_among(self, q: np.ndarray, obj_tol: float) -> bool:
        """Apply the best improving shift to one of the pairs ``q``, if any."""
        q, units, _, (d_pen, d_obj, d_tb) = self._shifts(q)
        if q.size == 0:
            return False
        i = self._best(d_pen, d_obj, d_tb, obj_tol)
        if i < 0:
            return False
        self._apply(int(units[i]), int(q[i]))
        return True

    def targeted_swap(self, obj_tol: float, sample: int) -> bool:
        """Best improving swap between a unit of the most deviating rep and any other."""
        m = self.model
        if self._max_rows.size:
            j = int(self.rng.integers(self._max_rows.size))
            ra = int(self._top_idx[j, 0])
        else:
            ra = int(self.rng.integers(m.n_reps))
        at_a = np.flatnonzero(self.rep_of == ra)
        others = np.flatnonzero(self.rep_of != ra)
        if at_a.size == 0 or others.size == 0:
            return False
        if at_a.size * others.size > sample:
            k = max(1, sample // at_a.size)
            others = self.rng.choice(others, size=min(k, others.size), replace=False)
        u = np.repeat(at_a, others.size)
        v = np.tile(others, at_a.size)
        rb = self.rep_of[v]
        qu = m.pair_index(u, rb)
        qv = m.pair_index_at(v, int(ra))
        ok = (qu >= 0) & (qv >= 0)
        if not ok.any():
            return False
        u, v, rb, qu, qv = u[ok], v[ok], rb[ok], qu[ok], qv[ok]
        W, c = self.rows.weight, m.cost
        pu, pv = self.chosen[u], self.chosen[v]
        d_pen, d_obj, d_tb = self._delta(
            np.full(u.size, ra), rb, W[qv] - W[pu], W[qu] - W[pv], c[qu] + c[qv] - c[pu] - c[pv]
        )
        i = self._best(d_pen, d_obj, d_tb, obj_tol)
        if i < 0:
            return False
        self._apply(int(u[i]), int(qu[i]))
        self._apply(int(v[i]), int(qv[i]))
        return True

    def _swap_candidates(
        self, u: int, by_rep: np.ndarray, rep_start: np.ndarray, sample: int
    ) -> np.ndarray:
        """Units at the other reps where ``u`` could go (as of the pass's index), sampled."""
        m = self.model
        reps = m.pair_rep[m.unit_start[u] : m.unit_start[u + 1]]
        reps = reps[reps != self.rep_of[u]]
        if reps.size == 0:
            return reps
        parts = [by_rep[rep_start[r] : rep_start[r + 1]] for r in reps.tolist()]
        cand = np.concatenate(parts)
        if cand.size > sample:
            cand = self.rng.choice(cand, size=sample, replace=False)
        return cand

    def _kick(self, movable: np.ndarray, fraction: float) -> None:
        """Shift a few random units to random eligible reps (perturbation)."""
        m = self.model
        k = max(1, int(fraction * movable.size))
        for u in self.rng.choice(movable, size=min(k, movable.size), replace=False):
            a, b = m.unit_start[u], m.unit_start[u + 1]
            q = int(self.rng.integers(a, b))
            if q != self.chosen[u]:
                self._apply(int(u), q)
        self.recompute()
