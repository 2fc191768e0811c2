"""Tests for alloc.targets.odds (set_quotas): quotas with equal odds of attainment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.targets import set_quotas
from alloc.targets.odds import attain_probability, quantile_grid


def _forecast(medians, spread=0.3):
    medians = np.asarray(medians, dtype=float)
    return pd.DataFrame(
        {
            "p10": medians * (1 - spread),
            "p50": medians,
            "p90": medians * (1 + spread),
        },
        index=pd.Index([f"b{i}" for i in range(medians.size)], name="book"),
    )


def test_set_quotas_at_the_sum_of_medians_gives_even_odds():
    fc = _forecast([100, 200, 700])
    q = set_quotas(fc, 1_000)
    assert q["quota"].tolist() == [100, 200, 700]
    assert q["p_attain"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert q.attrs["level"] == pytest.approx(0.5)


def test_set_quotas_stretch_total_lowers_everyone_s_odds_alike():
    # Books of different spread: the same odds need different uplifts over the median.
    fc = pd.DataFrame(
        {"p10": [90.0, 100.0], "p50": [100.0, 200.0], "p90": [110.0, 300.0]},
        index=["steady", "wild"],
    )
    # at level 0.82 both are 80 % of the way from p50 to p90: 108 + 280 = 388
    q = set_quotas(fc, 388)
    assert q["quota"].tolist() == [108, 280]
    assert q["p_attain"].tolist() == pytest.approx([0.18, 0.18])
    assert q.attrs["level"] == pytest.approx(0.82)


def test_set_quotas_floors_caps_and_unit():
    fc = _forecast([100, 200, 700])
    q = set_quotas(fc, 1_000, unit=50, floors={"b0": 200}, caps={"b2": 600})
    assert q["quota"].sum() == 1_000
    assert q.loc["b0", "quota"] >= 200 and q.loc["b2", "quota"] <= 600
    assert (q["quota"] % 50 == 0).all()
    # the floored book is easier to miss, the capped one easier to reach
    assert q.loc["b0", "p_attain"] < q.loc["b1", "p_attain"] < q.loc["b2", "p_attain"]


def test_set_quotas_float_unit_and_zero_books():
    fc = _forecast([0.0, 10.0, 30.0])
    q = set_quotas(fc, 40.5, unit=0.25)
    assert q["quota"].sum() == pytest.approx(40.5)
    assert q.loc["b0", "quota"] == 0 and q.loc["b0", "p_attain"] == 1.0
    assert q["quota"].dtype == np.float64


def test_set_quotas_beyond_the_bands_splits_by_the_extreme_quantiles():
    fc = _forecast([100, 300])
    high = set_quotas(fc, 10_000)
    assert high["quota"].sum() == 10_000 and (high["p_attain"] == 0).all()
    assert high["quota"].tolist() == [2_500, 7_500]
    low = set_quotas(fc, 0)
    assert low["quota"].tolist() == [0, 0] and (low["p_attain"] == 1).all()


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "words"),
    [
        ((pd.DataFrame({"p50": [1.0]}), 10), {}, InvalidProblemError, ["two quantile columns"]),
        ((_forecast([1, 2]).assign(p50=[1.0, np.nan]), 10), {}, InvalidProblemError, ["b1"]),
        ((_forecast([1, 2]), 10), {"floors": {"zz": 1}}, InvalidProblemError, ["zz"]),
        ((_forecast([1, 2]), 10), {"caps": 4}, InvalidProblemError, ["caps"]),
        ((_forecast([1, 2]), 15), {"unit": 10}, InvalidParameterError, ["multiple"]),
        ((_forecast([0, 0]), 10), {}, InvalidProblemError, ["zero forecast"]),
        (([1, 2], 10), {}, InvalidParameterError, ["DataFrame"]),
    ],
)
def test_set_quotas_bad_input_names_the_problem(args, kwargs, error, words):
    with pytest.raises(error) as info:
        set_quotas(*args, **kwargs)
    for word in words:
        assert word in str(info.value)


@st.composite
def quota_problems(draw):
    n = draw(st.integers(1, 8))
    medians = draw(st.lists(st.integers(0, 5_000), min_size=n, max_size=n))
    spreads = draw(st.lists(st.floats(0.0, 0.9), min_size=n, max_size=n))
    skews = draw(st.lists(st.floats(0.2, 3.0), min_size=n, max_size=n))
    unit = draw(st.sampled_from([1, 5, 10, 100]))
    fc = pd.DataFrame(
        {
            "p10": [m * (1 - s) for m, s in zip(medians, spreads, strict=True)],
            "p50": [float(m) for m in medians],
            "p90": [m * (1 + s * k) for m, s, k in zip(medians, spreads, skews, strict=True)],
        },
        index=[f"b{i}" for i in range(n)],
    )
    floors = draw(st.lists(st.one_of(st.none(), st.integers(0, 3_000)), min_size=n, max_size=n))
    caps = draw(st.lists(st.one_of(st.none(), st.integers(0, 8_000)), min_size=n, max_size=n))
    floors_s = pd.Series([np.nan if f is None else f for f in floors], index=fc.index, dtype=float)
    caps_s = pd.Series([np.nan if c is None else c for c in caps], index=fc.index, dtype=float)
    lo = np.ceil(floors_s.fillna(0) / unit) * unit
    hi = np.floor(caps_s.fillna(np.inf) / unit) * unit
    if (lo > hi).any():
        caps_s[lo > hi] = np.nan
        hi = np.floor(caps_s.fillna(np.inf) / unit) * unit
    room_low = int(lo.sum() // unit)
    room_high = int(min(hi.sum(), 10**7) // unit)
    total = unit * draw(st.integers(room_low, max(room_low, room_high)))
    return fc, total, unit, floors_s, caps_s


@settings(max_examples=200, deadline=None)
@given(quota_problems())
def test_set_quotas_sum_units_bounds_and_equal_odds(problem):
    fc, total, unit, floors, caps = problem
    if (fc["p90"] == 0).all() and total > 0:
        return  # nothing sells: an error (tested above)
    try:
        q = set_quotas(fc, total, unit=unit, floors=floors, caps=caps)
    except InvalidProblemError as exc:
        # the only accepted refusal: the room left is held by zero-forecast books
        assert "zero forecast" in str(exc)
        return
    quota = q["quota"]
    assert int(quota.sum()) == total
    assert (quota % unit == 0).all()
    assert (quota >= floors.fillna(0) - 1e-9).all()
    assert (quota <= caps.fillna(np.inf) + 1e-9).all()
    # Books not held by a floor or cap share one level of odds, up to one unit's effect:
    # some common p lies between each book's odds at quota + unit and at quota - unit.
    grid = quantile_grid(fc, "test")
    free = (quota >= floors.fillna(0) + unit) & (quota <= caps.fillna(np.inf) - unit)
    if free.sum() >= 2:
        up = attain_probability(grid, (quota + unit).to_numpy(dtype=float))[free.to_numpy()]
        down = attain_probability(grid, (quota - unit).to_numpy(dtype=float))[free.to_numpy()]
        assert up.max() <= down.min() + 1e-9
        assert q["p_attain"][free].between(up.min() - 1e-9, down.max() + 1e-9).all()
