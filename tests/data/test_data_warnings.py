"""Data that look like mistakes are built as given, with a DataWarning naming them."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import alloc


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "industry": ["healthcare", "retail", "retail"]}
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["retail;healtcare", "retail"]})
    return customers, reps


def test_a_misspelt_rep_skill_is_named_with_the_near_customer_value() -> None:
    customers, reps = _tables()
    with pytest.warns(
        alloc.DataWarning, match=r"'healtcare' of rep 'r1' \(did you mean 'healthcare'\?\)"
    ):
        problem = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    # Built as given: the misspelt skill matches nobody, so customer a has no eligible rep.
    assert list(problem.customers_without_reps()) == ["a"]


def test_a_rep_without_any_eligible_customer_is_named() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "industry": ["retail", "retail"]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["retail", "finance"]})
    with pytest.warns(alloc.DataWarning, match=r"rep 'r2' may serve no customer"):
        alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])


def test_clean_data_raise_no_data_warning() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "industry": ["retail", "finance"]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["retail;finance", "finance"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", alloc.DataWarning)
        alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
