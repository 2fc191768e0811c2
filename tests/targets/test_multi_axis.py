"""Tests for alloc.targets.multi_axis (decompose): several axes with exact marginals."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.errors import AllocWarning, InvalidParameterError, InvalidProblemError
from alloc.targets import decompose, split
from conftest import units, weight_lists


def _fit(total_units, axes):
    """The product seed fitted to the split marginals (what decompose rounds)."""
    margins = [split(total_units, w).to_numpy().astype(float) for w in axes.values()]
    fit = np.array(float(total_units))
    for m in margins:
        fit = np.multiply.outer(fit, m / total_units if total_units else m)
    return fit


def _check_margins(plan, total, axes, unit):
    assert plan["target"].sum() == total
    assert (plan["target"] >= 0).all()
    for name, w in axes.items():
        expected = split(total, w, unit=unit)
        got = plan.groupby(name, sort=False)["target"].sum()
        assert got.reindex(expected.index).tolist() == expected.tolist(), name


def test_decompose_hand_example():
    axes = {"month": {"jan": 1, "feb": 1}, "product": {"a": 1, "b": 3}}
    plan = decompose(100, axes)
    assert list(plan.columns) == ["month", "product", "target"]
    assert plan["target"].tolist() == [12, 38, 13, 37]
    _check_margins(plan, 100, axes, 1)


@settings(max_examples=80, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    n=st.integers(0, 3_000),
    unit=units,
    data=st.data(),
)
def test_decompose_every_marginal_and_the_total_are_exact(shape, n, unit, data):
    axes = {
        f"axis{i}": data.draw(weight_lists(min_size=k, max_size=k)) for i, k in enumerate(shape)
    }
    total = n * unit
    plan = decompose(total, axes, unit=unit)
    assert len(plan) == int(np.prod(shape))
    assert (plan["target"] % unit == 0).all()
    _check_margins(plan, total, axes, unit)
    cells = plan["target"].to_numpy().reshape(shape) / unit
    # every cell is the floor or the ceiling of its fitted value
    assert (np.abs(cells - _fit(n, axes)) < 1 + 1e-9).all()


def test_decompose_keeps_the_seed_tables_joint_structure():
    seed = pd.DataFrame(
        {
            "rep": ["ann", "ann", "bob", "bob"],
            "product": ["bike", "helmet", "bike", "tyre"],
            "weight": [3, 1, 1, 1],
        }
    )
    axes = {
        "month": [1, 1, 1],
        "product": {"bike": 2, "helmet": 1, "tyre": 1},
        "rep": {"ann": 1, "bob": 1},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = decompose(1_200, axes, seed_table=seed)
    _check_margins(plan, 1_200, axes, 1)
    mix = plan.groupby(["rep", "product"])["target"].sum()
    assert mix[("ann", "tyre")] == 0 and mix[("bob", "helmet")] == 0
    assert mix[("ann", "bike")] == 300 and mix[("bob", "tyre")] == 300


@settings(max_examples=80, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=2, max_size=3),
    n=st.integers(0, 2_000),
    data=st.data(),
)
def test_decompose_with_any_seed_table_is_exact_and_respects_its_zeros_when_it_can(shape, n, data):
    axes = {f"a{i}": data.draw(weight_lists(min_size=k, max_size=k)) for i, k in enumerate(shape)}
    grid = pd.MultiIndex.from_product([range(k) for k in shape], names=list(axes)).to_frame(
        index=False
    )
    weights = data.draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0.01, 10)), min_size=len(grid), max_size=len(grid)
        )
    )
    seed = grid.assign(weight=weights)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = decompose(n, axes, seed_table=seed)
    _check_margins(plan, n, axes, 1)
    if not any(issubclass(w.category, AllocWarning) for w in caught):
        assert (plan["target"].to_numpy()[seed["weight"].to_numpy() == 0] == 0).all()


def test_decompose_warns_but_stays_exact_when_seed_zeros_block_a_marginal():
    seed = pd.DataFrame({"rep": ["ann", "bob"], "product": ["bike", "bike"], "weight": [1, 1]})
    axes = {"product": {"bike": 2, "helmet": 1}, "rep": {"ann": 1, "bob": 1}}
    with pytest.warns(AllocWarning, match="unreachable"):
        plan = decompose(100, axes, seed_table=seed)
    _check_margins(plan, 100, axes, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"axes": {}}, InvalidParameterError, "'axes'"),
        ({"axes": {"target": [1, 2]}}, InvalidParameterError, "'target'"),
        ({"axes": {"m": [0, 0]}}, InvalidProblemError, "'m'"),
        (
            {"axes": {"m": [1, 1]}, "seed_table": pd.DataFrame({"m": [0, 1]})},
            InvalidProblemError,
            "'weight'",
        ),
        (
            {"axes": {"m": [1, 1]}, "seed_table": pd.DataFrame({"x": [0], "weight": [1]})},
            InvalidProblemError,
            "'x'",
        ),
        (
            {"axes": {"m": [1, 1]}, "seed_table": pd.DataFrame({"m": [7], "weight": [1]})},
            InvalidProblemError,
            "7",
        ),
        (
            {"axes": {"m": [1, 1]}, "seed_table": pd.DataFrame({"m": [0], "weight": [-1]})},
            InvalidProblemError,
            "negative",
        ),
        (
            {"axes": {"m": [1, 1]}, "seed_table": pd.DataFrame({"m": [0, 0], "weight": [1, 1]})},
            InvalidProblemError,
            "repeats",
        ),
    ],
)
def test_decompose_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        decompose(100, **kwargs)


def test_decompose_does_not_mutate_inputs():
    months = pd.Series([1.0, 2.0], index=["jan", "feb"])
    seed = pd.DataFrame({"month": ["jan"], "weight": [1.0]})
    months_copy, seed_copy = months.copy(), seed.copy()
    with pytest.warns(AllocWarning):
        decompose(10, {"month": months, "rep": [1, 1]}, seed_table=seed)
    pd.testing.assert_series_equal(months, months_copy)
    pd.testing.assert_frame_equal(seed, seed_copy)


def test_decompose_240k_cells_exactly_and_fast():
    rng = np.random.default_rng(7)
    axes = {
        "rep": dict(
            zip([f"R{i:04d}" for i in range(2000)], rng.lognormal(0, 0.5, 2000), strict=True)
        ),
        "month": dict(zip(range(1, 13), rng.uniform(0.6, 1.4, 12), strict=True)),
        "product": dict(zip([f"P{i}" for i in range(10)], rng.uniform(0.2, 2.0, 10), strict=True)),
    }
    start = time.perf_counter()
    plan = decompose(120_000_000, axes, unit=100)
    elapsed = time.perf_counter() - start
    assert len(plan) == 240_000
    _check_margins(plan, 120_000_000, axes, 100)
    assert elapsed < 10.0  # about 0.2 s on 2 cores; the benchmark tracks the real figure
