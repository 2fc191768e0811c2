"""Tests for alloc.targets.quotas (from_allocation): quotas from an allocation."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alloc.errors import InvalidProblemError
from alloc.targets import from_allocation, split


def _problem():
    customers = pd.DataFrame(
        {"potential": [50, 30, 20, 100, 0], "history": [10, 10, 10, 10, 60]},
        index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer_id"),
    )
    reps = pd.DataFrame(
        {"level": ["junior", "senior", "senior", "junior"]}, index=["ann", "bob", "cid", "dee"]
    )
    return SimpleNamespace(customers=customers, reps=reps)


def test_from_allocation_quota_follows_territory_potential():
    problem = _problem()
    assignment = pd.Series({"c1": "ann", "c2": "ann", "c3": "bob", "c4": "cid", "c5": "cid"})
    quotas = from_allocation(problem, assignment, 1_000, unit=10)
    assert quotas.to_dict() == {"ann": 400, "bob": 100, "cid": 500, "dee": 0}
    assert quotas.name == "quota"


def test_from_allocation_with_blend_and_plain_dataframe():
    problem = _problem()
    assignment = pd.Series({"c1": "ann", "c2": "ann", "c3": "bob", "c4": "cid", "c5": "cid"})
    quotas = from_allocation(
        problem.customers, assignment, 1_000, blend={"potential": 0.5, "history": 0.5}
    )
    # potential shares .4 .1 .5, history shares .2 .1 .7 -> .3 .1 .6
    assert quotas.to_dict() == {"ann": 300, "bob": 100, "cid": 600}
    quotas = from_allocation(problem.customers, assignment, 90, reps=["dee", "cid", "bob", "ann"])
    assert list(quotas.index) == ["dee", "cid", "bob", "ann"] and quotas["dee"] == 0


def test_from_allocation_ignores_unassigned_customers():
    problem = _problem()
    assignment = pd.Series({"c1": "ann", "c2": None, "c4": "bob"})
    quotas = from_allocation(problem, assignment, 150)
    assert quotas.to_dict() == {"ann": 50, "bob": 100, "cid": 0, "dee": 0}


@pytest.mark.parametrize(
    ("assignment", "kwargs", "match"),
    [
        (pd.Series({"c1": "ann", "c9": "bob"}), {}, "'c9'"),
        (pd.Series({"c1": "zoe"}), {}, "'zoe'"),
        (pd.Series({"c1": "ann"}), {"basis": "revenue"}, "'revenue'"),
        (pd.Series({"c5": "ann"}), {}, "basis 0"),
    ],
)
def test_from_allocation_rejects_bad_input(assignment, kwargs, match):
    with pytest.raises(InvalidProblemError, match=match):
        from_allocation(_problem(), assignment, 100, **kwargs)


def test_from_allocation_does_not_mutate_inputs():
    problem = _problem()
    customers = problem.customers.copy()
    assignment = pd.Series({"c1": "ann", "c2": "bob"})
    assignment_copy = assignment.copy()
    from_allocation(problem, assignment, 100)
    pd.testing.assert_frame_equal(problem.customers, customers)
    pd.testing.assert_series_equal(assignment, assignment_copy)


@settings(max_examples=100, deadline=None)
@given(
    potentials=st.lists(st.integers(0, 1_000), min_size=1, max_size=30),
    n=st.integers(0, 10_000),
    data=st.data(),
)
def test_from_allocation_is_exact_and_matches_split_of_rep_potential(potentials, n, data):
    customers = pd.DataFrame(
        {"potential": potentials}, index=[f"c{i}" for i in range(len(potentials))]
    )
    reps = ["r0", "r1", "r2", "r3"]
    owners = data.draw(
        st.lists(st.sampled_from(reps), min_size=len(potentials), max_size=len(potentials))
    )
    assignment = pd.Series(owners, index=customers.index)
    rep_potential = customers["potential"].groupby(assignment).sum().reindex(reps, fill_value=0)
    assume(rep_potential.sum() > 0)
    quotas = from_allocation(
        SimpleNamespace(customers=customers, reps=pd.DataFrame(index=reps)), assignment, n
    )
    assert quotas.sum() == n
    assert quotas.tolist() == split(n, rep_potential).tolist()
