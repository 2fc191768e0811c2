"""A plan under rebalancing and how it is scored: the chosen pair per unit, its loads,
its moves and moved value, and the lexicographic key plans are compared by (hard-row
violation, protected moves, distance to the tolerance, objective). `Plan` needs
no random generator and no deadline: the search and the report both use it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from alloc.rebalancing.setup import Budget, Setup
from alloc.solvers.state import Score, score_of

__all__ = ["PEN_DIGITS", "Outcome", "Plan", "Snapshot", "better", "key_lt", "key_not_worse"]

#: Digits a penalty is rounded to before plans are compared.
PEN_DIGITS = 9


@dataclass
class Snapshot:
    chosen: np.ndarray
    key: tuple[float, ...]
    moves: int
    value: float


@dataclass
class Outcome:
    """What the search phases (and the exact polish) hand to the report."""

    chosen: np.ndarray
    feasible: bool
    protected_forced: bool  # protected customers had to move for feasibility
    tolerance_reached: bool | None
    phases: list[tuple[str, float, float]]
    found_by: str
    proven: bool = False
    bound: float = -math.inf
    notes: list[str] = field(default_factory=list)


class Plan:
    """One chosen pair per unit, its loads and its figures.

    ``tol`` holds a target per row (NaN: none) in tolerance mode, None otherwise.
    ``x_weight`` is the weight of each row in the search's surrogate (default: 1 for
    rows with a tolerance, else each imbalance row's weight).
    """

    def __init__(
        self,
        setup: Setup,
        chosen: np.ndarray,
        budget: Budget,
        tol: np.ndarray | None = None,
        x_weight: np.ndarray | None = None,
    ) -> None:
        m, rows = setup.model, setup.rows
        self.setup, self.budget, self.tol = setup, budget, tol
        self.chosen = chosen
        self.rep_of = m.pair_rep[self.chosen].copy()
        self.loads = rows.loads(m, self.chosen)
        self.is_imb = (rows.imb_weight != 0) | rows.is_max | rows.is_sum
        self.hard = np.flatnonzero(rows.pen_scale > 0)
        if tol is not None:
            self.x_weight = np.where(self.is_imb & np.isfinite(tol), 1.0, 0.0)
        else:
            self.x_weight = np.where(self.is_imb, rows.imb_weight, 0.0)
        if x_weight is not None:
            self.x_weight = x_weight
        self.soft = np.flatnonzero(self.x_weight != 0)

    # ---- figures ----------------------------------------------------------------------
    @property
    def moves(self) -> int:
        return int(self.setup.mc[self.chosen].sum())

    @property
    def moved_value(self) -> float:
        return float(self.setup.mv[self.chosen].sum())

    @property
    def protected_moves(self) -> int:
        return int(self.setup.mp[self.chosen].sum())

    def deviations(self) -> np.ndarray:
        rows = self.setup.rows
        return np.abs(self.loads - rows.share) / rows.share

    def max_dev(self) -> np.ndarray:
        """Max |relative deviation| per row (0 for hard rows)."""
        dev = self.deviations()
        return np.where(self.is_imb, dev.max(axis=1, initial=0.0), 0.0)

    def tol_gap(self) -> float:
        """Sum over metrics with a tolerance of how far their max deviation exceeds it."""
        if self.tol is None:
            return 0.0
        rows = self.x_weight != 0
        return float(np.maximum(self.max_dev()[rows] - self.tol[rows], 0.0).sum())

    def true_score(self) -> Score:
        return score_of(self.setup.model, self.setup.rows, self.chosen, self.loads)

    def key(self) -> tuple[float, ...]:
        """Lexicographic quality of the current plan (smaller is better)."""
        s = self.true_score()
        pen = round(s.penalty, PEN_DIGITS)
        if self.tol is not None:
            return (pen, self.protected_moves, round(self.tol_gap(), 12), s.objective)
        return (pen, self.protected_moves, s.objective)

    def prune_key(self) -> tuple[float, ...]:
        """What reverting a move must not worsen: with a tolerance, the objective may."""
        key = self.key()
        return key[:3] if self.tol is not None else key

    def within_budget(self, snap: Snapshot) -> bool:
        return self.budget.allows(snap.moves, snap.value)

    # ---- state ------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        return Snapshot(self.chosen.copy(), self.key(), self.moves, self.moved_value)

    def restore(self, snap: Snapshot) -> None:
        self.set_chosen(snap.chosen)

    def set_chosen(self, chosen: np.ndarray) -> None:
        m, rows = self.setup.model, self.setup.rows
        self.chosen = chosen.copy()
        self.rep_of = m.pair_rep[self.chosen].copy()
        self.loads = rows.loads(m, self.chosen)

    def recompute_loads(self) -> None:
        """Loads from scratch (no drift from incremental updates)."""
        self.loads = self.setup.rows.loads(self.setup.model, self.chosen)

    def apply(self, u: int, q: int) -> None:
        """Move unit ``u`` to pair ``q``, updating the loads incrementally."""
        W = self.setup.rows.weight
        p = self.chosen[u]
        self.loads[:, self.rep_of[u]] -= W[p]
        self.chosen[u] = q
        self.rep_of[u] = self.setup.model.pair_rep[q]
        self.loads[:, self.rep_of[u]] += W[q]


def better(a: Snapshot, b: Snapshot) -> bool:
    """a is a strictly better plan than b: better key, or equal key and fewer moves."""
    if key_lt(a.key, b.key):
        return True
    if key_lt(b.key, a.key):
        return False
    return (a.moves, a.value) < (b.moves, b.value)


def key_lt(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    for x, y in zip(a, b, strict=True):
        tol = 1e-12 * max(1.0, abs(x), abs(y))
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False


def key_not_worse(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return not key_lt(b, a)
