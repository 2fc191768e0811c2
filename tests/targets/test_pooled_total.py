"""Tests for alloc.targets.pooled_total: the pooled total's level model and common shock."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.targets import forecast
from alloc.targets.forecasting import book_periods, simulate_totals
from alloc.targets.pooled_total import (
    CANDIDATES,
    MIN_TRAIN,
    choose_total_model,
    common_spread,
    origin_errors,
    project,
)


def test_a_steadily_decaying_total_is_forecast_lower_than_its_window_mean():
    # 5 % less every period, little noise: the flat window mean overshoots at every
    # origin, so a model that follows the decay is chosen and forecasts less.
    rng = np.random.default_rng(1)
    series = 1_000 * 0.95 ** np.arange(18) * rng.lognormal(0, 0.01, 18)
    model = choose_total_model(series, 6, 6)
    assert model.method != "flat"
    assert model.scores[model.method] < model.scores["flat"]
    assert model.path.sum() < project("flat", series, 6, 6).sum()
    assert (origin_errors("flat", series, 6, 6) < 0).all()


def test_a_level_that_moved_lately_chooses_a_recent_model():
    series = np.r_[np.full(10, 100.0), np.full(8, 200.0)]
    model = choose_total_model(series, 3, 6)
    assert model.method in ("recent", "damped", "damped_long")
    assert model.scores[model.method] < model.scores["flat"]


def test_a_flat_noisy_total_keeps_the_simplest_model_on_ties():
    series = np.full(12, 50.0)
    model = choose_total_model(series, 3, 6)
    assert model.method == "flat"
    assert all(model.scores[m] == 0 for m in CANDIDATES)
    np.testing.assert_allclose(model.path, 50.0)


def test_a_history_without_origins_keeps_the_bootstrap_spread():
    series = np.array([10.0, 12.0, 11.0])
    model = choose_total_model(series, 2, 6)
    assert model.errors.size == 0 and model.method == "damped"
    assert all(math.isnan(v) for v in model.scores.values())
    assert common_spread(model.errors, 0.3) == 0.3


def test_common_spread_is_robust_to_a_few_start_up_origins():
    steady = np.array([0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1])
    start_up = np.r_[[-1.5, -1.2], steady]
    assert common_spread(start_up, 0.1) < 0.25
    # all origins large: the spread is large too
    assert common_spread(np.full(7, 0.8), 0.1) > 0.6


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(1.0, 1e6), min_size=MIN_TRAIN + 1, max_size=30),
    st.integers(1, 6),
)
def test_every_candidate_forecasts_a_positive_series_positively(values, horizon):
    series = np.asarray(values)
    for method in CANDIDATES:
        path = project(method, series, horizon, 6)
        assert path.shape == (horizon,) and (path > 0).all()
    errors = origin_errors("flat", series, horizon, 6)
    assert errors.size == series.size - MIN_TRAIN and np.isfinite(errors).all()
    model = choose_total_model(series, horizon, 6)
    assert model.method in CANDIDATES and common_spread(model.errors, 0.0) >= 0


def _books_with_a_shared_shock(seed: int = 0) -> pd.DataFrame:
    """Twenty books whose months all move with one common factor of +-30 %."""
    rng = np.random.default_rng(seed)
    months = 24
    common = rng.lognormal(0, 0.3, months)
    dates = pd.date_range("2022-01-01", periods=months, freq="MS")
    rows = []
    for b in range(20):
        amounts = 100 * (1 + b) * common * rng.lognormal(0, 0.05, months)
        rows += [
            {"rep": f"r{b:02d}", "date": d, "amount": a}
            for d, a in zip(dates, amounts, strict=True)
        ]
    return pd.DataFrame(rows)


def test_a_shared_shock_widens_every_band_and_is_reported():
    fc = forecast(_books_with_a_shared_shock(), by="rep", horizon=3)
    width = (fc["p90"] - fc["p10"]) / fc["p50"]
    # books with 5 % own noise: the bands are as wide as the total's (+-30 % a month)
    assert (width > 0.3).all()
    assert fc.attrs["total_method"] in CANDIDATES
    assert fc.attrs["total_spread"] > 0.1 and fc.attrs["origins"] > 0


def test_books_move_together_in_the_draws():
    sales = _books_with_a_shared_shock()
    sim = simulate_totals(book_periods(sales, "rep", "date", "amount", "MS", "test"), 3, 0)
    corr = np.corrcoef(sim.samples)[np.triu_indices(20, 1)]
    # 5 % own noise against a common shock of about 30 %: draws are strongly correlated
    assert corr.mean() > 0.5
    assert np.isclose(sim.point.sum(), float(np.median(sim.samples.sum(axis=0))), rtol=0.05)


def test_common_spread_grows_with_the_seasonal_indices_fitted_on_the_history():
    errors = np.array([0.05, -0.05, 0.05, -0.05])
    plain = common_spread(errors, 0.0)
    # 12 indices fitted on 24 periods absorbed half of the degrees of freedom
    assert common_spread(errors, 0.0, 0.5) == pytest.approx(plain * math.sqrt(2))
    assert common_spread(errors, 0.0, 0.0) == plain
