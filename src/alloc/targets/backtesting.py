"""Back-test quota methods on real history: who would have reached quota, and was it fair?

[`backtest`][alloc.targets.backtest] cuts a transactions table at ``cutoff``, sets quotas for
the next ``horizon`` periods from the history before it with several methods, and scores
each method against what the books then sold:

* ``even``: the same quota for every book;
* ``prior_year``: shares of what each book sold in the same periods one season (a year)
  earlier;
* ``trailing_12m``: shares of what each book sold over the last season (twelve months)
  before the cutoff;
* ``equal_odds``: [`set_quotas`][alloc.targets.set_quotas] on a
  [`forecast`][alloc.targets.forecast] of the history before the cutoff;
* ``potential`` (on request): shares of a territory potential given per book.

Every method shares the same total (the sum of the forecast medians, the actual total
in hindsight, or a number), so the figures compare how the total is split: the share of
books reaching quota, the rank correlation of attainment with book size (a fair method
shows none), the spread (IQR) of attainment, and the coverage of the forecast's p10-p90
band.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import as_weights, check_unit, to_units
from alloc.targets.customer_base import check_model, simulate_books
from alloc.targets.forecasting import (
    BookHistory,
    book_periods,
    check_horizon,
    parse_freq,
    summarise,
)
from alloc.targets.odds import attain_probability, quantile_grid, set_quotas
from alloc.targets.shares import split
from alloc.validation import check_param, is_int, is_number

__all__ = ["ALL_METHODS", "METHODS", "BacktestTables", "backtest"]

#: The quota methods [`backtest`][alloc.targets.backtest] runs by default.
METHODS = ("even", "prior_year", "trailing_12m", "equal_odds")
#: Every method it knows: the defaults and ``potential`` (needs ``potential=``).
ALL_METHODS = (*METHODS, "potential")
#: Forecast levels kept for reading odds: dense, so that p_attain is read finely.
_LEVELS = (0.01, 0.025, *np.round(np.arange(0.05, 0.951, 0.05), 2), 0.975, 0.99)


class BacktestTables(NamedTuple):
    """What [`backtest`][alloc.targets.backtest] returns.

    Attributes
    ----------
    books : pandas.DataFrame
        One row per (method, book).
    summary : pandas.DataFrame
        One row per method.
    """

    books: pd.DataFrame
    summary: pd.DataFrame


def _check(
    methods: object, cutoff: object, horizon: object, offset: object, owner: str
) -> tuple[list[str], pd.Timestamp]:
    check_param("horizon", horizon, owner, is_int(horizon) and horizon >= 1, "an integer >= 1")  # type: ignore[operator]
    chosen = [methods] if isinstance(methods, str) else list(methods)  # type: ignore[call-overload]
    unknown = [m for m in chosen if m not in ALL_METHODS]
    if unknown or not chosen:
        raise InvalidParameterError(
            f"the 'methods' parameter of {owner} must name some of {', '.join(ALL_METHODS)}; "
            f"got {methods!r}."
        )
    try:
        when = pd.Timestamp(cutoff)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"the 'cutoff' parameter of {owner} must be a date; got {cutoff!r}."
        ) from exc
    if pd.isna(when) or not offset.is_on_offset(when):  # type: ignore[attr-defined]
        raise InvalidParameterError(
            f"the 'cutoff' parameter of {owner} must be a date that starts a period of the "
            f"frequency (e.g. the first of a month for 'MS'); got {cutoff!r}."
        )
    return list(dict.fromkeys(chosen)), when


def _actuals(
    history: pd.DataFrame,
    by: str,
    date: str,
    value: str,
    freq: str,
    fit: BookHistory,
    cutoff: pd.Timestamp,
    horizon: int,
    owner: str,
) -> tuple[pd.Series, int]:
    """What each fitted book sold over the horizon, and how many new books were left out."""
    offset = to_offset(freq)
    last_start = cutoff + (horizon - 1) * offset
    latest = pd.to_datetime(history[date]).max()
    if getattr(latest, "tzinfo", None) is not None:
        latest = latest.tz_localize(None)
    if latest < last_start:
        raise InvalidProblemError(
            f"the history of {owner} ends on {latest.date()}, before the horizon does: it "
            f"has no rows on or after {last_start.date()}, the start of the last of the "
            f"{horizon} periods from the cutoff {cutoff.date()}; move the cutoff back or "
            "shorten the horizon."
        )
    end = cutoff + horizon * offset
    after = book_periods(history, by, date, value, freq, owner, start=cutoff, end=end)
    sold = after.values.sum(axis=1)
    actual = pd.Series(sold, index=after.books).reindex(fit.books, fill_value=0.0)
    new = int(after.books.difference(fit.books).size)
    return actual, new


def _baseline_weights(fit: BookHistory, method: str, horizon: int) -> tuple[np.ndarray | None, str]:
    """Weights of a history method and a note (None and the reason when it cannot run)."""
    values = fit.values
    periods = values.shape[1]
    season = fit.season or 12
    if method == "even":
        return np.ones(values.shape[0]), ""
    if method == "trailing_12m":
        span = min(periods, season)
        note = "" if span == season else f"only {span} periods before the cutoff"
        return values[:, periods - span :].sum(axis=1), note
    # prior_year: the horizon's periods one season earlier
    if periods < season:
        return None, f"needs {season} periods before the cutoff, has {periods}"
    start = periods - season
    return values[:, start : start + horizon].sum(axis=1), ""


def _potential(potential: object, books: pd.Index, owner: str) -> np.ndarray | None:
    """The potential of every book, checked, or None when not given."""
    if potential is None:
        return None
    labels, values = as_weights(potential, "potential", owner)
    missing = books.difference(labels)
    if len(missing):
        raise InvalidProblemError(
            f"the 'potential' argument of {owner} has no value for the books "
            f"{format_ids(missing)}; give every book with history a potential (0 for none)."
        )
    return np.asarray(pd.Series(values, index=labels).reindex(books), dtype=np.float64)


def _quotas(
    method: str,
    fit: BookHistory,
    table: pd.DataFrame,
    total: float,
    unit: float,
    horizon: int,
    potential: np.ndarray | None,
) -> tuple[pd.Series | None, str]:
    if method == "equal_odds":
        return set_quotas(table, total, unit=unit)["quota"], ""
    if method == "potential":
        weights: np.ndarray | None = potential
        note = "" if potential is not None else "needs potential= (book -> potential)"
    else:
        weights, note = _baseline_weights(fit, method, horizon)
    if weights is None:
        return None, note
    clipped = np.maximum(weights, 0.0)
    if clipped.sum() <= 0:
        return None, "every book sold 0 in its window"
    return split(total, pd.Series(clipped, index=fit.books), unit=unit), note


def _total(total: object, table: pd.DataFrame, actual: pd.Series, unit: float, owner: str) -> float:
    if total is None or total == "forecast":
        raw = float(table["p50"].sum())
    elif total == "actual":
        raw = float(actual.sum())
    elif is_number(total):
        to_units(total, unit, "total", owner)
        return total  # type: ignore[return-value]
    else:
        raise InvalidParameterError(
            f"the 'total' parameter of {owner} must be None or 'forecast' (the sum of the "
            f"forecast medians), 'actual' (the total sold, in hindsight) or a number >= 0; "
            f"got {total!r}."
        )
    units = max(round(max(raw, 0.0) / float(unit)), 0)
    return units * unit if is_int(unit) else units * float(unit)


def backtest(
    history: pd.DataFrame,
    *,
    by: str,
    cutoff: object,
    horizon: int,
    methods: Sequence[str] = METHODS,
    date: str = "date",
    value: str = "amount",
    freq: str = "MS",
    total: object = None,
    unit: float = 1,
    seed: int = 0,
    potential: object = None,
    customer: str | None = None,
    model: str = "time_series",
) -> BacktestTables:
    """Quota methods side by side on real history.

    The history before ``cutoff`` is used to set quotas for the ``horizon`` periods that
    follow; each method's quotas are compared with what each book then sold. Books with
    no row before the cutoff are left out (their number is in ``summary.attrs["new_books"]``);
    ``summary.attrs["total_ratio"]`` is the total sold over the sum of the forecast
    medians (the miss every book shares), ``summary.attrs["total_pit"]`` the share of
    the forecast's draws of the total at or below the total sold (over many cutoffs a
    calibrated forecast gives these evenly between 0 and 1), and
    ``summary.attrs["total_method"]`` and ``["total_spread"]`` the level model of the
    total and the spread of its common shock, ``["share_scale"]`` the factor applied to the
    books' spread about their shares (calibrated at rolling origins inside the history),
    and ``["model"]``,
    ``["model_note"]`` and ``["model_errors"]`` the forecast model used and why.

    Parameters
    ----------
    history : pandas.DataFrame
        Transactions with a book column, a date column and a value column, covering the
        horizon after the cutoff.
    by, date, value, freq
        As for [`forecast`][alloc.targets.forecast].
    cutoff : date-like
        First day of the horizon; must start a period of ``freq``.
    horizon : int
        Periods after the cutoff the quotas cover; at most the periods before it.
    methods : sequence of str, default METHODS
        Some of ``"even"``, ``"prior_year"``, ``"trailing_12m"``, ``"equal_odds"`` (the
        default) and ``"potential"`` (shares of ``potential``).
    total : None, "forecast", "actual" or number, default None
        The total every method shares out: the sum of the forecast medians (None or
        ``"forecast"``), the total actually sold (``"actual"``, hindsight: it isolates
        the split from the forecast of the total), or a given amount. Rounded to ``unit``.
    unit : int or float, default 1
        Granularity of the quotas.
    seed : int, default 0
        Seed of the forecast's bootstrap.
    potential : mapping or Series, optional
        Territory potential per book, for the ``potential`` method; every book with
        history before the cutoff needs a value (books not in the history are ignored).

    Returns
    -------
    BacktestTables
        ``books``: indexed by (method, book) with ``quota``, ``actual``, ``attainment``
        (actual / quota; NaN for a quota of 0), ``reached`` (actual >= quota), ``size``
        (what the book sold before the cutoff), ``p_attain`` (the odds of that quota
        under the forecast), ``p10``, ``p90`` and ``in_band``. ``summary``: one row per
        method with ``books``, ``total``, ``share_reached``, ``mean_p_attain`` (the share
        the forecast expected to reach quota), ``corr_size`` (Spearman correlation of
        attainment with size), ``iqr_attainment``, ``median_attainment``,
        ``band_coverage`` (share of books whose actual lies in [p10, p90]),
        ``shifted_coverage`` (the same with every band multiplied by the actual total over
        the sum of the medians: the coverage once the miss all books share is taken
        out; a diagnostic in hindsight), ``note`` (why a method could not run, or
        what it fell back on), and ``reach_p10`` and ``reach_p90`` (the 10 % and 90 %
        quantiles of the share of books reaching quota over the forecast's draws: since
        books move together with the total, one back-test's ``share_reached`` can be far
        from ``mean_p_attain`` and still be as the forecast expects), and
        ``coverage_p10`` and ``coverage_p90`` (the same interval for ``band_coverage``:
        the share of books inside their bands over the forecast's draws). The band
        columns are given on the ``equal_odds`` row.

    Raises
    ------
    InvalidProblemError
        As for [`forecast`][alloc.targets.forecast]; or a history that stops before the end of
        the horizon.
    InvalidParameterError
        Unknown methods, a cutoff that is not a date at a period start, a bad total,
        unit, horizon or seed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from alloc.targets import backtest
    >>> rng = np.random.default_rng(0)
    >>> dates = pd.date_range("2023-01-01", periods=24, freq="MS")
    >>> sales = pd.DataFrame({"rep": np.repeat(["ann", "bob", "cid"], 24),
    ...                       "date": np.tile(dates, 3),
    ...                       "amount": rng.gamma(20, [[5], [10], [20]], (3, 24)).ravel()})
    >>> books, summary = backtest(sales, by="rep", cutoff="2024-07-01", horizon=6)
    >>> list(summary.index)
    ['even', 'prior_year', 'trailing_12m', 'equal_odds']
    """
    owner = "backtest"
    offset = parse_freq(freq, owner)
    chosen, when = _check(methods, cutoff, horizon, offset, owner)
    check_unit(unit, owner)
    check_param("seed", seed, owner, is_int(seed) and seed >= 0, "an integer >= 0")
    check_model(history, customer, model, owner)
    fit = book_periods(history, by, date, value, freq, owner, end=when)
    weights = _potential(potential, fit.books, owner)
    check_horizon(fit, int(horizon), owner)
    actual, new_books = _actuals(history, by, date, value, freq, fit, when, int(horizon), owner)
    sim, choice = simulate_books(
        history,
        fit,
        columns=(by, str(customer), date, value),
        horizon=int(horizon),
        offset=offset,
        seed=int(seed),
        model=model,
        owner=owner,
    )
    names = [f"p{x * 100:.10g}" for x in _LEVELS]
    table = summarise(fit, sim, list(_LEVELS), names, int(horizon))
    amount = _total(total, table, actual, unit, owner)
    grid = quantile_grid(table, owner)
    size = pd.Series(fit.values.sum(axis=1), index=fit.books)
    band = table[["p10", "p90"]]
    in_band = (actual >= band["p10"]) & (actual <= band["p90"])
    # The same band moved by the realised miss of the pooled total: whether the bands
    # are right about the books once the shock they all share is taken out.
    shift = float(actual.sum()) / float(table["p50"].sum()) if table["p50"].sum() > 0 else 1.0
    in_shifted = (actual >= shift * band["p10"]) & (actual <= shift * band["p90"])
    frames, rows = [], []
    for method in chosen:
        quota, note = _quotas(method, fit, table, amount, unit, int(horizon), weights)
        if quota is None:
            rows.append(_summary_row(method, None, None, note, in_band, in_shifted))
            continue
        frame = pd.DataFrame({"quota": quota, "actual": actual})
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["attainment"] = np.where(quota > 0, actual / quota.where(quota > 0), np.nan)
        frame["reached"] = actual >= quota
        frame["size"] = size
        frame["p_attain"] = attain_probability(grid, quota.to_numpy(dtype=np.float64))
        frame["p10"], frame["p90"], frame["in_band"] = band["p10"], band["p90"], in_band
        frames.append(pd.concat({method: frame}, names=["method"]))
        row = _summary_row(method, frame, amount, note, in_band, in_shifted)
        # The share of books reaching quota in each draw of the forecast: what the
        # forecast itself deems a plausible share (books move together through the total).
        reach = (sim.samples >= quota.to_numpy(dtype=np.float64)[:, None]).mean(axis=0)
        row["reach_p10"], row["reach_p90"] = np.quantile(reach, (0.1, 0.9)).tolist()
        if method == "equal_odds":
            row["coverage_p10"], row["coverage_p90"] = _coverage_interval(sim.samples, band)
        rows.append(row)
    books = pd.concat(frames) if frames else pd.DataFrame()
    summary = pd.DataFrame(rows).set_index("method")
    summary.attrs["new_books"] = new_books
    summary.attrs["total_ratio"] = shift
    summary.attrs["total_pit"] = float((sim.samples.sum(axis=0) <= actual.sum()).mean())
    summary.attrs["total_method"] = sim.total_method
    summary.attrs["total_spread"] = sim.total_spread
    summary.attrs["share_scale"] = sim.share_scale
    summary.attrs.update(model=choice.model, model_note=choice.note, model_errors=choice.errors)
    return BacktestTables(books, summary)


def _coverage_interval(samples: np.ndarray, band: pd.DataFrame) -> list[float]:
    """The forecast's own 80 % interval for the share of books inside their p10-p90 band.

    Each draw of the forecast, taken as what the books sold, puts some share of the books
    inside their bands; books move together through the total, so that share varies
    from draw to draw far more than independent books would let it.
    """
    low = band["p10"].to_numpy(dtype=np.float64)[:, None]
    high = band["p90"].to_numpy(dtype=np.float64)[:, None]
    inside = ((samples >= low) & (samples <= high)).mean(axis=0)
    return [float(x) for x in np.quantile(inside, (0.1, 0.9))]


def _summary_row(
    method: str,
    frame: pd.DataFrame | None,
    total: float | None,
    note: str,
    in_band: pd.Series,
    in_shifted: pd.Series,
) -> dict[str, object]:
    if frame is None:
        nan = float("nan")
        return {
            "method": method, "books": 0, "total": nan, "share_reached": nan,
            "mean_p_attain": nan, "corr_size": nan, "iqr_attainment": nan,
            "median_attainment": nan, "band_coverage": nan, "shifted_coverage": nan,
            "note": note, "reach_p10": nan, "reach_p90": nan, "coverage_p10": nan,
            "coverage_p90": nan,
        }  # fmt: skip
    attained = frame["attainment"].dropna()
    corr = (
        float(attained.corr(frame.loc[attained.index, "size"], method="spearman"))
        if attained.size > 2 and attained.nunique() > 1
        else float("nan")
    )
    zero = int((frame["quota"] == 0).sum())
    if zero:
        books = "1 book" if zero == 1 else f"{zero} books"
        note = "; ".join(x for x in (note, f"{books} with quota 0 (no attainment)") if x)
    return {
        "method": method,
        "books": int(frame.shape[0]),
        "total": total,
        "share_reached": float(frame["reached"].mean()),
        "mean_p_attain": float(frame["p_attain"].mean()),
        "corr_size": corr,
        "iqr_attainment": float(attained.quantile(0.75) - attained.quantile(0.25)),
        "median_attainment": float(attained.median()),
        "band_coverage": float(in_band.mean()) if method == "equal_odds" else float("nan"),
        "shifted_coverage": float(in_shifted.mean()) if method == "equal_odds" else float("nan"),
        "note": note,
    }
