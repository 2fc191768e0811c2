"""Dispersion of territories: distance from each unit to its territory's centre.

The centre of a territory is fixed (``Geography.fixed_distance``: the rep's own
location or base unit) or a unit of the territory chosen by the solver: the p-median
unit (least sum of distances) for ``"sum"``, the p-centre unit (least largest distance)
for ``"max"``. Also counts what breaks contiguity in a plan (extra pieces, base units
elsewhere), for the territory search's score.
"""

from __future__ import annotations

import numpy as np

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.contiguity import pieces_per_territory

__all__ = ["best_centres", "contiguity_breaks", "dispersion_value", "unit_distances"]


def best_centres(
    geography: Geography, rep_of: np.ndarray, n_reps: int, kind: str | None = None
) -> np.ndarray:
    """Centre unit of each territory minimising its sum (``"sum"``) or max distance.

    ``-1`` for empty territories or when the geography has no unit-to-unit distances.
    """
    kind = kind or geography.centre_kind or "sum"
    out = np.full(n_reps, -1, dtype=np.int64)
    if geography.distance is None:
        return out
    dist = np.asarray(geography.distance)
    for r in range(n_reps):
        members = np.flatnonzero(rep_of == r)
        if members.size == 0:
            continue
        sub = dist[np.ix_(members, members)]
        total = sub.sum(axis=0)
        if kind == "max":
            worst = sub.max(axis=0)
            pick = np.lexsort((total, worst))[0]
        else:
            pick = int(np.argmin(total))
        out[r] = members[pick]
    return out


def unit_distances(geography: Geography, rep_of: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance from each assigned unit to its territory's centre (0 when unassigned)."""
    out = np.zeros(rep_of.shape[0])
    ok = rep_of >= 0
    if geography.fixed_distance is not None:
        out[ok] = np.asarray(geography.fixed_distance)[np.flatnonzero(ok), rep_of[ok]]
    elif geography.distance is not None:
        c = centres[rep_of[ok]]
        has = c >= 0
        idx = np.flatnonzero(ok)[has]
        out[idx] = np.asarray(geography.distance)[idx, c[has]]
    return out


def dispersion_value(
    model: Model, geography: Geography, chosen: np.ndarray, centres: np.ndarray | None = None
) -> float:
    """Dispersion of a plan: sum or max distance from each unit to its territory's centre.

    Parameters
    ----------
    model
        The compiled model (gives each chosen pair's rep).
    geography
        Its geography; ``centre_kind`` None gives 0.
    chosen
        ``(n_units,)`` pair index per unit (``-1``: unassigned, left out).
    centres
        ``(n_reps,)`` centre unit per rep when centres are chosen; None picks the best
        centre of each territory for the kind (p-median or p-centre unit).

    Returns
    -------
    float
        ``sum_u d(u, centre(rep(u)))`` for ``"sum"``, the largest such distance for
        ``"max"``, 0 without a dispersion term.
    """
    if geography.centre_kind is None:
        return 0.0
    chosen = np.asarray(chosen)
    rep_of = np.where(chosen >= 0, model.pair_rep[np.maximum(chosen, 0)], -1)
    if geography.chooses_centres and centres is None:
        centres = best_centres(geography, rep_of, model.n_reps)
    if centres is None:
        centres = np.full(model.n_reps, -1, dtype=np.int64)
    d = unit_distances(geography, rep_of, np.asarray(centres))
    if geography.centre_kind == "max":
        return float(d.max(initial=0.0))
    return float(d.sum())


def contiguity_breaks(model: Model, geography: Geography, rep_of: np.ndarray) -> int:
    """Extra pieces over all territories, plus base units not with their rep."""
    base = np.asarray(geography.base)
    missing = int(np.sum((base >= 0) & (rep_of[np.maximum(base, 0)] != np.arange(base.size))))
    missing += int(np.sum(rep_of < 0))
    if not geography.contiguous:
        return missing
    pieces = pieces_per_territory(geography.indptr, geography.indices, rep_of, model.n_reps)
    return missing + int(np.maximum(pieces - 1, 0).sum())
