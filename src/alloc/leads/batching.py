"""Vectorised batch routing: best score per lead under hard caps, and the fairness repair.

Both work on one period's dense ``(leads, reps)`` score matrix with numpy; neither loops
over leads in Python. [`route_by_score`][alloc.leads.batching.route_by_score] gives each
lead its best-scoring rep that still has room; when more leads want a rep than it has
room for, the earliest arrivals keep it and the others try their next choice in the
following round (so the rounds are at most one per rep).
[`repair_window`][alloc.leads.batching.repair_window] then moves single leads, the
cheapest move first, until every rep's count lies in its window or no move helps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["repair_window", "route_by_score"]


def route_by_score(score: np.ndarray, room: np.ndarray) -> np.ndarray:
    """The rep of each lead (``-1``: none) maximising ``score`` without exceeding ``room``.

    Parameters
    ----------
    score : numpy.ndarray
        ``(leads, reps)``; ``-inf`` marks a pair that may not be used. Rows are in
        arrival order: earlier leads win a rep's last places.
    room : numpy.ndarray
        Places left per rep (integers >= 0).

    Returns
    -------
    numpy.ndarray
        Rep index per lead, ``-1`` when every usable rep is full.

    This is a batch rule, not lead-by-lead: in the example, leads 0 and 2 win reps 0 and
    1 in the first round; lead 1, which lost rep 0 to the earlier lead 0, then finds
    rep 1 full (lead by lead, it would have taken rep 1 before lead 2 arrived).

    Examples
    --------
    >>> s = np.array([[3.0, 1.0], [2.0, 0.0], [-np.inf, 5.0]])
    >>> route_by_score(s, np.array([1, 1])).tolist()
    [0, -1, 1]
    """
    n, n_reps = score.shape
    assign = np.full(n, -1, dtype=np.int64)
    left = np.asarray(room, dtype=np.int64).copy()
    work = score.copy()
    work[:, left <= 0] = -np.inf
    pending = np.arange(n)
    while pending.size:
        sub = work[pending]
        best = sub.argmax(axis=1)
        usable = np.isfinite(sub[np.arange(pending.size), best])
        pending, best = pending[usable], best[usable]
        if not pending.size:
            break
        by_rep = np.lexsort((pending, best))
        reps = best[by_rep]
        first = np.searchsorted(reps, reps, side="left")
        keep = (np.arange(reps.size) - first) < left[reps]
        assign[pending[by_rep[keep]]] = reps[keep]
        left -= np.bincount(reps[keep], minlength=n_reps)
        work[:, left <= 0] = -np.inf
        pending = np.sort(pending[by_rep[~keep]])
    return assign


def repair_window(
    score: np.ndarray,
    assign: np.ndarray,
    room: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    *,
    max_rounds: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Move leads between reps until each rep's count of the batch lies in ``[low, high]``.

    A move takes one routed lead from its rep to another eligible rep with room; it
    must fill a rep below ``low`` or empty a rep above ``high``, and must not push its
    source below ``low`` (unless the source is above ``high``) nor its target above
    ``high``. Moves that fill a rep below ``low`` come first. Each round scores every
    (lead, rep) move once with numpy, takes for each target rep its cheapest candidates
    (as many as it lacks, at least one), and makes them cheapest first, each re-checked
    against the counts left by the moves before it; a lead moves at most once per
    round. Caps hold throughout: a move only goes to a rep with room.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The new rep per lead and a bool mask of the leads moved.
    """
    assign = assign.copy()
    moved = np.zeros(assign.size, dtype=bool)
    n_reps = score.shape[1]
    count = np.bincount(assign[assign >= 0], minlength=n_reps)
    left = np.asarray(room, dtype=np.int64) - count
    routed = np.flatnonzero(assign >= 0)
    rounds = max_rounds if max_rounds is not None else 2 * routed.size + 1
    for _ in range(rounds):
        if not ((count < low).any() or (count > high).any()) or not routed.size:
            break
        candidates = _candidates(score, assign, routed, count, left, low, high)
        if not candidates:
            break
        made = 0
        this_round: set[int] = set()
        for lead, r in candidates:
            s = int(assign[lead])
            ok = (
                lead not in this_round
                and (count[s] > low[s] or count[s] > high[s])
                and left[r] > 0
                and count[r] < high[r]
                and (count[r] < low[r] or count[s] > high[s])
            )
            if not ok:
                continue
            assign[lead] = r
            moved[lead] = True
            this_round.add(lead)
            count[s] -= 1
            count[r] += 1
            left[s] += 1
            left[r] -= 1
            made += 1
        if made == 0:
            break
    return assign, moved


def _candidates(
    score: np.ndarray,
    assign: np.ndarray,
    routed: np.ndarray,
    count: np.ndarray,
    left: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> list[tuple[int, int]]:
    """The round's candidate moves ``(lead, target rep)``, cheapest first."""
    under = count < low
    over = count > high
    src = assign[routed]
    can_leave = (count[src] > low[src]) | over[src]
    target_ok = (left > 0) & (count < high)
    loss = score[routed, src][:, None] - score[routed]
    helps = under[None, :] | over[src][:, None]
    valid = can_leave[:, None] & target_ok[None, :] & helps & np.isfinite(loss)
    valid[np.arange(routed.size), src] = False
    if not valid.any():
        return []
    fills = valid & under[None, :]
    pool = fills if fills.any() else valid
    masked = np.where(pool, loss, np.inf)
    # Per target rep, its cheapest candidates: as many as it lacks (at least one).
    wanted = np.minimum(np.maximum(low - count, 1), routed.size)
    depth = int(wanted[pool.any(axis=0)].max())
    if depth < routed.size:
        top = np.argpartition(masked, depth - 1, axis=0)[:depth]
        # argpartition leaves the block unsorted: sort it so rank 0 is the cheapest.
        within = np.argsort(np.take_along_axis(masked, top, axis=0), axis=0, kind="stable")
        top = np.take_along_axis(top, within, axis=0)
    else:
        top = np.argsort(masked, axis=0, kind="stable")
    rows = top.ravel()
    cols = np.tile(np.arange(score.shape[1]), top.shape[0])
    rank = np.repeat(np.arange(top.shape[0]), score.shape[1])
    keep = np.isfinite(masked[rows, cols]) & (rank < wanted[cols])
    rows, cols = rows[keep], cols[keep]
    order = np.argsort(masked[rows, cols], kind="stable")
    return [(int(routed[i]), int(r)) for i, r in zip(rows[order], cols[order], strict=True)]
