"""The pooled total over the horizon: a level model chosen by back-test, with its own error.

Every book shares the fate of the total: when the business as a whole sells a fifth less
than forecast, most books miss together. Per-book noise cannot show that, so
[`forecast`][alloc.targets.forecast] forecasts the pooled total separately and draws one
common shock per bootstrap draw from this module's error model:

* **Candidates** for the level of the pooled, deseasonalised total: ``flat`` (the mean of
  the recent window), ``long`` (the mean of the whole history: the steadiest level when
  nothing moves), ``recent`` (the mean of the last ``RECENT`` periods: a level that
  moved lately), ``damped`` (the window mean with the window's log-linear slope, shrunk by
  its t-statistic and damped) and ``damped_long`` (the same with the slope fitted over the
  whole history, so that a cohort decaying for a year is seen as decaying).
* **Rolling origins inside the history**: at every origin ``t >= MIN_TRAIN`` each candidate
  forecasts the total of the next ``min(horizon, periods - t)`` periods from the periods
  before ``t``; the log ratio of what was sold to the forecast is its error. The candidate
  with the smallest mean absolute error is used (ties go to the simpler one). Only the
  history given is used, never the periods being forecast.
* **The total's spread** is a robust scale of the chosen candidate's errors about zero,
  1.4826 times their median absolute value (a bias seen in the history counts as
  uncertainty and is not corrected, since a handful of origins cannot tell a bias from
  bad luck; the few origins that saw only a start-up do not dominate), pooled with the
  bootstrap's own spread of the total as ``PRIOR_ORIGINS`` pseudo-origins, so that a
  short history leans on the bootstrap and a history without origins keeps it.

The seasonal index used to deseasonalise is the one fitted on the whole history given
(it needs two seasons); the origins re-use it, so their errors are scaled up for the
noise the fitted indices absorbed (see
[`common_spread`][alloc.targets.pooled_total.common_spread]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "CANDIDATES",
    "TotalModel",
    "choose_total_model",
    "common_spread",
    "origin_errors",
    "project",
    "shrunk_slope",
]

FloatArray = npt.NDArray[np.float64]

#: Level models of the pooled total, simplest first (ties go to the earlier one).
CANDIDATES = ("flat", "long", "recent", "damped", "damped_long")
#: Periods the ``recent`` candidate averages.
RECENT = 3
#: Periods of history an origin needs before it.
MIN_TRAIN = 3
#: Weight of the bootstrap's spread of the total, in origins.
PRIOR_ORIGINS = 2
#: A slope with t-statistic t is multiplied by max(0, 1 - TREND_SHRINK / t^2): a trend
#: under two standard errors is not projected, a clear one nearly in full.
TREND_SHRINK = 4.0
#: Damping of the trend per period ahead (Gardner-McKenzie): a slope is never projected
#: more than 1 / (1 - TREND_DAMPING) periods past the last one.
TREND_DAMPING = 0.8


@dataclass(frozen=True)
class TotalModel:
    """The chosen level model of the pooled total and its back-test.

    Attributes
    ----------
    method : str
        One of ``CANDIDATES``.
    path : numpy.ndarray
        Deseasonalised forecast of the pooled total for each period ahead.
    errors : numpy.ndarray
        The chosen candidate's log errors (log of sold over forecast) at the origins.
    scores : dict of str to float
        Mean absolute log error of every candidate (NaN without origins).
    """

    method: str
    path: FloatArray
    errors: FloatArray
    scores: dict[str, float]


def shrunk_slope(series: FloatArray) -> tuple[float, float]:
    """Log-linear slope per period of a positive series, shrunk, and its standard error.

    Returns ``(0, 0)`` for fewer than four values or any value <= 0.
    """
    k = series.size
    if k < 4 or (series <= 0).any():
        return 0.0, 0.0
    t = np.arange(k) - (k - 1) / 2
    y = np.log(series)
    slope = float(t @ (y - y.mean()) / (t @ t))
    resid = y - y.mean() - slope * t
    se = math.sqrt(float(resid @ resid) / (k - 2) / float(t @ t))
    if se <= 1e-12 * max(1.0, abs(slope)):
        return slope, 0.0
    if slope == 0:
        return 0.0, se
    tstat2 = (slope / se) ** 2
    return slope * max(0.0, 1 - TREND_SHRINK / tstat2), se


def damped_steps(k: int, horizon: int) -> FloatArray:
    """Periods of slope from the centre of a k-period window to each period ahead (damped)."""
    return (k - 1) / 2 + np.cumsum(TREND_DAMPING ** np.arange(1, horizon + 1))


def project(method: str, history: FloatArray, horizon: int, window: int) -> FloatArray:
    """A candidate's deseasonalised forecast of each of the next ``horizon`` periods."""
    k = max(1, min(history.size, window))
    if method == "recent":
        return np.full(horizon, float(history[-min(history.size, RECENT) :].mean()))
    if method == "long":
        return np.full(horizon, float(history.mean()))
    level = float(history[-k:].mean())
    if method == "flat":
        return np.full(horizon, level)
    slope, _ = shrunk_slope(history if method == "damped_long" else history[-k:])
    return level * np.exp(slope * damped_steps(k, horizon))


