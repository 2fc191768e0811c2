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
    # Both reps serve both industries: since customers with a single eligible rep are
    # warned about, r2 has retail too (it had finance only).
    customers = pd.DataFrame({"customer_id": ["a", "b"], "industry": ["retail", "finance"]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["retail;finance", "finance;retail"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", alloc.DataWarning)
        alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])


def test_customers_with_a_single_eligible_rep_are_counted_in_one_warning() -> None:
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(8)],
            "industry": ["energy"] * 7 + ["retail"],
        }
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["energy;retail", "retail"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    texts = [str(w.message) for w in caught if issubclass(w.category, alloc.DataWarning)]
    single = [t for t in texts if "single eligible rep" in t]
    assert len(single) == 1
    assert single[0].startswith("7 customers have a single eligible rep")
    assert "'c0', 'c1', 'c2', 'c3', 'c4' and 2 more" in single[0]


def test_customers_pinned_to_a_rep_are_not_warned_about() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "industry": ["retail"] * 3})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["retail", "retail"]})
    rules = [alloc.Match("industry", "skills"), alloc.Pin({"a": "r1", "b": "r2"})]
    with warnings.catch_warnings():
        warnings.simplefilter("error", alloc.DataWarning)
        alloc.Problem(customers, reps, rules=rules)
    forbid = [alloc.Match("industry", "skills"), alloc.Forbid([("a", "r2")])]
    with pytest.warns(alloc.DataWarning, match=r"1 customer has a single eligible rep.*'a'"):
        alloc.Problem(customers, reps, rules=forbid)


def test_a_customer_value_no_rep_has_is_named_with_the_near_rep_value() -> None:
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "industry": ["Retail", "retail", "Finance"]}
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["Retail;Finance", "Finance;Retail"]})
    with pytest.warns(
        alloc.DataWarning,
        match=r"'industry' 'retail' of customer 'b' is in no rep's 'skills' "
        r"\(did you mean 'Retail'\?\)",
    ):
        problem = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    result = alloc.solve(problem, time_limit=2)
    assert result.status is alloc.Status.INFEASIBLE
    # The explanation names the customer, its value and the near spelling.
    assert "'industry' 'retail' of customer 'b'" in result.explanation
    assert "did you mean 'Retail'?" in result.explanation


def test_outer_spaces_in_a_customer_value_do_not_count() -> None:
    # Reps' ';'-separated values are read without spaces; so are the customers'.
    customers = pd.DataFrame({"customer_id": ["a", "b"], "industry": ["retail ", " finance"]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["retail; finance", "finance;retail"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", alloc.DataWarning)
        problem = alloc.Problem(customers, reps, rules=[alloc.Match("industry", "skills")])
    result = alloc.solve(problem, time_limit=2)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    # The checker reads the values the same way: "retail " with r1 is no violation.
    plan = pd.Series({"a": "r1", "b": "r1"})
    assert alloc.check(problem, plan) == []


def test_many_unmatched_customer_values_are_named_up_to_a_cap() -> None:
    values = [*(f"industry {i:02d}" for i in range(20)), "x"]
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(21)], "sector": values})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "skills": ["x", "x"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alloc.Problem(customers, reps, rules=[alloc.Match("sector", "skills")])
    texts = [str(w.message) for w in caught if "is in no rep's" in str(w.message)]
    assert len(texts) == 1
    assert "and 12 more values" in texts[0]


@pytest.mark.parametrize(
    ("values", "hint"),
    [
        (["12.500,50", "8.200,00"], "decimal comma"),
        (["1,200", "15,000.50"], "thousands separators"),
        (["€1200", "900 EUR"], "currency, percent or unit sign"),
        (["n/a", "tbd"], "pd.to_numeric"),
    ],
)
def test_text_in_a_number_column_is_refused_with_a_fix_for_its_form(
    values: list[str], hint: str
) -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "potential": [*values, "5"]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    with pytest.raises(alloc.InvalidProblemError, match="must be numeric") as info:
        alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    text = str(info.value)
    assert hint in text and repr(values[0]) in text and "'a', 'b'" in text
