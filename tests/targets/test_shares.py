"""Tests for alloc.targets.shares: seasonality weights and exact splits of a total."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alloc.datasets.sales import load_bike_sales
from alloc.errors import AllocWarning, InvalidParameterError, InvalidProblemError
from alloc.targets import seasonality, split
from conftest import units, weight_lists


def water_fill(n_units, w, lo, hi):
    """Reference continuous split clip(lam * w, lo, hi) summing to n_units (bisection)."""
    w, lo, hi = (np.asarray(x, dtype=float) for x in (w, lo, hi))

    def total(lam):
        return np.clip(lam * w, lo, hi).sum()

    if total(0.0) >= n_units:
        return np.clip(0.0 * w, lo, hi)
    b = 1e-12
    while total(b) < n_units:
        b *= 2
    a = b / 2
    for _ in range(200):
        mid = (a + b) / 2
        if total(mid) < n_units:
            a = mid
        else:
            b = mid
    return np.clip(b * w, lo, hi)


def test_split_gives_leftover_units_to_earlier_items_on_ties():
    assert split(100, [1, 1, 1]).tolist() == [34, 33, 33]
    assert split(2, [1, 1, 1, 1]).tolist() == [1, 1, 0, 0]


def test_split_breaks_remainder_ties_by_larger_weight():
    # quotas 2.5 and 7.5: equal remainders, the larger weight gets the unit
    assert split(10, {"a": 1, "b": 3}).to_dict() == {"a": 2, "b": 8}


def test_split_in_units_of_100():
    assert split(1000, [1, 2, 3], unit=100).tolist() == [200, 300, 500]


def test_split_float_unit_gives_cents_and_float_dtype():
    out = split(100.0, [1, 1, 1], unit=0.01)
    assert out.dtype == np.float64
    assert out.tolist() == [33.34, 33.33, 33.33]
    assert round(out.sum() / 0.01) == 10_000


def test_split_int_total_and_unit_give_int_dtype():
    assert split(7, [1, 2]).dtype == np.int64
    assert split(7.0, [1, 2]).dtype == np.float64


def test_split_keeps_series_index_order_and_name():
    w = pd.Series([3.0, 1.0, 2.0], index=["z", "a", "m"], name="potential")
    out = split(60, w)
    assert list(out.index) == ["z", "a", "m"]
    assert out.name == "potential"
    assert out.tolist() == [30, 10, 20]


def test_split_cap_redistributes_to_others_by_weight():
    assert split(100, [1, 1, 1, 1], caps=[10, None, None, None]).tolist() == [10, 30, 30, 30]


def test_split_floor_takes_its_amount_and_rest_is_resplit():
    out = split(100, {"a": 1, "b": 1, "c": 8}, floors={"a": 20})
    assert out.to_dict() == {"a": 20, "b": 9, "c": 71}


def test_split_clamps_iteratively_when_a_cap_pushes_another_over_its_cap():
    # shares 50/30/20: a capped at 40 -> b, c get 60 by 3:2 = 36, 24 -> c capped at 22
    out = split(100, {"a": 5, "b": 3, "c": 2}, caps={"a": 40, "c": 22})
    assert out.to_dict() == {"a": 40, "b": 38, "c": 22}


def test_split_zero_total_and_zero_weights_are_fine():
    assert split(0, [0, 0]).tolist() == [0, 0]
    assert split(10, [0, 1, 0]).tolist() == [0, 10, 0]


def test_split_floors_rounded_up_and_caps_down_to_units():
    out = split(1000, [1, 1, 1], unit=100, floors=[250, 0, 0], caps=[None, 350, None])
    assert out.tolist()[0] >= 300 and out.tolist()[1] <= 300
    assert out.sum() == 1000


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"total": 102, "weights": [1, 1], "unit": 5}, InvalidParameterError, "multiple of unit"),
        ({"total": -5, "weights": [1, 1]}, InvalidParameterError, ">= 0"),
        ({"total": 10, "weights": [1, 1], "unit": 0}, InvalidParameterError, "'unit'"),
        ({"total": 10, "weights": {"a": 1, "b": -2}}, InvalidProblemError, "'b'"),
        ({"total": 10, "weights": {"a": 1, "b": math.nan}}, InvalidProblemError, "'b'"),
        ({"total": 10, "weights": [0, 0]}, InvalidProblemError, "weight"),
        ({"total": 10, "weights": []}, InvalidProblemError, "empty"),
        ({"total": 10, "weights": ["x", "y"]}, InvalidProblemError, "numbers"),
        (
            {"total": 10, "weights": pd.Series([1, 1], index=["a", "a"])},
            InvalidProblemError,
            "duplicated",
        ),
        (
            {"total": 10, "weights": [1, 1], "floors": [6, 6]},
            InvalidProblemError,
            "floors.*needs 12",
        ),
        ({"total": 10, "weights": [1, 1], "caps": [4, 4]}, InvalidProblemError, "allows 8"),
        (
            {"total": 10, "weights": {"a": 1, "b": 1}, "floors": {"a": 5}, "caps": {"a": 3}},
            InvalidProblemError,
            "'a'",
        ),
        (
            {"total": 10, "weights": {"a": 1}, "floors": {"zz": 1}},
            InvalidProblemError,
            "'zz'",
        ),
        (
            {"total": 10, "weights": [0, 1], "caps": [None, 4]},
            InvalidProblemError,
            "weight",
        ),
    ],
)
def test_split_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        split(**kwargs)


def test_split_does_not_mutate_inputs():
    w = pd.Series([1.5, 2.5, 0.0], index=["a", "b", "c"])
    d = {"a": 1, "b": 2}
    arr = np.array([3.0, 1.0])
    floors = {"a": 1}
    w_copy, arr_copy = w.copy(), arr.copy()
    split(10, w, caps=pd.Series({"a": 2.0}))
    split(10, d, floors=floors)
    split(10, arr)
    pd.testing.assert_series_equal(w, w_copy)
    assert d == {"a": 1, "b": 2} and floors == {"a": 1}
    np.testing.assert_array_equal(arr, arr_copy)


@settings(max_examples=300, deadline=None)
@given(w=weight_lists(), n=st.integers(0, 10_000), unit=units)
def test_split_is_exact_and_within_one_unit_of_share(w, n, unit):
    out = split(n * unit, w, unit=unit)
    assert out.sum() == n * unit
    assert (out % unit == 0).all()
    assert (out >= 0).all()
    share = n * np.asarray(w, dtype=float) / float(sum(w))
    assert (np.abs(out.to_numpy() / unit - share) < 1 + 1e-9).all()


@settings(max_examples=300, deadline=None)
@given(
    w=weight_lists(),
    n=st.integers(0, 2_000),
    unit=units,
    data=st.data(),
)
def test_split_honours_floors_and_caps_like_water_filling(w, n, unit, data):
    size = len(w)
    floors = data.draw(st.lists(st.integers(0, 300), min_size=size, max_size=size))
    caps = data.draw(
        st.lists(st.one_of(st.none(), st.integers(0, 1_500)), min_size=size, max_size=size)
    )
    lo = np.array(floors, dtype=float)
    hi = np.array([np.inf if c is None else c for c in caps], dtype=float)
    assume((lo <= hi).all())
    positive = np.asarray(w, dtype=float) > 0
    reachable = hi[positive].sum() + lo[~positive].sum()
    total = n * unit
    floors_amt = [f * unit for f in floors]
    caps_amt = [None if c is None else c * unit for c in caps]
    if not lo.sum() <= n <= reachable:
        with pytest.raises(InvalidProblemError):
            split(total, w, unit=unit, floors=floors_amt, caps=caps_amt)
        return
    out = split(total, w, unit=unit, floors=floors_amt, caps=caps_amt).to_numpy() // unit
    assert out.sum() == n
    assert (out >= lo).all() and (out <= hi).all()
    reference = water_fill(n, w, lo, hi)
    assert (np.abs(out - reference) < 1 + 1e-6).all()


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.integers(0, 500), min_size=1, max_size=10),
    unit=units,
)
def test_split_returns_weights_that_already_add_up(parts, unit):
    assume(sum(parts) > 0)
    target = [p * unit for p in parts]
    assert split(sum(target), target, unit=unit).tolist() == target


# --------------------------------------------------------------------------- seasonality


def _history(rows):
    return pd.DataFrame(rows, columns=["date", "revenue"])


def test_seasonality_averages_yearly_share_profiles():
    history = _history(
        [
            ("2023-02-01", 10),
            ("2023-05-01", 30),
            ("2023-08-01", 30),
            ("2023-11-01", 30),
            ("2024-02-01", 300),
            ("2024-05-01", 100),
            ("2024-08-01", 50),
            ("2024-11-01", 50),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = seasonality(history, "date", "revenue", freq="Q")
    # 2023 profile .1 .3 .3 .3, 2024 profile .6 .2 .1 .1 -> mean .35 .25 .2 .2
    assert weights.index.name == "quarter"
    np.testing.assert_allclose(weights.to_numpy(), [0.35, 0.25, 0.2, 0.2])
    assert weights.attrs["missing_periods"] == {}
    assert weights.attrs["years"] == [2023, 2024]


def test_seasonality_monthly_counts_missing_month_as_zero_and_warns():
    months = [f"2023-{m:02d}-15" for m in range(1, 13) if m != 7]
    history = _history([(d, 100) for d in months])
    with pytest.warns(AllocWarning, match="2023: 7"):
        weights = seasonality(history, "date", "revenue")
    assert len(weights) == 12 and weights.index.name == "month"
    assert weights[7] == 0
    assert weights.sum() == pytest.approx(1.0)
    assert weights[1] == pytest.approx(1 / 11)
    assert weights.attrs["missing_periods"] == {2023: [7]}


def test_seasonality_years_selects_and_rejects_absent_years():
    history = _history([("2022-03-01", 1), ("2023-03-01", 1)])
    with pytest.warns(AllocWarning):
        weights = seasonality(history, "date", "revenue", freq="Q", years=[2023])
    assert weights.attrs["years"] == [2023]
    assert weights.tolist() == [1.0, 0.0, 0.0, 0.0]
    with pytest.raises(InvalidProblemError, match="2019"):
        seasonality(history, "date", "revenue", years=[2019])


def test_seasonality_rejects_bad_input():
    history = _history([("2023-03-01", 1), ("2023-04-01", -5)])
    with pytest.raises(InvalidProblemError, match="'sales'"):
        seasonality(history, "date", "sales")
    with pytest.raises(InvalidParameterError, match="'freq'"):
        seasonality(history, "date", "revenue", freq="W")  # type: ignore[arg-type]
    with pytest.raises(InvalidProblemError, match=r"\(2023, 4\)"):
        seasonality(history, "date", "revenue")
    with pytest.raises(InvalidProblemError, match="unparseable"):
        seasonality(_history([("not a date", 1)]), "date", "revenue")


def test_seasonality_of_bundled_bike_sales_covers_every_month():
    sales = load_bike_sales()
    before = sales.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = seasonality(sales, "order_date", "total_price")
    pd.testing.assert_frame_equal(sales, before)
    assert weights.sum() == pytest.approx(1.0)
    assert (weights > 0).all()
    monthly = sales.groupby(sales["order_date"].dt.month)["total_price"].sum()
    np.testing.assert_allclose(weights.to_numpy(), (monthly / monthly.sum()).to_numpy())


def test_load_bike_sales_shape_and_types():
    sales = load_bike_sales()
    assert sales.shape == (2466, 13)
    assert pd.api.types.is_datetime64_any_dtype(sales["order_date"])
    assert sales["bikeshop_name"].nunique() == 30
