"""Classes of interchangeable units: a much smaller LP for large models.

Units with the same eligible reps (in the same order), the same cheapest rep, size
(with costs) and mix of the imbalance terms (`_mix_bucket`) form a class. The class LP
has one variable per (class, rep): the fraction of the class's summed weights, costs and
counts that the rep takes, with the same hard rows and imbalance rows as the full LP.
A sales organisation has far fewer classes than customers (eligibility comes from a
few attributes: industry, region, key-account flag), so the class LP of 20,000
customers x 200 reps has a few thousand columns instead of a few hundred thousand.

It is not a relaxation of the full problem (a class is split in the same proportion on
every row, where the full LP may send a potential-heavy customer one way and a
workload-heavy one the other), so its value is not a bound. Its row duals are used
instead: `alloc.solvers.lp` recomputes a Lagrangian bound from them on the full model,
which is valid for any duals. Its fractions give a start plan (`spread`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from alloc.data.model import Model
from alloc.solvers.state import Rows

__all__ = ["Classes", "Shape", "classes_of", "spread"]


@dataclass(frozen=True)
class Shape:
    """The fields of a `Model` that the LP builder reads, for the class model."""

    n_pairs: int
    n_reps: int
    n_units: int
    pair_rep: np.ndarray
    pair_unit: np.ndarray
    unit_start: np.ndarray
    cost: np.ndarray


@dataclass(frozen=True)
class Classes:
    """The class model of a `Model`: its shape and rows, and where each unit went."""

    unit_class: np.ndarray  # (U,) class of each unit
    pair_of: np.ndarray  # (P,) class pair of each pair
    shape: Shape
    rows: Rows  # the model's rows with weights summed per class pair

    @property
    def n_classes(self) -> int:
        return self.shape.n_units


def classes_of(model: Model, rows: Rows) -> Classes:
    """Group the units of ``model`` by their eligible reps and sum their data."""
    start, rep = model.unit_start, model.pair_rep
    cheapest = _cheapest_offset(model)
    bucket = _size_bucket(model, rows) if np.any(model.cost != 0) else np.zeros_like(cheapest)
    base = [
        rep[start[u] : start[u + 1]].tobytes() + cheapest[u].tobytes() + bucket[u].tobytes()
        for u in range(model.n_units)
    ]
    # Finer mixes while the class LP stays small; without the mix past that.
    for steps in (_MIX_STEPS, 1, 0):
        mix = _mix_bucket(model, rows, steps)
        keys: dict[bytes, int] = {}
        unit_class = np.array(
            [
                keys.setdefault(key + m.tobytes(), len(keys))
                for key, m in zip(base, mix, strict=True)
            ],
            dtype=np.int64,
        ).reshape(model.n_units)
        if len(keys) <= _MAX_MIX_CLASSES:
            break
    n_classes = len(keys)
    first_unit = np.full(n_classes, model.n_units, dtype=np.int64)
    np.minimum.at(first_unit, unit_class, np.arange(model.n_units))
    sizes = np.diff(start)[first_unit]
    class_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    offset = np.arange(model.n_pairs) - start[model.pair_unit]
    pair_of = class_start[unit_class[model.pair_unit]] + offset
    n_pairs = int(class_start[-1])
    class_rep = np.empty(n_pairs, dtype=rep.dtype)
    class_rep[pair_of] = rep
    weight = np.zeros((n_pairs, rows.n_rows))
    for k in range(rows.n_rows):
        weight[:, k] = np.bincount(pair_of, weights=rows.weight[:, k], minlength=n_pairs)
    shape = Shape(
        n_pairs=n_pairs,
        n_reps=model.n_reps,
        n_units=n_classes,
        pair_rep=class_rep,
        pair_unit=np.repeat(np.arange(n_classes), sizes),
        unit_start=class_start,
        cost=np.bincount(pair_of, weights=model.cost, minlength=n_pairs),
    )
    return Classes(unit_class, pair_of, shape, replace(rows, weight=weight))


def _size_bucket(model: Model, rows: Rows) -> np.ndarray:
    """Per unit, its size class (powers of 2 of its weight on the guide row).

    With costs per unit (disruption, travel), moving one large unit is cheaper than
    moving many small ones of the same weight; a class mixing sizes would be split in
    proportion, so the class LP would move small and large alike.
    """
    k = _guide_row(rows)
    if k is None:
        return np.zeros(model.n_units, dtype=np.int64)
    size = np.abs(rows.weight[model.unit_start[:-1], k])
    out = np.full(model.n_units, -(2**40), dtype=np.int64)
    positive = size > 0
    out[positive] = np.floor(np.log2(size[positive])).astype(np.int64)
    return out


#: Steps per octave of the ratio of a unit's weights on two imbalance terms (its mix),
#: and the most classes the mix may make (coarser steps, then none, above it): the
#: 4,125 classes of the example below took 9.5 s.
_MIX_STEPS = 2
_MAX_MIX_CLASSES = 8_000


def _mix_bucket(model: Model, rows: Rows, steps: int = _MIX_STEPS) -> np.ndarray:
    """Per unit, its mix of the imbalance terms: the ratio of its weight on the second
    (and third) term to its weight on the first, in half-octave steps; all 0 with fewer
    than two terms or ``steps`` 0.

    A class is split in the same proportion on every row. Where its units differ in mix
    (potential against workload), the full LP sends the potential-heavy ones one way and
    the workload-heavy ones the other; the class LP cannot, and its duals bound the full
    model far below the full LP's value. Measured on the combined family at 100,000 x
    1,000 (benchmarks/families.py): 395 classes gave -3.05 (clipped to 0); split by
    half-octaves of mix, 4,125 classes gave 2.91 % in 9.5 s (quarter-octaves: 7,159
    classes, 2.97 % in 26 s; whole octaves: 2.59 %), where the full LP needed 533 s to
    show 2.97 %.
    """
    out = np.zeros(model.n_units, dtype=np.int64)
    terms = np.flatnonzero(rows.is_max | rows.is_sum)
    if terms.size < 2 or model.n_pairs == 0 or steps == 0:
        return out
    start = model.unit_start[:-1]
    first = np.abs(rows.weight[start, terms[0]])
    for k in terms[1:3].tolist():
        other = np.abs(rows.weight[start, k])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log2(other / first)
        # Units worth nothing on one of the two terms get buckets of their own.
        step = np.where(
            np.isfinite(ratio),
            np.floor(np.nan_to_num(ratio, posinf=0.0, neginf=0.0) * steps),
            np.where(other > first, 4_000.0, -4_000.0),
        )
        out = out * 10_000 + step.astype(np.int64)
    return out


def _cheapest_offset(model: Model) -> np.ndarray:
    """Per unit, the position of its cheapest pair (all 0 when no pair has a cost).

    Units that share eligible reps but not their cheapest rep (their current owner under
    a disruption term, their nearest rep under travel) go to different classes: a class
    priced at its members' average cost would make the LP move customers it need not
    (key accounts, 20,000 x 200: its bound 0.097 against the full LP's 0.341).
    """
    if not np.any(model.cost != 0):
        return np.zeros(model.n_units, dtype=np.int64)
    start = model.unit_start[:-1]
    low = np.minimum.reduceat(model.cost, start)
    pair_ids = np.arange(model.n_pairs)
    at_low = np.where(model.cost <= low[model.pair_unit], pair_ids, model.n_pairs)
    return (np.minimum.reduceat(at_low, start) - start).astype(np.int64)


def spread(classes: Classes, fractions: np.ndarray, model: Model, rows: Rows) -> np.ndarray:
    """A plan that gives each rep about its LP fraction of each class.

    Units go largest first (by the first imbalance row's weight, else the first row's,
    else one each) to a rep with room for at least half of the unit in its share of the
    class, else to the rep furthest below its share. When the class's units have a
    cheapest rep (the current owner under a disruption term, the nearest under travel),
    the large units fill the other reps' shares first (the cheapest such rep) and the
    small ones stay with the cheapest rep: a move costs the same for a small unit as
    for a large one, so the LP's transfers are made with as few moves as the sizes
    allow (key accounts, 20,000 x 200: 3,600 moves instead of 6,300 for the same
    shares).
    """
    k = _guide_row(rows)
    start = model.unit_start
    size = np.ones(model.n_units) if k is None else np.abs(rows.weight[start[:-1], k])
    chosen = np.empty(model.n_units, dtype=np.int64)
    order = np.lexsort((-size, classes.unit_class))
    bounds = np.searchsorted(classes.unit_class[order], np.arange(classes.n_classes + 1))
    cstart = classes.shape.unit_start
    cheapest = _cheapest_offset(model)
    # Classes of large units first; what a rep got above or below its target in the
    # classes done so far is carried to the next ones (``debt``), so that the rounding
    # errors of the large units are made up with small ones instead of adding up.
    largest = np.zeros(classes.n_classes)
    np.maximum.at(largest, classes.unit_class, size)
    debt = np.zeros(model.n_reps)
    # The loop over units is sequential (each placement changes the room left), so it
    # runs on Python lists: numpy's per-call overhead on a handful of reps made it
    # 1.6 s at 100,000 customers, past a 2 s time limit.
    costs, sizes, firsts = model.cost.tolist(), size.tolist(), start.tolist()
    cheapest_of = cheapest.tolist()
    for c in np.argsort(-largest, kind="stable").tolist():
        units = order[bounds[c] : bounds[c + 1]]
        reps = classes.shape.pair_rep[cstart[c] : cstart[c + 1]]
        share = np.clip(fractions[cstart[c] : cstart[c + 1]], 0.0, None)
        target = share / max(float(share.sum()), 1e-12) * float(size[units].sum())
        aim, owed = target.tolist(), debt[reps].tolist()
        given = [0.0] * len(aim)
        for u in units.tolist():
            first = firsts[u]
            # What each rep still lacks, as target - given (not a running difference,
            # whose float residues would break exact ties differently).
            room = [a - g for a, g in zip(aim, given, strict=True)]
            j = _place(room, owed, sizes[u], costs[first : firsts[u + 1]], cheapest_of[u])
            given[j] += sizes[u]
            chosen[u] = first + j
        debt[reps] += target - np.asarray(given)
    return chosen


def _place(
    room: list[float], debt: list[float], size: float, cost: list[float], cheapest: int
) -> int:
    """Where `spread` puts a unit of ``size``: see there.

    ``room`` is what each rep still lacks of its LP share of the class, ``debt`` what
    it lacks from the classes before. Only the LP's own shares send a unit away from
    its cheapest rep; the debts decide where the others go. Ties go to the first rep.
    """
    half = 0.5 * size
    n = len(room)
    priced = cost[cheapest] < max(cost)
    if priced:
        j = _cheapest_where([k != cheapest and room[k] >= half for k in range(n)], cost)
        if j >= 0:
            return j
    total = [room[k] + debt[k] for k in range(n)]
    if total[cheapest] >= half or (priced and room[cheapest] >= half):
        return cheapest
    j = _cheapest_where([t >= half for t in total], cost)
    return j if j >= 0 else total.index(max(total))


def _cheapest_where(allowed: list[bool], cost: list[float]) -> int:
    """The first position of the lowest cost among the allowed ones (-1 when none is)."""
    best, at = math.inf, -1
    for k, ok in enumerate(allowed):
        if ok and cost[k] < best:
            best, at = cost[k], k
    return at


def _guide_row(rows: Rows) -> int | None:
    balanced = np.flatnonzero(rows.is_max | rows.is_sum)
    if balanced.size:
        return int(balanced[0])
    return 0 if rows.n_rows else None
