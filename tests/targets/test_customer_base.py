"""Tests for alloc.targets.bgnbd and alloc.targets.customer_base: customer-base forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.stats import beta as beta_dist

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.targets import backtest, forecast
from alloc.targets.bgnbd import (
    _alive_counts,
    expected_purchases,
    fit_counts,
    fit_spend,
    p_alive,
)

TRUE_COUNTS = np.array([0.5, 6.0, 0.8, 3.0])  # r, alpha (weeks), a, b
TRUE_SPEND = np.array([6.0, 4.0, 15.0])  # p, q, gamma


def bgnbd_purchases(rng, n, weeks, params=TRUE_COUNTS):
    """Purchase times (weeks after the first purchase) of n customers over `weeks`."""
    r, alpha, a, b = params
    rate = rng.gamma(r, 1 / alpha, n)
    dropout = rng.beta(a, b, n)
    times = []
    for lam, p in zip(rate, dropout, strict=True):
        t, mine = 0.0, [0.0]
        while True:
            t += rng.exponential(1 / lam)
            if t >= weeks:
                break
            mine.append(t)
            if rng.random() < p:
                break
        times.append(mine)
    return times


def summaries(times, weeks):
    x = np.array([len(t) - 1 for t in times], dtype=float)
    t_x = np.array([t[-1] for t in times])
    return x, t_x, np.full(len(times), float(weeks))


def customer_sales(seed=0, customers=3000, books=10, weeks=104):
    """Transactions of a cohort acquired in the first 8 weeks, split into books."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-03")
    joined = rng.integers(0, 56, customers)
    times = bgnbd_purchases(rng, customers, weeks)
    nu = rng.gamma(TRUE_SPEND[1], 1 / TRUE_SPEND[2], customers)
    rows = []
    for i, mine in enumerate(times):
        for t in mine:
            day = start + pd.Timedelta(days=int(joined[i] + 7 * t))
            rows.append(
                (f"c{i:05d}", f"b{i % books:02d}", day, rng.gamma(TRUE_SPEND[0], 1 / nu[i]))
            )
    return pd.DataFrame(rows, columns=["customer_id", "book", "date", "amount"])


def test_bgnbd_fit_recovers_the_parameters_of_generated_customers():
    rng = np.random.default_rng(1)
    x, t_x, T = summaries(bgnbd_purchases(rng, 6000, 52), 52)
    fit = fit_counts(x, t_x, T)
    assert np.allclose(fit.params, TRUE_COUNTS, rtol=0.3)
    # the truth lies within 3 standard errors of the fit (observed information)
    se = np.sqrt(np.diag(fit.log_cov))
    assert np.all(np.abs(np.log(fit.params / TRUE_COUNTS)) < 3 * se + 0.05)


def test_gamma_gamma_fit_recovers_the_spend_parameters():
    rng = np.random.default_rng(2)
    n = rng.integers(1, 8, 5000).astype(float)
    nu = rng.gamma(TRUE_SPEND[1], 1 / TRUE_SPEND[2], n.size)
    totals = rng.gamma(TRUE_SPEND[0] * n, 1 / nu)
    fit = fit_spend(n, totals / n)
    p, q, scale = fit.params
    assert np.allclose([p, q], TRUE_SPEND[:2], rtol=0.25)
    # the mean spend per purchase p * gamma / (q - 1) is what the forecast uses
    truth = TRUE_SPEND[0] * TRUE_SPEND[2] / (TRUE_SPEND[1] - 1)
    assert p * scale / (q - 1) == pytest.approx(truth, rel=0.1)


@settings(max_examples=15, deadline=None)
@given(
    r=st.floats(0.1, 3),
    alpha=st.floats(0.5, 20),
    a=st.floats(0.2, 3).filter(lambda v: abs(v - 1) > 0.01),
    b=st.floats(0.5, 6),
    T=st.floats(1, 60),
    t=st.floats(1, 60),
)
def test_expected_purchases_of_a_new_customer_match_numerical_integration(r, alpha, a, b, T, t):
    # x = 0: always alive; E = int (1 - ((alpha+T)/(alpha+T+p t))^r) / p  Beta(p; a, b) dp
    def integrand(p):
        return (1 - ((alpha + T) / (alpha + T + p * t)) ** r) / p * beta_dist.pdf(p, a, b)

    truth = quad(integrand, 0, 1, limit=200)[0]
    zero = np.zeros(1)
    got = expected_purchases(np.array([r, alpha, a, b]), zero, zero, np.array([T]), t)[0]
    assert got == pytest.approx(truth, rel=1e-4, abs=1e-8)