def origin_errors(method: str, history: FloatArray, horizon: int, window: int) -> FloatArray:
    """Log errors of a candidate's forecast of the total at every origin in the history.

    At origin ``t`` the candidate sees ``history[:t]`` and forecasts the sum of the next
    ``min(horizon, len(history) - t)`` periods; origins where the forecast or the sum is
    not positive are skipped.
    """
    errors = []
    for t in range(MIN_TRAIN, history.size):
        ahead = min(horizon, history.size - t)
        predicted = float(project(method, history[:t], ahead, window).sum())
        sold = float(history[t : t + ahead].sum())
        if predicted > 0 and sold > 0:
            errors.append(math.log(sold / predicted))
    return np.asarray(errors, dtype=np.float64)


def choose_total_model(history: FloatArray, horizon: int, window: int) -> TotalModel:
    """The candidate with the smallest rolling-origin error on the deseasonalised total.

    Without any origin (a history of ``MIN_TRAIN`` periods or fewer), ``damped`` is used,
    as the per-book model does.
    """
    errors = {m: origin_errors(m, history, horizon, window) for m in CANDIDATES}
    scores = {m: float(np.abs(e).mean()) if e.size else math.nan for m, e in errors.items()}
    scored = [m for m in CANDIDATES if not math.isnan(scores[m])]
    # min keeps the first of equal scores: the simpler candidate wins a tie.
    method = min(scored, key=lambda m: scores[m]) if scored else "damped"
    return TotalModel(method, project(method, history, horizon, window), errors[method], scores)


def common_spread(errors: FloatArray, bootstrap_spread: float, absorbed: float = 0.0) -> float:
    """Standard deviation of the log of the total's common shock.

    A robust scale of the origin errors about zero (1.4826 times their median absolute
    value), pooled with ``PRIOR_ORIGINS`` pseudo-origins at the bootstrap's own spread of
    the total. ``absorbed`` is the share of the history's degrees of freedom spent on
    seasonal indices fitted on it (``season / periods``; 0 for none): the origins see
    the history through them, so their errors miss the part of the noise the indices
    absorbed, and are scaled by ``1 / sqrt(1 - absorbed)`` (a degrees-of-freedom
    correction, as for residuals about a fitted mean).
    """
    if errors.size == 0:
        return bootstrap_spread
    # 1.4826 * median |e|: the standard deviation of a normal error, robust to the few
    # origins that saw only a start-up (a cohort's first purchases, a new business).
    robust = 1.4826 * float(np.median(np.abs(errors)))
    if 0 < absorbed < 1:
        robust /= math.sqrt(1 - absorbed)
    prior = PRIOR_ORIGINS * bootstrap_spread**2
    return math.sqrt((errors.size * robust**2 + prior) / (errors.size + PRIOR_ORIGINS))
