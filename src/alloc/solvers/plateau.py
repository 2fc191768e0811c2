"""Lowering a max-norm imbalance under linear costs: its terms as hard windows.

With an objective like ``max deviation + c * customers moved``, local search stalls on
a plateau: several reps sit at the largest deviation, so no single move lowers the
maximum, and each move that brings one of them down costs ``c`` and is refused. Here
each max-norm term becomes a hard window ``|load / share - 1| <= t`` a little below
its current maximum ``t``, and the term leaves the objective. Local search then first
repairs the windows (its penalty is the summed excess above them, which every move off
a top rep lowers), and once they hold it lowers the remaining objective (costs, other
terms) without leaving them. The plan it ends with is kept when it is better on the
true objective; the next window is tighter after a success and looser after a failure.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from alloc.data.model import Model
from alloc.solvers.deadline import Deadline
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["loosening_search", "lp_window_search", "plateau_search", "windowed", "windows_at"]

#: Weight of a window's violation against the rules' own rows (per unit of relative
#: deviation): small, so local search never trades a broken rule for a closer window.
_WINDOW_PENALTY = 1e-3


def windowed(rows: Rows, loads: np.ndarray, tighten: float) -> Rows:
    """``rows`` with each max-norm term turned into a hard window ``tighten`` (a
    fraction) below its current largest deviation at ``loads``."""
    limits = np.full(rows.n_rows, np.nan)
    for k in np.flatnonzero(rows.is_max).tolist():
        share = rows.share[k]
        top = float((np.abs(loads[k] - share) / share).max())
        limits[k] = top * (1.0 - tighten)
    return windows_at(rows, limits)


def windows_at(rows: Rows, limits: np.ndarray) -> Rows:
    """``rows`` with each max-norm term ``k`` turned into the hard window
    ``|load / share - 1| <= limits[k]``."""
    lo, hi = rows.lo.copy(), rows.hi.copy()
    raw_lo, raw_hi = rows.raw_lo.copy(), rows.raw_hi.copy()
    pen_scale, imb_weight = rows.pen_scale.copy(), rows.imb_weight.copy()
    is_max = rows.is_max.copy()
    for k in np.flatnonzero(rows.is_max).tolist():
        share = rows.share[k]
        t = float(limits[k])
        lo[k], hi[k] = share * (1.0 - t), share * (1.0 + t)
        raw_lo[k], raw_hi[k] = lo[k], hi[k]
        pen_scale[k] = _WINDOW_PENALTY * float(imb_weight[k]) / float(share.mean())
        imb_weight[k] = 0.0
        is_max[k] = False
    return replace(
        rows,
        lo=lo,
        hi=hi,
        raw_lo=raw_lo,
        raw_hi=raw_hi,
        pen_scale=pen_scale,
        imb_weight=imb_weight,
        is_max=is_max,
    )


def plateau_search(
    model: Model,
    rows: Rows,
    chosen: np.ndarray,
    deadline: Deadline,
    seed: int = 0,
    slice_seconds: float = 2.0,
) -> tuple[np.ndarray, Score]:
    """Improve ``chosen`` (a plan that meets every rule) with windowed local searches.

    Parameters
    ----------
    model, rows : Model, Rows
    chosen : numpy.ndarray
        One chosen pair per unit, meeting every hard row.
    deadline : Deadline
    seed : int
    slice_seconds : float
        Longest single windowed search.

    Returns
    -------
    (numpy.ndarray, Score)
        The best plan found and its score on the true ``rows``.
    """
    best = chosen.copy()
    best_score = score_of(model, rows, best, rows.loads(model, best))
    if not rows.is_max.any() or best_score.penalty > 0:
        return best, best_score
    tighten = 0.05
    attempt = 0
    while not deadline.expired(0.05) and tighten > 1e-4:
        attempt += 1
        window = windowed(rows, rows.loads(model, best), tighten)
        search = LocalSearch(model, window, best, seed=seed + attempt, smooth=False)
        piece = deadline.earliest(Deadline.after(slice_seconds))
        plan, _ = search.run(piece, until_feasible=False)
        score = score_of(model, rows, plan, rows.loads(model, plan))
        if score.better_than(best_score):
            best, best_score = plan, score
            tighten = min(0.5, tighten * 1.5)
        else:
            tighten /= 2.0
    return best, best_score


#: Windows for `lp_window_search` sit this far (in relative deviation) above the LP's.
LP_WINDOW_MARGIN = 0.003


def lp_window_search(
    model: Model,
    rows: Rows,
    start: np.ndarray,
    deviation: np.ndarray,
    deadline: Deadline,
    seed: int = 0,
) -> np.ndarray:
    """Local search from the LP relaxation's rounded plan with each max-norm term held
    in a window just above the LP's own deviation for it.

    The LP prices each max-norm term against the costs and settles on a deviation
    ``deviation[k]``; a plan near the optimum has about that deviation. Local search on
    the true objective from the rounded plan stops far above it (2,000 x 20, key
    accounts with disruption: 0.239 where the LP bound is 0.183), because lowering a
    maximum shared by several reps costs moves that no single step pays back. With the
    window ``deviation[k] + LP_WINDOW_MARGIN`` as a hard row, every move that brings a
    rep into it counts, and once the windows hold the search lowers the costs inside
    them (same case: 0.199). Loosening back where costs pay for it is left to a search
    on the true objective, which single moves do well.

    Parameters
    ----------
    model, rows : Model, Rows
    start : numpy.ndarray
        One chosen pair per unit (the LP's rounded plan; need not meet the windows).
    deviation : numpy.ndarray
        The LP's deviation per row (`alloc.solvers.lp.LpRelaxation.deviation`).
    deadline : Deadline
    seed : int

    Returns
    -------
    numpy.ndarray
        The plan the windowed search ends with (meeting every rule of ``rows`` unless
        ``start`` was far from it; the caller re-scores it on ``rows``).
    """
    limits = np.where(rows.is_max, np.nan_to_num(deviation, nan=0.0) + LP_WINDOW_MARGIN, np.nan)
    search = LocalSearch(model, windows_at(rows, limits), start, seed=seed, smooth=False)
    plan, _ = search.run(deadline, until_feasible=False)
    return plan


#: How far `loosening_search` widens the windows, as fractions of the largest deviation.
LOOSEN_STEPS = (0.25, 0.5, 1.0)


def loosening_search(
    model: Model, rows: Rows, chosen: np.ndarray, deadline: Deadline, seed: int = 0
) -> np.ndarray:
    """Windows a little wider than ``chosen``'s largest deviations; inside them local
    search lowers the costs (each unit sent back to its cheapest pair is one move).

    The counterpart of `plateau_search`: a plan whose windows were set tight (near the
    LP's deviation, `lp_window_search`) may pay more in costs than a slightly larger
    deviation would, and the search on the true objective cannot loosen them, since
    each single move back raises the maximum by more than it saves; only many such moves
    together pay. Each step starts from the best plan so far and is kept when it is
    better on the true objective (with its windows it often is not: then it only took
    its share of the time).
    """
    best = chosen.copy()
    best_score = score_of(model, rows, best, rows.loads(model, best))
    if not rows.is_max.any() or best_score.penalty > 0:
        return best
    for i, step in enumerate(LOOSEN_STEPS):
        piece = deadline.share(1.0 / (len(LOOSEN_STEPS) - i))
        if piece.expired(0.05):
            break
        window = windowed(rows, rows.loads(model, best), -step)
        search = LocalSearch(model, window, best, seed=seed + i, smooth=False)
        plan, _ = search.run(piece, until_feasible=False)
        score = score_of(model, rows, plan, rows.loads(model, plan))
        if score.better_than(best_score):
            best, best_score = plan, score
    return best
