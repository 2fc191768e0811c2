"""Tests for alloc.targets.forecasting (forecast): per-book forecast bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.targets import forecast


def _sales(months: int = 24, seed: int = 0) -> pd.DataFrame:
    """Three steady books of different sizes with noise and a yearly season."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-01", periods=months, freq="MS")
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(months) / 12)
    rows = []
    for book, size in (("a", 100.0), ("b", 300.0), ("c", 1_000.0)):
        amounts = size * season * rng.lognormal(0, 0.15, months)
        rows += [{"rep": book, "date": d, "amount": a} for d, a in zip(dates, amounts, strict=True)]
    return pd.DataFrame(rows)


def test_forecast_bands_are_ordered_and_scale_with_book_size():
    fc = forecast(_sales(), by="rep", horizon=6)
    assert list(fc.columns) == ["p10", "p50", "p90", "forecast", "periods", "all_zero"]
    assert fc.index.name == "rep" and list(fc.index) == ["a", "b", "c"]
    assert (fc["p10"] < fc["p50"]).all() and (fc["p50"] < fc["p90"]).all()
    # the next six months (January to June) of a book of size s sell s * sum(season)
    season = (1 + 0.3 * np.sin(2 * np.pi * np.arange(24, 30) / 12)).sum()
    ratio = fc["p50"] / (pd.Series({"a": 100.0, "b": 300.0, "c": 1_000.0}) * season)
    # monthly noise of 15 % and a season estimated from two years: within 25 %
    assert ((ratio > 0.75) & (ratio < 1.25)).all()


def test_forecast_is_deterministic_for_a_seed_and_varies_with_it():
    sales = _sales()
    first = forecast(sales, by="rep", horizon=3, seed=4)
    pd.testing.assert_frame_equal(first, forecast(sales, by="rep", horizon=3, seed=4))
    assert not first["p10"].equals(forecast(sales, by="rep", horizon=3, seed=5)["p10"])


def test_forecast_follows_the_season_with_two_years_of_history():
    # A book that sells only in the first half of each year: the next 6 months from
    # January are high, from July low.
    dates = pd.date_range("2021-01-01", periods=30, freq="MS")
    amounts = [100.0 if d.month <= 6 else 20.0 for d in dates]
    sales = pd.DataFrame({"rep": "a", "date": dates, "amount": amounts})
    high = forecast(sales.iloc[:24], by="rep", horizon=6)["p50"].iloc[0]
    low = forecast(sales, by="rep", horizon=6)["p50"].iloc[0]
    assert high > 2 * low


def test_forecast_short_books_get_wider_bands_and_zero_books_are_reported():
    sales = _sales(months=12)
    late = sales[sales["rep"] == "b"].copy()
    late["rep"] = "late"
    late = late.iloc[-2:]  # the same kind of book, but seen for 2 months only
    zero = pd.DataFrame({"rep": ["z"], "date": [pd.Timestamp("2022-03-01")], "amount": [0.0]})
    fc = forecast(pd.concat([sales, late, zero]), by="rep", horizon=3)
    width = (fc["p90"] - fc["p10"]) / fc["p50"]
    assert width["late"] > width["b"]
    assert fc.loc["late", "periods"] == 2 and fc.loc["b", "periods"] == 12
    assert fc["all_zero"].tolist() == [False, False, False, False, True]
    assert (fc.loc["z", ["p10", "p50", "p90"]] == 0).all()


def test_forecast_custom_levels_name_the_columns_and_do_not_mutate_input():
    sales = _sales()
    before = sales.copy()
    fc = forecast(sales, by="rep", horizon=2, levels=(0.05, 0.25, 0.975))
    assert list(fc.columns[:3]) == ["p5", "p25", "p97.5"]
    pd.testing.assert_frame_equal(sales, before)


def test_forecast_weekly_and_quarterly_frequencies():
    sales = _sales()
    weekly = forecast(sales, by="rep", horizon=4, freq="W")
    quarterly = forecast(sales, by="rep", horizon=2, freq="QS")
    assert (weekly["p90"] >= weekly["p10"]).all() and (quarterly["p50"] > 0).all()


@pytest.mark.parametrize(
    ("change", "kwargs", "words"),
    [
        (None, {"by": "region"}, ["by='region'", "available columns"]),
        (None, {"value": "revenue"}, ["value='revenue'"]),
        ("text", {}, ["'amount'", "non-numeric", "abc"]),
        ("date", {}, ["'date'", "do not parse", "not a date"]),
        (None, {"horizon": 30}, ["horizon", "30 periods", "24 periods"]),
        ("book", {}, ["'rep'", "missing"]),
    ],
)
def test_forecast_bad_input_names_the_problem(change, kwargs, words):
    sales = _sales().astype({"amount": object, "date": object})
    if change == "text":
        sales.loc[5, "amount"] = "abc"
    elif change == "date":
        sales.loc[7, "date"] = "not a date"
    elif change == "book":
        sales.loc[3, "rep"] = None
    args = {"by": "rep", "horizon": 6} | kwargs
    with pytest.raises(InvalidProblemError) as info:
        forecast(sales, **args)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"horizon": 0},
        {"horizon": 2.5},
        {"levels": (0.9, 0.1)},
        {"levels": (0, 0.5)},
        {"freq": "bogus"},
        {"seed": -1},
    ],
)
def test_forecast_bad_parameters_raise_invalid_parameter(kwargs):
    with pytest.raises(InvalidParameterError):
        forecast(_sales(), **({"by": "rep", "horizon": 3} | kwargs))


