"""Row matrix, scores and the move-delta kernel shared by the local search and rebalancing.

All hard rows (constraints) and soft rows (imbalance terms) of a model are stacked into
one pair-by-row weight matrix, so a move's effect on every row is one vector slice.
A candidate move changes the loads of two reps only (rep ``ra`` by ``da``, rep ``rb``
by ``db``); `side_change` evaluates any per-(row, rep) function before and after
for a whole batch of candidates at once, and `move_delta` builds the change of
score from it. The score of an assignment is compared lexicographically:

1. ``penalty``: total scaled violation of hard rows beyond their allowed limits (0
   exactly when every hard row holds under `alloc.data.tolerance`'s rule);
2. ``objective``: the model's objective (linear cost + weighted imbalance);
3. ``tiebreak``: weighted sum of squared relative deviations, which guides the search
   across the plateaus of a max-norm objective (above ``Rows.floor`` where given).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alloc.data.model import Model, constraint_scale
from alloc.data.tolerance import lower_limit, upper_limit

__all__ = [
    "Delta",
    "Moves",
    "Rows",
    "Score",
    "TopDeviations",
    "abs_deviation",
    "deviations_after",
    "max_after",
    "move_delta",
    "penalty_change",
    "score_of",
    "side_change",
    "squared_deviation",
    "squared_excess",
    "violation",
]

_EPS = 1e-12


@dataclass(frozen=True, eq=False)
class Rows:
    """Stacked rows of a model: weight (pairs x rows), bounds and scales.

    ``lo`` and ``hi`` are the *allowed* limits of the hard rows: the raw limits widened
    by the library's one comparison rule (`alloc.data.tolerance.lower_limit`,
    `upper_limit`), so a load meets row ``k`` at rep ``r``
    exactly when ``lo[k, r] <= load <= hi[k, r]`` - the test the checker makes. The
    score, the move-delta kernel, greedy, local search and rebalancing compare with
    these; CP-SAT's integer limits are rounded outward from them. ``raw_lo`` and
    ``raw_hi`` are the rules' own limits: a broken row's violation is measured from them
    (as the checker reports it), and the LP bounds and HiGHS, whose own tolerances are
    wider, are given them.
    """

    weight: np.ndarray  # (P, K) float
    lo: np.ndarray  # (K, R) allowed lower limits (raw minus the tolerance), -inf if absent
    hi: np.ndarray  # (K, R) allowed upper limits (raw plus the tolerance), +inf if absent
    pen_scale: np.ndarray  # (K,) 1/scale for hard rows, 0 for soft rows
    share: np.ndarray  # (K, R) fair share for imbalance rows (1 for hard rows)
    imb_weight: np.ndarray  # (K,) term weight for imbalance rows, 0 for hard rows
    is_max: np.ndarray  # (K,) bool: max-norm imbalance row
    is_sum: np.ndarray  # (K,) bool: sum-norm imbalance row
    raw_lo: np.ndarray  # (K, R) the rules' lower limits
    raw_hi: np.ndarray  # (K, R) the rules' upper limits
    # (K,) or None: a deviation every plan reaches on each max-norm term (a customer
    # bigger than a fair share, `alloc.solvers.bounds.imbalance_floors`). The tiebreak
    # counts only deviations above it: below it a rep never decides the term, and
    # squaring the whole deviation of the rep that must carry such a customer made
    # local search strip that rep of the customers its other terms need.
    floor: np.ndarray | None = None

    @classmethod
    def from_model(cls, model: Model) -> Rows:
        R = model.n_reps
        cols, lo, hi, pen, share, wimb, is_max, is_sum = [], [], [], [], [], [], [], []
        for con in model.constraints:
            cols.append(con.weight)
            lo.append(np.asarray(con.lo, dtype=float))
            hi.append(np.asarray(con.hi, dtype=float))
            pen.append(1.0 / constraint_scale(con))
            share.append(np.ones(R))
            wimb.append(0.0)
            is_max.append(False)
            is_sum.append(False)
        for term in model.imbalances:
            cols.append(term.value)
            lo.append(np.full(R, -np.inf))
            hi.append(np.full(R, np.inf))
            pen.append(0.0)
            share.append(term.share)
            wimb.append(term.weight)
            is_max.append(term.norm == "max")
            is_sum.append(term.norm == "sum")
        P = model.n_pairs
        weight = np.column_stack(cols) if cols else np.zeros((P, 0))
        raw_lo = np.array(lo, dtype=float).reshape(-1, R)
        raw_hi = np.array(hi, dtype=float).reshape(-1, R)
        return cls(
            weight=np.ascontiguousarray(weight, dtype=float),
            lo=lower_limit(raw_lo),
            hi=upper_limit(raw_hi),
            pen_scale=np.array(pen, dtype=float),
            share=np.array(share, dtype=float).reshape(-1, R),
            imb_weight=np.array(wimb, dtype=float),
            is_max=np.array(is_max, dtype=bool),
            is_sum=np.array(is_sum, dtype=bool),
            raw_lo=raw_lo,
            raw_hi=raw_hi,
        )

    @property
    def n_rows(self) -> int:
        return int(self.weight.shape[1])

    def loads(self, model: Model, chosen: np.ndarray) -> np.ndarray:
        """(K, R) loads of every row for one chosen pair per unit."""
        reps = model.pair_rep[chosen]
        out = np.zeros((self.n_rows, model.n_reps))
        for k in range(self.n_rows):
            out[k] = np.bincount(reps, weights=self.weight[chosen, k], minlength=model.n_reps)
        return out


@dataclass(frozen=True)
class Score:
    penalty: float
    objective: float
    tiebreak: float

    def better_than(self, other: Score, tol: float = 1e-12) -> bool:
        for a, b in ((self.penalty, other.penalty), (self.objective, other.objective)):
            if a == b:
                continue
            if math.isinf(a) or math.isinf(b):
                # A relative tolerance against infinity is NaN: compare plainly.
                return a < b
            scale = tol * max(1.0, abs(a), abs(b))
            if a < b - scale:
                return True
            if a > b + scale:
                return False
        if math.isinf(other.tiebreak) or math.isinf(self.tiebreak):
            return self.tiebreak < other.tiebreak
        return self.tiebreak < other.tiebreak - tol * max(1.0, abs(other.tiebreak))


def score_of(model: Model, rows: Rows, chosen: np.ndarray, loads: np.ndarray) -> Score:
    """Score of a complete assignment from its (K, R) loads."""
    over = violation(loads, rows.lo, rows.hi, rows.raw_lo, rows.raw_hi)
    penalty = float((over.sum(axis=1) * rows.pen_scale).sum())
    dev = np.abs(loads - rows.share) / rows.share
    imb = np.where(rows.is_max, dev.max(axis=1, initial=0.0), 0.0) + np.where(
        rows.is_sum, dev.sum(axis=1), 0.0
    )
    objective = float(model.cost[chosen].sum() + (rows.imb_weight * imb).sum())
    if rows.floor is not None:
        dev = np.maximum(dev - rows.floor[:, None], 0.0)
    tiebreak = float((rows.imb_weight * (dev**2).sum(axis=1)).sum())
    return Score(penalty, objective, tiebreak)


# ---- the move-delta kernel --------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Moves:
    """A batch of ``n`` candidate moves, each changing the loads of two reps.

    A shift of unit u from pair p (rep a) to pair q (rep b) has ``da = -W[p]`` and
    ``db = W[q]``; a swap adds the partner's rows to both sides.
    """

    ra: np.ndarray  # (n,) first rep touched
    rb: np.ndarray  # (n,) second rep touched
    da: np.ndarray  # (n, K) change of the rows' loads at ra
    db: np.ndarray  # (n, K) change of the rows' loads at rb
    dcost: np.ndarray  # (n,) change of linear cost

    @property
    def size(self) -> int:
        return int(self.ra.size)


def violation(
    load: np.ndarray, lo: np.ndarray, hi: np.ndarray, raw_lo: np.ndarray, raw_hi: np.ndarray
) -> np.ndarray:
    """How far loads break their rows: 0 within the allowed ``[lo, hi]``, else the
    distance to the raw limit (``load - raw_hi`` or ``raw_lo - load``), as the checker
    measures it (`alloc.data.tolerance.excess`)."""
    return np.where(load > hi, load - raw_hi, 0.0) + np.where(load < lo, raw_lo - load, 0.0)


def abs_deviation(load: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``|load - share| / share``: the relative deviation from a fair share."""
    return np.abs(load - share) / share