def test_expected_purchases_of_repeat_customers_match_the_simulated_posterior():
    params = np.array([0.3, 5.0, 0.7, 2.5])
    x, t_x, T = np.array([1.0, 3.0, 8.0]), np.array([10.0, 30.0, 20.0]), np.full(3, 40.0)
    exact = expected_purchases(params, x, t_x, T, 26.0)
    rng = np.random.default_rng(3)
    draws = np.tile(params, (100_000, 1))
    alive = rng.random((draws.shape[0], 3)) < p_alive(draws, x, t_x, T)
    simulated = (alive * _alive_counts(rng, draws, x, T, 26.0)).mean(axis=0)
    assert np.allclose(exact, simulated, rtol=0.03)


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence():
    params = np.array([0.3, 5.0, 0.7, 2.5])
    alive = p_alive(params, np.array([0.0, 4.0, 4.0]), np.array([0.0, 39.0, 5.0]), np.full(3, 40.0))
    assert alive[0] == 1.0
    assert alive[1] > alive[2]


@pytest.fixture(scope="module")
def cohort():
    return customer_sales()


def test_customer_forecast_covers_what_the_cohort_then_sold(cohort):
    cutoff = pd.Timestamp("2023-01-01")
    fit = cohort[cohort["date"] < cutoff]
    fc = forecast(fit, by="book", customer="customer_id", horizon=6, model="customers")
    after = cohort[(cohort["date"] >= cutoff) & (cohort["date"] < "2023-07-01")]
    actual = after.groupby("book")["amount"].sum().reindex(fc.index, fill_value=0)
    assert fc.attrs["model"] == "customers"
    assert (fc["p10"] < fc["p50"]).all() and (fc["p50"] < fc["p90"]).all()
    assert ((actual >= fc["p10"]) & (actual <= fc["p90"])).mean() >= 0.7
    # the point forecast of the total is near what was sold (the process is BG/NBD)
    assert fc["forecast"].sum() == pytest.approx(actual.sum(), rel=0.15)
    r, _alpha, a, b = fc.attrs["model_params"]["bgnbd"]
    assert np.allclose([r, a, b], TRUE_COUNTS[[0, 2, 3]], rtol=0.4)


def test_auto_picks_customers_for_a_decaying_cohort(cohort):
    fit = cohort[cohort["date"] < "2023-01-01"]
    fc = forecast(fit, by="book", customer="customer_id", horizon=3, model="auto")
    assert fc.attrs["model"] == "customers"
    errors = fc.attrs["model_errors"]
    assert errors["customers"] < errors["time_series"]


def test_auto_falls_back_to_the_time_series_with_one_customer_per_book():
    dates = pd.date_range("2023-01-01", periods=18, freq="MS")
    rng = np.random.default_rng(4)
    sales = pd.DataFrame(
        {
            "shop": np.repeat([f"s{i}" for i in range(6)], 18),
            "date": np.tile(dates, 6),
            "amount": rng.gamma(10, 100, 108),
        }
    )
    fc = forecast(sales, by="shop", customer="shop", horizon=3, model="auto")
    assert fc.attrs["model"] == "time_series"
    assert "customers" in fc.attrs["model_note"]
    plain = forecast(sales, by="shop", horizon=3)
    pd.testing.assert_frame_equal(fc[["p10", "p50", "p90"]], plain[["p10", "p50", "p90"]])


def test_backtest_with_the_customer_model_shares_out_the_total_exactly(cohort):
    books, summary = backtest(
        cohort, by="book", customer="customer_id", cutoff="2023-01-01", horizon=3,
        model="customers", total=100_000,
    )  # fmt: skip
    quotas = books.groupby(level="method")["quota"].sum()
    assert (quotas == 100_000).all()
    assert summary.attrs["model"] == "customers"
    assert 0 <= summary.loc["equal_odds", "band_coverage"] <= 1


