"""Point shares of the books: the model's, blended with trailing shares by rolling-origin error.

A quota set with equal odds is, near the middle of the bands, a book's forecast share of
the total; how far books land from their quotas (the spread of attainment) is mostly how
well those shares were forecast. A model's shares can be worse than a plain trailing
share (each book's share of the last season): a customer model fitted on a young cohort,
or a short recent window, can read noise as signal. So the share each book's draws are
centred on is a blend, with one weight for all books estimated from the history:

* **Candidates.** The model's share (its point forecast over the sum of the point
  forecasts) and the trailing share (what the book sold over the last season, or all
  periods when fewer, over what all books sold; the ``trailing_12m`` quota's weights).
* **Rolling origins inside the history.** At the origins the spread is calibrated at
  (see [`alloc.targets.calibration`][alloc.targets.calibration]), the model was run again on
  the periods before each, so both candidates are known there and so is what the books
  then sold. Every weight ``w`` of the grid ``0, 0.1, ..., 1`` gives the blend
  ``w * model + (1 - w) * trailing``. For each book that had sold before the origin,
  the log ratio of its actual share to the blended one (both plus a tenth of an
  average share, so a book that sold nothing counts without dominating) is its log
  attainment had its quota been that share of the actual total; a weight's loss is
  the spread (IQR) of those over the books, summed over the origins: the spread of
  attainment the issue measures, robust to a few books that sold little.
* **One-standard-error rule.** The weight with the smallest loss is the best; the
  largest weight (the nearest to the model alone) whose loss is within one standard
  error of the best's is used, the standard error of the difference coming from a
  seeded bootstrap over books. A blend is thus used only when the history shows
  clearly that it beats the model, not when four overlapping origins happen to favour
  it. With fewer than ``MIN_ERRORS`` book-origin errors the model is kept as it is.
* **Shift.** Every book's draws are multiplied by its blended share over its model
  share and each draw is scaled back to its own total, so every draw keeps its total
  and a book keeps its relative spread; the point forecasts move to the blended shares.

One weight estimated from books times origins is a low-variance choice (a weight per
book would be tuned to a handful of periods); when the model's shares are not clearly
beaten by the trailing ones in the history, the model is kept untouched.

Internal to alloc: [`alloc.targets.calibration`][alloc.targets.calibration] and
[`alloc.targets.customer_base`][alloc.targets.customer_base] call it before calibrating the
spread, so the bands are scaled about the shares actually used.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "MIN_ERRORS",
    "WEIGHTS",
    "ShareOrigin",
    "blend_errors",
    "blend_point",
    "blend_weight",
    "point_shares",
    "shift_toward",
    "trailing_shares",
]

FloatArray = npt.NDArray[np.float64]

#: Weights of the model's share tried, from the trailing share alone to the model alone.
WEIGHTS = np.round(np.linspace(0.0, 1.0, 11), 2)
#: Book-origin errors needed before the model's shares are blended.
MIN_ERRORS = 20
#: Offset of the log ratio, in average shares (a book that sold nothing counts, boundedly).
OFFSET = 0.1
#: Book resamples behind the standard error of a loss difference.
BOOT = 200
#: A weight nearer the model is used when its loss is within this many standard errors.
SE_MULTIPLE = 1.0
#: Periods of the trailing share when the frequency has no season.
NO_SEASON_SPAN = 12


class ShareOrigin(NamedTuple):
    """One rolling origin: the model's draws from before it and what the books then sold.

    Attributes
    ----------
    samples : numpy.ndarray
        Draws of each book's total over the periods after the origin, (books, draws).
    point : numpy.ndarray
        The model's point forecast of each book's total over those periods.
    actual : numpy.ndarray
        What each book sold over those periods.
    known : numpy.ndarray of bool
        Books that had sold before the origin (the others are not scored).
    trailing : numpy.ndarray
        The books' trailing shares at the origin.
    """

    samples: FloatArray
    point: FloatArray
    actual: FloatArray
    known: npt.NDArray[np.bool_]
    trailing: FloatArray


def trailing_shares(values: FloatArray, season: int) -> FloatArray:
    """Each book's share of what all books sold over the last season (all periods if fewer).

    ``values`` is (books, periods); negative sums count as 0. Zeros when nothing sold.
    """
    periods = values.shape[1]
    span = min(periods, season if season > 1 else NO_SEASON_SPAN)
    sold = np.maximum(values[:, periods - span :].sum(axis=1), 0.0)
    total = sold.sum()
    return sold / total if total > 0 else np.zeros(values.shape[0])


def point_shares(point: FloatArray) -> FloatArray:
    """The point forecasts as shares of their sum (negatives as 0); zeros when none is positive."""
    positive = np.maximum(point, 0.0)
    total = positive.sum()
    return positive / total if total > 0 else np.zeros(point.shape[0])


def blend_errors(origin: ShareOrigin) -> FloatArray:
    """Every book's log attainment for every weight in ``WEIGHTS`` at one origin.

    Shape (books, weights): ``log((a + c) / (b + c))`` for a known book's actual share
    ``a`` and blended share ``b`` among the known books, ``c`` being ``OFFSET`` average
    shares; NaN for the other books, and for every book when the known books sold
    nothing over the origin's periods, before it, or in the model's draws (no blend to
    score).
    """
    known = origin.known
    errors = np.full((known.size, WEIGHTS.size), np.nan)
    sold = np.maximum(origin.actual[known], 0.0)
    n = int(known.sum())
    if n == 0 or sold.sum() <= 0:
        return errors
    model = point_shares(origin.point)[known]
    trailing = origin.trailing[known]
    if model.sum() <= 0 or trailing.sum() <= 0:
        return errors
    model, trailing = model / model.sum(), trailing / trailing.sum()
    actual = sold / sold.sum()
    offset = OFFSET / n
    blended = WEIGHTS[None, :] * model[:, None] + (1 - WEIGHTS[None, :]) * trailing[:, None]
    errors[known] = np.log((actual[:, None] + offset) / (blended + offset))
    return errors


def _spread(errors: FloatArray) -> FloatArray:
    """Summed over origins, the IQR over books of the log attainment, per weight.

    ``errors`` is (origins, books, weights), NaN where a book is not scored.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an origin without scored books
        low, high = np.nanquantile(errors, (0.25, 0.75), axis=1)
    return np.asarray(np.nansum(high - low, axis=0), dtype=np.float64)


