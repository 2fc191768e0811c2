"""Tests for alloc.targets.apportion: the integer apportionment seam inside alloc."""

from __future__ import annotations

import importlib
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc.targets
from alloc.errors import InvalidParameterError
from alloc.targets import apportion
from alloc.targets.apportion import NoWeight, from_units, hamilton, split_units, to_units
from conftest import weight_lists


def test_targets_public_names_are_unchanged_and_the_seam_is_not_among_them():
    assert alloc.targets.__all__ == [
        "BacktestTables",
        "backtest",
        "blend",
        "cascade",
        "decompose",
        "forecast",
        "from_allocation",
        "seasonality",
        "set_quotas",
        "split",
    ]
    assert all(callable(getattr(alloc.targets, name)) for name in alloc.targets.__all__)
    assert not set(apportion.__all__) & set(alloc.targets.__all__)


MODULES = [
    "apportion",
    "backtesting",
    "bands",
    "basis",
    "bgnbd",
    "customer_base",
    "forecasting",
    "multi_axis",
    "odds",
    "org_tree",
    "quotas",
    "shares",
]


@pytest.mark.parametrize("module", MODULES)
def test_every_targets_module_is_reached_as_a_module_not_a_function(module):
    # ``import alloc.targets.<module> as m`` binds getattr(alloc.targets, module)
    importlib.import_module(f"alloc.targets.{module}")
    assert isinstance(getattr(alloc.targets, module), types.ModuleType)


def test_hamilton_gives_leftover_units_to_largest_remainders_then_larger_weights():
    assert hamilton(10, np.array([1, 1, 1])).tolist() == [4, 3, 3]
    assert hamilton(2, np.array([1, 2, 1])).tolist() == [1, 1, 0]
    assert hamilton(2, np.array([1, 3])).tolist() == [0, 2]
    assert hamilton(3, np.array([1, 2, 2])).tolist() == [1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(w=weight_lists(), n=st.integers(0, 10_000))
def test_hamilton_is_exact_and_within_one_unit_of_each_quota(w, n):
    weights = np.asarray(w)
    parts = hamilton(n, weights)
    assert parts.dtype == np.int64
    assert int(parts.sum()) == n
    quota = n * weights / weights.sum()
    assert (np.abs(parts - quota) < 1 + 1e-9).all()


def test_hamilton_and_split_units_raise_no_weight_with_the_units_left():
    with pytest.raises(NoWeight) as caught:
        hamilton(7, np.array([0, 0]))
    assert caught.value.remaining == 7
    with pytest.raises(NoWeight) as caught:
        split_units(10, np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([4.0, np.inf]))
    assert caught.value.remaining == 6


def test_split_units_clamps_to_bounds_and_resplits_the_rest():
    parts = split_units(100, np.array([1, 1, 8]), np.array([20.0, 0, 0]), np.array([np.inf] * 3))
    assert parts.tolist() == [20, 9, 71]
    parts = split_units(100, np.array([1, 1, 1, 1]), None, np.array([10.0, np.inf, np.inf, np.inf]))
    assert parts.tolist() == [10, 30, 30, 30]


def test_to_units_and_from_units_round_trip_cents_exactly():
    assert to_units(1234.56, 0.01, "total", "f") == 123456
    assert from_units(np.array([123456]), 0.01, as_int=False).tolist() == [1234.56]
    assert from_units(np.array([3]), 100, as_int=True).tolist() == [300]


def test_to_units_rejects_amounts_that_are_not_multiples_of_the_unit():
    with pytest.raises(InvalidParameterError, match=r"multiple of unit=100; got 250\. .*200"):
        to_units(250, 100, "total", "f")
    with pytest.raises(InvalidParameterError, match="must be >= 0"):
        to_units(-1, 1, "total", "f")