def test_bad_customer_input_is_named(cohort):
    with pytest.raises(InvalidProblemError, match="customer='client'"):
        forecast(cohort, by="book", customer="client", horizon=3, model="customers")
    holes = cohort.assign(customer_id=cohort["customer_id"].where(cohort.index != 5))
    with pytest.raises(InvalidProblemError, match=r"'customer_id' column .* rows 5"):
        forecast(holes, by="book", customer="customer_id", horizon=3, model="customers")
    with pytest.raises(InvalidParameterError, match="'customer' parameter"):
        forecast(cohort, by="book", horizon=3, model="customers")
    with pytest.raises(InvalidParameterError, match="'model' parameter"):
        forecast(cohort, by="book", customer="customer_id", horizon=3, model="bgnbd")
    few = cohort[cohort["customer_id"].isin(cohort["customer_id"].unique()[:5])]
    with pytest.raises(InvalidProblemError, match="too few"):
        forecast(few, by="book", customer="customer_id", horizon=3, model="customers")


def test_customer_forecast_handles_refunds_shared_customers_and_a_tree(cohort):
    fit = cohort[cohort["date"] < "2023-01-01"].reset_index(drop=True)
    # a refund, and one customer buying under a second book too
    extra = pd.DataFrame(
        {
            "customer_id": [fit.loc[0, "customer_id"], fit.loc[1, "customer_id"]],
            "book": [fit.loc[0, "book"], "b09" if fit.loc[1, "book"] != "b09" else "b08"],
            "date": [pd.Timestamp("2022-12-01"), pd.Timestamp("2022-12-02")],
            "amount": [-30.0, 50.0],
        }
    )
    history = pd.concat([fit, extra], ignore_index=True)
    before = history.copy()
    books = sorted(history["book"].unique())
    tree = pd.DataFrame({"parent": ["all"] * len(books), "child": books})
    fc = forecast(history, by="book", customer="customer_id", horizon=3, model="customers",
                  tree=tree)  # fmt: skip
    pd.testing.assert_frame_equal(history, before)
    assert fc.index[0] == "all"
    leaves = fc.drop(index="all")
    assert fc.loc["all", "forecast"] == pytest.approx(leaves["forecast"].sum())
    # the root's band is that of the sum of joint draws: inside the sums of the leaves'
    assert leaves["p10"].sum() <= fc.loc["all", "p10"] <= fc.loc["all", "p90"]
    assert fc.loc["all", "p90"] <= leaves["p90"].sum()


def test_customers_who_never_came_back_still_get_a_spend():
    rng = np.random.default_rng(5)
    n = 400
    sales = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "book": [f"b{i % 4}" for i in range(n)],
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 180, n), "D"),
            "amount": rng.gamma(4, 10, n),
        }
    )
    fc = forecast(sales, by="book", customer="customer_id", horizon=2, model="customers")
    # one purchase each: the model expects few repeat purchases, but not a spend of 0
    assert (fc["forecast"] > 0).all()


def test_a_few_dozen_customers_with_a_flat_likelihood_still_draw_valid_futures():
    # 30 bike shops as the customers of 21 states: at the back-test origins the BG/NBD
    # likelihood is nearly flat, its covariance huge; parameter draws used to underflow
    # to a dropout parameter of 0 and stop the forecast with a numpy error.
    from alloc.datasets import load_bike_sales

    sales = load_bike_sales()
    _, summary = backtest(
        sales, by="state", date="order_date", value="total_price", customer="bikeshop_name",
        cutoff="2011-10-01", horizon=3, model="customers",
    )  # fmt: skip
    assert summary.attrs["model"] == "customers"
    assert 0 <= summary.loc["equal_odds", "band_coverage"] <= 1


def test_parameter_draws_stay_in_the_fitted_box_whatever_the_covariance():
    from alloc.targets.bgnbd import LOG_BOUND, CountFit
    from alloc.targets.customer_base import _parameter_draws

    fit = CountFit(np.array([0.5, 5.0, 1e-5, 2.0]), np.eye(4) * 1e6, 0.0)
    drawn = _parameter_draws(np.random.default_rng(0), fit, 1_000)
    assert np.isfinite(drawn).all() and (drawn > 0).all()
    assert (np.abs(np.log(drawn)) <= LOG_BOUND + 1e-9).all()
