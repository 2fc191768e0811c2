"""Tests for alloc.accounts (identify, tracking_plan) and the bundled CDNOW loader."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.accounts import RFM_SEGMENTS, identify, tracking_plan
from alloc.datasets.cdnow import load_cdnow
from alloc.errors import InvalidParameterError, InvalidProblemError

PROPERTY = settings(max_examples=60, deadline=None)


@pytest.fixture
def five() -> pd.DataFrame:
    """Five customers; totals a=100, b=60, c=24, d=10, e=6 (grand total 200).

    Hand figures as of 2024-04-01 (the default: latest purchase 2024-03-31 + 1 day):

    ====  ========  =======  ==============  ========  ==========  =====
    id    last      recency  days / rows     monetary  R F(days) M  total
    ====  ========  =======  ==============  ========  ==========  =====
    a     03-01     31       2 / 3           100       3 3 5        11
    b     02-10     51       1 / 1           60        2 1 4        7
    c     03-25     7        2 / 2           24        4 3 3        10
    d     03-31     1        1 / 1           10        5 1 2        8
    e     01-15     77       3 / 3           6         1 5 1        7
    ====  ========  =======  ==============  ========  ==========  =====
    """
    rows = [
        ("a", "2024-01-05", 50.0),
        ("a", "2024-03-01", 30.0),
        ("a", "2024-03-01", 20.0),
        ("b", "2024-02-10", 60.0),
        ("c", "2023-12-20", 14.0),
        ("c", "2024-03-25", 10.0),
        ("d", "2024-03-31", 10.0),
        ("e", "2023-11-01", 2.0),
        ("e", "2023-11-15", 2.0),
        ("e", "2024-01-15", 2.0),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "date", "value"])
    df["date"] = pd.to_datetime(df["date"])
    return df


# ---------------------------------------------------------------- identify: exact values


def test_pareto_hand_values_and_exact_threshold_stops_the_key_set(five: pd.DataFrame) -> None:
    out = identify(five, method="pareto")
    assert list(out.index) == ["a", "b", "c", "d", "e"]
    assert out.index.name == "customer_id"
    assert out["value"].tolist() == [100.0, 60.0, 24.0, 10.0, 6.0]
    assert out["rank"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(out["share"], [0.5, 0.3, 0.12, 0.05, 0.03])
    np.testing.assert_allclose(out["cum_share"], [0.5, 0.8, 0.92, 0.97, 1.0])
    # a and b reach exactly 80 %: c is not needed.
    assert out["class"].tolist() == ["key", "key", "other", "other", "other"]


@pytest.mark.parametrize(
    ("share", "keys"),
    [
        (0.5, ["a"]),
        (0.51, ["a", "b"]),
        (0.79, ["a", "b"]),
        (0.81, ["a", "b", "c"]),
        (1.0, list("abcde")),
    ],
)
def test_pareto_includes_the_customer_that_crosses_the_threshold(
    five: pd.DataFrame, share: float, keys: list[str]
) -> None:
    out = identify(five, method="pareto", share=share)
    assert out.index[out["class"] == "key"].tolist() == keys


def test_pareto_ties_at_the_boundary_are_split_by_customer_id() -> None:
    tx = pd.DataFrame({"customer_id": ["c", "a", "b"], "value": [25.0, 50.0, 25.0]})
    out = identify(tx, method="pareto", share=0.6)
    assert out.index.tolist() == ["a", "b", "c"]
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["class"].tolist() == ["key", "key", "other"]


def test_pareto_zero_value_customers_are_never_key() -> None:
    tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "value": [5.0, 0.0, 0.0]})
    out = identify(tx, method="pareto", share=1.0)
    assert out["class"].to_dict() == {"a": "key", "b": "other", "c": "other"}


def test_abc_hand_values(five: pd.DataFrame) -> None:
    out = identify(five, method="abc")
    # running share before each customer: 0, .5, .8, .92, .97 against cut-offs .8, .95
    assert out["class"].to_dict() == {"a": "A", "b": "A", "c": "B", "d": "B", "e": "C"}
    out = identify(five, method="abc", cutoffs=(0.5, 0.9))
    # a reaches exactly 50 %; b and c are needed to pass 90 % (before c: 80 %)
    assert out["class"].to_dict() == {"a": "A", "b": "B", "c": "B", "d": "C", "e": "C"}


def test_rfm_hand_values_counting_days(five: pd.DataFrame) -> None:
    out = identify(five, method="rfm")
    assert out.index.tolist() == list("abcde")
    assert out["recency"].tolist() == [31, 51, 7, 1, 77]
    assert out["frequency"].tolist() == [2, 1, 2, 1, 3]
    assert out["monetary"].tolist() == [100.0, 60.0, 24.0, 10.0, 6.0]
    assert out["r_score"].tolist() == [3, 2, 4, 5, 1]
    assert out["f_score"].tolist() == [3, 1, 3, 1, 5]
    assert out["m_score"].tolist() == [5, 4, 3, 2, 1]
    assert out["rfm_score"].tolist() == ["335", "214", "433", "512", "151"]
    assert out["rfm_total"].tolist() == [11, 7, 10, 8, 7]
    assert out["segment"].tolist() == [
        "need_attention",
        "hibernating",
        "potential_loyalist",
        "new",
        "cannot_lose",
    ]
    assert out["class"].tolist() == ["B", "C", "B", "B", "C"]
    assert out["last_purchase"]["a"] == pd.Timestamp("2024-03-01")


def test_rfm_counting_transactions_counts_same_day_rows(five: pd.DataFrame) -> None:
    out = identify(five, method="rfm", count="transactions")
    assert out["frequency"].tolist() == [3, 1, 2, 1, 3]
    assert out["f_score"].tolist() == [4, 1, 3, 1, 4]
    assert out.loc["a", "segment"] == "loyal"
    assert out.loc["a", "class"] == "A"  # 3 + 4 + 5 = 12
    assert out.loc["e", "segment"] == "at_risk"


def test_rfm_explicit_as_of_and_score_cutoffs(five: pd.DataFrame) -> None:
    default = identify(five, method="rfm")
    explicit = identify(five, method="rfm", as_of="2024-04-01")
    pd.testing.assert_frame_equal(default, explicit)
    later = identify(five, method="rfm", as_of=pd.Timestamp("2024-04-11"))
    assert (later["recency"] - default["recency"]).tolist() == [10] * 5
    cut = identify(five, method="rfm", score_cutoffs=(10, 8))
    assert cut["class"].tolist() == ["A", "C", "A", "B", "C"]


def test_rfm_scores_with_few_distinct_values_and_a_single_customer() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "date": pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-02"] * 3),
            "value": [1.0, 1.0, 1.0, 1.0, 1.0, 9.0],
        }
    )
    out = identify(tx, method="rfm")
    # recency: three customers at 2 days, three at 1 day: 3 of 6 are worse -> 1 + 2 = 3
    assert out["r_score"].tolist() == [1, 1, 1, 3, 3, 3]
    assert out["f_score"].tolist() == [1] * 6  # everyone bought once
    assert out["m_score"].tolist() == [1, 1, 1, 1, 1, 5]
    one = identify(tx.iloc[:1], method="rfm")
    assert one["rfm_score"].tolist() == ["111"]
    assert one["recency"].tolist() == [1]


def test_rfm_segment_grid_covers_every_score_pair() -> None:
    assert len(RFM_SEGMENTS) == 5
    assert all(len(row) == 5 for row in RFM_SEGMENTS)
    assert RFM_SEGMENTS[4][4] == "champions"
    assert RFM_SEGMENTS[0][0] == "hibernating"


def test_identify_accepts_other_column_names_and_string_dates(five: pd.DataFrame) -> None:
    renamed = five.rename(columns={"customer_id": "cust", "date": "day", "value": "amount"})
    renamed["day"] = renamed["day"].dt.strftime("%Y-%m-%d")
    out = identify(renamed, customer_col="cust", value_col="amount", date_col="day", method="rfm")
    assert out.index.name == "cust"
    assert out["rfm_score"].tolist() == ["335", "214", "433", "512", "151"]


@pytest.mark.parametrize("method", ["pareto", "abc", "rfm"])
def test_identify_does_not_mutate_its_input(five: pd.DataFrame, method: str) -> None:
    before = five.copy(deep=True)
    identify(five, method=method)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(five, before)


# ------------------------------------------------------------------ identify: errors


def test_identify_missing_column_names_it(five: pd.DataFrame) -> None:
    with pytest.raises(InvalidProblemError, match="'dollar_value'"):
        identify(five, value_col="dollar_value")
    with pytest.raises(InvalidProblemError, match="'when'"):
        identify(five, method="rfm", date_col="when")


def test_identify_missing_values_name_the_customers(five: pd.DataFrame) -> None:
    bad = five.copy()
    bad.loc[3, "value"] = np.nan
    with pytest.raises(InvalidProblemError, match=r"customers 'b'.*drop or fill"):
        identify(bad)


def test_identify_missing_dates_name_the_customers(five: pd.DataFrame) -> None:
    bad = five.copy()
    bad.loc[6, "date"] = pd.NaT
    with pytest.raises(InvalidProblemError, match="customers 'd'"):
        identify(bad, method="rfm")


def test_identify_numeric_dates_are_rejected_with_a_fix(five: pd.DataFrame) -> None:
    numeric = five.assign(date=five["date"].dt.strftime("%Y%m%d").astype(int))
    with pytest.raises(InvalidProblemError, match=r"numeric date column 'date'.*to_datetime"):
        identify(numeric, method="rfm")


def test_identify_rfm_with_time_zone_aware_dates(five: pd.DataFrame) -> None:
    aware = five.assign(date=five["date"].dt.tz_localize("Europe/Berlin"))
    out = identify(aware, method="rfm")
    assert out["rfm_score"].tolist() == ["335", "214", "433", "512", "151"]
    with pytest.raises(InvalidParameterError, match="'as_of'"):
        identify(aware, method="rfm", as_of="2024-05-01")  # naive vs aware


def test_identify_missing_customer_ids_name_the_rows(five: pd.DataFrame) -> None:
    bad = five.copy()
    bad["customer_id"] = bad["customer_id"].astype(object)
    bad.loc[4, "customer_id"] = None
    with pytest.raises(InvalidProblemError, match="rows 4"):
        identify(bad)


def test_identify_negative_totals_name_the_customers(five: pd.DataFrame) -> None:
    bad = five.copy()
    bad.loc[6, "value"] = -50.0
    with pytest.raises(InvalidProblemError, match=r"customers 'd'.*returns"):
        identify(bad, method="abc")
    identify(bad, method="rfm")  # rfm only ranks, negative totals are fine


def test_identify_zero_total_and_empty_and_non_numeric_are_rejected(five: pd.DataFrame) -> None:
    with pytest.raises(InvalidProblemError, match="total 'value' of 0"):
        identify(five.assign(value=0.0))
    with pytest.raises(InvalidProblemError, match="no rows"):
        identify(five.iloc[:0])
    with pytest.raises(InvalidProblemError, match="non-numeric"):
        identify(five.assign(value="x"))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"method": "kmeans"}, "method"),
        ({"share": 0.0}, "share"),
        ({"share": 1.5}, "share"),
        ({"method": "abc", "cutoffs": (0.9, 0.8)}, "cutoffs"),
        ({"method": "abc", "cutoffs": (0.8,)}, "cutoffs"),
        ({"method": "rfm", "count": "weeks"}, "count"),
        ({"method": "rfm", "score_cutoffs": (8, 12)}, "score_cutoffs"),
        ({"method": "rfm", "score_cutoffs": (12.0, 8)}, "score_cutoffs"),
        ({"method": "rfm", "score_cutoffs": "ab"}, "score_cutoffs"),
        ({"method": "abc", "cutoffs": ("a", 0.8)}, "cutoffs"),
    ],
)
def test_identify_bad_parameters_are_named(
    five: pd.DataFrame, kwargs: dict[str, object], name: str
) -> None:
    with pytest.raises(InvalidParameterError, match=f"the '{name}' parameter of identify"):
        identify(five, **kwargs)  # type: ignore[arg-type]


def test_identify_checks_only_the_parameters_of_the_chosen_method(five: pd.DataFrame) -> None:
    unused: Any = {"cutoffs": "unused", "score_cutoffs": None}
    pareto = identify(five, method="pareto", **unused)
    pd.testing.assert_frame_equal(pareto, identify(five, method="pareto"))
    abc = identify(five, method="abc", share=-1.0)
    pd.testing.assert_frame_equal(abc, identify(five, method="abc"))


def test_identify_as_of_before_a_purchase_names_the_customers(five: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match=r"as_of.*customers 'c', 'd'"):
        identify(five, method="rfm", as_of="2024-03-20")


def test_identify_rejects_a_non_frame() -> None:
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        identify([1, 2, 3])  # type: ignore[arg-type]


# ------------------------------------------------------------- identify: properties

values_st = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=40).filter(
    lambda v: sum(v) > 0
)


def _frame(values: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [f"c{i:03d}" for i in range(len(values))], "value": values}
    ).astype({"value": float})


@PROPERTY
@given(values=values_st, share=st.floats(min_value=0.01, max_value=1.0))
def test_pareto_key_set_is_the_smallest_top_set_reaching_the_share(
    values: list[int], share: float
) -> None:
    out = identify(_frame(values), method="pareto", share=share)
    total = float(sum(values))
    key = out.loc[out["class"] == "key", "value"]
    other = out.loc[out["class"] != "key", "value"]
    assert len(key) >= 1
    assert key.sum() >= (share - 1e-9) * total  # reaches the share
    assert key.sum() - key.min() < share * total  # without its smallest it does not
    assert other.empty or key.min() >= other.max()  # key customers are the top values
    assert (out["rank"] == np.arange(1, len(out) + 1)).all()


@PROPERTY
@given(
    values=values_st,
    a=st.floats(min_value=0.05, max_value=0.9),
    gap=st.floats(min_value=0.01, max_value=0.5),
)
def test_abc_classes_are_monotone_in_value_and_a_is_the_pareto_set(
    values: list[int], a: float, gap: float
) -> None:
    b = min(a + gap, 1.0)
    frame = _frame(values)
    out = identify(frame, method="abc", cutoffs=(a, b))
    order = out["class"].map({"A": 0, "B": 1, "C": 2}).to_numpy()
    v = out["value"].to_numpy()
    higher = v[:, None] > v[None, :]
    assert (order[:, None] <= order[None, :])[higher].all()
    pareto = identify(frame, method="pareto", share=a)
    assert (out["class"] == "A").equals(pareto["class"] == "key")
    reached_b = out.loc[out["class"] != "C", "value"].sum()
    assert reached_b >= (b - 1e-9) * sum(values)


rfm_rows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7),  # customer
        st.integers(min_value=0, max_value=60),  # day
        st.integers(min_value=0, max_value=100),  # value
    ),
    min_size=1,
    max_size=40,
)


@PROPERTY
@given(rows=rfm_rows, seed=st.integers(min_value=0, max_value=2**16))
def test_rfm_scores_are_monotone_ties_share_and_row_order_does_not_matter(
    rows: list[tuple[int, int, int]], seed: int
) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [f"k{c}" for c, _, _ in rows],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta([d for _, d, _ in rows], "D"),
            "value": [float(v) for _, _, v in rows],
        }
    )
    out = identify(tx, method="rfm")
    for figure, score, sign in [
        ("recency", "r_score", -1),
        ("frequency", "f_score", 1),
        ("monetary", "m_score", 1),
    ]:
        x = sign * out[figure].to_numpy(dtype=float)
        s = out[score].to_numpy()
        assert s.min() == 1 and s.max() <= 5
        assert (s[x == x.min()] == 1).all()
        assert ((s[:, None] >= s[None, :]) | ~(x[:, None] >= x[None, :])).all()
    assert set(out["class"]) <= {"A", "B", "C"}
    assert (out["rfm_total"] == out["r_score"] + out["f_score"] + out["m_score"]).all()
    shuffled = tx.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(identify(shuffled, method="rfm"), out)


# ------------------------------------------------------------------------ CDNOW data


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


def test_load_cdnow_shape_and_types(cdnow: pd.DataFrame) -> None:
    assert cdnow.shape == (69659, 4)
    assert list(cdnow.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert pd.api.types.is_string_dtype(cdnow["customer_id"])
    assert pd.api.types.is_datetime64_dtype(cdnow["date"])
    assert pd.api.types.is_integer_dtype(cdnow["number_of_cds"])
    assert pd.api.types.is_float_dtype(cdnow["dollar_value"])
    assert cdnow["customer_id"].iloc[0] == "00001"
    assert cdnow["date"].min() == pd.Timestamp("1997-01-01")
    assert cdnow["date"].max() == pd.Timestamp("1998-06-30")
    assert not cdnow.isna().any().any()


@pytest.mark.parametrize("method", ["pareto", "abc", "rfm"])
def test_identify_on_cdnow_gives_one_row_per_customer_and_a_partition(
    cdnow: pd.DataFrame, method: str
) -> None:
    before = cdnow.copy(deep=True)
    out = identify(cdnow, value_col="dollar_value", method=method)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(cdnow, before)
    assert len(out) == 23570
    assert out.index.is_unique
    assert set(out.index) == set(cdnow["customer_id"])
    classes = {"pareto": {"key", "other"}, "abc": {"A", "B", "C"}, "rfm": {"A", "B", "C"}}
    assert set(out["class"]) == classes[method]
    value = out["monetary"] if method == "rfm" else out["value"]
    assert value.sum() == pytest.approx(cdnow["dollar_value"].sum())
    if method == "pareto":
        key = out["class"] == "key"
        assert value[key].sum() >= 0.8 * value.sum()
        assert value[key].sum() - value[key].min() < 0.8 * value.sum()
    if method == "rfm":
        assert out[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
        assert (out["recency"] >= 1).all() and (out["frequency"] >= 1).all()


# ------------------------------------------------------------ tracking_plan: values


@pytest.fixture
def book() -> tuple[pd.DataFrame, pd.Series]:
    customers = pd.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"], "class": list("AABBCB")}
    )
    owners = pd.Series({"c1": "r1", "c2": "r1", "c3": "r1", "c4": "r2", "c5": "r2", "c6": "r2"})
    return customers, owners


def test_tracking_plan_hand_schedule(book: tuple[pd.DataFrame, pd.Series]) -> None:
    customers, owners = book
    plan = tracking_plan(customers, owners, start="2024-01-01", horizon=8)
    assert list(plan.columns) == ["customer_id", "rep_id", "class", "visit", "week", "week_start"]
    weeks = plan.groupby("customer_id")["week"].apply(list).to_dict()
    # A: 4 visits every 2 weeks, B: 2 visits 4 weeks apart, C: none.
    assert weeks == {
        "c1": [0, 2, 4, 6],
        "c2": [1, 3, 5, 7],
        "c3": [0, 4],
        "c4": [0, 4],
        "c6": [1, 5],
    }
    per_week = plan.groupby(["rep_id", "week"]).size().unstack(fill_value=0)
    assert list(per_week.loc["r1"]) == [2, 1, 1, 1, 2, 1, 1, 1]
    assert plan.loc[plan["customer_id"] == "c1", "visit"].tolist() == [1, 2, 3, 4]
    assert plan["week_start"].iloc[-1] == pd.Timestamp("2024-02-05")  # r2: c6 in week 5
    assert (
        plan["week_start"] == pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * plan["week"], "D")
    ).all()


def test_tracking_plan_takes_an_indexed_frame_a_mapping_and_an_end_date(
    book: tuple[pd.DataFrame, pd.Series],
) -> None:
    customers, owners = book
    indexed = customers.set_index("customer_id")
    plan = tracking_plan(
        indexed,
        owners.to_dict(),
        start="2024-01-01",
        horizon="2024-03-31",  # 90 days -> 13 weeks
        frequency={"A": 13, "C": 1},
        owner_col="owner",
    )
    assert "owner" in plan.columns
    assert plan.groupby("customer_id").size().to_dict() == {"c1": 13, "c2": 13, "c5": 1}
    assert plan["week"].max() == 12


def test_tracking_plan_default_frequency_and_horizon(book: tuple[pd.DataFrame, pd.Series]) -> None:
    customers, owners = book
    plan = tracking_plan(customers, owners, start=pd.Timestamp("2024-01-01"))
    counts = plan.groupby("customer_id").size().to_dict()
    assert counts == {"c1": 4, "c2": 4, "c3": 2, "c4": 2, "c6": 2}
    assert plan["week"].between(0, 12).all()


def test_tracking_plan_with_no_visits_is_empty(book: tuple[pd.DataFrame, pd.Series]) -> None:
    customers, owners = book
    plan = tracking_plan(customers, owners, start="2024-01-01", frequency={"Z": 3})
    assert plan.empty
    assert list(plan.columns) == ["customer_id", "rep_id", "class", "visit", "week", "week_start"]


def test_tracking_plan_does_not_mutate_inputs(book: tuple[pd.DataFrame, pd.Series]) -> None:
    customers, owners = book
    c0, o0 = customers.copy(deep=True), owners.copy(deep=True)
    tracking_plan(customers, owners, start="2024-01-01")
    pd.testing.assert_frame_equal(customers, c0)
    pd.testing.assert_series_equal(owners, o0)


def test_tracking_plan_levels_cdnow_rfm_classes(cdnow: pd.DataFrame) -> None:
    classes = identify(cdnow, value_col="dollar_value", method="rfm")
    rng = np.random.default_rng(0)
    owners = pd.Series(rng.integers(0, 40, len(classes)).astype(str), index=classes.index)
    plan = tracking_plan(classes, owners, start="1998-07-06", horizon=12)
    per_week = plan.groupby(["rep_id", "week"]).size().unstack(fill_value=0)
    assert (per_week.max(axis=1) - per_week.min(axis=1)).max() <= 1  # 12 weeks: 3 | 6
    expected = classes["class"].map({"A": 4, "B": 2}).dropna().astype(int)
    assert plan.groupby("customer_id").size().sort_index().equals(expected.sort_index())


# ------------------------------------------------------------ tracking_plan: errors


def test_tracking_plan_unknown_assignment_ids_are_named(
    book: tuple[pd.DataFrame, pd.Series],
) -> None:
    customers, owners = book
    extra = pd.concat([owners, pd.Series({"zz": "r1"})])
    with pytest.raises(InvalidProblemError, match=r"'zz'.*not in 'customers'"):
        tracking_plan(customers, extra, start="2024-01-01")


def test_tracking_plan_visited_customers_without_owner_are_named(
    book: tuple[pd.DataFrame, pd.Series],
) -> None:
    customers, owners = book
    with pytest.raises(InvalidProblemError, match=r"no owner for customers 'c3', 'c6'"):
        tracking_plan(customers, owners.drop(["c3", "c5", "c6"]), start="2024-01-01")
    # c5 is class C: no visits, so no owner needed
    tracking_plan(customers, owners.drop(["c5"]), start="2024-01-01")


@pytest.mark.parametrize(
    ("frequency", "match"),
    [
        ({"A": -1}, r"whole numbers of visits >= 0; got -1 for class 'A'"),
        ({"A": 1.5}, "got 1.5 for class 'A'"),
        ({"A": 9}, r"must not exceed the 8 weeks.*got 9 for class 'A'"),
    ],
)
def test_tracking_plan_bad_frequencies_are_named(
    book: tuple[pd.DataFrame, pd.Series], frequency: dict[str, Any], match: str
) -> None:
    customers, owners = book
    with pytest.raises(InvalidParameterError, match=match):
        tracking_plan(customers, owners, start="2024-01-01", horizon=8, frequency=frequency)


def test_tracking_plan_other_bad_inputs(book: tuple[pd.DataFrame, pd.Series]) -> None:
    customers, owners = book
    with pytest.raises(InvalidProblemError, match="'tier'"):
        tracking_plan(customers, owners, start="2024-01-01", class_col="tier")
    dup = pd.concat([customers, customers.iloc[:1]])
    with pytest.raises(InvalidProblemError, match="duplicate customer ids 'c1'"):
        tracking_plan(dup, owners, start="2024-01-01")
    with pytest.raises(InvalidParameterError, match="'horizon'"):
        tracking_plan(customers, owners, start="2024-01-01", horizon=0)
    with pytest.raises(InvalidParameterError, match="'horizon'"):
        tracking_plan(customers, owners, start="2024-01-01", horizon="2023-12-01")
    with pytest.raises(InvalidParameterError, match="'start'"):
        tracking_plan(customers, owners, start="not a date")
    with pytest.raises(InvalidProblemError, match="more than once"):
        tracking_plan(customers, pd.Series(["r1", "r2"], index=["c1", "c1"]), start="2024-01-01")


# -------------------------------------------------------- tracking_plan: properties


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def chain_books(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.Series, dict[str, int], int]:
    """Frequencies whose spacings W / f divide one another and W."""
    weeks = draw(st.sampled_from([1, 2, 4, 6, 8, 9, 12, 13, 16, 24]))
    s3 = draw(st.sampled_from(_divisors(weeks)))
    s2 = draw(st.sampled_from(_divisors(s3)))
    s1 = draw(st.sampled_from(_divisors(s2)))
    frequency = {"A": weeks // s1, "B": weeks // s2, "C": weeks // s3}
    n = draw(st.integers(min_value=1, max_value=40))
    classes = draw(st.lists(st.sampled_from("ABCD"), min_size=n, max_size=n))
    owners = draw(st.lists(st.sampled_from(["r1", "r2", "r3"]), min_size=n, max_size=n))
    ids = [f"x{i}" for i in range(n)]
    return (
        pd.DataFrame({"class": classes}, index=ids),
        pd.Series(owners, index=ids),
        frequency,
        weeks,
    )


@PROPERTY
@given(book=chain_books())
def test_weekly_visits_per_owner_differ_by_at_most_one_when_spacings_divide(
    book: tuple[pd.DataFrame, pd.Series, dict[str, int], int],
) -> None:
    customers, owners, frequency, weeks = book
    plan = tracking_plan(customers, owners, start="2024-01-01", frequency=frequency, horizon=weeks)
    for _, visits in plan.groupby("rep_id"):
        load = np.bincount(visits["week"], minlength=weeks)
        assert load.max() - load.min() <= 1


@st.composite
def any_books(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.Series, dict[str, int], int]:
    weeks = draw(st.integers(min_value=1, max_value=30))
    frequency = {k: draw(st.integers(min_value=0, max_value=weeks)) for k in ("A", "B", "C")}
    n = draw(st.integers(min_value=1, max_value=30))
    classes = draw(st.lists(st.sampled_from("ABCD"), min_size=n, max_size=n))
    owners = draw(st.lists(st.sampled_from([1, 2]), min_size=n, max_size=n))
    ids = [f"y{i}" for i in range(n)]
    customers = pd.DataFrame({"customer_id": ids, "class": classes})
    return customers, pd.Series(owners, index=ids), frequency, weeks


@PROPERTY
@given(book=any_books())
def test_each_customer_gets_its_frequency_in_evenly_spaced_weeks(
    book: tuple[pd.DataFrame, pd.Series, dict[str, int], int],
) -> None:
    customers, owners, frequency, weeks = book
    plan = tracking_plan(customers, owners, start="2024-01-01", frequency=frequency, horizon=weeks)
    expected = customers.set_index("customer_id")["class"].map(frequency).fillna(0).astype(int)
    got = plan.groupby("customer_id").size().reindex(expected.index, fill_value=0)
    assert got.equals(expected)
    assert plan["week"].between(0, weeks - 1).all()
    for cid, visits in plan.groupby("customer_id"):
        w = visits["week"].to_numpy()
        f = len(w)
        assert visits["visit"].tolist() == list(range(1, f + 1))
        assert (np.diff(w) > 0).all()  # one visit a week at most, numbered in date order
        gaps = np.diff(np.append(w, w[0] + weeks))  # cyclic, wrapping into the next horizon
        assert set(gaps.tolist()) <= {weeks // f, -(-weeks // f)}
        assert (visits["rep_id"] == owners[cid]).all()
