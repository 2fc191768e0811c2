"""Row matrix and incremental scoring shared by the construction and local search.

All hard rows (constraints) and soft rows (imbalance terms) of a model are stacked into
one pair-by-row weight matrix, so a move's effect on every row is one vector slice.
The score of an assignment is compared lexicographically:

1. ``penalty``: total scaled violation of hard rows (0 when feasible);
2. ``objective``: the model's objective (linear cost + weighted imbalance);
3. ``tiebreak``: weighted sum of squared relative deviations, which guides the search
   across the plateaus of a max-norm objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alloc.data.model import Model, constraint_scale

__all__ = ["Rows", "Score", "score_of"]

_EPS = 1e-12


@dataclass(frozen=True, eq=False)
class Rows:
    """Stacked rows of a model: weight (pairs x rows), bounds and scales."""

    weight: np.ndarray  # (P, K) float
    lo: np.ndarray  # (K, R)
    hi: np.ndarray  # (K, R)
    pen_scale: np.ndarray  # (K,) 1/scale for hard rows, 0 for soft rows
    share: np.ndarray  # (K, R) fair share for imbalance rows (1 for hard rows)
    imb_weight: np.ndarray  # (K,) term weight for imbalance rows, 0 for hard rows
    is_max: np.ndarray  # (K,) bool: max-norm imbalance row
    is_sum: np.ndarray  # (K,) bool: sum-norm imbalance row

    @classmethod
    def from_model(cls, model: Model) -> Rows:
        R = model.n_reps
        cols, lo, hi, pen, share, wimb, is_max, is_sum = [], [], [], [], [], [], [], []
        for con in model.constraints:
            cols.append(con.weight)
            lo.append(con.lo)
            hi.append(con.hi)
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
        return cls(
            weight=np.ascontiguousarray(weight, dtype=float),
            lo=np.array(lo, dtype=float).reshape(-1, R),
            hi=np.array(hi, dtype=float).reshape(-1, R),
            pen_scale=np.array(pen, dtype=float),
            share=np.array(share, dtype=float).reshape(-1, R),
            imb_weight=np.array(wimb, dtype=float),
            is_max=np.array(is_max, dtype=bool),
            is_sum=np.array(is_sum, dtype=bool),
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
            scale = tol * max(1.0, abs(a), abs(b))
            if a < b - scale:
                return True
            if a > b + scale:
                return False
        return self.tiebreak < other.tiebreak - tol * max(1.0, abs(other.tiebreak))


def score_of(model: Model, rows: Rows, chosen: np.ndarray, loads: np.ndarray) -> Score:
    """Score of a complete assignment from its (K, R) loads."""
    over = np.maximum(loads - rows.hi, 0.0) + np.maximum(rows.lo - loads, 0.0)
    penalty = float((over.sum(axis=1) * rows.pen_scale).sum())
    dev = np.abs(loads - rows.share) / rows.share
    imb = np.where(rows.is_max, dev.max(axis=1, initial=0.0), 0.0) + np.where(
        rows.is_sum, dev.sum(axis=1), 0.0
    )
    objective = float(model.cost[chosen].sum() + (rows.imb_weight * imb).sum())
    tiebreak = float((rows.imb_weight * (dev**2).sum(axis=1)).sum())
    return Score(penalty, objective, tiebreak)