def squared_deviation(load: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``((load - share) / share) ** 2``."""
    return ((load - share) / share) ** 2


def squared_excess(load: np.ndarray, share: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """``max(|load - share| / share - floor, 0) ** 2``: `squared_deviation` above a floor."""
    return np.maximum(np.abs(load - share) / share - floor, 0.0) ** 2


def side_change(
    f: Callable[..., np.ndarray],
    loads: np.ndarray,
    moves: Moves,
    per_rep: tuple[np.ndarray, ...] = (),
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Change of ``f(load, *per_rep)`` summed over the two reps each move touches.

    ``loads`` is (K, R); each array of ``per_rep`` is (K, R) too (bounds, shares...);
    ``rows`` selects rows (all when None). Returns (n, rows):
    ``f(new_a) - f(old_a) + f(new_b) - f(old_b)``.
    """
    ra, rb = moves.ra, moves.rb
    if rows is None:
        la, lb = loads[:, ra].T, loads[:, rb].T
        na, nb = la + moves.da, lb + moves.db
        pa = [x[:, ra].T for x in per_rep]
        pb = [x[:, rb].T for x in per_rep]
    else:
        la, lb = loads[rows][:, ra].T, loads[rows][:, rb].T
        na, nb = la + moves.da[:, rows], lb + moves.db[:, rows]
        pa = [x[rows][:, ra].T for x in per_rep]
        pb = [x[rows][:, rb].T for x in per_rep]
    return f(na, *pa) - f(la, *pa) + f(nb, *pb) - f(lb, *pb)


def penalty_change(
    rows: Rows, loads: np.ndarray, moves: Moves, hard: np.ndarray | None = None
) -> np.ndarray:
    """Change of the scaled hard-row violation (the score's ``penalty``) per move.

    ``hard`` restricts the sum to those rows (the other rows' scale must be 0).
    """
    scale = rows.pen_scale if hard is None else rows.pen_scale[hard]
    limits = (rows.lo, rows.hi, rows.raw_lo, rows.raw_hi)
    return side_change(violation, loads, moves, limits, hard) @ scale


@dataclass(frozen=True, eq=False)
class TopDeviations:
    """The three largest relative deviations of each row and their reps (-1: none)."""

    idx: np.ndarray  # (k, 3) rep of each of the top deviations
    val: np.ndarray  # (k, 3) the deviations, largest first

    @classmethod
    def of(cls, dev: np.ndarray) -> TopDeviations:
        """From a (k, R) matrix of non-negative deviations."""
        R = dev.shape[1]
        k = min(3, R)
        idx = np.argsort(-dev, axis=1)[:, :k]
        val = np.take_along_axis(dev, idx, axis=1)
        if k < 3:
            idx = np.pad(idx, ((0, 0), (0, 3 - k)), constant_values=-1)
            val = np.pad(val, ((0, 0), (0, 3 - k)), constant_values=0.0)
        return cls(idx, val)


def max_after(
    top: TopDeviations, j: int, moves: Moves, dev_a: np.ndarray, dev_b: np.ndarray
) -> np.ndarray:
    """Largest deviation of row ``j`` of ``top`` after each move, exactly.

    The largest deviation among the reps a move leaves alone is the first of the row's
    top three that is neither ``ra`` nor ``rb``; ``dev_a``, ``dev_b`` are the (n,)
    deviations of the two touched reps after the move.
    """
    idx, val = top.idx[j], top.val[j]
    free = (idx[None, :] != moves.ra[:, None]) & (idx[None, :] != moves.rb[:, None])
    first = np.argmax(free, axis=1)
    other = np.where(free.any(axis=1), val[first], 0.0)
    return np.maximum(other, np.maximum(dev_a, dev_b))


@dataclass(frozen=True, eq=False)
class Delta:
    """Change of each part of the `Score` per candidate move."""

    penalty: np.ndarray
    objective: np.ndarray
    tiebreak: np.ndarray


def move_delta(
    rows: Rows,
    loads: np.ndarray,
    moves: Moves,
    top: TopDeviations | None,
    max_rows: np.ndarray,
) -> Delta:
    """Change of `score_of` for each candidate move, without applying any.

    ``top`` holds the top deviations of the rows ``max_rows`` (the max-norm rows) at
    ``loads``; with ``top`` None the max-norm terms are left out of the objective
    change (a search ranking moves by squared deviations only).
    """
    d_pen = penalty_change(rows, loads, moves)
    d_obj = moves.dcost.astype(float).copy()
    d_tb = np.zeros(moves.size)
    if rows.imb_weight.any():
        w = rows.imb_weight
        if rows.floor is None:
            d_tb = side_change(squared_deviation, loads, moves, (rows.share,)) @ w
        else:
            floor = np.broadcast_to(rows.floor[:, None], rows.share.shape)
            d_tb = side_change(squared_excess, loads, moves, (rows.share, floor)) @ w
        if rows.is_sum.any():
            d_abs = side_change(abs_deviation, loads, moves, (rows.share,))
            d_obj += d_abs @ (w * rows.is_sum)
        if top is not None and max_rows.size:
            ea, eb = deviations_after(rows, loads, moves)
            for j, k in enumerate(max_rows.tolist()):
                new_max = max_after(top, j, moves, ea[:, k], eb[:, k])
                d_obj += w[k] * (new_max - top.val[j, 0])
    return Delta(d_pen, d_obj, d_tb)


def deviations_after(rows: Rows, loads: np.ndarray, moves: Moves) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) relative deviations of the two touched reps after each move."""
    sa, sb = rows.share[:, moves.ra].T, rows.share[:, moves.rb].T
    na = loads[:, moves.ra].T + moves.da
    nb = loads[:, moves.rb].T + moves.db
    return abs_deviation(na, sa), abs_deviation(nb, sb)
