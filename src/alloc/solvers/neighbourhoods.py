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
        reps = pick_reps(model, rows, current, rng, k)
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
    model: Model, rows: Rows, chosen: np.ndarray, rng: np.random.Generator, k: int
) -> np.ndarray:
    """``k`` reps to re-optimise: often the most and least loaded on a max-norm row."""
    R = model.n_reps
    if rows.is_max.any() and rng.random() < 0.6:
        loads = rows.loads(model, chosen)
        kk = int(np.flatnonzero(rows.is_max)[rng.integers(np.count_nonzero(rows.is_max))])
        dev = (loads[kk] - rows.share[kk]) / rows.share[kk]
        order = np.argsort(dev)
        picked = {int(order[-1]), int(order[0])}
        while len(picked) < k:
            picked.add(int(rng.integers(R)))
        return np.array(sorted(picked))
    return np.asarray(rng.choice(R, size=k, replace=False))
