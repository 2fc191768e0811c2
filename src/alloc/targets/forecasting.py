"""The time-series model of forecast bands: each book's total from the books' own periods.

[`forecast`][alloc.targets.forecast] (in ``bands``) turns a transactions table into, for each
book, quantiles (p10, p50, p90 ...) of the total it will sell over the next ``horizon``
periods. Its default model (``model="time_series"``) lives here; it is deliberately
plain, so that it is robust on short and noisy books:

* **Periods.** Values are summed per book and calendar period (``freq``, e.g. months).
* **Seasonality** (only with at least two full seasons of history): the ratio of the
  pooled series to its centred moving average, averaged by season position; each book's
  own index is shrunk toward the pooled one by the number of seasons it has seen.
* **Level and trend.** A book's level is the mean of its deseasonalised values over the
  recent window (the last ``max(horizon, 6)`` periods, or fewer for books that started
  later), shrunk toward its long-run share of the pooled level by an empirical-Bayes
  weight (as far as the books' recent shifts look like noise); the trend is one pooled
  log-linear slope over that window, shrunk toward zero by its t-statistic
  (``g * max(0, 1 - 4/t^2)``), so a trend the data do not support is not projected, and
  the projection is damped (by 0.8 per period ahead).
* **Bands** come from a seeded bootstrap over periods: the level is re-estimated
  from resampled window periods and the future path is built from resampled relative
  residuals; the period indices are shared by every book in a draw, so shocks common to
  all books stay common. Each draw mixes a book's own residuals with residuals of the
  books that have a full window (more of the pooled ones for short books), and short
  books average fewer periods into their level, so their bands are wider. The pooled
  slope is drawn from its sampling distribution.
* **The total, shared by every book.** The bootstrap above gives each book's share of
  the total in each draw; the total itself comes from
  [`alloc.targets.pooled_total`][alloc.targets.pooled_total]: a level model of the pooled
  total (window mean, long-run mean, recent level, damped trend over the window or over
  the whole history) chosen by rolling-origin back-test inside the history, times one
  common log-normal shock per draw whose spread is that model's back-test error. Books
  move together, and their bands hold the uncertainty of the total (level and trend),
  not only their own noise.
* **Calibration.** [`forecast`][alloc.targets.forecast] then widens or narrows each
  draw's spread of the books about their shares of the total by the factor that made
  80 % of past shares fall inside their p10-p90 bands at rolling origins inside the
  history ([`alloc.targets.calibration`][alloc.targets.calibration]).

The helpers [`book_periods`][alloc.targets.forecasting.book_periods] and
[`simulate_totals`][alloc.targets.forecasting.simulate_totals] are internal to alloc (shared
with the back-test), not re-exported.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.frequencies import to_offset

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.pooled_total import (
    choose_total_model,
    common_spread,
    damped_steps,
    shrunk_slope,
)
from alloc.validation import check_param, is_number

__all__ = [
    "BookHistory",
    "Simulation",
    "book_draws",
    "book_periods",
    "book_seasons",
    "check_horizon",
    "level_names",
    "parse_freq",
    "simulate_totals",
    "summarise",
]

FloatArray = npt.NDArray[np.float64]

#: Bootstrap draws per book.
N_SAMPLES = 2_000
#: Periods in the recent window at least (fewer only when the history is shorter).
MIN_WINDOW = 6
#: Periods per bootstrap block. One: residuals about a window mean sum to zero, so blocks
#: of L periods drawn from a circular window of k lose (L - 1) / (k - 1) of their
#: variance (40 % for blocks of 3 in a 6-period window); the bands were too narrow.
BLOCK = 1
#: Weight of the pooled residuals against a book's own, in periods: a book with k
#: periods in its window draws its own residuals with probability k / (k + POOL_WEIGHT).
POOL_WEIGHT = 2
#: Seasons of pooled pattern a book's own seasonal index is shrunk toward.
SEASON_PRIOR = 3
#: Seasonal indices are kept in this range, so a near-empty season position cannot blow
#: up the deseasonalised values.
SEASON_CLIP = (0.2, 5.0)


@dataclass(frozen=True)
class BookHistory:
    """Values per book and period.

    Attributes
    ----------
    books : pandas.Index
        Book ids, sorted.
    values : numpy.ndarray
        Shape (books, periods): the summed values per book and period.
    starts : pandas.DatetimeIndex
        Start of each period; one more entry than periods (the last is the end).
    season : int
        Periods per season (12 for months, 4 for quarters, 52 for weeks, 7 for days),
        0 when the frequency has no season.
    """

    books: pd.Index
    values: FloatArray
    starts: pd.DatetimeIndex
    season: int


def level_names(levels: object, owner: str) -> list[str]:
    """Check quantile levels and return their column names (``0.1`` -> ``"p10"``)."""
    items: list[Any] = (
        list(levels)
        if isinstance(levels, Sequence | np.ndarray) and not isinstance(levels, str)
        else []
    )
    ok = (
        len(items) > 0
        and all(is_number(x) and 0 < float(x) < 1 for x in items)
        and all(float(a) < float(b) for a, b in itertools.pairwise(items))
    )
    check_param(
        "levels",
        levels,
        owner,
        ok,
        "increasing numbers strictly between 0 and 1, e.g. (0.1, 0.5, 0.9)",
    )
    names = [f"p{float(x) * 100:.10g}" for x in items]
    if len(set(names)) != len(names):
        raise InvalidParameterError(
            f"the 'levels' parameter of {owner} has levels too close to name apart: {levels!r}."
        )
    return names


def _season_length(offset: object) -> int:
    """Periods per year-like season for a pandas offset, 0 when there is none."""
    name = type(offset).__name__
    n = max(1, int(getattr(offset, "n", 1)))
    if "Month" in name:
        base = 12
    elif "Quarter" in name:
        base = 4
    elif name == "Week":
        base = 52
    elif name in ("Day", "BusinessDay"):
        base = 7 if name == "Day" else 5
    else:
        return 0
    return base // n if base % n == 0 and base // n > 1 else 0


def _columns(history: object, by: object, date: object, value: object, owner: str) -> None:
    if not isinstance(history, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'history' parameter of {owner} must be a pandas DataFrame of transactions; "
            f"got {type(history).__name__}."
        )
    missing = [
        f"{name}={col!r}"
        for name, col in (("by", by), ("date", date), ("value", value))
        if not isinstance(col, str) or col not in history.columns
    ]
    if missing:
        raise InvalidProblemError(
            f"the history of {owner} has no column for {', '.join(missing)}; available "
            f"columns: {format_ids(history.columns, limit=12)}."
        )
    if history.empty:
        raise InvalidProblemError(f"the history of {owner} has no rows; give some transactions.")


def _clean(
    history: pd.DataFrame, by: str, date: str, value: str, owner: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parsed dates, numeric values and book ids, or an error naming the bad rows."""
    raw_dates = history[date]
    try:
        dates = pd.to_datetime(raw_dates, errors="coerce")
    except (TypeError, ValueError):  # pragma: no cover - coerce turns most failures into NaT
        dates = pd.Series(pd.NaT, index=history.index)
    bad = dates.isna().to_numpy()
    if bad.any():
        raise InvalidProblemError(
            f"the {date!r} column of {owner}'s history has dates that do not parse (or are "
            f"missing) in rows {format_ids(history.index[bad])}: "
            f"{format_ids(raw_dates[bad].unique().tolist())}; fix or drop those rows."
        )
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    numbers = pd.to_numeric(history[value], errors="coerce")
    bad = ~np.isfinite(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        raise InvalidProblemError(
            f"the {value!r} column of {owner}'s history has non-numeric, missing or infinite "
            f"values in rows {format_ids(history.index[bad])}: "
            f"{format_ids(history[value][bad].unique().tolist())}; give every row a number."
        )
    ids = history[by]
    bad = ids.isna().to_numpy()
    if bad.any():
        raise InvalidProblemError(
            f"the {by!r} column of {owner}'s history is missing in rows "
            f"{format_ids(history.index[bad])}; give every row a book."
        )
    return dates, numbers.astype(np.float64), ids


def parse_freq(freq: object, owner: str) -> Any:
    """The pandas offset of ``freq``, or ``InvalidParameterError`` naming it."""
    try:
        return to_offset(freq)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"the 'freq' parameter of {owner} must be a pandas frequency such as 'MS', 'QS' "
            f"or 'W'; got {freq!r}."
        ) from exc