def blend_weight(origins: list[ShareOrigin]) -> float:
    """The weight of the model's shares chosen by the one-standard-error rule.

    The loss of a weight is the spread (IQR) over books of the log attainment its
    blended shares would have given, summed over the origins. The weight with the
    smallest loss is the best; the largest weight (the nearest to the model alone)
    whose loss is within ``SE_MULTIPLE`` standard errors of the best's is used, the
    standard error of the difference coming from ``BOOT`` resamples of the books (the
    same books at every origin). 1.0 (the model alone) with fewer than ``MIN_ERRORS``
    book-origin errors.
    """
    if not origins:
        return 1.0
    stacked = np.stack([blend_errors(o) for o in origins])  # (origins, books, weights)
    scored = ~np.isnan(stacked[:, :, 0])
    if int(scored.sum()) < MIN_ERRORS:
        return 1.0
    stacked = stacked[:, scored.any(axis=0), :]
    loss = _spread(stacked)
    best = int(np.argmin(loss))
    rng = np.random.default_rng(0)
    n = stacked.shape[1]
    gaps = np.empty((BOOT, WEIGHTS.size))
    for r in range(BOOT):
        drawn = _spread(stacked[:, rng.integers(0, n, n), :])
        gaps[r] = drawn - drawn[best]
    se = gaps.std(axis=0, ddof=1)
    near = np.flatnonzero(loss <= loss[best] + SE_MULTIPLE * se + 1e-12)
    return float(WEIGHTS[near.max()])


def shift_toward(
    samples: FloatArray, point: FloatArray, trailing: FloatArray, weight: float
) -> FloatArray:
    """Draws moved toward ``weight * model + (1 - weight) * trailing`` shares.

    The model's shares are those of its ``point`` forecasts. Each book's draws are
    multiplied by its blended share over its model share (books the model gives no
    share keep their draws) and every draw is scaled back to its own total, so a book
    keeps its relative spread and the draws their totals. ``weight`` 1 returns the draws.
    """
    model = point_shares(point)
    if weight >= 1.0 or samples.size == 0 or trailing.sum() <= 0 or model.sum() <= 0:
        return samples
    target = weight * model + (1 - weight) * trailing
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(model > 0, target / model, 1.0)
    moved = samples * factor[:, None]
    before, after = samples.sum(axis=0), moved.sum(axis=0)
    usable = (before > 0) & (after > 0)
    out = samples.copy()
    out[:, usable] = moved[:, usable] * (before[usable] / after[usable])
    return out


def blend_point(point: FloatArray, trailing: FloatArray, weight: float) -> FloatArray:
    """Point forecasts whose shares are ``weight`` times theirs plus the rest trailing.

    The points keep their sum; unchanged for ``weight`` 1 or points that sum to 0 or less.
    """
    total = float(point.sum())
    if weight >= 1.0 or total <= 0 or trailing.sum() <= 0:
        return point
    return total * (weight * point / total + (1 - weight) * trailing)
