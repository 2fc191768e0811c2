"""Tests for alloc.targets.calibration: conformal scaling of the books' spread about shares."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.targets import forecast
from alloc.targets.calibration import (
    CAL_ORIGINS,
    COVERAGE,
    MIN_SCORES,
    SCALE_BOUNDS,
    calibrated_totals,
    calibration_origins,
    conformal_scale,
    rescale_shares,
    share_scores,
)
from alloc.targets.forecasting import BookHistory


def _history(values: np.ndarray) -> BookHistory:
    starts = pd.date_range("2022-01-01", periods=values.shape[1] + 1, freq="MS")
    books = pd.Index([f"b{i:02d}" for i in range(values.shape[0])], name="rep")
    return BookHistory(books, values, starts, 0)


def test_conformal_scale_is_the_finite_sample_quantile_and_needs_enough_scores():
    scores = np.arange(1, 40, dtype=np.float64) / 10  # 0.1 .. 3.9, n = 39
    rank = math.ceil(40 * COVERAGE)  # the 32nd smallest
    assert conformal_scale(scores) == pytest.approx(rank / 10)
    assert conformal_scale(scores[: MIN_SCORES - 1]) == 1.0
    assert conformal_scale(np.full(30, np.inf)) == SCALE_BOUNDS[1]
    assert conformal_scale(np.zeros(30)) == SCALE_BOUNDS[0]


def test_calibration_origins_prefer_full_horizons_inside_the_history():
    assert calibration_origins(24, 6, 3) == [(18, 6), (17, 6), (16, 6), (15, 6)][:CAL_ORIGINS]
    # 6 periods, horizon 6: no full horizon fits, so later origins look fewer periods ahead,
    # never more than the periods before them.
    assert calibration_origins(6, 6, 3) == [(3, 3), (4, 2), (5, 1)]
    assert all(t + ahead <= 9 and ahead <= t for t, ahead in calibration_origins(9, 3, 3))


def test_share_scores_put_an_actual_share_on_the_band_edge_at_one_and_the_median_at_zero():
    rng = np.random.default_rng(0)
    first = rng.gamma(50.0, 1.0, 4001)
    second = rng.gamma(80.0, 1.0, 4001)
    # a third book never sold before the origin: left out, whatever it sells after
    samples = np.vstack([first, second, np.zeros(4001)])
    share = first / (first + second)
    high, middle = np.quantile(share, (0.9, 0.5))
    edge = share_scores(samples, np.array([high, 1 - high, 5.0]), np.array([True, True, False]))
    np.testing.assert_allclose(edge, [1.0, 1.0])
    centre = share_scores(
        samples, np.array([middle, 1 - middle, 0.0]), np.array([True, True, False])
    )
    np.testing.assert_allclose(centre, [0.0, 0.0], atol=1e-12)
    # a band of zero width that the actual share leaves cannot be scaled to hold it
    flat = np.vstack([np.ones(10), np.ones(10), np.zeros(10)])
    off = share_scores(flat, np.array([1.0, 3.0, 1.0]), np.array([True, True, True]))
    assert np.isinf(off).all() and off.size == 3


def test_rescale_shares_keeps_each_draws_total_and_widens_the_share_bands():
    rng = np.random.default_rng(1)
    samples = rng.gamma(20.0, 1.0, (30, 3000)) * rng.lognormal(0, 0.5, 30)[:, None]
    wide = rescale_shares(samples, 1.5)
    narrow = rescale_shares(samples, 0.5)
    np.testing.assert_allclose(wide.sum(axis=0), samples.sum(axis=0))
    np.testing.assert_allclose(narrow.sum(axis=0), samples.sum(axis=0))
    assert (wide >= 0).all()

    def width(x: np.ndarray) -> np.ndarray:
        shares = x / x.sum(axis=0)
        low, high = np.quantile(shares, (0.1, 0.9), axis=1)
        return np.asarray(high - low)

    np.testing.assert_allclose(width(wide) / width(samples), 1.5, rtol=0.1)
    np.testing.assert_allclose(width(narrow) / width(samples), 0.5, rtol=0.1)
    assert rescale_shares(samples, 1.0) is samples


def test_books_whose_shares_drift_get_wider_bands_than_books_with_steady_shares():
    # Steady shares with independent monthly noise are what the bootstrap assumes: the
    # scale stays near 1. Shares that wander (a log random walk) spread further over six
    # months than resampled residuals say, and the origins inside the history show it.
    for seed in range(3):
        rng = np.random.default_rng(seed)
        sizes = rng.lognormal(0, 0.5, 40)[:, None] * 100
        noise = rng.gamma(4.0, 0.25, (40, 24))
        steady = calibrated_totals(_history(sizes * noise), 6, 0)
        walk = np.exp(np.cumsum(rng.normal(0, 0.15, (40, 24)), axis=1))
        drifting = calibrated_totals(_history(sizes * walk * noise), 6, 0)
        assert 0.75 <= steady.share_scale <= 1.5
        assert drifting.share_scale > 1.4
        assert drifting.share_scale > steady.share_scale
        assert steady.share_origins == CAL_ORIGINS


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.3, 3.0), seed=st.integers(0, 10_000))
def test_rescaled_draws_are_never_negative_and_keep_every_total(scale, seed):
    rng = np.random.default_rng(seed)
    samples = rng.gamma(0.5, 1.0, (8, 200)) * (rng.random((8, 200)) < 0.6)
    out = rescale_shares(samples, scale)
    assert (out >= 0).all()
    np.testing.assert_allclose(out.sum(axis=0), samples.sum(axis=0), rtol=1e-9, atol=1e-12)


def test_forecast_reports_the_share_scale():
    dates = pd.date_range("2022-01-01", periods=24, freq="MS")
    rng = np.random.default_rng(3)
    sales = pd.DataFrame(
        {
            "rep": np.repeat([f"r{i}" for i in range(10)], 24),
            "date": np.tile(dates, 10),
            "amount": rng.gamma(4.0, 25.0, 240),
        }
    )
    fc = forecast(sales, by="rep", horizon=6)
    assert SCALE_BOUNDS[0] <= fc.attrs["share_scale"] <= SCALE_BOUNDS[1]
