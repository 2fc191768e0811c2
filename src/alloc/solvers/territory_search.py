"""Territory search: contiguous, balanced, compact territories by local search on a map.

`search` builds a start by region growing (`alloc.solvers.territory_start`), then
improves it with moves that keep every territory connected:

- *shifts*: a border unit joins an adjacent territory, allowed when the unit is not a
  cut vertex of its own territory (`alloc.solvers.contiguity.leaves_connected`);
- *swaps*: two border units of adjacent territories trade places, kept only when both
  territories stay connected.

Moves are scored lexicographically like the rest of the library (`alloc.solvers.state`):
scaled violation of the hard rows first, then the model's objective (costs, imbalance
terms) plus ``centre_weight`` times the dispersion. When the solver chooses the centres,
descent alternates with location-allocation: each territory's centre moves to its
p-median (``"sum"``) or p-centre (``"max"``) unit, and the search runs again. Iterated
perturbation (random border moves, occasional fresh starts) continues until the
deadline or until many rounds in a row bring nothing; the best plan is returned.
Units that are base units never leave their rep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.contiguity import border_moves, leaves_connected
from alloc.solvers.deadline import Deadline
from alloc.solvers.dispersion import best_centres, contiguity_breaks, dispersion_value
from alloc.solvers.state import (
    Moves,
    Rows,
    TopDeviations,
    abs_deviation,
    move_delta,
    score_of,
    side_change,
)
from alloc.solvers.territory_start import eligibility, grow

__all__ = ["TerritoryPlan", "dispersion_value", "search"]

#: Rounds of perturbation without a new best plan before a fresh start, and before
#: the search stops early (small instances converge long before their deadline).
_ROUNDS_PER_START = 20
_STARTS_WITHOUT_GAIN = 30
#: Share of perturbation rounds that first descend with the windows priced (strategic
#: oscillation), and the price of a unit of row violation in typical dispersions.
_OSCILLATE = 0.5
_MERIT_FACTOR = 1.0
#: Spread of the random factor on frontier distances in fresh starts.
_RESTART_NOISE = 0.5


@dataclass(frozen=True, eq=False)
class TerritoryPlan:
    """The best plan a territory search found.

    Attributes
    ----------
    chosen
        ``(n_units,)`` pair index per unit (``-1`` for a unit with no eligible rep).
    centres
        ``(n_reps,)`` centre unit of each territory when the solver chooses centres,
        ``-1`` otherwise (fixed centres, no dispersion term, or an empty territory).
    objective
        The model's objective plus ``centre_weight`` times the dispersion.
    feasible
        Every hard row within its limits, every territory connected, every base unit
        kept, every unit assigned.
    """

    chosen: np.ndarray
    centres: np.ndarray
    objective: float
    feasible: bool


class _Territories:
    """One plan under improvement: loads, centres and the move kernels."""

    def __init__(self, model: Model, geography: Geography, rows: Rows, rep_of: np.ndarray):
        self.model, self.geo, self.rows = model, geography, rows
        self.elig = eligibility(model)
        self.w = float(geography.centre_weight) if geography.centre_kind else 0.0
        self.max_kind = geography.centre_kind == "max" and self.w > 0
        self.locked = np.zeros(model.n_units, dtype=bool)
        base = np.asarray(geography.base)
        self.locked[base[base >= 0]] = True
        self.movable_units = np.diff(model.unit_start) > 1
        self._max_rows = np.flatnonzero(rows.is_max)
        # Without max-norm terms a move's score change depends on its two reps only, so
        # moves on disjoint reps add up exactly and need no re-check.
        self.separable = self._max_rows.size == 0 and not self.max_kind
        # While a plan breaks hard rows, moves that leave the violation as it is are
        # ranked by the squared distance of the loads to the middle of their windows:
        # load then flows from full territories to empty ones through the territories
        # between them (a chain of such moves repairs what no single move can).
        both = np.isfinite(rows.raw_lo) & np.isfinite(rows.raw_hi)
        self._mid = np.where(
            both, (np.nan_to_num(rows.raw_lo) + np.nan_to_num(rows.raw_hi)) / 2, 0.0
        )
        self._sq_w = np.where(both.all(axis=1), rows.pen_scale**2, 0.0)
        self.repairing = False
        self.set_plan(rep_of)

    # ---- state ----------------------------------------------------------------------
    def set_plan(self, rep_of: np.ndarray, centres: np.ndarray | None = None) -> None:
        self.rep_of = rep_of.astype(np.int64).copy()
        self.chosen = self.elig[np.arange(self.model.n_units), self.rep_of]
        self.loads = self.rows.loads(self.model, self.chosen)
        if centres is None:
            centres = best_centres(self.geo, self.rep_of, self.model.n_reps)
        self.centres = np.asarray(centres, dtype=np.int64).copy()
        self._prices()

    def _prices(self) -> None:
        """Distance of every pair to its rep's centre, and the price a shift pays."""
        m, geo = self.model, self.geo
        if geo.fixed_distance is not None:
            self.pair_dist = np.asarray(geo.fixed_distance)[m.pair_unit, m.pair_rep]
        elif geo.distance is not None and geo.centre_kind is not None:
            c = self.centres[m.pair_rep]
            # A unit entering an empty territory becomes its centre: distance 0.
            self.pair_dist = np.where(
                c >= 0, np.asarray(geo.distance)[m.pair_unit, np.maximum(c, 0)], 0.0
            )
        else:
            self.pair_dist = np.zeros(m.n_pairs)
        linear = 0.0 if self.max_kind else self.w
        self.price = m.cost + linear * self.pair_dist
        self._refresh()

    def _refresh(self) -> None:
        rows = self.rows
        if self._max_rows.size:
            dev = abs_deviation(self.loads[self._max_rows], rows.share[self._max_rows])
            self._top: TopDeviations | None = TopDeviations.of(dev)
        else:
            self._top = None
        if self.max_kind:
            d = self.pair_dist[self.chosen]
            R = self.model.n_reps
            order = np.lexsort((-d, self.rep_of))
            reps = self.rep_of[order]
            first = np.searchsorted(reps, np.arange(R))
            count = np.bincount(self.rep_of, minlength=R)
            self.rad = np.where(count > 0, d[order[np.minimum(first, d.size - 1)]], 0.0)
            self.arg = np.where(count > 0, order[np.minimum(first, d.size - 1)], -1)
            nxt = np.minimum(first + 1, d.size - 1)
            self.second = np.where(count > 1, d[order[nxt]], 0.0)
            self.rad_top = TopDeviations.of(self.rad[None, :])

    def key(self, breaks: bool = True) -> tuple[int, float, float, float]:
        """(contiguity breaks, penalty, objective incl. dispersion, tiebreak).

        ``breaks=False`` leaves the breaks at 0, for comparisons the moves cannot change.
        """
        s = score_of(self.model, self.rows, self.chosen, self.loads)
        d = self.pair_dist[self.chosen]
        disp = float(d.max(initial=0.0)) if self.geo.centre_kind == "max" else float(d.sum())
        brk = contiguity_breaks(self.model, self.geo, self.rep_of) if breaks else 0
        return brk, s.penalty, s.objective + self.w * disp, s.tiebreak + float(d.sum())

    def apply(self, u: int, r: int) -> None:
        p, q = self.chosen[u], self.elig[u, r]
        W = self.rows.weight
        self.loads[:, self.rep_of[u]] -= W[p]
        self.loads[:, r] += W[q]
        self.chosen[u], self.rep_of[u] = q, r

    # ---- move evaluation ------------------------------------------------------------
    def delta(
        self, u: np.ndarray, v: np.ndarray, rb: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score change of moving ``u`` to ``rb`` and ``v`` (``-1``: none) to ``u``'s rep."""
        W = self.rows.weight
        ra = self.rep_of[u]
        pu, qu = self.chosen[u], self.elig[u, rb]
        swap = v >= 0
        vv = np.maximum(v, 0)
        pv, qv = self.chosen[vv], self.elig[vv, ra]
        da = -W[pu] + np.where(swap[:, None], W[qv], 0.0)
        db = W[qu] - np.where(swap[:, None], W[pv], 0.0)
        dprice = self.price[qu] - self.price[pu]
        dprice = dprice + np.where(swap, self.price[qv] - self.price[pv], 0.0)
        d = move_delta(
            self.rows, self.loads, Moves(ra, rb, da, db, dprice), self._top, self._max_rows
        )
        dd = self.pair_dist[qu] - self.pair_dist[pu]
        dd = dd + np.where(swap, self.pair_dist[qv] - self.pair_dist[pv], 0.0)
        obj = d.objective
        if self.max_kind:
            obj = obj + self.w * self._radius_change(u, v, ra, rb, qu, qv)
        if self.repairing and self._sq_w.any():
            moves = Moves(ra, rb, da, db, dprice)
            d_sq = side_change(_squared_from_mid, self.loads, moves, (self._mid,)) @ self._sq_w
            return d.penalty, d_sq, obj
        return d.penalty, obj, d.tiebreak + dd

    def penalty(self) -> float:
        return score_of(self.model, self.rows, self.chosen, self.loads).penalty

    def _radius_change(
        self,
        u: np.ndarray,
        v: np.ndarray,
        ra: np.ndarray,
        rb: np.ndarray,
        qu: np.ndarray,
        qv: np.ndarray,
    ) -> np.ndarray:
        """Change of the largest unit-to-centre distance (p-centre dispersion)."""
        swap = v >= 0
        keep_a = np.where(self.arg[ra] == u, self.second[ra], self.rad[ra])
        new_a = np.maximum(keep_a, np.where(swap, self.pair_dist[qv], 0.0))
        keep_b = np.where(swap & (self.arg[rb] == v), self.second[rb], self.rad[rb])
        new_b = np.maximum(keep_b, self.pair_dist[qu])
        idx, val = self.rad_top.idx[0], self.rad_top.val[0]
        free = (idx[None, :] != ra[:, None]) & (idx[None, :] != rb[:, None]) & (idx >= 0)
        other = np.where(free.any(axis=1), val[np.argmax(free, axis=1)], 0.0)
        return np.maximum(other, np.maximum(new_a, new_b)) - val[0]

    # ---- candidate moves ------------------------------------------------------------
    def shift_candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """(unit, rep) shifts: to an adjacent territory (contiguous) or any eligible rep."""
        if self.geo.contiguous:
            units, reps = border_moves(self.geo.indptr, self.geo.indices, self.rep_of)
        else:
            units, reps = self.model.pair_unit, self.model.pair_rep
            keep = reps != self.rep_of[units]
            units, reps = units[keep], reps[keep]
        # Centre units stay put until the centres are moved (location-allocation).
        fixed = self.locked.copy()
        fixed[self.centres[self.centres >= 0]] = True
        ok = (self.elig[units, reps] >= 0) & ~fixed[units]
        return units[ok], reps[ok]

    def can_leave(self, u: int) -> bool:
        if not self.geo.contiguous:
            return True
        return leaves_connected(self.geo.indptr, self.geo.indices, self.rep_of, u)

    def can_swap(self, u: int, v: int) -> bool:
        """Whether ``u`` and ``v`` (of adjacent territories) can trade places.

        Sufficient test: each leaves its territory connected and still touches the
        other territory without its partner.
        """
        if not self.geo.contiguous:
            return True
        g, rep_of = self.geo, self.rep_of
        around_u, around_v = g.neighbours(u), g.neighbours(v)
        touches_b = np.any((rep_of[around_u] == rep_of[v]) & (around_u != v))
        touches_a = np.any((rep_of[around_v] == rep_of[u]) & (around_v != u))
        return bool(touches_a and touches_b) and self.can_leave(u) and self.can_leave(v)


def _squared_from_mid(load: np.ndarray, mid: np.ndarray) -> np.ndarray:
    return (load - mid) ** 2


def _improving(
    pen: np.ndarray, obj: np.ndarray, tb: np.ndarray, obj_tol: float, merit: float = 0.0
) -> np.ndarray:
    """Indices of improving moves, best first: lexicographic, or with ``merit`` > 0 by
    ``objective + merit * penalty`` (hard rows priced, for strategic oscillation)."""
    if merit > 0:
        value = obj + merit * pen
        value = np.where(np.abs(value) <= obj_tol, 0.0, value)
        idx = np.flatnonzero((value < 0) | ((value == 0) & (tb < -1e-9)))
        return idx[np.lexsort((tb[idx], value[idx]))]
    pen_q = np.round(pen, 9)
    obj_q = np.where(np.abs(obj) <= obj_tol, 0.0, obj)
    good = (pen_q < 0) | ((pen_q == 0) & (obj_q < 0)) | ((pen_q == 0) & (obj_q == 0) & (tb < -1e-9))
    idx = np.flatnonzero(good)
    return idx[np.lexsort((tb[idx], obj_q[idx], pen_q[idx]))]


def _obj_tol(t: _Territories) -> float:
    return 1e-9 * max(1.0, abs(t.key(breaks=False)[2]))


def _shift_pass(t: _Territories, obj_tol: float, merit: float = 0.0) -> bool:
    """Apply improving shifts on disjoint reps, each re-checked before it is applied."""
    units, reps = t.shift_candidates()
    if units.size == 0:
        return False
    none = np.full(units.size, -1, dtype=np.int64)
    order = _improving(*t.delta(units, none, reps), obj_tol, merit)
    used: set[int] = set()
    moved = False
    for i in order[: 8 * t.model.n_reps + 8].tolist():
        u, ra, rb = int(units[i]), int(t.rep_of[units[i]]), int(reps[i])
        if ra in used or rb in used:
            continue
        if moved and not t.separable:  # max-norm scores: re-check after a move
            pen, obj, tb = t.delta(units[i : i + 1], none[:1], reps[i : i + 1])
            if _improving(pen, obj, tb, obj_tol, merit).size == 0:
                continue
        if not t.can_leave(u):
            continue
        t.apply(u, rb)
        t._refresh()
        used.update((ra, rb))
        moved = True
    return moved


def _swap_partners(
    t: _Territories, units: np.ndarray, reps: np.ndarray, rng: np.random.Generator, tries: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random swap partners: for a border move u (a -> b), units of b bordering a."""
    R = t.model.n_reps
    src = t.rep_of[units]
    key = src * R + reps
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    rev = reps * R + src
    first = np.searchsorted(key_sorted, rev)
    count = np.searchsorted(key_sorted, rev, "right") - first
    has = np.flatnonzero(count > 0)
    if has.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    pick = first[has][None, :] + (rng.random((tries, has.size)) * count[has]).astype(np.int64)
    u = np.broadcast_to(units[has], pick.shape).ravel()
    v = units[order[pick.ravel()]]
    n = t.model.n_units
    both = np.unique(u * n + v)
    return both // n, both % n


def _swap_pass(
    t: _Territories, obj_tol: float, rng: np.random.Generator, tries: int, merit: float = 0.0
) -> bool:
    """Apply the best improving swap of two border units that keeps both connected."""
    units, reps = t.shift_candidates()
    if units.size == 0:
        return False
    u, v = _swap_partners(t, units, reps, rng, tries)
    if u.size == 0:
        return False
    order = _improving(*t.delta(u, v, t.rep_of[v]), obj_tol, merit)
    used: set[int] = set()
    moved = False
    for i in order[: 8 * t.model.n_reps + 50].tolist():
        a, b = int(u[i]), int(v[i])
        ra, rb = int(t.rep_of[a]), int(t.rep_of[b])
        if ra in used or rb in used:
            continue
        if moved and not t.separable:  # max-norm scores: re-check after a move
            pen, obj, tb = t.delta(u[i : i + 1], v[i : i + 1], t.rep_of[v[i : i + 1]])
            if _improving(pen, obj, tb, obj_tol, merit).size == 0:
                continue
        if t.can_swap(a, b):
            t.apply(a, rb)
            t.apply(b, ra)
            t._refresh()
            used.update((ra, rb))
            moved = True
    return moved


def _descend(
    t: _Territories, deadline: Deadline, rng: np.random.Generator, merit: float = 0.0
) -> None:
    """Shifts, then swaps, until neither improves; then move centres and repeat.

    With ``merit`` > 0 moves are ranked by ``objective + merit * penalty`` and each
    round ends with a lexicographic descent that repairs the windows it broke.
    """
    while not deadline.expired():
        for price in (merit, 0.0) if merit > 0 else (0.0,):
            obj_tol = _obj_tol(t)
            while not deadline.expired():
                t.repairing = price == 0 and t.penalty() > 0
                if _shift_pass(t, obj_tol, price):
                    continue
                if not _swap_pass(t, obj_tol, rng, tries=8, merit=price):
                    break
            t.repairing = False
        t.loads = t.rows.loads(t.model, t.chosen)
        if not t.geo.chooses_centres:
            return
        centres = best_centres(t.geo, t.rep_of, t.model.n_reps)
        if np.array_equal(centres, t.centres):
            return
        before = t.key(breaks=False)
        old = t.centres
        t.centres = centres
        t._prices()
        if not _better(t.key(breaks=False), before):
            t.centres = old
            t._prices()
            return


def _better(a: tuple[int, float, float, float], b: tuple[int, float, float, float]) -> bool:
    if a[0] != b[0]:
        return a[0] < b[0]
    for x, y in zip(a[1:], b[1:], strict=True):
        tol = 1e-9 * max(1.0, abs(x), abs(y))
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False


def _kick(t: _Territories, rng: np.random.Generator, size: int) -> None:
    """Random border shifts that keep every territory connected and bases in place."""
    units, reps = t.shift_candidates()
    sizes = np.bincount(t.rep_of, minlength=t.model.n_reps)
    done = 0
    for i in rng.permutation(units.size).tolist():
        if done >= size:
            break
        u, r = int(units[i]), int(reps[i])
        if t.rep_of[u] == r or sizes[t.rep_of[u]] <= 1:
            continue
        # Earlier kicks may have moved the unit's neighbours: still on the border?
        if t.geo.contiguous and not np.any(t.rep_of[t.geo.neighbours(u)] == r):
            continue
        if t.can_leave(u):
            sizes[t.rep_of[u]] -= 1
            sizes[r] += 1
            t.apply(u, r)
            done += 1
    t._refresh()


def _merit(t: _Territories) -> float:
    """Price of one unit of scaled row violation: a typical unit's dispersion."""
    if t.w <= 0 or not t.rows.pen_scale.any():
        return 0.0
    return _MERIT_FACTOR * t.w * float(np.mean(t.pair_dist[t.chosen]))


def _start_plan(
    model: Model,
    geography: Geography,
    rows: Rows,
    rng: np.random.Generator,
    start: np.ndarray | None,
) -> np.ndarray:
    """``rep_of`` to start from: grown, or the caller's plan with broken parts regrown."""
    if start is None:
        return grow(model, geography, rows, rng)
    start = np.asarray(start)
    rep_of = np.where(start >= 0, model.pair_rep[np.maximum(start, 0)], -1).astype(np.int64)
    if geography.contiguous and geography.indices.size:
        from alloc.solvers.contiguity import piece_labels

        labels = piece_labels(geography.indptr, geography.indices, rep_of)
        for r in range(model.n_reps):
            members = np.flatnonzero(rep_of == r)
            if members.size == 0:
                continue
            base = int(geography.base[r])
            keep = labels[base] if base >= 0 and rep_of[base] == r else None
            if keep is None:
                keep = np.bincount(labels[members]).argmax()
            rep_of[members[labels[members] != keep]] = -1
    return grow(model, geography, rows, rng, rep_of)


def search(
    model: Model,
    geography: Geography,
    deadline: Deadline,
    *,
    seed: int = 0,
    start: np.ndarray | None = None,
) -> TerritoryPlan:
    """Contiguous, balanced, compact territories by contiguity-preserving local search.

    Parameters
    ----------
    model
        The compiled model (units, eligible pairs, rows, objective).
    geography
        Its neighbour graph, base units and dispersion term.
    deadline
        When to stop; the search may also stop earlier once many rounds of
        perturbation in a row bring no better plan.
    seed
        Seed of the random choices (seeds, perturbations); equal seeds give equal plans
        when the search ends by convergence rather than by the deadline.
    start
        Optional ``(n_units,)`` pair index per unit (``-1``: free) to start from; parts
        of its territories cut off from the rest (or from the base unit) are regrown.

    Returns
    -------
    TerritoryPlan
        The best plan found: feasible ones first, then fewest contiguity breaks, least
        row violation, lowest objective.

    Raises
    ------
    ValueError
        When a base unit is not eligible for its own rep (the compile step refuses
        such problems first).
    """
    rng = np.random.default_rng(seed)
    rows = Rows.from_model(model)
    base = np.asarray(geography.base)
    reps = np.flatnonzero(base >= 0)
    if reps.size and np.any(model.pair_index(base[reps], reps) < 0):
        # The compile step refuses such bases; a model built by hand may not.
        bad = reps[model.pair_index(base[reps], reps) < 0].tolist()
        raise ValueError(f"base units not eligible for their reps (reps {bad})")
    if np.any(np.diff(model.unit_start) == 0):
        chosen = np.full(model.n_units, -1, dtype=np.int64)
        centres = np.full(model.n_reps, -1, dtype=np.int64)
        return TerritoryPlan(chosen, centres, float("inf"), False)
    t = _Territories(model, geography, rows, _start_plan(model, geography, rows, rng, start))
    _descend(t, deadline, rng)
    best_rep, best_centres, best = t.rep_of.copy(), t.centres.copy(), t.key()
    stale = starts = 0
    kick = max(2, model.n_units // 100)
    # Converged: many fresh starts in a row found nothing better (never while no plan
    # found so far is feasible: then the search runs to the deadline).
    while not deadline.expired() and (starts < _STARTS_WITHOUT_GAIN or best[:2] != (0, 0.0)):
        if stale >= _ROUNDS_PER_START:
            t.set_plan(grow(model, geography, rows, rng, noise=_RESTART_NOISE))
            stale, starts = 0, starts + 1
        else:
            _kick(t, rng, int(rng.integers(1, kick + 1)))
        _descend(t, deadline, rng, _merit(t) if rng.random() < _OSCILLATE else 0.0)
        current = t.key()
        if _better(current, best):
            best_rep, best_centres, best = t.rep_of.copy(), t.centres.copy(), current
            stale = starts = 0
        else:
            stale += 1
            if stale < _ROUNDS_PER_START:
                t.set_plan(best_rep, best_centres)
    t.set_plan(best_rep)  # the best centres of the final territories
    if not _better(best, t.key()):
        best = t.key()
    else:
        t.set_plan(best_rep, best_centres)
    brk, pen, obj, _ = t.key()
    centres = t.centres if geography.chooses_centres else np.full(model.n_reps, -1, np.int64)
    return TerritoryPlan(t.chosen.copy(), centres.copy(), obj, brk == 0 and pen == 0)
