"""Tests for alloc.targets.share_blend: the books' point shares blended by rolling-origin error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.targets.share_blend import (
    MIN_ERRORS,
    ShareOrigin,
    blend_errors,
    blend_point,
    blend_weight,
    point_shares,
    shift_toward,
    trailing_shares,
)


def test_trailing_shares_use_the_last_season_or_every_period_when_fewer():
    values = np.array([[100.0, 0.0, 1.0, 1.0], [0.0, 100.0, 3.0, 3.0]])
    np.testing.assert_allclose(trailing_shares(values, 2), [0.25, 0.75])
    # four periods, a season of twelve: all of them
    np.testing.assert_allclose(trailing_shares(values, 12), [102 / 208, 106 / 208])
    # no season: NO_SEASON_SPAN periods, here all four
    np.testing.assert_allclose(trailing_shares(values, 0), [102 / 208, 106 / 208])
    np.testing.assert_array_equal(trailing_shares(np.zeros((2, 3)), 2), [0.0, 0.0])
    # refunds do not make a negative share
    assert trailing_shares(np.array([[-5.0], [10.0]]), 1).tolist() == [0.0, 1.0]


def _draws(shares: np.ndarray, noise: float, seed: int = 0, draws: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    totals = rng.gamma(50.0, 20.0, draws)
    spread = rng.gamma(1 / noise**2, noise**2, (shares.size, draws))
    drawn = shares[:, None] * spread
    return drawn / drawn.sum(axis=0) * totals[None, :]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0.01, 10.0), min_size=2, max_size=8),
    st.floats(0.0, 1.0),
    st.integers(0, 10_000),
)
def test_shift_toward_keeps_every_draw_total_and_moves_the_mean_shares(raw, weight, seed):
    shares = np.asarray(raw) / np.sum(raw)
    samples = _draws(shares, 0.2, seed)
    point = samples.mean(axis=1)
    trailing = np.roll(shares, 1)
    moved = shift_toward(samples, point, trailing, weight)
    np.testing.assert_allclose(moved.sum(axis=0), samples.sum(axis=0), rtol=1e-9)
    assert (moved >= 0).all()
    target = weight * point_shares(point) + (1 - weight) * trailing
    # mean shares of the rescaled draws: near the target, not exactly on it
    mean_share = (moved / moved.sum(axis=0)).mean(axis=1)
    np.testing.assert_allclose(mean_share, target, atol=0.03 * target.max())
    if weight == 1.0:
        assert moved is samples


def test_shift_toward_leaves_a_book_the_model_gives_nothing_as_it_is():
    samples = np.vstack([np.full(50, 10.0), np.zeros(50), np.full(50, 10.0)])
    moved = shift_toward(samples, np.array([1.0, 0.0, 1.0]), np.array([0.25, 0.5, 0.25]), 0.0)
    # the two books with a share are moved to their trailing shares relative to each
    # other (equal here), the empty one stays empty, totals are kept
    np.testing.assert_allclose(moved[:, 0], [10.0, 0.0, 10.0])
    moved = shift_toward(samples, np.array([1.0, 0.0, 1.0]), np.array([0.2, 0.5, 0.3]), 0.0)
    np.testing.assert_allclose(moved[:, 0], [8.0, 0.0, 12.0])


def _origin(model: np.ndarray, actual: np.ndarray, trailing: np.ndarray, seed: int) -> ShareOrigin:
    return ShareOrigin(
        _draws(model, 0.1, seed), model * 1e4, actual, np.ones(model.size, bool), trailing
    )


def test_blend_weight_takes_the_trailing_share_when_it_was_right_and_the_model_when_it_was():
    rng = np.random.default_rng(1)
    truth = rng.dirichlet(np.full(30, 5.0))
    wrong = rng.dirichlet(np.full(30, 5.0))
    assert blend_weight([_origin(truth, truth * 1e4, wrong, s) for s in range(3)]) == 1.0
    assert blend_weight([_origin(wrong, truth * 1e4, truth, s) for s in range(3)]) == 0.0
    # half way: the truth is the average of the two
    middle = (truth + wrong) / 2
    halves = [_origin(truth, middle * 1e4, wrong, s) for s in range(3)]
    assert blend_weight(halves) == pytest.approx(0.5, abs=0.1)


def test_blend_weight_keeps_the_model_without_enough_evidence_or_when_the_gain_is_noise():
    rng = np.random.default_rng(2)
    truth = rng.dirichlet(np.full(10, 5.0))
    assert 10 < MIN_ERRORS
    assert blend_weight([_origin(truth, truth, np.full(10, 0.1), 0)]) == 1.0
    assert blend_weight([]) == 1.0
    # Model and trailing shares equally good (both the truth plus small independent
    # noise) and the books' actual shares far noisier: a gain of some blend within one
    # standard error keeps the model.
    books = 60
    truth = rng.dirichlet(np.full(books, 5.0))
    origins = []
    for s in range(4):
        model = truth * rng.lognormal(0, 0.02, books)
        trailing = truth * rng.lognormal(0, 0.02, books)
        actual = truth * rng.lognormal(0, 0.5, books)
        origins.append(_origin(model / model.sum(), actual, trailing / trailing.sum(), s))
    assert blend_weight(origins) == 1.0


def test_blend_errors_score_only_known_books():
    model = np.array([0.5, 0.3, 0.2])
    samples = _draws(model, 0.1)
    known = np.array([True, True, False])
    sold = np.array([5.0, 3.0, 9.0])
    errors = blend_errors(ShareOrigin(samples, model, sold, known, np.ones(3) / 3))
    assert np.isnan(errors[2]).all() and np.isfinite(errors[:2]).all()
    # weight 1: the model's shares among the known books, 5/8 and 3/8, were exact
    np.testing.assert_allclose(errors[:2, -1], [0.0, 0.0], atol=1e-12)
    nothing = ShareOrigin(samples, model, np.zeros(3), known, np.ones(3) / 3)
    assert np.isnan(blend_errors(nothing)).all()


def test_blend_point_keeps_the_sum_and_is_the_model_at_weight_one():
    point = np.array([60.0, 30.0, 10.0])
    trailing = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(blend_point(point, trailing, 0.5), [40.0, 30.0, 30.0])
    assert blend_point(point, trailing, 1.0) is point
