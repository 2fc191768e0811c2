"""Tests for alloc.performance: KPI scorecards and exact bonus pool splits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.performance import DEFAULT_GRADES, scorecard, split_pool

REPS = ["ann", "bob", "cid", "dee"]
TARGETS = pd.DataFrame(
    {
        "revenue": [100.0, 200.0, 100.0, 50.0],
        "volume": [10, 10, 10, 10],
        "satisfaction": [4.0, 4.0, 4.0, 4.0],
    },
    index=REPS,
)
ACTUALS = pd.DataFrame(
    {
        "revenue": [120.0, 200.0, 300.0, 10.0],
        "volume": [10, 9, 10, 5],
        "satisfaction": [4.4, 4.0, 2.0, 4.0],
    },
    index=REPS,
)
WEIGHTS = {"revenue": 0.5, "volume": 0.3, "satisfaction": 0.2}


# --------------------------------------------------------------------------- scorecard


def test_scorecard_hand_example():
    card = scorecard(ACTUALS, TARGETS, WEIGHTS)
    assert list(card.columns) == [
        "revenue_completion",
        "volume_completion",
        "satisfaction_completion",
        "score",
        "grade",
        "multiplier",
    ]
    # ann: .5*1.2 + .3*1 + .2*1.1 = 1.12 -> A
    # bob: .5*1 + .3*.9 + .2*1 = .97 -> C
    # cid: revenue 3.0 capped at 1.5: .5*1.5 + .3*1 + .2*.5 = 1.15 -> A
    # dee: .5*.2 + .3*.5 + .2*1 = .45 -> E
    assert card["score"].tolist() == pytest.approx([1.12, 0.97, 1.15, 0.45])
    assert card["grade"].tolist() == ["A", "C", "A", "E"]
    assert card["multiplier"].tolist() == [1.5, 1.0, 1.5, 0.0]
    assert card.loc["cid", "revenue_completion"] == 1.5


def test_scorecard_caps_are_configurable_per_kpi():
    card = scorecard(ACTUALS, TARGETS, WEIGHTS, caps={"revenue": math.inf})
    assert card.loc["cid", "revenue_completion"] == 3.0
    assert card.loc["ann", "satisfaction_completion"] == pytest.approx(1.1)
    card = scorecard(ACTUALS, TARGETS, WEIGHTS, caps=1.0)
    assert card[["revenue_completion", "volume_completion"]].max().max() == 1.0


def test_scorecard_score_on_a_band_minimum_gets_that_band():
    targets = pd.DataFrame({"revenue": [100.0, 100.0, 100.0]}, index=["a", "b", "c"])
    actuals = pd.DataFrame({"revenue": [110.0, 100.0, 74.99]}, index=["a", "b", "c"])
    card = scorecard(actuals, targets, {"revenue": 1})
    assert card["grade"].tolist() == ["A", "B", "E"]
    assert card["multiplier"].tolist() == [1.5, 1.2, 0.0]


def test_scorecard_custom_grades_in_any_order():
    grades = [("fail", 0.0, 0.0), ("pass", 0.8, 1.0)]
    card = scorecard(ACTUALS, TARGETS, WEIGHTS, grades=grades)
    assert card["grade"].tolist() == ["pass", "pass", "pass", "fail"]


def test_scorecard_negative_actual_counts_as_zero_completion():
    targets = pd.DataFrame({"revenue": [100.0]}, index=["a"])
    actuals = pd.DataFrame({"revenue": [-30.0]}, index=["a"])
    assert scorecard(actuals, targets, {"revenue": 1})["score"].tolist() == [0.0]


@pytest.mark.parametrize(
    ("actuals", "targets", "weights", "match"),
    [
        (ACTUALS.drop(columns="volume"), TARGETS, WEIGHTS, "'actuals'.*'volume'"),
        (ACTUALS, TARGETS.drop(columns="revenue"), WEIGHTS, "'targets'.*'revenue'"),
        (ACTUALS.drop(index="bob"), TARGETS, WEIGHTS, "'bob'"),
        (ACTUALS, TARGETS.drop(index="dee"), WEIGHTS, "'dee'"),
        (ACTUALS, TARGETS.assign(volume=[10, 0, 10, -1]), WEIGHTS, r"\('bob', 'volume'\)"),
        (ACTUALS.assign(revenue=[1.0, np.nan, 1.0, 1.0]), TARGETS, WEIGHTS, "'bob'"),
        (ACTUALS, TARGETS, {"revenue": 1, "margin": 1}, "'margin'"),
    ],
)
def test_scorecard_rejects_bad_data(actuals, targets, weights, match):
    with pytest.raises(InvalidProblemError, match=match):
        scorecard(actuals, targets, weights)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": {"revenue": -1}},
        {"weights": {"revenue": 0}},
        {"weights": {}},
        {"grades": [("A", 1.0, 1.0)]},
        {"grades": [("A", 1.0, 1.0), ("A", 0.0, 0.0)]},
        {"grades": [("A", "high", 1.0)]},
        {"caps": {"bogus": 1.0}},
        {"caps": 0},
    ],
)
def test_scorecard_rejects_bad_parameters(kwargs):
    args = {"weights": WEIGHTS, **kwargs}
    with pytest.raises(InvalidParameterError):
        scorecard(ACTUALS, TARGETS, **args)


def test_scorecard_does_not_mutate_inputs():
    actuals, targets = ACTUALS.copy(), TARGETS.copy()
    weights = dict(WEIGHTS)
    scorecard(actuals, targets, weights)
    pd.testing.assert_frame_equal(actuals, ACTUALS)
    pd.testing.assert_frame_equal(targets, TARGETS)
    assert weights == WEIGHTS


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(0, 1_000, allow_nan=False),
            st.floats(0.1, 1_000, allow_nan=False),
            st.floats(0, 50, allow_nan=False),
            st.floats(0.1, 50, allow_nan=False),
        ),
        min_size=1,
        max_size=12,
    ),
    w=st.tuples(st.floats(0, 5), st.floats(0, 5)),
)
@example(rows=[(2.0, 1.0, 0.0, 1.0)], w=(5e-324, 0.0))  # a subnormal weight
def test_scorecard_score_is_the_weighted_mean_of_capped_completions(rows, w):
    assume(sum(w) > 0)
    index = [f"r{i}" for i in range(len(rows))]
    actuals = pd.DataFrame({"rev": [r[0] for r in rows], "vol": [r[2] for r in rows]}, index=index)
    targets = pd.DataFrame({"rev": [r[1] for r in rows], "vol": [r[3] for r in rows]}, index=index)
    card = scorecard(actuals, targets, {"rev": w[0], "vol": w[1]})
    for i, (ar, tr, av, tv) in enumerate(rows):
        share = (w[0] / (w[0] + w[1]), w[1] / (w[0] + w[1]))
        expected = share[0] * min(ar / tr, 1.5) + share[1] * min(av / tv, 1.5)
        assert card["score"].iloc[i] == pytest.approx(expected)
    assert card["score"].between(0, 1.5 + 1e-12).all()
    # grades are monotone: a higher score never gets a lower multiplier
    ordered = card.sort_values("score")
    assert ordered["multiplier"].is_monotonic_increasing
    names = {g[0] for g in DEFAULT_GRADES}
    assert set(card["grade"]) <= names


# --------------------------------------------------------------------------- split_pool

PEOPLE = pd.DataFrame(
    {
        "team": ["north", "north", "south", "south", "south"],
        "rep": ["ann", "bob", "cid", "dee", "eve"],
        "contribution": [2.0, 1.0, 1.0, 1.0, 1.0],
    }
)


def test_split_pool_hand_example():
    out = split_pool(1_000.0, {"north": 2, "south": 1}, PEOPLE)
    assert out["amount"].tolist() == [444.45, 222.22, 111.11, 111.11, 111.11]
    assert round(out["amount"].sum() * 100) == 100_000
    assert out.groupby("team")["amount"].sum().round(2).to_dict() == {
        "north": 666.67,
        "south": 333.33,
    }
    assert list(out.index) == list(PEOPLE.index)


def test_split_pool_integer_pool_and_unit_give_ints():
    out = split_pool(1_000, {"north": 1, "south": 1}, PEOPLE, unit=1)
    assert out["amount"].dtype == np.int64
    assert out["amount"].tolist() == [333, 167, 167, 167, 166]


def test_split_pool_floor_per_person_is_honoured():
    out = split_pool(1_000.0, {"north": 2, "south": 1}, PEOPLE, floor={"bob": 300.0})
    assert out.loc[1, "amount"] == 300.0
    assert round(out["amount"].sum(), 2) == 1_000.0
    out = split_pool(1_000.0, {"north": 9, "south": 1}, PEOPLE, floor=100)
    assert (out["amount"] >= 100).all()
    # the south team's share (100) is below its members' floors (300): raised to 300
    assert out.loc[out["team"] == "south", "amount"].sum() == pytest.approx(300.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((1_000.0, {"north": 1}, PEOPLE), {}, InvalidProblemError, "'south'"),
        ((1_000.0, {"north": 1, "south": 1, "west": 1}, PEOPLE), {}, InvalidProblemError, "'west'"),
        ((100.0, {"north": 1, "south": 1}, PEOPLE), {"floor": 30}, InvalidProblemError, "150"),
        (
            (100.0, {"north": 1, "south": 1}, PEOPLE.assign(contribution=[0.0, 0.0, 1, 1, 1])),
            {},
            InvalidProblemError,
            "'north'",
        ),
        (
            (100.0, {"north": 1, "south": 1}, pd.concat([PEOPLE, PEOPLE.iloc[[0]]])),
            {},
            InvalidProblemError,
            "repeats",
        ),
        (
            (100.0, {"north": 1, "south": 1}, PEOPLE.assign(contribution=[1, -1, 1, 1, 1])),
            {},
            InvalidProblemError,
            "negative",
        ),
        ((100.0, {"north": 1}, PEOPLE.drop(columns="rep")), {}, InvalidProblemError, "'rep'"),
        ((100.0, {"north": 0, "south": 0}, PEOPLE), {}, InvalidProblemError, "every team"),
        ((100.005, {"north": 1, "south": 1}, PEOPLE), {}, InvalidParameterError, "multiple"),
        ((100.0, {"north": 1, "south": 1}, PEOPLE), {"unit": -1}, InvalidParameterError, "unit"),
    ],
)
def test_split_pool_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        split_pool(*args, **kwargs)


def test_split_pool_does_not_mutate_inputs():
    people = PEOPLE.copy()
    results = pd.Series({"north": 2.0, "south": 1.0})
    results_copy = results.copy()
    split_pool(1_000.0, results, people, floor=pd.Series({"ann": 10.0}))
    pd.testing.assert_frame_equal(people, PEOPLE)
    pd.testing.assert_series_equal(results, results_copy)


@st.composite
def pools(draw):
    n_teams = draw(st.integers(1, 4))
    teams = [f"t{i}" for i in range(n_teams)]
    results = {t: draw(st.floats(0.1, 10)) for t in teams}
    rows = []
    for t in teams:
        for j in range(draw(st.integers(1, 5))):
            rows.append((t, f"{t}r{j}", draw(st.floats(0.01, 100))))
    people = pd.DataFrame(rows, columns=["team", "rep", "contribution"])
    cents = draw(st.integers(0, 10_000_000))
    floor = draw(st.one_of(st.none(), st.integers(0, 5_000)))
    return cents, results, people, floor


@settings(max_examples=150, deadline=None)
@given(case=pools())
def test_split_pool_is_exact_in_cents_and_follows_results(case):
    cents, results, people, floor = case
    floor_amount = None if floor is None else floor / 100
    if floor is not None and floor * len(people) > cents:
        with pytest.raises(InvalidProblemError, match="floor"):
            split_pool(cents / 100, results, people, floor=floor_amount)
        return
    out = split_pool(cents / 100, results, people, floor=floor_amount)
    amount_cents = np.round(out["amount"].to_numpy() * 100)
    np.testing.assert_allclose(amount_cents, out["amount"].to_numpy() * 100, atol=1e-6)
    assert int(amount_cents.sum()) == cents
    assert (amount_cents >= (floor or 0)).all()
    if floor is None:
        team_cents = pd.Series(amount_cents).groupby(out["team"]).sum()
        share = pd.Series(results) / sum(results.values()) * cents
        assert (np.abs(team_cents - share.reindex(team_cents.index)) < 1 + 1e-6).all()
        for _, members in out.assign(c=amount_cents).groupby("team"):
            member_share = (
                members["contribution"] / members["contribution"].sum() * members["c"].sum()
            )
            assert (np.abs(members["c"] - member_share) < 1 + 1e-6).all()
