"""Large-neighbourhood search around where the plan and the LP relaxation disagree.

The relaxation-induced neighbourhood (RINS, Danna, Rothberg and Le Pape 2005): units
whose chosen pair the LP relaxation also takes whole keep it; CP-SAT re-optimises the
others (those the LP sends elsewhere or splits) on the true objective, everything else
fixed. Where an imbalance term is priced against per-move costs (disruption, travel)
and eligibility is restricted, a plan improves only by moves that pay in combination
(a customer sent home and another one moved to make room), which single shifts, swaps
and short chains rarely find; the LP, which balances the loads with the fewest moves,
marks which customers such combinations involve. On 2,000 x 20 with key accounts to a
few seniors and a disruption term (`benchmarks/families.py`), CP-SAT on those 144
customers for 2 s took the plan alloc returned from 0.78 to 0.35 points above the LP
bound; the large-neighbourhood search on the most and least loaded reps' customers
(`alloc.solvers.neighbourhoods`), which had run after it, had found nothing.

Rounds alternate between the disagreeing units and the *active* ones (also those that
plan or LP keep off their cheapest pair, so that moved customers can be re-routed:
on the same problem's third seed CP-SAT ended at 1.42 points on the first kind and
0.62 on the second). A neighbourhood larger than ``NEIGHBOURHOOD_UNITS`` is cut down
to the units around a few reps linked by them, the most deviating rep first; after a
round that finds nothing, the customers of two more reps join the next one, and after
``MAX_FAILED_ROUNDS`` such rounds in a row the search stops early.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from alloc.data.model import Model
from alloc.solvers.cpsat import solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.neighbourhoods import pick_reps
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows, Score, score_of

__all__ = [
    "MAX_FAILED_ROUNDS",
    "NEIGHBOURHOOD_UNITS",
    "active_units",
    "disagreeing_units",
    "relaxation_induced_search",
]

#: Most units CP-SAT re-optimises in one round.
NEIGHBOURHOOD_UNITS = 400
#: Longest single CP-SAT round, in seconds.
ROUND_SECONDS = 2.0
#: Rounds in a row that may find nothing before the search gives its time back: the
#: LP's neighbourhoods are then exhausted (regional restrictions with travel, 20,000 x
#: 200: none of them improved the plan, and the time went to nothing).
MAX_FAILED_ROUNDS = 2
#: An LP value at least this close to 1 counts as the LP taking the pair whole.
_WHOLE = 1e-6


def disagreeing_units(chosen: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Units whose chosen pair the LP does not take whole (``fraction`` per pair)."""
    return np.flatnonzero(fraction[chosen] < 1.0 - _WHOLE)


