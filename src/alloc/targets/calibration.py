"""Calibrate how far the books stray from their share of the total: conformal scaling.

A forecast's draws of a book's total are the book's share of the total times the total.
The total's spread is estimated from the total's own rolling-origin errors (see
[`alloc.targets.pooled_total`][alloc.targets.pooled_total]); this module does the same for
the shares, so that neither part of a band rests on the model's assumptions alone:

* **Origins inside the history.** The model is run again at the latest ``CAL_ORIGINS``
  origins that have a full horizon after them inside the history (topped up with later
  origins and shorter horizons when the history is short), never on the periods being
  forecast.
* **Scores.** At each origin, every book that had sold before it gives one score: how
  far its actual share of the books' total lies from the median of its drawn shares, in
  units of the half-band on that side (``(a - median) / (p90 - median)`` above the
  median, ``(median - a) / (median - p10)`` below). A score of 1 is an actual share on
  the edge of the p10-p90 band, under 1 inside it. The shares take the shared miss of
  the total out, so one lucky or unlucky origin does not move the scale.
* **Scale.** The split-conformal quantile of the scores (the ``ceil((n + 1) 0.8)``-th
  smallest of ``n``) is the factor by which the shares' spread about their medians must
  be multiplied for 80 % of past actual shares to fall inside the p10-p90 band of
  their shares; the draws at the cutoff are rescaled by it (each draw's shares moved
  away from or toward their medians, never below 0, and renormalised, so the draw's
  total is kept). With fewer than ``MIN_SCORES`` scores the draws are kept as they are.

Internal to alloc: [`alloc.targets.customer_base`][alloc.targets.customer_base] calls
[`calibrated_totals`][alloc.targets.calibration.calibrated_totals] for the time-series
model and [`share_scores`][alloc.targets.calibration.share_scores] for the customer model.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from alloc.targets.forecasting import (
    N_SAMPLES,
    BookHistory,
    Simulation,
    book_draws,
    simulate_totals,
)
from alloc.targets.pooled_total import MIN_TRAIN

__all__ = [
    "CAL_ORIGINS",
    "COVERAGE",
    "MIN_SCORES",
    "calibrated_totals",
    "calibration_origins",
    "conformal_scale",
    "rescale_shares",
    "share_scores",
]

FloatArray = npt.NDArray[np.float64]

#: Origins inside the history the share scale is calibrated on.
CAL_ORIGINS = 4
#: Scores (books times origins) needed before the spread is rescaled.
MIN_SCORES = 20
#: Share of past actual shares the p10-p90 band of the shares should hold.
COVERAGE = 0.8
#: The scale is kept in this range: a few wild origins cannot blow a band up or shut it.
SCALE_BOUNDS = (0.25, 4.0)


def calibration_origins(periods: int, horizon: int, min_train: int) -> list[tuple[int, int]]:
    """Origins ``(t, ahead)`` inside a history of ``periods`` periods, latest first.

    Full horizons first (``t + horizon <= periods``), at most ``CAL_ORIGINS``; when there
    are fewer, later origins with the periods left after them. An origin needs
    ``min_train`` periods before it and at least as many as it looks ahead.
    """
    full = [(t, horizon) for t in range(periods - horizon, min_train - 1, -1) if t >= horizon]
    later = [
        (t, min(periods - t, t))
        for t in range(max(periods - horizon + 1, min_train), periods)
        if periods - t >= 1
    ]
    return [*full, *later][:CAL_ORIGINS]


def share_scores(
    samples: FloatArray, actual: FloatArray, known: npt.NDArray[np.bool_]
) -> FloatArray:
    """Each known book's score at one origin: its actual share against its drawn shares.

    Parameters
    ----------
    samples : numpy.ndarray
        Draws of each book's total, shape (books, draws).
    actual : numpy.ndarray
        What each book sold over the same periods.
    known : numpy.ndarray of bool
        Books that had sold before the origin; the others are left out (as a back-test
        leaves out books without history).

    Returns
    -------
    numpy.ndarray
        One score per known book that says something about the scale (a book whose
        drawn shares and actual share are all the same is left out); ``inf`` for an
        actual share off a band of zero width.
    """
    draws = samples[known]
    sold = actual[known]
    totals = draws.sum(axis=0)
    positive = totals > 0
    if sold.sum() <= 0 or not positive.any():
        return np.zeros(0)
    shares = draws[:, positive] / totals[positive]
    low, middle, high = np.quantile(shares, (0.1, 0.5, 0.9), axis=1)
    share = sold / sold.sum()
    gap = np.abs(share - middle)
    width = np.where(share > middle, high - middle, middle - low)
    keep = (gap > 0) | (width > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(width > 0, gap / width, np.inf)
    return np.asarray(scores[keep], dtype=np.float64)


def conformal_scale(scores: FloatArray) -> float:
    """The split-conformal ``COVERAGE`` quantile of the scores, kept in ``SCALE_BOUNDS``.

    1.0 (no change) with fewer than ``MIN_SCORES`` scores.
    """
    n = scores.size
    if n < MIN_SCORES:
        return 1.0
    rank = math.ceil((n + 1) * COVERAGE)
    value = float(np.sort(scores)[rank - 1]) if rank <= n else math.inf
    return float(min(max(value, SCALE_BOUNDS[0]), SCALE_BOUNDS[1]))


def rescale_shares(samples: FloatArray, scale: float) -> FloatArray:
    """Draws whose shares of each draw's total lie ``scale`` times as far from their medians.

    Shares are clipped at 0 and renormalised, so every draw keeps its total.
    """
    if scale == 1.0 or samples.size == 0:
        return samples
    totals = samples.sum(axis=0)
    positive = totals > 0
    if not positive.any():
        return samples
    shares = samples[:, positive] / totals[positive]
    middle = np.median(shares, axis=1, keepdims=True)
    moved = np.maximum(middle + scale * (shares - middle), 0.0)
    mass = moved.sum(axis=0)
    # A draw whose shares all clipped to 0 cannot happen (the medians sum to about 1),
    # but a draw is never divided by 0.
    moved = np.where(mass > 0, moved / np.where(mass > 0, mass, 1.0), shares)
    out = samples.copy()
    out[:, positive] = moved * totals[positive]
    return out


def calibrated_totals(history: BookHistory, horizon: int, seed: int) -> Simulation:
    """The time-series draws with the books' spread about their shares calibrated.

    [`simulate_totals`][alloc.targets.forecasting.simulate_totals] at the cutoff; the books'
    bootstrap again at the origins of
    [`calibration_origins`][alloc.targets.calibration.calibration_origins] on the history
    before each (its own seasonal index: one fitted on the whole history would hold the
    periods each origin forecasts); the draws at the cutoff are rescaled by the
    conformal scale of the origins' scores.
    """
    sim = simulate_totals(history, horizon, seed)
    values = history.values
    periods = values.shape[1]
    rng = np.random.default_rng(seed)
    scores = []
    origins = calibration_origins(periods, horizon, MIN_TRAIN)
    for t, ahead in origins:
        # Only the books' shares matter here, so the total's model is not needed.
        samples, _ = book_draws(values[:, :t], history.season, ahead, rng, N_SAMPLES)
        known = (values[:, :t] != 0).any(axis=1)
        scores.append(share_scores(samples, values[:, t : t + ahead].sum(axis=1), known))
    scale = conformal_scale(np.concatenate(scores)) if scores else 1.0
    return sim._replace(
        samples=rescale_shares(sim.samples, scale), share_scale=scale, share_origins=len(origins)
    )
