"""Tests for alloc.staffing.size_team."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.staffing import size_team

PROPERTY = settings(max_examples=80, deadline=None)
LEVELS = ["junior", "mid", "senior"]
TOL = 1e-9


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "region": ["north", "north", "north", "south", "south"],
            "workload": [300.0, 500.0, 900.0, 800.0, 400.0],
            "tier": ["senior", "junior", "junior", "junior", "junior"],
        }
    )


def test_hand_values_with_serve_down(customers: pd.DataFrame) -> None:
    team = size_team(
        customers,
        ["junior", "senior"],
        {"junior": 500.0, "senior": 400.0},
        utilization=0.8,
        level_col="tier",
    )
    assert team["region"].tolist() == ["north", "north", "south", "south"]
    assert team["level"].tolist() == ["junior", "senior", "junior", "senior"]
    assert team["accounts"].tolist() == [2, 1, 2, 0]
    assert team["workload"].tolist() == [1400.0, 300.0, 1200.0, 0.0]
    # north: 1 senior has 320 h of room for 300 h; the spare 20 h take junior work
    np.testing.assert_allclose(team["workload_above"], [20.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(team["accounts_above"], [20.0 / 700.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(team["lower_bound"], [1380 / 400, 300 / 320, 3.0, 0.0])
    assert team["reps_needed"].tolist() == [4, 1, 3, 0]
    assert team["binding"].tolist() == ["workload", "workload", "workload", "none"]
    np.testing.assert_allclose(team["load"], [1380.0, 320.0, 1200.0, 0.0])
    np.testing.assert_allclose(
        team["resulting_utilization"], [1380 / 2000, 0.8, 0.8, np.nan], equal_nan=True
    )
    assert team["capacity_per_rep"].tolist() == [500.0, 400.0, 500.0, 400.0]
    assert team["utilization"].tolist() == [0.8] * 4
    assert np.isinf(team["max_accounts"]).all()
    assert (team["account_bound"] == 0).all()


def test_without_serve_down_each_level_is_sized_to_its_own_work(customers: pd.DataFrame) -> None:
    team = size_team(
        customers,
        ["junior", "senior"],
        {"junior": 500.0, "senior": 400.0},
        utilization=0.8,
        level_col="tier",
        serve_down=False,
    )
    assert team["reps_needed"].tolist() == [4, 1, 3, 0]  # ceil(1400/400) = 4 too
    np.testing.assert_allclose(team["lower_bound"], [3.5, 0.9375, 3.0, 0.0])
    assert (team["workload_above"] == 0).all()


def test_serve_down_saves_a_junior_when_seniors_have_room() -> None:
    df = pd.DataFrame(
        {"workload": [50.0, 100.0, 100.0], "need": ["senior", "junior", "junior"], "region": "x"}
    )
    kwargs: dict[str, Any] = {"levels": ["junior", "senior"], "capacity": 100.0}
    shared = size_team(df, **kwargs, utilization=1.0, level_col="need")
    alone = size_team(df, **kwargs, utilization=1.0, level_col="need", serve_down=False)
    assert shared["reps_needed"].tolist() == [2, 1]  # 200 h junior work, 50 h done by senior
    assert alone["reps_needed"].tolist() == [2, 1]
    assert shared["workload_above"].tolist() == [50.0, 0.0]
    df2 = df.assign(workload=[50.0, 100.0, 110.0])
    assert size_team(df2, **kwargs, utilization=1.0, level_col="need")["reps_needed"].tolist() == [
        2,
        1,
    ]
    assert size_team(df2, **kwargs, utilization=1.0, level_col="need", serve_down=False)[
        "reps_needed"
    ].tolist() == [3, 1]


def test_float_noise_in_the_bound_does_not_add_a_rep() -> None:
    # thirty customers of 0.1 h sum to 3.0000000000000013 h in floating point
    df = pd.DataFrame({"workload": [0.1] * 30, "region": "x"})
    team = size_team(df, ["rep"], 1.0, utilization=1.0)
    assert team["lower_bound"].iloc[0] > 3.0
    assert team["reps_needed"].tolist() == [3]
    # ... but any real excess, however small in hours, needs another rep
    more = pd.DataFrame({"workload": [3.0, 1e-6], "region": "x"})
    assert size_team(more, ["rep"], 1.0, utilization=1.0)["reps_needed"].tolist() == [4]


def test_account_limit_binds_and_is_reported(customers: pd.DataFrame) -> None:
    team = size_team(customers, ["junior", "senior"], 1500.0, level_col="tier", max_accounts=1)
    assert team["reps_needed"].tolist() == [2, 1, 2, 0]
    assert team["binding"].tolist() == ["accounts", "accounts", "accounts", "none"]
    np.testing.assert_allclose(team["account_bound"], [2.0, 1.0, 2.0, 0.0])
    np.testing.assert_allclose(team["workload_bound"], [1400 / 1275, 300 / 1275, 1200 / 1275, 0])


def test_account_limit_per_level_mapping_leaves_other_levels_unlimited(
    customers: pd.DataFrame,
) -> None:
    team = size_team(
        customers,
        ["junior", "senior"],
        1500.0,
        level_col="tier",
        max_accounts={"junior": 1},
    )
    assert team["max_accounts"].tolist()[:2] == [1.0, np.inf]
    # north: the senior (unlimited accounts) has 1275 - 300 = 975 h spare, enough for
    # 975 / 700 = 1.39 junior accounts of average size; 0.61 accounts (425 h) are left,
    # so one junior (account bound 0.61 > workload bound 0.33). South: 2 accounts -> 2.
    assert team["reps_needed"].tolist() == [1, 1, 2, 0]
    np.testing.assert_allclose(team["accounts_above"], [975 / 700, 0, 0, 0])
    np.testing.assert_allclose(team["workload_above"], [975.0, 0, 0, 0])
    assert team["binding"].tolist() == ["accounts", "workload", "accounts", "none"]


def test_default_levels_and_no_regions() -> None:
    df = pd.DataFrame({"workload": [10.0, 20.0, 30.0]}, index=["a", "b", "c"])
    team = size_team(df, ["rep"], 20.0, by=None)
    assert team.columns[0] == "level"
    assert len(team) == 1
    assert team["reps_needed"].tolist() == [math.ceil(60 / 17)]
    team2 = size_team(df, ["rep", "lead"], 20.0, by=None)
    assert team2["reps_needed"].tolist() == [4, 0]  # nobody needs a lead


def test_several_region_columns() -> None:
    df = pd.DataFrame(
        {
            "country": ["DE", "DE", "FR"],
            "region": ["n", "s", "n"],
            "workload": [10.0, 10.0, 10.0],
        }
    )
    team = size_team(df, ["rep"], 10.0, by=["country", "region"], utilization=1.0)
    assert team[["country", "region"]].to_numpy().tolist() == [
        ["DE", "n"],
        ["DE", "s"],
        ["FR", "n"],
    ]
    assert team["reps_needed"].tolist() == [1, 1, 1]


def test_size_team_does_not_mutate_input(customers: pd.DataFrame) -> None:
    before = customers.copy(deep=True)
    size_team(customers, ["junior", "senior"], 100.0, level_col="tier", max_accounts=2)
    pd.testing.assert_frame_equal(customers, before)


# ---------------------------------------------------------------------------- errors


def test_unknown_level_names_value_and_customer(customers: pd.DataFrame) -> None:
    bad = customers.assign(tier=["senior", "junior", "expert", "junior", "junior"])
    with pytest.raises(InvalidProblemError, match=r"levels 'expert'.*customers 'c3'"):
        size_team(bad, ["junior", "senior"], 100.0, level_col="tier")


def test_bad_workload_names_customers(customers: pd.DataFrame) -> None:
    bad = customers.assign(workload=[1.0, -2.0, np.nan, 1.0, 1.0])
    with pytest.raises(InvalidProblemError, match="customers 'c2', 'c3'"):
        size_team(bad, ["junior"], 100.0)
    with pytest.raises(InvalidProblemError, match="non-numeric"):
        size_team(customers.assign(workload="x"), ["junior"], 100.0)


def test_missing_columns_and_regions_are_named(customers: pd.DataFrame) -> None:
    with pytest.raises(InvalidProblemError, match="'territory'"):
        size_team(customers, ["junior"], 100.0, by="territory")
    with pytest.raises(InvalidProblemError, match="'hours'"):
        size_team(customers, ["junior"], 100.0, workload_col="hours")
    bad = customers.assign(region=["north", None, "north", "south", "south"])
    with pytest.raises(InvalidProblemError, match="no 'region' for customers 'c2'"):
        size_team(bad, ["junior"], 100.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": "senior"}, "'levels' parameter"),
        ({"levels": []}, "'levels' parameter"),
        ({"levels": ["a", "a"]}, "'a' repeat"),
        ({"capacity": 0.0}, r"'capacity'.*got 0.0 for level 'junior'"),
        ({"capacity": {"junior": 10.0}}, r"'capacity'.*levels 'senior' are missing"),
        ({"capacity": {"junior": 1.0, "senior": 1.0, "boss": 1.0}}, "'boss'"),
        ({"utilization": 1.2}, "'utilization'"),
        ({"utilization": {"junior": 0.5, "senior": 0.0}}, r"got 0.0 for level 'senior'"),
        ({"max_accounts": 0}, "'max_accounts'"),
        ({"serve_down": "yes"}, "'serve_down'"),
    ],
)
def test_bad_parameters_are_named(
    customers: pd.DataFrame, kwargs: dict[str, Any], match: str
) -> None:
    args: dict[str, Any] = {"levels": ["junior", "senior"], "capacity": 100.0, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        size_team(customers, **args)


# ------------------------------------------------------------------------ properties


@st.composite
def teams(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = draw(st.integers(min_value=0, max_value=40))
    work = draw(
        st.lists(
            st.one_of(
                st.floats(min_value=0, max_value=500, allow_nan=False),
                st.integers(min_value=0, max_value=500).map(float),
            ),
            min_size=n,
            max_size=n,
        )
    )
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "region": draw(st.lists(st.sampled_from(["n", "s", "e"]), min_size=n, max_size=n)),
            "need": draw(st.lists(st.sampled_from(LEVELS), min_size=n, max_size=n)),
            "workload": work,
        }
    )
    cap = {lv: draw(st.sampled_from([40.0, 100.0, 160.0, 37.5, 123.4])) for lv in LEVELS}
    util = {lv: draw(st.sampled_from([1.0, 0.85, 0.8, 0.7, 0.333])) for lv in LEVELS}
    max_acc = draw(
        st.one_of(
            st.none(),
            st.integers(min_value=1, max_value=6),
            st.fixed_dictionaries({lv: st.integers(min_value=1, max_value=6) for lv in LEVELS}),
        )
    )
    return df, {
        "levels": LEVELS,
        "capacity": cap,
        "utilization": util,
        "level_col": "need",
        "max_accounts": max_acc,
        "serve_down": draw(st.booleans()),
    }


@PROPERTY
@given(case=teams())
def test_reps_cover_the_work_and_one_rep_fewer_would_not(
    case: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    df, kwargs = case
    team = size_team(df, **kwargs)
    cu = team["capacity_per_rep"] * team["utilization"]
    reps = team["reps_needed"]
    own_w = team["workload"] - team["workload_above"]
    own_n = team["accounts"] - team["accounts_above"]
    # this level's reps carry the work left to them ...
    assert (reps * cu >= own_w * (1 - TOL) - TOL).all()
    limited = np.isfinite(team["max_accounts"])
    slots = team["max_accounts"].where(limited, 0.0)  # unlimited: no account bound
    assert (reps * slots >= own_n - TOL)[limited].all()
    # ... and one fewer would not, in the limit that binds
    fewer = reps > 0
    short_w = (reps - 1) * cu < own_w
    short_n = limited & ((reps - 1) * slots < own_n - TOL)
    assert (short_w | short_n)[fewer].all()
    assert ((team["binding"] == "none") == (reps == 0)).all()
    assert (np.ceil(team["lower_bound"] * (1 - 1e-12)) == reps).all()
    if not kwargs["serve_down"]:
        assert (team["workload_above"] == 0).all()
        # the plain formula: reps = ceil(max(W / (c u), N / a))
        bound = np.maximum(team["workload"] / cu, team["accounts"] / team["max_accounts"])
        assert np.allclose(team["lower_bound"], bound)


@PROPERTY
@given(case=teams())
def test_levels_at_and_above_each_level_cover_its_work(
    case: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    df, kwargs = case
    team = size_team(df, **kwargs)
    assert len(team) == 3 * df["region"].nunique()
    for _, region in team.groupby("region"):
        region = region.set_index("level").loc[LEVELS]
        room = region["reps_needed"] * region["capacity_per_rep"] * region["utilization"]
        # reps of a level serve that level or lower: suffix sums from the top must cover
        room_above = room[::-1].cumsum()[::-1]
        work_above = region["workload"][::-1].cumsum()[::-1]
        assert (room_above >= work_above * (1 - TOL) - TOL).all()
        # every hour is carried by someone, and nobody beyond the target utilization
        assert region["load"].sum() == pytest.approx(region["workload"].sum(), abs=1e-6)
        assert (region["load"] <= room * (1 + TOL) + TOL).all()
        used = region["resulting_utilization"].dropna()
        assert (used <= region.loc[used.index, "utilization"] + 1e-9).all()


@PROPERTY
@given(case=teams())
def test_serving_down_never_needs_more_reps(case: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    df, kwargs = case
    shared = size_team(df, **{**kwargs, "serve_down": True})
    alone = size_team(df, **{**kwargs, "serve_down": False})
    assert (shared["reps_needed"] <= alone["reps_needed"]).all()
    top = shared["level"] == LEVELS[-1]
    assert (shared.loc[top, "reps_needed"] == alone.loc[top, "reps_needed"]).all()
