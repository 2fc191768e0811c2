"""The compiled, array form of a problem that every solver works on.

A `Model` is built once by [`alloc.Problem`][alloc.Problem]. Customers kept together by a
``Together`` rule are merged into one *unit*; every solver assigns units, never
customers. Eligible (unit, rep) pairs are stored sorted by unit then rep (CSR layout),
so the pairs of unit ``u`` are ``unit_start[u]:unit_start[u + 1]``.

Every hard rule becomes one or more `Constraint` rows of the same shape::

    lo[r] <= sum over units u assigned to r of weight[pair(u, r)] <= hi[r]

and the objective is ``sum(cost[pair]) + sum(term.weight * term.value(loads))``.
A `Budget` is the one global row: ``sum over all units of weight[pair] <= hi`` (a cap
on an objective term's value over the whole plan, from ``alloc.Budget``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # geography.py imports this module at run time
    from alloc.data.geography import Geography

__all__ = [
    "Budget",
    "Constraint",
    "Imbalance",
    "Model",
    "eligible_set_signatures",
    "restricted_groups",
]

FloatArray = np.ndarray
IntArray = np.ndarray


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array``; the caller's array itself stays as it was."""
    view = array.view()
    view.setflags(write=False)
    return view


class _ReadOnlyArrays:
    """Mixin for frozen dataclasses: every numpy array field is held as a read-only view.

    A compiled model is shared by every solver (and pickled to worker processes), so no
    solver may change it in place; writing to one of its arrays raises ``ValueError``.
    """

    def __post_init__(self) -> None:
        self._freeze()

    def _freeze(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.flags.writeable:
                object.__setattr__(self, f.name, _read_only(value))

    def __setstate__(self, state: dict[str, object]) -> None:
        # Unpickled arrays come back writable; keep them read-only in workers too.
        self.__dict__.update(state)
        self._freeze()


@dataclass(frozen=True, eq=False)
class Constraint(_ReadOnlyArrays):
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
class Imbalance(_ReadOnlyArrays):
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


@dataclass(frozen=True, eq=False)
class Budget(_ReadOnlyArrays):
    """``sum_u weight[p(u)] <= hi`` over the chosen pair of every unit: a global cap.

    ``weight`` is the capped term's per-pair value (its weight included), so the row's
    load is the term's value as `alloc.objective_value` computes it for that term alone.
    Solvers that cannot honour a budget must not be given a model that has one
    (`alloc.solve` sends such models to `alloc.solvers.budgeted`).
    """

    label: str
    weight: FloatArray
    hi: float
    source: object = None


@dataclass(frozen=True, eq=False)
class Model(_ReadOnlyArrays):
    """Arrays describing units, eligible pairs, constraints and objective (all read-only)."""

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
    #: The spatial part (contiguity, base units, dispersion); None without territory rules.
    geography: Geography | None = None
    #: Global caps on objective terms (``alloc.Budget``); empty for most problems.
    budgets: tuple[Budget, ...] = ()

    def __post_init__(self) -> None:
        key = self.pair_unit.astype(np.int64) * self.n_reps + self.pair_rep
        object.__setattr__(self, "pair_key", key)
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

    @cached_property
    def _by_rep(self) -> tuple[IntArray, IntArray, IntArray]:
        """Pairs ordered by rep, then unit: (pair ids, their units, start per rep)."""
        order = np.lexsort((self.pair_unit, self.pair_rep))
        start = np.searchsorted(self.pair_rep[order], np.arange(self.n_reps + 1))
        return order, self.pair_unit[order], start

    def pair_index_at(self, units: IntArray, rep: int) -> IntArray:
        """`pair_index` of ``units`` with one ``rep``: a search among that rep's pairs
        alone, which stay in the cache (100,000 x 1,000: 400 units in 1.1 million keys
        cost 0.1 ms by `pair_index`, most of local search's swap passes)."""
        order, unit_of, start = self._by_rep
        lo, hi = int(start[rep]), int(start[rep + 1])
        units = np.asarray(units, dtype=np.int64)
        pos = np.searchsorted(unit_of[lo:hi], units)
        pos = np.minimum(pos, max(hi - lo - 1, 0))
        ok = unit_of[lo + pos] == units if hi > lo else np.zeros(units.shape, bool)
        return np.where(ok, order[lo + pos], -1)

    def pair_index_for(self, unit: int, reps: IntArray) -> IntArray:
        """`pair_index` of one ``unit`` with ``reps``: a search in the unit's own pairs
        (sorted by rep, as ``pair_key`` is)."""
        lo, hi = int(self.unit_start[unit]), int(self.unit_start[unit + 1])
        reps = np.asarray(reps, dtype=self.pair_rep.dtype)
        own = self.pair_rep[lo:hi]
        pos = np.minimum(np.searchsorted(own, reps), max(hi - lo - 1, 0))
        ok = own[pos] == reps if hi > lo else np.zeros(reps.shape, bool)
        return np.where(ok, lo + pos, -1)

    def loads(self, weight: FloatArray, chosen: IntArray) -> FloatArray:
        """Per-rep sum of ``weight`` over the chosen pairs (one per unit)."""
        return np.bincount(self.pair_rep[chosen], weights=weight[chosen], minlength=self.n_reps)


def constraint_scale(con: Constraint) -> float:
    """Typical magnitude of a constraint's row, used to make violations comparable."""
    scale = float(np.abs(con.weight).mean()) if con.weight.size else 1.0
    return scale if scale > 0 else 1.0


def eligible_set_signatures(model: Model) -> np.ndarray:
    """``(n_units,)`` a hash of each unit's set of eligible reps (equal sets, equal
    hashes; a collision of different sets is about as likely as 2**-62)."""
    salt = np.random.default_rng(12345).integers(1, 2**62, size=model.n_reps, dtype=np.uint64)
    signature = np.zeros(model.n_units, dtype=np.uint64)
    np.add.at(signature, model.pair_unit, salt[model.pair_rep])
    return signature


def restricted_groups(model: Model, limit: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rep mask S, unit mask) pairs: the units whose eligible reps all lie in S.

    Candidate sets S are the most common eligible sets (e.g. "the senior reps who know
    retail"), skipping sets of every rep. They feed Hall-type arguments: the units
    inside must be carried by the reps of S alone.
    """
    R = model.n_reps
    if R <= 1 or model.n_pairs == 0:
        return []
    signature = eligible_set_signatures(model)
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