def book_periods(
    history: pd.DataFrame,
    by: str,
    date: str,
    value: str,
    freq: str,
    owner: str,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> BookHistory:
    """Sum a transactions table per book and period.

    Periods run from the period holding the first date (or ``start``) to the one holding
    the last date, or up to ``end`` (exclusive, on a period boundary) when given; rows
    outside ``[start, end)`` are left out. Raises alloc errors naming bad columns,
    dates, values and book ids.
    """
    _columns(history, by, date, value, owner)
    offset = parse_freq(freq, owner)
    dates, numbers, ids = _clean(history, by, date, value, owner)
    keep = np.ones(len(dates), dtype=bool)
    if start is not None:
        keep &= (dates >= start).to_numpy()
    if end is not None:
        keep &= (dates < end).to_numpy()
    if not keep.any():
        asked = " and ".join(
            x
            for x in (
                f"on or after {start.date()}" if start is not None else "",
                f"before {end.date()}" if end is not None else "",
            )
            if x
        )
        raise InvalidProblemError(
            f"the history of {owner} has no rows {asked} (it runs from {dates.min().date()} "
            f"to {dates.max().date()}); move the cutoff or give more history."
        )
    dates, numbers, ids = dates[keep], numbers[keep], ids[keep]
    first = offset.rollback(dates.min().normalize()) if start is None else start
    last = dates.max()
    stop = end if end is not None else offset.rollforward(last.normalize() + pd.Timedelta(days=1))
    if offset.is_on_offset(stop) and stop <= last:  # pragma: no cover - defensive
        stop = stop + offset
    starts = pd.date_range(first, stop, freq=offset)
    if len(starts) < 2 or starts[-1] < stop:
        starts = pd.DatetimeIndex(starts.append(pd.DatetimeIndex([stop])))
    position = np.searchsorted(starts.to_numpy(), dates.to_numpy(), side="right") - 1
    books = pd.Index(sorted(pd.unique(ids.to_numpy()), key=_sort_key), name=by)
    row = books.get_indexer(ids.to_numpy())
    values = np.zeros((len(books), len(starts) - 1))
    np.add.at(values, (row, position), numbers.to_numpy())
    return BookHistory(books, values, starts, _season_length(offset))


def _sort_key(x: Any) -> tuple[str, Any]:
    return (type(x).__name__, x)


def _seasonal_index(values: FloatArray, season: int) -> tuple[FloatArray, FloatArray]:
    """Ratio-to-moving-average seasonal index per row, shape (rows, season).

    Returns the index (1 where a position has no ratio) and the number of ratios
    behind each position.
    """
    rows, periods = values.shape
    if season % 2:
        kernel = np.ones(season) / season
    else:
        kernel = np.r_[0.5, np.ones(season - 1), 0.5] / season
    half = len(kernel) // 2
    windows = np.lib.stride_tricks.sliding_window_view(values, len(kernel), axis=1)
    average = windows @ kernel
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values[:, half : periods - half] / average
    ratio[~np.isfinite(ratio) | (average <= 0)] = np.nan
    positions = np.arange(half, periods - half) % season
    index = np.ones((rows, season))
    count = np.zeros((rows, season))
    for p in range(season):
        block = ratio[:, positions == p]
        finite = np.isfinite(block)
        count[:, p] = finite.sum(axis=1)
        total = np.where(finite, block, 0.0).sum(axis=1)
        mean = total / np.maximum(count[:, p], 1)
        index[:, p] = np.where(count[:, p] > 0, mean, 1.0)
    index /= index.mean(axis=1, keepdims=True)
    return index, count


def book_seasons(values: FloatArray, season: int) -> FloatArray:
    """Per-book seasonal index (books, season); ones when history is under two seasons."""
    n, periods = values.shape
    if season < 2 or periods < 2 * season:
        return np.ones((n, max(season, 1)))
    pooled, _ = _seasonal_index(values.sum(axis=0, keepdims=True), season)
    own, count = _seasonal_index(values, season)
    weight = count / (count + SEASON_PRIOR)
    mixed = weight * own + (1 - weight) * pooled
    mixed /= mixed.mean(axis=1, keepdims=True)
    return np.clip(mixed, *SEASON_CLIP)


def _trend(levels: FloatArray) -> tuple[float, float]:
    """Pooled log-linear slope per period over the window, shrunk, and its standard error."""
    return shrunk_slope(levels.sum(axis=0))


def _shrink_levels(
    deseason: FloatArray,
    level: FloatArray,
    resid: FloatArray,
    first: npt.NDArray[np.int64],
    k_book: npt.NDArray[np.int64],
    in_window: npt.NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray]:
    """Recent levels shrunk toward each book's long-run share of the pooled level.

    A book's recent share ``r`` of the pooled window level is noisy; its share ``l`` of
    the pooled values over all its active periods is steadier but may be stale. The
    level uses ``w r + (1 - w) l`` with the empirical-Bayes weight
    ``w = tau^2 / (tau^2 + s^2)``: ``s^2`` is the sampling variance of ``r / l - 1``
    from the book's residuals, ``tau^2`` the part of the spread of ``r / l - 1`` across
    books that noise does not explain; no book moves more than ``s`` (limited
    translation). Books whose window is their whole history keep their recent level.

    Also returns, per book, the standard error of the shrunk level over that of the
    recent mean: ``sqrt(w^2 + (1 - w^2) k / n)`` for a window of ``k`` periods out of
    ``n`` (the long-run mean includes the window), so the bootstrap does not draw the
    level more loosely than it was estimated.
    """
    periods = deseason.shape[1]
    pooled_level = float(level.sum())
    active_span = periods - first
    mask = np.arange(periods)[None, :] >= first[:, None]
    long_book = (deseason * mask).sum(axis=1)
    long_pooled = (deseason.sum(axis=0)[None, :] * mask).sum(axis=1)
    eligible = (active_span > k_book) & (k_book > 1) & (long_book > 0) & (long_pooled > 0)
    unshrunk = np.ones(level.shape)
    if pooled_level <= 0 or not eligible.any():
        return level, unshrunk
    with np.errstate(invalid="ignore", divide="ignore"):
        long_share = np.where(eligible, long_book / long_pooled, 0.0)
        recent_share = level / pooled_level
        spread = np.where(eligible, recent_share / long_share - 1, 0.0)
        variance = (resid**2 * in_window).sum(axis=1) / np.maximum(k_book - 1, 1)
        noise = np.where(eligible, variance * (1 / k_book - 1 / active_span), 0.0)
    signal = max(0.0, float(np.mean(spread[eligible] ** 2 - noise[eligible])))
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(eligible & (noise > 0), signal / (signal + noise), 1.0)
    # Limited translation (Efron-Morris): no book moves more than one standard error
    # from its own recent share, so one real shift among many steady books survives.
    error = np.sqrt(noise)
    shrunk = np.clip(weight * spread, spread - error, spread + error)
    shares = np.where(eligible, long_share * (1 + shrunk), recent_share)
    if shares.sum() <= 0:  # pragma: no cover - eligible books have positive shares
        return level, unshrunk
    with np.errstate(invalid="ignore", divide="ignore"):
        kept = np.where(spread != 0, shrunk / spread, weight)
        ratio = k_book / np.maximum(active_span, 1)
    scale = np.where(eligible, np.sqrt(kept**2 + (1 - kept**2) * ratio), 1.0)
    return pooled_level * shares / shares.sum(), scale


def _blocks(rng: np.random.Generator, draws: int, length: int, span: int) -> npt.NDArray[np.int64]:
    """Period indices in [0, span) in circular blocks of BLOCK periods, shape (draws, length)."""
    block = min(BLOCK, span)
    n_blocks = -(-length // block)
    starts = rng.integers(0, span, size=(draws, n_blocks, 1))
    return ((starts + np.arange(block)) % span).reshape(draws, -1)[:, :length]


class Simulation(NamedTuple):
    """Draws of each book's total over the horizon, and how the pooled total was forecast.

    Attributes
    ----------
    samples : numpy.ndarray
        Shape (books, N_SAMPLES); the books of one draw share one shock of the total.
    point : numpy.ndarray
        The point forecast per book (no resampling); they add up to the total's.
    total_method : str
        The level model of the pooled total chosen by back-test
        (see [`alloc.targets.pooled_total`][alloc.targets.pooled_total]), or ``"bootstrap"``
        when the total is not positive and the per-book draws are kept as they are.
    total_spread : float
        Standard deviation of the log of the total's common shock.
    origins : int
        Rolling origins behind the total's spread.
    share_scale : float
        Factor applied to the books' spread about their shares of the total, calibrated
        at rolling origins (see [`alloc.targets.calibration`][alloc.targets.calibration]);
        1.0 when not calibrated.
    share_origins : int
        Rolling origins behind ``share_scale``.
    """

    samples: FloatArray
    point: FloatArray
    total_method: str
    total_spread: float
    origins: int
    share_scale: float = 1.0
    share_origins: int = 0


def simulate_totals(history: BookHistory, horizon: int, seed: int) -> Simulation:
    """Bootstrap draws of each book's total over the next ``horizon`` periods.

    The per-book bootstrap gives each book's share of the total in each draw; the total
    itself is the pooled forecast of
    [`choose_total_model`][alloc.targets.pooled_total.choose_total_model] times one common
    log-normal shock per draw, so that books move together as far as the total's own
    back-test errors say.
    """
    values, season = history.values, history.season
    rng = np.random.default_rng(seed)
    samples, point = book_draws(values, season, horizon, rng, N_SAMPLES)
    window = min(values.shape[1], max(horizon, MIN_WINDOW))
    return _common_total(values, season, horizon, window, samples, point, rng)


def book_draws(
    values: FloatArray,
    season: int,
    horizon: int,
    rng: np.random.Generator,
    draws: int,
    index: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The per-book bootstrap: draws (books, draws) and point forecasts.

    ``index`` is the books' seasonal index (books, season); by default
    [`book_seasons`][alloc.targets.forecasting.book_seasons] of ``values``. A back-test
    inside the history passes the index fitted on the whole history, so that an origin
    with under two seasons before it is forecast as the cutoff is (with a season).
    """
    n, periods = values.shape
    index = book_seasons(values, season) if index is None else index
    width = max(season, 1)
    position = np.arange(periods + horizon) % width
    deseason = values / index[:, position[:periods]]
    k = min(periods, max(horizon, MIN_WINDOW))
    window = deseason[:, periods - k :]
    active = values != 0
    first = np.where(active.any(axis=1), active.argmax(axis=1), periods)
    k_book = np.clip(periods - first, 0, k)
    in_window = np.arange(k)[None, :] >= (k - k_book)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(k_book > 0, (window * in_window).sum(axis=1) / np.maximum(k_book, 1), 0.0)
    full = k_book == k
    slope, slope_se = _trend(window[full] if full.any() else window)
    centre = np.arange(k) - (k - 1) / 2
    fitted = level[:, None] * np.exp(slope * centre)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        resid = np.where(in_window & (fitted > 0), window / fitted - 1, 0.0)
    level, level_scale = _shrink_levels(deseason, level, resid, first, k_book, in_window)
    # Residuals about a mean of k values are too small by sqrt((k - 1) / k); the
    # leverage-adjusted residuals (Davison & Hinkley 1997, 6.2) put the spread back.
    # A period never sells less than nothing: the adjustment stops at -1 (a residual
    # below -1, from refunds, is left as it is).
    adjusted = resid * np.sqrt(k_book / np.maximum(k_book - 1, 1))[:, None]
    resid = np.where(adjusted < -1, np.minimum(resid, -1.0), adjusted)
    # Damped trend: period h ahead grows by phi + phi^2 + ... + phi^(h+1) slopes.
    ahead = damped_steps(k, horizon)
    future_season = index[:, position[periods:]]
    point = (level[:, None] * np.exp(slope * ahead)[None, :] * future_season).sum(axis=1)

    level_idx = _blocks(rng, draws, k, k)
    path_idx = _blocks(rng, draws, horizon, k)
    pool = np.flatnonzero(full) if full.any() else np.arange(n)
    slopes = slope + slope_se * rng.standard_normal(draws)
    own_share = k_book / (k_book + POOL_WEIGHT)
    samples = np.empty((n, draws))
    growth = np.exp(slopes[:, None] * ahead[None, :])  # (draws, horizon)
    for b in range(n):
        if level[b] == 0 and not active[b].any():
            samples[b] = 0.0
            continue
        level_res = _mixed(rng, resid, b, level_idx, in_window[b], own_share[b], pool)
        take = np.arange(k)[None, :] < k_book[b]
        drift = (level_res * take).sum(axis=1) / max(k_book[b], 1)
        level_draw = level[b] * (1 + level_scale[b] * drift)
        path_res = _mixed(rng, resid, b, path_idx, in_window[b], own_share[b], pool)
        path = level_draw[:, None] * growth * future_season[b][None, :] * (1 + path_res)
        samples[b] = path.sum(axis=1)
    return samples, point


def _pooled_season(values: FloatArray, season: int) -> FloatArray:
    """Seasonal index of the pooled total (ones under two seasons of history)."""
    periods = values.shape[1]
    if season < 2 or periods < 2 * season:
        return np.ones(max(season, 1))
    index, _ = _seasonal_index(values.sum(axis=0, keepdims=True), season)
    return np.clip(index[0], *SEASON_CLIP)


def _common_total(
    values: FloatArray,
    season: int,
    horizon: int,
    window: int,
    samples: FloatArray,
    point: FloatArray,
    rng: np.random.Generator,
) -> Simulation:
    """Each draw: the books' shares times the pooled total and one common shock."""
    periods = values.shape[1]
    index = _pooled_season(values, season)
    position = np.arange(periods + horizon) % index.size
    model = choose_total_model(values.sum(axis=0) / index[position[:periods]], horizon, window)
    total = float((model.path * index[position[periods:]]).sum())
    drawn = samples.sum(axis=0)
    if total <= 0 or point.sum() <= 0:
        return Simulation(samples, point, "bootstrap", 0.0, 0)
    positive = drawn > 0
    own = float(np.std(np.log(drawn[positive]))) if positive.sum() > 1 else 0.0
    fitted = index.size if index.size > 1 and periods >= 2 * index.size else 0
    spread = common_spread(model.errors, own, fitted / periods)
    shock = total * np.exp(spread * rng.standard_normal(drawn.size))
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(positive, samples / drawn, (point / point.sum())[:, None])
    scaled = point * total / point.sum()
    return Simulation(shares * shock, scaled, model.method, spread, model.errors.size)


def _mixed(
    rng: np.random.Generator,
    resid: FloatArray,
    book: int,
    idx: npt.NDArray[np.int64],
    own_periods: npt.NDArray[np.bool_],
    own_share: float,
    pool: npt.NDArray[np.int64],
) -> FloatArray:
    """Residuals at the drawn periods: the book's own, or a pooled book's at that period."""
    donor = pool[rng.integers(0, pool.size, size=idx.shape)]
    use_own = (rng.random(idx.shape) < own_share) & own_periods[idx]
    return np.where(use_own, resid[book][idx], resid[donor, idx])


def check_horizon(books: BookHistory, horizon: int, owner: str) -> None:
    """Raise ``InvalidProblemError`` when ``horizon`` is longer than the history."""
    periods = books.values.shape[1]
    if horizon > periods:
        raise InvalidProblemError(
            f"the horizon of {owner} ({horizon} periods) is longer than the history "
            f"({periods} periods, {books.starts[0].date()} to {books.starts[-1].date()}); "
            "shorten the horizon or give more history."
        )


def summarise(
    books: BookHistory,
    sim: Simulation,
    levels: list[float],
    names: list[str],
    horizon: int,
) -> pd.DataFrame:
    """The forecast table: quantiles of the samples, point forecast, short and zero books."""
    samples, point = sim.samples, sim.point
    quantiles = (
        np.quantile(samples, levels, axis=1).T if samples.size else np.zeros((0, len(levels)))
    )
    table = pd.DataFrame(quantiles, index=books.books, columns=names)
    active = books.values != 0
    periods = books.values.shape[1]
    first = np.where(active.any(axis=1), active.argmax(axis=1), periods)
    table["forecast"] = point
    table["periods"] = (periods - first).astype(np.int64)
    table["all_zero"] = ~active.any(axis=1)
    table.attrs["horizon"] = horizon
    table.attrs["total_method"] = sim.total_method
    table.attrs["total_spread"] = sim.total_spread
    table.attrs["origins"] = sim.origins
    table.attrs["share_scale"] = sim.share_scale
    return table
