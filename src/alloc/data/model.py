"""The compiled, array form of a problem that every solver works on.

A :class:`Model` is built once by :class:`alloc.Problem`. Customers kept together by a
``Together`` rule are merged into one *unit*; every solver assigns units, never
customers. Eligible (unit, rep) pairs are stored sorted by unit then rep (CSR layout),
so the pairs of unit ``u`` are ``unit_start[u]:unit_start[u + 1]``.

Every hard rule becomes one or more :class:`Constraint` rows of the same shape::

    lo[r] <= sum over units u assigned to r of weight[pair(u, r)] <= hi[r]

and the objective is ``sum(cost[pair]) + sum(term.weight * term.value(loads))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Constraint", "Imbalance", "Model", "restricted_groups"]

FloatArray = np.ndarray
IntArray = np.ndarray


@dataclass(frozen=True, eq=False)
class Constraint:
    """``lo[r] <= sum_{u -> r} weight[p(u, r)] <= hi[r]`` for every rep ``r``.

    ``lo``/``hi`` are ``-inf``/``+inf`` where a side is absent. ``source`` is the rule
    that produced the row, kept for explanations.
    """

    label: str
    weight: FloatArray
    lo: FloatArray
    hi: FloatArray
    source: object = None
    integral: bool = False

    @property
    def has_lo(self) -> bool:
        return bool(np.isfinite(self.lo).any())

    @property
    def has_hi(self) -> bool:
        return bool(np.isfinite(self.hi).any())


@dataclass(frozen=True, eq=False)
class Imbalance:
    """A weighted imbalance term on a metric's load per rep.

    Relative deviation of rep ``r`` is ``(load[r] - share[r]) / share[r]``; the term's
    value is ``max_r |dev[r]|`` (``norm="max"``) or ``sum_r |dev[r]|`` (``norm="sum"``).
    """

    label: str
    metric: str
    value: FloatArray
    share: FloatArray
    weight: float
    norm: str
    source: object = None

    def evaluate(self, loads: FloatArray) -> float:
        dev = np.abs(loads - self.share) / self.share
        return float(dev.max() if self.norm == "max" else dev.sum())


@dataclass(frozen=True, eq=False)
class Model:
    """Arrays describing units, eligible pairs, constraints and objective."""

    n_units: int
    n_reps: int
    unit_start: IntArray
    pair_unit: IntArray
    pair_rep: IntArray
    cost: FloatArray
    constraints: tuple[Constraint, ...]
    imbalances: tuple[Imbalance, ...]
    customer_unit: IntArray
    unit_size: IntArray
    pair_key: IntArray = field(init=False)

    def __post_init__(self) -> None:
        key = self.pair_unit.astype(np.int64) * self.n_reps + self.pair_rep
        object.__setattr__(self, "pair_key", key)
        self._freeze()

    def _freeze(self) -> None:
        for arr in (self.unit_start, self.pair_unit, self.pair_rep, self.cost, self.pair_key):
            arr.setflags(write=False)

    def __setstate__(self, state: dict[str, object]) -> None:
        # Unpickled arrays come back writable; keep the model read-only in workers too.
        self.__dict__.update(state)
        self._freeze()

    @property
    def n_pairs(self) -> int:
        return int(self.pair_unit.shape[0])

    @property
    def degree(self) -> IntArray:
        """Number of eligible reps per unit."""
        return np.diff(self.unit_start)

    def pair_index(self, units: IntArray, reps: IntArray) -> IntArray:
        """Index of pair (unit, rep), or -1 where the pair is not eligible."""
        key = np.asarray(units, dtype=np.int64) * self.n_reps + np.asarray(reps)
        pos = np.searchsorted(self.pair_key, key)
        pos = np.minimum(pos, max(self.n_pairs - 1, 0))
        ok = self.pair_key[pos] == key if self.n_pairs else np.zeros(key.shape, bool)
        return np.where(ok, pos, -1)

    def loads(self, weight: FloatArray, chosen: IntArray) -> FloatArray:
        """Per-rep sum of ``weight`` over the chosen pairs (one per unit)."""
        return np.bincount(self.pair_rep[chosen], weights=weight[chosen], minlength=self.n_reps)

    def violation(self, chosen: IntArray) -> float:
        """Total constraint violation, each row scaled by its typical magnitude."""
        total = 0.0
        for con in self.constraints:
            load = self.loads(con.weight, chosen)
            over = np.maximum(load - con.hi, 0.0)
            under = np.maximum(con.lo - load, 0.0)
            total += float((over + under).sum()) / constraint_scale(con)
        return total

    def objective(self, chosen: IntArray) -> float:
        """Objective of a complete assignment given as one chosen pair per unit."""
        value = float(self.cost[chosen].sum())
        for term in self.imbalances:
            value += term.weight * term.evaluate(self.loads(term.value, chosen))
        return value


def constraint_scale(con: Constraint) -> float:
    """Typical magnitude of a constraint's row, used to make violations comparable."""
    scale = float(np.abs(con.weight).mean()) if con.weight.size else 1.0
    return scale if scale > 0 else 1.0


def restricted_groups(model: Model, limit: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rep mask S, unit mask) pairs: the units whose eligible reps all lie in S.

    Candidate sets S are the most common eligible sets (e.g. "the senior reps who know
    retail"), skipping sets of every rep. They feed Hall-type arguments: the units
    inside must be carried by the reps of S alone.
    """
    R = model.n_reps
    if R <= 1 or model.n_pairs == 0:
        return []
    signature = np.zeros(model.n_units, dtype=np.uint64)
    salt = np.random.default_rng(12345).integers(1, 2**62, size=R, dtype=np.uint64)
    np.add.at(signature, model.pair_unit, salt[model.pair_rep])
    degree = np.diff(model.unit_start)
    _, first, counts = np.unique(signature, return_index=True, return_counts=True)
    start = model.unit_start[:-1]
    out = []
    for u in first[np.argsort(-counts)][:limit].tolist():
        if degree[u] >= R or degree[u] == 0:
            continue
        mask = np.zeros(R, dtype=bool)
        mask[model.pair_rep[model.unit_start[u] : model.unit_start[u + 1]]] = True
        inside = np.minimum.reduceat(mask[model.pair_rep].astype(np.int8), start).astype(bool)
        inside &= degree > 0
        out.append((mask, inside))
    return out