def active_units(model: Model, chosen: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """The disagreeing units and those off their cheapest pair in the plan or the LP."""
    cheapest = np.minimum.reduceat(model.cost, model.unit_start[:-1])
    off = model.cost > cheapest[model.pair_unit]
    lp_off = np.bincount(model.pair_unit, weights=fraction * off, minlength=model.n_units)
    return np.flatnonzero((lp_off > _WHOLE) | off[chosen] | (fraction[chosen] < 1.0 - _WHOLE))


def relaxation_induced_search(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    chosen: np.ndarray,
    fraction: np.ndarray,
    deadline: Deadline,
    seed: int,
    say: Callable[[str, Score], object] | None = None,
    workers: int = 1,
) -> np.ndarray:
    """Improve ``chosen`` with CP-SAT on the units where it and the LP disagree.

    Parameters
    ----------
    model, rows, scaled : Model, Rows, Scaled
    chosen : numpy.ndarray
        One chosen pair per unit, meeting every hard row.
    fraction : numpy.ndarray
        The LP relaxation's value of each pair (`alloc.solvers.lp.LpRelaxation.fraction`).
    deadline : Deadline
    seed : int
    say : callable, optional
        Called with a label and the new score at each improvement.
    workers : int
        CP-SAT workers per round.

    Returns
    -------
    numpy.ndarray
        The best plan found (``chosen`` itself when no round improved it). The search
        may end before ``deadline`` (see ``MAX_FAILED_ROUNDS``).
    """
    rng = np.random.default_rng(seed)
    current = chosen.copy()
    current_score = score_of(model, rows, current, rows.loads(model, current))
    failed = rounds = 0
    while deadline.remaining() > 0.2 and failed < MAX_FAILED_ROUNDS:
        units = _neighbourhood(model, rows, current, fraction, rng, rounds, failed)
        rounds += 1
        if units.size == 0:
            break
        res = solve_cpsat(
            model,
            rows,
            scaled,
            deadline=deadline.share(1.0, cap=ROUND_SECONDS),
            seed=int(rng.integers(1 << 30)),
            workers=workers,
            hint=current,
            units=units,
            fixed=current,
        )
        score = (
            None
            if res.chosen is None
            else score_of(model, rows, res.chosen, rows.loads(model, res.chosen))
        )
        if res.chosen is not None and score is not None and score.better_than(current_score):
            current, current_score, failed = res.chosen, score, 0
            if say is not None:
                say("lp neighbourhood", score)
        else:
            failed += 1
    return current


def _disagreeing(model: Model, chosen: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    return disagreeing_units(chosen, fraction)


def _neighbourhood(
    model: Model,
    rows: Rows,
    chosen: np.ndarray,
    fraction: np.ndarray,
    rng: np.random.Generator,
    rounds: int,
    failed: int,
) -> np.ndarray:
    """The units of one round: the disagreeing ones (even rounds) or the active ones (odd
    rounds), plus two reps' customers per failed round before, cut down to
    ``NEIGHBOURHOOD_UNITS`` rep by rep."""
    pick = active_units if rounds % 2 else _disagreeing
    units = pick(model, chosen, fraction)
    rep_of = model.pair_rep[chosen]
    if failed:
        extra = pick_reps(model, rows, chosen, rng, min(model.n_reps, 2 * failed))
        units = np.union1d(units, np.flatnonzero(np.isin(rep_of, extra)))
    if units.size <= NEIGHBOURHOOD_UNITS:
        return units
    return _connected_part(model, rows, chosen, fraction, units, rng)


def _connected_part(
    model: Model,
    rows: Rows,
    chosen: np.ndarray,
    fraction: np.ndarray,
    units: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """About ``NEIGHBOURHOOD_UNITS`` of ``units``: those whose current rep or LP rep (its
    pair with the largest LP value) is among reps taken in breadth-first order from the
    most deviating rep over the links those units make (current rep - LP rep).

    A customer sent home and another moved to make room meet at a rep; units picked at
    random over hundreds of reps would rarely hold both.
    """
    start = model.unit_start[:-1]
    top = np.maximum.reduceat(fraction, start)
    at_top = np.where(fraction >= top[model.pair_unit], np.arange(model.n_pairs), model.n_pairs)
    lp_rep = model.pair_rep[np.minimum.reduceat(at_top, start)][units]
    rep = model.pair_rep[chosen][units]
    R = model.n_reps
    links: list[list[int]] = [[] for _ in range(R)]
    for a, b in zip(rep.tolist(), lp_rep.tolist(), strict=True):
        if a != b:
            links[a].append(b)
            links[b].append(a)
    count = np.bincount(rep, minlength=R) + np.bincount(lp_rep, minlength=R)
    taken = np.zeros(R, dtype=bool)
    total = 0
    queue: deque[int] = deque()
    order = deque(_rep_order(model, rows, chosen, rng).tolist())
    while total < NEIGHBOURHOOD_UNITS and (queue or order):
        r = queue.popleft() if queue else order.popleft()
        if taken[r]:
            continue
        taken[r] = True
        total += int(count[r])
        queue.extend(int(b) for b in rng.permutation(links[r]) if not taken[b])
    picked = units[taken[rep] | taken[lp_rep]]
    if picked.size > NEIGHBOURHOOD_UNITS:
        picked = np.sort(rng.choice(picked, size=NEIGHBOURHOOD_UNITS, replace=False))
    return picked


def _rep_order(
    model: Model, rows: Rows, chosen: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Reps in the order neighbourhoods take them: the most and least loaded on a
    random max-norm row (if any), then the others at random."""
    order = rng.permutation(model.n_reps)
    if not rows.is_max.any():
        return order
    k = int(rng.choice(np.flatnonzero(rows.is_max)))
    loads = rows.loads(model, chosen)[k]
    dev = (loads - rows.share[k]) / rows.share[k]
    ends = [int(np.argmax(dev)), int(np.argmin(dev))]
    return np.concatenate([ends, order[~np.isin(order, ends)]])