def test_forecast_shrinks_noisy_recent_levels_but_keeps_a_real_shift():
    # Ten books of the same size with 30 % monthly noise; book r9 doubles for its last
    # six months. Noise in the others' recent months is shrunk away; r9's shift is kept.
    rng = np.random.default_rng(3)
    months = 24
    amounts = 100 * rng.lognormal(0, 0.3, (10, months))
    amounts[9, -6:] *= 2
    dates = pd.date_range("2022-01-01", periods=months, freq="MS")
    sales = pd.DataFrame(
        {
            "rep": np.repeat([f"r{i}" for i in range(10)], months),
            "date": np.tile(dates, 10),
            "amount": amounts.ravel(),
        }
    )
    steady = [f"r{i}" for i in range(9)]
    recent = pd.Series(amounts[:9, -6:].sum(axis=1), index=steady)
    alone = forecast(sales[sales["rep"] != "r9"], by="rep", horizon=6)
    # (the long-run mean of 24 months is at best half as noisy as that of the last 6)
    assert alone["forecast"].std() < 0.8 * recent.std()
    # With r9 the spread of recent shifts is larger than noise explains: less shrinkage,
    # and r9 keeps a good part of its doubling.
    fc = forecast(sales, by="rep", horizon=6)
    assert alone["forecast"].std() < fc.loc[steady, "forecast"].std() < recent.std()
    assert fc.loc["r9", "forecast"] > 1.4 * fc.loc[steady, "forecast"].mean()


@st.composite
def histories(draw):
    """Small monthly histories: a few books, some short, some all zero."""
    months = draw(st.integers(3, 26))
    n_books = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=months, freq="MS")
    rows = []
    for b in range(n_books):
        start = 0 if b == 0 else draw(st.integers(0, months - 1))
        kind = draw(st.sampled_from(["steady", "lumpy", "zero"]))
        for d in dates[start:]:
            if kind == "zero":
                amount = 0.0
            elif kind == "lumpy":
                amount = float(rng.choice([0.0, 0.0, rng.uniform(10, 1_000)]))
            else:
                amount = float(rng.lognormal(4, 0.4))
            rows.append(
                {
                    "rep": f"b{b}",
                    "date": d + pd.Timedelta(days=int(rng.integers(0, 27))),
                    "amount": amount,
                }
            )
    horizon = draw(st.integers(1, months))
    return pd.DataFrame(rows), horizon


@settings(deadline=None)
@given(histories(), st.sampled_from([0.01, 3.0, 1_000.0]))
def test_forecast_bands_are_ordered_non_negative_and_scale_with_the_values(case, scale):
    sales, horizon = case
    fc = forecast(sales, by="rep", horizon=horizon)
    bands = fc[["p10", "p50", "p90"]].to_numpy()
    assert np.isfinite(bands).all() and (bands >= 0).all()
    assert (np.diff(bands, axis=1) >= -1e-9 * (1 + np.abs(bands[:, :-1]))).all()
    assert (fc.loc[fc["all_zero"], ["p10", "p90"]] == 0).all().all()
    # The model is multiplicative throughout: scaling every amount scales every band.
    scaled = forecast(sales.assign(amount=sales["amount"] * scale), by="rep", horizon=horizon)
    np.testing.assert_allclose(
        scaled[["p10", "p50", "p90"]].to_numpy(), scale * bands, rtol=1e-6, atol=1e-9
    )


@settings(deadline=None, max_examples=40)
@given(histories())
def test_forecast_with_a_tree_sums_the_leaves_draws_up_every_node(case):
    sales, horizon = case
    books = sorted(sales["rep"].unique())
    half = books[: len(books) // 2 + 1]
    edges = [("all", "left"), ("all", "right")] + [
        ("left" if b in half else "right", b) for b in books
    ]
    if len(half) == len(books):  # every book on the left: give "right" a quiet leaf
        edges.append(("right", "quiet"))
    tree = pd.DataFrame(edges, columns=["parent", "child"])
    plain = forecast(sales, by="rep", horizon=horizon)
    fc = forecast(sales, by="rep", horizon=horizon, tree=tree)
    assert fc.index[0] == "all" and set(fc.index) == set(tree["parent"]) | set(tree["child"])
    pd.testing.assert_frame_equal(fc.loc[books], plain.loc[books], check_names=False)
    bands = ["p10", "p50", "p90"]
    for node, kids in tree.groupby("parent")["child"]:
        # the parent's draws dominate each child's (values are not negative), so do its
        # quantiles; its point forecast is the sum of theirs
        slack = 1e-9 * (1 + fc.loc[node, "p90"])
        assert (fc.loc[node, bands] >= fc.loc[list(kids), bands].max() - slack).all()
        assert fc.loc[node, "forecast"] == pytest.approx(fc.loc[list(kids), "forecast"].sum())
        assert fc.loc[node, "all_zero"] == fc.loc[list(kids), "all_zero"].all()
