"""Bid prices: the LP duals price a full rep at the value its next lead would lose."""

from __future__ import annotations

import numpy as np
import pytest

from alloc.leads.pricing import PriceModel, bid_prices


def test_a_full_rep_is_priced_at_the_value_lost_by_its_displaced_lead() -> None:
    expected = np.array([[10.0, 5.0]] * 4)
    prices = bid_prices(expected, np.array([2, 10]), np.zeros(2), 0, np.array([0.5, 0.5]), 0.99)
    assert prices == pytest.approx([5.0, 0.0], abs=1e-7)


def test_a_rep_below_its_window_gets_a_negative_price_that_draws_leads() -> None:
    expected = np.array([[10.0, 5.0]] * 10)
    # Rep 1 has had 0 of 100 leads against a 50 % share: the window pulls leads to it.
    prices = bid_prices(
        expected, np.array([10, 10]), np.array([100.0, 0.0]), 100, np.array([0.5, 0.5]), 0.1
    )
    routed = np.argmax(expected - prices[None, :], axis=1)
    assert prices[1] < prices[0] - 5.0 + 1e-9
    assert (routed == 1).all()


def test_a_thinned_forecast_gives_the_prices_of_the_full_one() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 10, size=(5, 3))
    full = np.repeat(base, 4, axis=0)
    model = PriceModel(3)
    args = (np.array([6, 6, 6]), np.array([30.0, 20.0, 10.0]), 60, np.array([0.4, 0.35, 0.25]), 0.1)
    thin = model.prices(base, *args, weight=4.0)
    whole = model.prices(full, *args)
    np.testing.assert_allclose(thin, whole, atol=1e-6)
    assert bid_prices(np.full((2, 3), -np.inf), *args).tolist() == [0.0, 0.0, 0.0]
