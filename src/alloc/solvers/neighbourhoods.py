"""Large-neighbourhood search for big models: CP-SAT re-optimises a few reps at a time.

The customers of ``k`` reps (often the most and the least loaded on a max-norm row) are
freed and re-assigned among those reps by CP-SAT, everything else fixed; a better plan
on the true rows replaces the current one. The portfolio runs it after local search on
models too large for one exact CP-SAT model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from alloc.data.model import Model
from alloc.solvers.cpsat import solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["large_neighbourhood_search", "pick_reps"]


def large_neighbourhood_search(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    chosen: np.ndarray,
    best: Score,
    deadline: Deadline,
    seed: int,
    say: Callable[[str, Score], object],
    patience: float = math.inf,
) -> np.ndarray:
    """Large-neighbourhood search: re-optimise the customers of a few reps with CP-SAT.

    Ends at ``deadline``, or after ``patience`` seconds without an improvement.
    """
    rng = np.random.default_rng(seed)
    last_gain = time.perf_counter()
    R = model.n_reps
    current = chosen.copy()
    current_score = best
    per_rep = max(1.0, model.n_units / R)
    k = int(np.clip(round(400 / per_rep), 2, min(R, 8)))
    while deadline.remaining() > 0.2 and time.perf_counter() - last_gain < patience:
        reps = pick_reps(model, rows, current, rng, k, plateau=True)
        mask = np.zeros(R, dtype=bool)
        mask[reps] = True
        units = np.flatnonzero(mask[model.pair_rep[current]])
        if units.size == 0:
            continue
        if deadline.remaining() < 0.1:
            break
        res = solve_cpsat(
            model,
            rows,
            scaled,
            deadline=deadline.share(1.0, cap=2.0),
            seed=int(rng.integers(1 << 30)),
            workers=1,
            hint=current,
            units=units,
            rep_mask=mask,
            fixed=current,
        )
        if res.chosen is None:
            continue
        score = score_of(model, rows, res.chosen, rows.loads(model, res.chosen))
        if score.better_than(current_score):
            current, current_score = res.chosen, score
            last_gain = time.perf_counter()
            say("cp-sat lns", score)
    return current


def pick_reps(
    model: Model,
    rows: Rows,
    chosen: np.ndarray,
    rng: np.random.Generator,
    k: int,
    plateau: bool = False,
) -> np.ndarray:
    """``k`` reps to re-optimise: often the most and least loaded on a max-norm row, or
    (with ``plateau``, `PLATEAU_CHANCE` of those times) the reps at the top of one with
    the reps that may take their customers.

    A max shared by several reps drops only when all of them shed load at once, to reps
    eligible for their customers: random company seldom has any (combined, 100,000 x
    1,000: five reps sharing a rare industry at +3.2 % potential, every other rep within
    0.1 %; LNS on the top rep, the bottom rep and random ones found nothing in 11 s).
    """
    R = model.n_reps
    if rows.is_max.any() and rng.random() < 0.6:
        loads = rows.loads(model, chosen)
        kk = int(np.flatnonzero(rows.is_max)[rng.integers(np.count_nonzero(rows.is_max))])
        dev = (loads[kk] - rows.share[kk]) / rows.share[kk]
        if plateau and rng.random() < PLATEAU_CHANCE:
            return _plateau_and_partners(model, chosen, dev, rng, k)
        order = np.argsort(dev)
        picked = {int(order[-1]), int(order[0])}
        while len(picked) < k:
            picked.add(int(rng.integers(R)))
        return np.array(sorted(picked))
    return np.asarray(rng.choice(R, size=k, replace=False))


#: Chance that a max-norm neighbourhood of the LNS is a plateau with its partners. At
#: 100,000 x 1,000 the others (4 reps, 400 customers) are proven in 0.01-0.02 s with
#: nothing gained while plateaus gain in 2 s runs (664 of 671 sub-solves at 0.5);
#: 0.85 against 0.5, same session: combined 100,000 x 1,000 0.0320 / 0.0342, 20,000 x
#: 200 0.0046 / 0.0059, key_accounts and heavy_tails and 2,000 x 20 within noise.
PLATEAU_CHANCE = 0.85
#: At most this many reps of a plateau, and this many reps and customers in all, in one
#: neighbourhood (CP-SAT's model is built in Python before its time limit applies).
_PLATEAU_REPS = 8
_PLATEAU_NEIGHBOURHOOD = 16
_PLATEAU_UNITS = 1_000


def _plateau_and_partners(
    model: Model, chosen: np.ndarray, dev: np.ndarray, rng: np.random.Generator, k: int
) -> np.ndarray:
    """The reps within 10 % of the largest absolute deviation (same side), and reps
    eligible for their customers, drawn by how many of those customers they may take."""
    top = int(np.argmax(np.abs(dev)))
    side = np.sign(dev[top]) * dev
    plateau = np.flatnonzero(side >= 0.9 * abs(dev[top]))
    per_rep = max(1.0, model.n_units / model.n_reps)
    cap = min(_PLATEAU_NEIGHBOURHOOD, int(_PLATEAU_UNITS / per_rep))
    # Never more plateau reps than the neighbourhood holds (at 250 customers per rep
    # the cap is 4 reps: a plateau of 8 made the partners' count negative).
    most = min(_PLATEAU_REPS, max(k, cap))
    if plateau.size > most:
        plateau = rng.choice(plateau, size=most, replace=False)
    size = max(k, min(2 * plateau.size, cap))
    held = np.isin(model.pair_rep[chosen], plateau)
    units = np.flatnonzero(held)
    starts, ends = model.unit_start[units], model.unit_start[units + 1]
    lengths = ends - starts
    pairs = np.repeat(ends - lengths.cumsum(), lengths) + np.arange(lengths.sum())
    counts = np.bincount(model.pair_rep[pairs], minlength=model.n_reps).astype(float)
    counts[plateau] = 0.0
    picked = list(plateau.tolist())
    free = np.flatnonzero(counts > 0)
    if free.size:
        take = max(0, min(size - len(picked), free.size))
        p = counts[free] / counts[free].sum()
        picked += rng.choice(free, size=take, replace=False, p=p).tolist()
    while len(picked) < min(size, model.n_reps):
        r = int(rng.integers(model.n_reps))
        if r not in picked:
            picked.append(r)
    return np.array(sorted(set(int(r) for r in picked)))
