"""A first placement for customers bigger than a fair share: each on the rep its bound
prefers, with the customers that bound's LP puts beside it.

A unit whose value on a max-norm term exceeds the fair share at every rep that may serve
it sets that term's maximum wherever it goes, and no local move can later carry it to
another rep (a shift moves its whole excess). Which rep takes it still matters: that
rep must also come near its shares on the other terms (workload, ...), and only other
customers can bring it there, each adding to the term that is already too high, so the
customers it may serve decide how close it gets. `alloc.solvers.rep_bound` measures
exactly that with a small LP per eligible rep. The greedy construction places units by
size, so the largest meets only empty reps and goes to the first eligible one; on
20,000 x 200 with log-normal potential (one customer worth 2.3 fair shares) the LP is
1.346 there and 1.338 at the best rep.

Here the oversized units, largest excess first, each go to the eligible rep (not yet
holding one, when possible) whose LP value is lowest, together with the customers that
LP takes whole (rounding down keeps that rep's hard rows); the greedy construction
places the others around them (`oversized_greedy`). The LP sees one rep only: with few
reps the others may not balance around its choice, so the plain greedy plan is built
too and the better of the two kept.
"""

from __future__ import annotations

import math

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.rep_bound import oversized_excess, rep_lp
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["oversized_greedy", "oversized_start"]

#: At most this many oversized units are placed (each costs one small LP per rep).
MAX_UNITS = 32


def oversized_greedy(model: Model, rows: Rows, seed: int, deadline: Deadline) -> np.ndarray:
    """The greedy construction, from `oversized_start` when some unit is oversized
    (and then the better of that plan and the plain greedy one).

    Parameters
    ----------
    model, rows : Model, Rows
    seed : int
    deadline : Deadline
        For the whole construction (the LPs may use a quarter of it).

    Returns
    -------
    numpy.ndarray
        One chosen pair per unit (-1 for units with no eligible pair).
    """
    first = oversized_start(model, rows, deadline.share(0.25))
    if first is None:
        return greedy(model, rows, seed, deadline=deadline)
    placed = greedy(model, rows, seed, deadline=deadline.share(0.5), first=first)
    plain = greedy(model, rows, seed, deadline=deadline)
    if _score(model, rows, plain).better_than(_score(model, rows, placed)):
        return plain
    return placed


def _score(model: Model, rows: Rows, chosen: np.ndarray) -> Score:
    if (chosen < 0).any():
        return Score(math.inf, math.inf, math.inf)
    return score_of(model, rows, chosen, rows.loads(model, chosen))


def oversized_start(model: Model, rows: Rows, deadline: Deadline) -> np.ndarray | None:
    """A partial plan: a chosen pair for the oversized units and their LP companions,
    ``-1`` for every other unit; None when no unit is oversized (or on negative term
    weights, where the LP's reasoning does not hold).

    Parameters
    ----------
    model, rows : Model, Rows
    deadline : Deadline
        The LPs stop there; units not reached are left to the greedy construction.

    Returns
    -------
    numpy.ndarray or None
    """
    if model.n_pairs == 0 or model.n_reps < 2 or not rows.is_max.any():
        return None
    if np.any(rows.imb_weight < 0):
        return None
    excess = oversized_excess(model, rows)
    units = [int(u) for u in np.argsort(-excess, kind="stable")[:MAX_UNITS] if excess[u] > 0]
    if not units:
        return None
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    placed = np.zeros(model.n_units, dtype=bool)
    placed[units] = True  # the oversized units never join another's LP
    holding = np.zeros(model.n_reps, dtype=bool)
    cheapest = np.minimum.reduceat(model.cost, model.unit_start[:-1])
    for u in units:
        q = _best_pair(model, rows, u, holding, placed, cheapest, deadline)
        if q is None:
            break
        pair, companions = q
        chosen[u] = pair
        holding[model.pair_rep[pair]] = True
        chosen[model.pair_unit[companions]] = companions
        placed[model.pair_unit[companions]] = True
    return chosen if (chosen >= 0).any() else None


def _best_pair(
    model: Model,
    rows: Rows,
    u: int,
    holding: np.ndarray,
    placed: np.ndarray,
    cheapest: np.ndarray,
    deadline: Deadline,
) -> tuple[int, np.ndarray] | None:
    """The pair of ``u`` with the lowest rep LP and the pairs of the units that LP takes
    whole, or None when the deadline passed first."""
    pairs = np.arange(int(model.unit_start[u]), int(model.unit_start[u + 1]))
    free = pairs[~holding[model.pair_rep[pairs]]]
    # Two oversized units on one rep add their excesses: only when every rep of u
    # already holds one.
    pairs = free if free.size else pairs
    best: tuple[float, int, np.ndarray] | None = None
    for q in pairs.tolist():
        if deadline.expired():
            return None
        lp = rep_lp(model, rows, u, q, deadline, cheapest, exclude=placed)
        if not math.isfinite(lp.value):
            continue
        if best is None or lp.value < best[0]:
            best = (lp.value, q, lp.pairs[lp.x >= 1.0 - 1e-6] if lp.x.size else lp.pairs[:0])
    if best is None:
        return int(pairs[0]), pairs[:0]
    return best[1], best[2]
