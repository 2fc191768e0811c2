"""Tests for alloc.Problem: construction, pair table, views, events and immutability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.checker import objective_value


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "potential": [5, 3, 2, 6],
            "workload": [2, 1, 1, 3],
            "industry": ["retail", "health", "retail", "energy"],
            "owner": ["r1", "r2", "r3", None],
        }
    )


@pytest.fixture
def reps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["r1", "r2", "r3"],
            "skills": ["retail;health", "health;energy", "retail"],
            "capacity": [4, 4, 4],
        }
    )


def test_dense_problem_has_every_pair(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = alloc.Problem(customers, reps)
    assert (problem.n_customers, problem.n_reps, problem.n_pairs) == (4, 3, 12)
    assert list(problem.customer_ids) == ["c1", "c2", "c3", "c4"]
    assert list(problem.rep_ids) == ["r1", "r2", "r3"]


def test_match_prunes_the_pair_table_to_matching_skills(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    expected = {
        ("c1", "r1"),
        ("c1", "r3"),
        ("c2", "r1"),
        ("c2", "r2"),
        ("c3", "r1"),
        ("c3", "r3"),
        ("c4", "r2"),
    }
    assert problem.n_pairs == 7
    pairs = problem.pairs
    assert list(pairs.columns[:2]) == ["customer_id", "rep_id"]
    assert set(map(tuple, pairs[["customer_id", "rep_id"]].to_numpy().tolist())) == expected


def test_match_accepts_list_valued_rep_column(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    as_lists = reps.assign(skills=[["retail", "health"], ["health", "energy"], ["retail"]])
    a = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    b = alloc.Problem(customers, as_lists, rules=[alloc.Match("industry", "skills")])
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_match_missing_any_lets_customers_without_value_go_anywhere(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    c = customers.assign(industry=["retail", None, "retail", "energy"])
    strict = alloc.Problem(c, reps, rules=[alloc.Match("industry", "skills")])
    loose = alloc.Problem(c, reps, rules=[alloc.Match("industry", "skills", missing="any")])
    assert list(strict.customers_without_reps()) == ["c2"]
    assert len(loose.customers_without_reps()) == 0
    assert loose.n_pairs == strict.n_pairs + 3


def test_pair_values_stay_aligned_after_pruning(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    pairs = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3", "c4", "c4"],
            "rep_id": ["r1", "r2", "r2", "r3", "r2", "r3"],
            "fit": [10, 20, 30, 40, 50, 60],
        }
    )
    problem = alloc.Problem(customers, reps, pairs=pairs, rules=[alloc.Forbid([("c1", "r1")])])
    got = problem.pairs.set_index(["customer_id", "rep_id"])["fit"].to_dict()
    assert got == {
        ("c1", "r2"): 20,
        ("c2", "r2"): 30,
        ("c3", "r3"): 40,
        ("c4", "r2"): 50,
        ("c4", "r3"): 60,
    }
    pd.testing.assert_frame_equal(problem.source_pairs, pairs)


def test_pin_and_forbid_prune_pairs(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = alloc.Problem(
        customers, reps, rules=[alloc.Pin({"c1": "r2"}), alloc.Forbid([("c2", "r1"), ("c2", "r3")])]
    )
    pairs = problem.pairs
    assert pairs.loc[pairs["customer_id"] == "c1", "rep_id"].tolist() == ["r2"]
    assert pairs.loc[pairs["customer_id"] == "c2", "rep_id"].tolist() == ["r2"]
    assert problem.n_pairs == 12 - 2 - 2


def test_key_accounts_prune_pairs_to_listed_levels() -> None:
    c = pd.DataFrame({"customer_id": ["k", "n"], "key": ["yes", "no"]})
    r = pd.DataFrame({"rep_id": ["s", "m", "j"], "level": ["senior", "mid", "junior"]})
    problem = alloc.Problem(c, r, rules=[alloc.KeyAccounts("key", levels=["senior", "mid"])])
    pairs = problem.pairs
    assert sorted(pairs.loc[pairs["customer_id"] == "k", "rep_id"]) == ["m", "s"]
    assert sorted(pairs.loc[pairs["customer_id"] == "n", "rep_id"]) == ["j", "m", "s"]


def test_ids_may_be_the_index_or_renamed(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    by_index = alloc.Problem(customers.set_index("customer_id"), reps.set_index("rep_id"))
    assert by_index.n_pairs == 12
    renamed = alloc.Problem(
        customers.rename(columns={"customer_id": "account"}),
        reps.rename(columns={"rep_id": "seller"}),
        id_columns={"customer": "account", "rep": "seller"},
    )
    assert renamed.id_columns == {"customer": "account", "rep": "seller"}
    assert list(renamed.pairs.columns) == ["account", "seller"]
    result = alloc.solve(renamed, time_limit=1, workers=1)
    assert "seller" in result.to_frame().columns
    assert alloc.check(renamed, result.assignment) == []


def test_objective_written_as_a_weighted_sum_of_terms(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    objective = alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload")
    assert isinstance(objective, alloc.Objective)
    problem = alloc.Problem(customers, reps, objective=objective)
    assert len(problem.objective) == 2
    assert [t.weight for t in problem.objective] == [1.0, 0.5]
    assert [t.metric for t in problem.objective] == ["potential", "workload"]
    a = pd.Series({"c1": "r1", "c2": "r2", "c3": "r2", "c4": "r3"})
    # potential loads 5, 5, 6 vs share 16/3; workload loads 2, 2, 3 vs share 7/3
    expected = (6 - 16 / 3) / (16 / 3) + 0.5 * (3 - 7 / 3) / (7 / 3)
    assert objective_value(problem, a) == pytest.approx(expected, rel=1e-12)
    listed = alloc.Problem(
        customers,
        reps,
        objective=[alloc.MinimizeImbalance("potential"), alloc.MinimizeImbalance("workload", 0.5)],
    )
    assert objective_value(listed, a) == pytest.approx(expected, rel=1e-12)


def test_repr_counts_customers_reps_pairs_rules_and_terms(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Match("industry", "skills")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    assert repr(problem) == (
        "Problem(4 customers, 3 reps, 7 eligible pairs, 1 rules, 1 objective terms)"
    )


def test_replace_returns_a_new_validated_problem(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    matched = problem.replace(rules=[alloc.Match("industry", "skills")])
    assert matched is not problem
    assert (problem.n_pairs, matched.n_pairs) == (12, 7)
    assert problem.rules == ()
    assert matched.objective == problem.objective
    pd.testing.assert_frame_equal(matched.customers, problem.customers)
    with pytest.raises(alloc.InvalidProblemError, match="'nope'"):
        problem.replace(objective=alloc.MinimizeImbalance("nope"))
    with pytest.raises(alloc.InvalidParameterError, match="colour"):
        problem.replace(colour="red")


def test_without_reps_drops_reps_and_their_pins_forbids_and_ownership(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Pin({"c1": "r1", "c2": "r2"}), alloc.Forbid([("c3", "r1"), ("c3", "r2")])],
        objective=alloc.MinimizeDisruption("owner", value="potential"),
    )
    smaller = problem.without_reps(["r1"])
    assert list(smaller.rep_ids) == ["r2", "r3"]
    assert problem.n_reps == 3
    pin = next(r for r in smaller.rules if isinstance(r, alloc.Pin))
    forbid = next(r for r in smaller.rules if isinstance(r, alloc.Forbid))
    assert pin.mapping == {"c2": "r2"}
    assert forbid.pairs == (("c3", "r2"),)
    owners = smaller.customers["owner"]
    assert pd.isna(owners["c1"]) and owners["c2"] == "r2" and owners["c3"] == "r3"
    assert problem.customers["owner"]["c1"] == "r1"
    with pytest.raises(alloc.InvalidProblemError, match="r9"):
        problem.without_reps(["r9"])
    with pytest.raises(alloc.InvalidProblemError):
        problem.without_reps(["r1", "r2", "r3"])


def test_without_reps_keeps_pair_rows_of_remaining_reps(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    pairs = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3", "c4"],
            "rep_id": ["r1", "r2", "r2", "r3", "r2"],
            "fit": [1, 2, 3, 4, 5],
        }
    )
    problem = alloc.Problem(customers, reps, pairs=pairs)
    smaller = problem.without_reps(["r1"])
    assert smaller.n_pairs == 4
    assert "r1" not in set(smaller.pairs["rep_id"])


def test_with_reps_and_with_customers_add_rows(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    problem = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    more_reps = problem.with_reps(
        pd.DataFrame({"rep_id": ["r4"], "skills": ["energy"], "capacity": [4]})
    )
    assert list(more_reps.rep_ids) == ["r1", "r2", "r3", "r4"]
    assert more_reps.n_pairs == problem.n_pairs + 1
    more_customers = problem.with_customers(
        pd.DataFrame(
            {
                "customer_id": ["c5"],
                "potential": [1],
                "workload": [1],
                "industry": ["retail"],
                "owner": ["r1"],
            }
        )
    )
    assert list(more_customers.customer_ids)[-1] == "c5"
    assert more_customers.n_pairs == problem.n_pairs + 2
    assert problem.n_customers == 4 and problem.n_reps == 3
    with pytest.raises(alloc.InvalidProblemError, match="r1"):
        problem.with_reps(pd.DataFrame({"rep_id": ["r1"], "skills": ["retail"], "capacity": [1]}))
    with pytest.raises(alloc.InvalidProblemError, match="c1"):
        problem.with_customers(
            pd.DataFrame(
                {
                    "customer_id": ["c1"],
                    "potential": [1],
                    "workload": [1],
                    "industry": ["retail"],
                    "owner": [None],
                }
            )
        )


def test_views_are_copies_and_model_arrays_are_read_only(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    view = problem.customers
    view.loc["c1", "potential"] = 1000
    assert problem.customers.loc["c1", "potential"] == 5
    rep_view = problem.reps
    rep_view["capacity"] = 0
    assert problem.reps["capacity"].tolist() == [4, 4, 4]
    with pytest.raises(ValueError):
        problem.model.pair_rep[0] = 1
    with pytest.raises(ValueError):
        problem.model.cost[0] = 1.0


def test_building_a_problem_does_not_mutate_inputs(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    pairs = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c4"],
            "rep_id": ["r1", "r2", "r3", "r2", "r1"],
            "cost": [1, 2, 3, 4, 5],
        }
    )
    before = (customers.copy(deep=True), reps.copy(deep=True), pairs.copy(deep=True))
    problem = alloc.Problem(
        customers,
        reps,
        pairs=pairs,
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=[alloc.MinimizeCost("cost"), alloc.MinimizeDisruption("owner")],
    )
    alloc.solve(problem, time_limit=1, workers=1)
    problem.without_reps(["r3"])
    for now, then in zip((customers, reps, pairs), before, strict=True):
        pd.testing.assert_frame_equal(now, then)


def test_metric_names_lists_metrics_of_rules_and_terms(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Capacity("workload", limit="capacity")],
        objective=[
            alloc.MinimizeImbalance("potential"),
            alloc.MinimizeImbalance("workload"),
            alloc.MinimizeDisruption("owner"),
        ],
    )
    assert problem.metric_names() == ["workload", "potential"]


def test_together_merges_families_into_units(customers: pd.DataFrame, reps: pd.DataFrame) -> None:
    c = customers.assign(family=["f", "f", None, "g"])
    problem = alloc.Problem(c, reps, rules=[alloc.Together("family")])
    model = problem.model
    unit = model.customer_unit
    assert unit[0] == unit[1]
    assert len(set(unit.tolist())) == 3
    assert model.n_units == 3
    assert sorted(model.unit_size.tolist()) == [1, 1, 2]


def test_together_family_only_gets_reps_every_member_may_use(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    c = customers.assign(family=["f", "f", None, None])  # c1 retail, c2 health: only r1
    problem = alloc.Problem(
        c, reps, rules=[alloc.Match("industry", "skills"), alloc.Together("family")]
    )
    result = alloc.solve(problem, time_limit=1, workers=1)
    assert result.assignment["c1"] == result.assignment["c2"] == "r1"


def test_dense_limit_refuses_huge_dense_problems() -> None:
    from alloc.data.problem import DENSE_PAIR_LIMIT

    m = 40
    n = DENSE_PAIR_LIMIT // m + 1
    c = pd.DataFrame({"customer_id": np.arange(n)})
    r = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)]})
    with pytest.raises(alloc.InvalidProblemError, match="pairs"):
        alloc.Problem(c, r)


def test_model_arrays_stay_read_only_after_pickling() -> None:
    import pickle

    problem = alloc.datasets.make_problem(50, 4, seed=0)
    copy = pickle.loads(pickle.dumps(problem))
    for arr in (copy.model.pair_key, copy.model.cost, copy.model.pair_rep):
        assert not arr.flags.writeable


def test_problem_keeps_its_own_copy_of_the_callers_pair_frame(
    customers: pd.DataFrame, reps: pd.DataFrame
) -> None:
    pairs = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c4"],
            "rep_id": ["r1", "r2", "r3", "r2", "r1"],
            "cost": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    problem = alloc.Problem(customers, reps, pairs=pairs, objective=alloc.MinimizeCost("cost"))
    pairs_before = problem.pairs
    # The caller edits its frame afterwards: a value, an id and a new column.
    pairs.loc[0, "cost"] = 100.0
    pairs.loc[1, "rep_id"] = "r9"
    pairs["extra"] = 1
    pd.testing.assert_frame_equal(problem.pairs, pairs_before)
    assert problem.source_pairs is not None
    assert problem.source_pairs["cost"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert "extra" not in problem.source_pairs.columns
    # replace() rebuilds from the problem's pairs, not from the caller's edited frame.
    again = problem.replace(rules=[alloc.Capacity("workload", limit="capacity")])
    pd.testing.assert_frame_equal(again.pairs, pairs_before)
    plan = pd.Series({"c1": "r1", "c2": "r2", "c3": "r3", "c4": "r2"})
    assert objective_value(again, plan) == objective_value(problem, plan) == 1 + 2 + 3 + 4


def test_a_reps_table_of_ids_in_its_index_alone_is_not_empty() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "w": [1.0, 2.0]})
    reps = pd.DataFrame(index=pd.Index(["r1", "r2"], name="rep_id"))  # no columns at all
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("w"))
    assert list(problem.rep_ids) == ["r1", "r2"]
    with pytest.raises(alloc.InvalidProblemError, match="reps is empty"):
        alloc.Problem(customers, reps.iloc[:0])


@pytest.mark.parametrize(
    ("reps", "hint"),
    [
        # One column of unique text: that is the id column.
        (pd.DataFrame({"name": ["A", "B"], "capacity": [6, 7]}), "id_columns={'rep': 'name'}"),
        # Two such columns: the one whose name says so.
        (
            pd.DataFrame({"Rep Code": ["a1", "b2"], "region": ["N", "S"]}),
            "id_columns={'rep': 'Rep Code'}",
        ),
        # Nothing looks like ids: the generic advice only.
        (pd.DataFrame({"region": ["N", "N"], "capacity": [6, 7]}), "pass id_columns=."),
    ],
)
def test_a_missing_id_column_names_the_column_that_looks_like_ids(
    reps: pd.DataFrame, hint: str
) -> None:
    customers = pd.DataFrame({"customer_id": ["c1", "c2"], "potential": [1.0, 2.0]})
    with pytest.raises(alloc.InvalidProblemError, match="no id column 'rep_id'") as info:
        alloc.Problem(customers, reps)
    assert hint in str(info.value)
