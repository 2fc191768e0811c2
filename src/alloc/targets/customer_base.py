"""Forecast books from their customers: BG/NBD + Gamma-Gamma, and the choice of model.

A book made of a fixed set of customers (a cohort) sells less every month as customers
drop out; a level or trend fitted to the book's totals cannot see that coming. The
customer-base model looks at each customer instead:

* **Per customer** (per book and customer: a customer who buys under two books counts in
  each), from the purchases before the cutoff: repeat purchase occasions ``x`` (distinct
  days after the first), the time of the last one ``t_x`` and the customer's age ``T``
  (weeks since the first purchase), and the count and mean value of the repeat
  occasions with a positive value (the first, trial purchase and refunds are left out
  of the spend model, unless no customer came back; a customer without one gets the
  pool's spend).
* **Fit**: the four BG/NBD parameters and the three Gamma-Gamma parameters by maximum
  likelihood over all customers (see [`alloc.targets.bgnbd`][alloc.targets.bgnbd]).
* **Point forecast** per book: the sum over its customers of the expected purchases
  over the horizon times the expected spend per purchase.
* **Draws** (``DRAWS`` per forecast): the parameters are drawn from the normal
  approximation of their likelihood (observed information, in log-parameters); then
  each customer is drawn alive or not, their purchases over the horizon and what they
  spend, all from the posterior given what they did. A book's draw is the sum of its
  customers'. p10/p50/p90 and the odds of a quota all come from these draws.
* **Books' spread**: at the same origins the model draws each book's total
  (``CAL_DRAWS`` draws) and the books' spread about their shares of the total is scaled
  so that 80 % of what the books then sold falls inside the p10-p90 bands of their
  shares ([`alloc.targets.calibration`][alloc.targets.calibration]).
* **Shared miss**: the customers' draws are independent, so they say nothing about the
  model being wrong for every customer at once. As for the time-series total, the
  model is re-fitted at the latest ``ORIGINS`` rolling origins inside the history that
  have a full horizon after them (never the periods being forecast); the log ratio of
  what the books sold to its forecast total gives one common log-normal shock per draw
  ([`common_spread`][alloc.targets.pooled_total.common_spread]).
* **Choice** (``model="auto"``): at the same origins the time-series forecast of each
  book is compared with the customer-base one by the weighted absolute percentage
  error over the books (sum of |actual - forecast| over the sum of actual), and the
  smaller mean error wins. With fewer than ``MIN_CUSTOMERS`` customers, a median below
  ``MIN_PER_BOOK`` customers per book (few, repeat buyers: B2B accounts) or no room for
  an origin, the time-series model is used and the reason is noted.

Internal to alloc: [`forecast`][alloc.targets.forecast] and
[`backtest`][alloc.targets.backtest] call
[`simulate_books`][alloc.targets.customer_base.simulate_books].
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.bgnbd import (
    LOG_BOUND,
    expected_purchases,
    fit_counts,
    fit_spend,
    simulate_customers,
)
from alloc.targets.calibration import (
    calibrated_totals,
    conformal_scale,
    rescale_shares,
    share_scores,
)
from alloc.targets.forecasting import BookHistory, Simulation, simulate_totals
from alloc.targets.pooled_total import common_spread

__all__ = [
    "MODELS",
    "Choice",
    "CustomerData",
    "check_model",
    "customer_data",
    "simulate_books",
]

FloatArray = npt.NDArray[np.float64]

#: Forecast models: the books' time series, their customers, or the better in back-test.
MODELS = ("time_series", "customers", "auto")
#: Draws of the customer-base forecast (each customer is drawn every time).
DRAWS = 500
#: Draws at each back-test origin, to calibrate the books' spread about their shares.
CAL_DRAWS = 200
#: Customer-draws simulated at once (memory: about ten float arrays of this size).
CHUNK_CELLS = 1_000_000
#: Rolling origins inside the history for the shared miss and the choice of model.
ORIGINS = 3
#: Periods an origin needs before it.
MIN_FIT = 3
#: ``auto`` needs this many customers in all ...
MIN_CUSTOMERS = 100
#: ... and this median number of customers per book; ``customers`` needs MIN_FIT_UNITS.
MIN_PER_BOOK = 10
MIN_FIT_UNITS = 20
WEEK = pd.Timedelta(days=7)


class CustomerData(NamedTuple):
    """Per (book, customer): row of the book and the summaries the models need."""

    book: npt.NDArray[np.int64]
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    n: FloatArray
    mean: FloatArray

    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        return self.x, self.t_x, self.T, self.n, self.mean


class Choice(NamedTuple):
    """The model used and why: ``errors`` maps model -> mean back-test error (WAPE)."""

    model: str
    note: str
    errors: dict[str, float]
    params: dict[str, list[float]]


def check_model(history: object, customer: object, model: object, owner: str) -> None:
    """Check ``model`` and ``customer`` before any work."""
    if model not in MODELS:
        raise InvalidParameterError(
            f"the 'model' parameter of {owner} must be one of {', '.join(map(repr, MODELS))}; "
            f"got {model!r}."
        )
    if model == "time_series" and customer is None:
        return
    if customer is None:
        raise InvalidParameterError(
            f"the 'model' parameter of {owner} is {model!r}, which needs the 'customer' "
            "parameter: the column naming each row's customer."
        )
    if isinstance(history, pd.DataFrame) and (
        not isinstance(customer, str) or customer not in history.columns
    ):
        raise InvalidProblemError(
            f"the history of {owner} has no column for customer={customer!r}; available "
            f"columns: {format_ids(history.columns, limit=12)}."
        )


def customer_data(
    history: pd.DataFrame,
    columns: tuple[str, str, str, str],
    books: pd.Index,
    end: pd.Timestamp,
    owner: str,
) -> CustomerData:
    """Each (book, customer)'s purchase summary from the rows before ``end``.

    ``columns`` is ``(by, customer, date, value)``; the rows were checked by the caller
    (dates parse, values are numbers, books are known) except for the customer ids.
    """
    by, customer, date, value = columns
    ids = history[customer]
    bad = ids.isna().to_numpy()
    if bad.any():
        raise InvalidProblemError(
            f"the {customer!r} column of {owner}'s history is missing in rows "
            f"{format_ids(history.index[bad])}; give every row a customer."
        )
    days = pd.to_datetime(history[date])
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_localize(None)
    frame = pd.DataFrame(
        {
            "book": books.get_indexer(pd.Index(history[by])),
            "customer": ids.to_numpy(),
            "day": days.dt.normalize().to_numpy(),
            "value": pd.to_numeric(history[value]).to_numpy(dtype=np.float64),
        }
    )
    frame = frame[(frame["day"] < end) & (frame["book"] >= 0)]
    occasions = frame.groupby(["book", "customer", "day"], sort=False)["value"].sum().reset_index()
    group = occasions.groupby(["book", "customer"], sort=False)
    first, last = group["day"].min(), group["day"].max()
    # Spend from repeat occasions only, as in Fader, Hardie & Lee: a first (trial)
    # purchase is often smaller than what the customer spends once they come back.
    repeat = (
        occasions["day"].to_numpy()
        > first.reindex(pd.MultiIndex.from_frame(occasions[["book", "customer"]])).to_numpy()
    )
    paid = (occasions["value"] > 0).to_numpy()
    # Nobody came back with a positive purchase: the first purchases are all there is.
    use = paid & repeat if (paid & repeat).any() else paid
    positive = occasions["value"].where(use)
    spend = positive.groupby([occasions["book"], occasions["customer"]], sort=False)
    n = np.asarray(spend.count().reindex(first.index), dtype=np.float64)
    mean = spend.mean().reindex(first.index).fillna(0.0).to_numpy(dtype=np.float64)
    week = WEEK.total_seconds()
    return CustomerData(
        book=first.index.get_level_values("book").to_numpy(dtype=np.int64),
        x=np.asarray(group["day"].size() - 1, dtype=np.float64),
        t_x=np.asarray((last - first).dt.total_seconds() / week, dtype=np.float64),
        T=np.asarray((end - first).dt.total_seconds() / week, dtype=np.float64),
        n=n,
        mean=mean,
    )


class _Fitted(NamedTuple):
    counts: Any
    spend: Any
    data: CustomerData


def _fit(data: CustomerData) -> _Fitted:
    return _Fitted(fit_counts(data.x, data.t_x, data.T), fit_spend(data.n, data.mean), data)


def _spend_per_purchase(fitted: _Fitted) -> FloatArray:
    """Posterior mean spend per purchase of each customer (pooled mean when undefined)."""
    p, q, scale = fitted.spend.params
    n, mean = fitted.data.n, fitted.data.mean
    shape = p * n + q - 1
    pooled = float(mean[n > 0].mean()) if (n > 0).any() else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = p * (scale + n * mean) / shape
    return np.where(shape > 0, value, pooled)


def _points(fitted: _Fitted, n_books: int, weeks: float) -> FloatArray:
    """Expected value per book over the next ``weeks``."""
    data = fitted.data
    purchases = expected_purchases(fitted.counts.params, data.x, data.t_x, data.T, weeks)
    value = purchases * _spend_per_purchase(fitted)
    return np.bincount(data.book, weights=value, minlength=n_books).astype(np.float64)


def _parameter_draws(rng: np.random.Generator, fit: Any, draws: int) -> FloatArray:
    """Parameters drawn from the normal approximation of their log-likelihood.

    The draws are kept in the box the fit searched: a flat likelihood (a few dozen
    customers) has a huge covariance, whose draws would otherwise underflow to
    parameters of 0 or overflow to infinity.
    """
    theta = np.log(fit.params)
    noise = rng.multivariate_normal(np.zeros(theta.size), fit.log_cov, size=draws)
    drawn = np.clip(theta[None, :] + noise, -LOG_BOUND, LOG_BOUND)
    return np.asarray(np.exp(drawn), dtype=np.float64)


def _draws(
    fitted: _Fitted, n_books: int, weeks: float, rng: np.random.Generator, draws: int = DRAWS
) -> FloatArray:
    """Draws of each book's value over the next ``weeks``, shape (books, draws)."""
    data = fitted.data
    counts = _parameter_draws(rng, fitted.counts, draws)
    spend = _parameter_draws(rng, fitted.spend, draws)
    member = sparse.csr_matrix(
        (np.ones(data.book.size), (np.arange(data.book.size), data.book)),
        shape=(data.book.size, n_books),
    )
    out = np.empty((draws, n_books))
    chunk = max(1, CHUNK_CELLS // max(data.book.size, 1))
    for lo in range(0, draws, chunk):
        hi = min(lo + chunk, draws)
        values = simulate_customers(rng, counts[lo:hi], spend[lo:hi], data.arrays(), weeks)
        out[lo:hi] = np.asarray(member.T @ values.T).T
    return out.T


def _weeks(starts: pd.DatetimeIndex, origin: int, horizon: int, offset: Any) -> float:
    return float((starts[origin] + horizon * offset - starts[origin]) / WEEK)


def _origins(periods: int, horizon: int) -> list[tuple[int, int]]:
    """The latest ORIGINS origins (period index, periods ahead) with a full horizon after.

    Full horizons, so that the errors are over as many periods as the forecast (one
    month's total carries seasonal swings the customer model does not describe); the
    latest, so that the customer base is as near as possible to the one forecast.
    """
    last = periods - horizon
    return [(t, horizon) for t in range(last, max(MIN_FIT, last - ORIGINS + 1) - 1, -1)]


class _Origin(NamedTuple):
    """The customer model fitted at a back-test origin, and what the books then sold."""

    fitted: _Fitted
    weeks: float
    actual: FloatArray
    known: npt.NDArray[np.bool_]


def _back_test(
    history: pd.DataFrame,
    columns: tuple[str, str, str, str],
    books: BookHistory,
    horizon: int,
    offset: Any,
    time_series: bool,
    owner: str,
) -> tuple[list[float], dict[str, list[float]], list[_Origin]]:
    """Log errors of the customer model's total and both models' WAPE at each origin.

    Also returns the fitted model at each origin, for calibrating the books' spread.
    """
    log_errors: list[float] = []
    wape: dict[str, list[float]] = {"customers": [], "time_series": []}
    fits: list[_Origin] = []
    for origin, ahead in _origins(books.values.shape[1], horizon):
        actual = books.values[:, origin : origin + ahead].sum(axis=1)
        data = customer_data(history, columns, books.books, books.starts[origin], owner)
        if data.x.size < MIN_FIT_UNITS or actual.sum() <= 0:
            continue
        weeks = _weeks(books.starts, origin, ahead, offset)
        fitted = _fit(data)
        point = _points(fitted, len(books.books), weeks)
        known = (books.values[:, :origin] != 0).any(axis=1)
        fits.append(_Origin(fitted, weeks, actual, known))
        if point.sum() > 0:
            log_errors.append(float(np.log(actual.sum() / point.sum())))
        wape["customers"].append(float(np.abs(actual - point).sum() / actual.sum()))
        if time_series:
            inner = BookHistory(
                books.books, books.values[:, :origin], books.starts[: origin + 1], books.season
            )
            ts_point = simulate_totals(inner, ahead, 0).point
            wape["time_series"].append(float(np.abs(actual - ts_point).sum() / actual.sum()))
    return log_errors, wape, fits


def _share_scale(origins: list[_Origin], n_books: int, rng: np.random.Generator) -> float:
    """Conformal scale of the books' spread about their shares, from the origins' draws."""
    scores = [
        share_scores(_draws(o.fitted, n_books, o.weeks, rng, CAL_DRAWS), o.actual, o.known)
        for o in origins
    ]
    return conformal_scale(np.concatenate(scores)) if scores else 1.0


def _too_few(data: CustomerData, n_books: int) -> str:
    """Why ``auto`` should not use the customer model, or ''."""
    per_book = np.bincount(data.book, minlength=n_books)
    if data.x.size < MIN_CUSTOMERS:
        return f"{data.x.size} customers, fewer than {MIN_CUSTOMERS}"
    if np.median(per_book) < MIN_PER_BOOK:
        return f"a median of {np.median(per_book):g} customers per book, fewer than {MIN_PER_BOOK}"
    return ""


def simulate_books(
    history: pd.DataFrame,
    books: BookHistory,
    *,
    columns: tuple[str, str, str, str],
    horizon: int,
    offset: Any,
    seed: int,
    model: str,
    owner: str,
) -> tuple[Simulation, Choice]:
    """Draws of each book's total over the horizon from the model asked for (or chosen).

    ``columns`` is ``(by, customer, date, value)`` (customer None for the time series);
    ``books`` the per-period values before the end of the history used.
    """
    n_books, end = len(books.books), books.starts[-1]
    if model == "time_series":
        return calibrated_totals(books, horizon, seed), Choice("time_series", "", {}, {})
    data = customer_data(history, columns, books.books, end, owner)
    if model == "customers" and data.x.size < MIN_FIT_UNITS:
        raise InvalidProblemError(
            f"the history of {owner} has {data.x.size} customers before {end.date()}, too few "
            f"to fit the customer-base model (at least {MIN_FIT_UNITS}); use "
            "model='time_series' or 'auto'."
        )
    reason = _too_few(data, n_books) if model == "auto" else ""
    if reason:
        return calibrated_totals(books, horizon, seed), Choice("time_series", reason, {}, {})
    log_errors, wape, origins = _back_test(
        history, columns, books, horizon, offset, model == "auto", owner
    )
    errors = {name: float(np.mean(v)) for name, v in wape.items() if v}
    if model == "auto":
        if "customers" not in errors or "time_series" not in errors:
            note = "no room for a back-test origin inside the history"
            return calibrated_totals(books, horizon, seed), Choice("time_series", note, errors, {})
        if errors["time_series"] <= errors["customers"]:
            note = "smaller back-test error"
            return calibrated_totals(books, horizon, seed), Choice("time_series", note, errors, {})
    fitted = _fit(data)
    rng = np.random.default_rng(seed)
    weeks = _weeks(books.starts, len(books.starts) - 1, horizon, offset)
    scale = _share_scale(origins, n_books, rng)
    samples = rescale_shares(_draws(fitted, n_books, weeks, rng), scale)
    totals = samples.sum(axis=0)
    own = float(np.std(np.log(totals[totals > 0]))) if (totals > 0).sum() > 1 else 0.0
    spread = common_spread(np.asarray(log_errors), own)
    # The customers' draws already hold their own spread of the total; the shock adds
    # what the origins show beyond it (the shared miss), never less than nothing.
    extra = float(np.sqrt(max(spread**2 - own**2, 0.0)))
    samples = samples * np.exp(extra * rng.standard_normal(samples.shape[1]))[None, :]
    params = {
        "bgnbd": fitted.counts.params.tolist(),
        "gamma_gamma": fitted.spend.params.tolist(),
    }
    note = "smaller back-test error" if model == "auto" else ""
    point = _points(fitted, n_books, weeks)
    sim = Simulation(samples, point, "customers", spread, len(log_errors), scale, len(origins))
    return sim, Choice("customers", note, errors, params)
