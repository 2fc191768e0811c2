"""A corpus of malformed inputs, each named after its defect, and the error hierarchy.

Every defect must raise ``alloc.InvalidProblemError`` when the problem is built (before
any solver work), with a message that names the culprit: the offending id or column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import alloc


def customers(**changes: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": ["c1", "c2", "c3"],
        "potential": [5, 3, 2],
        "workload": [2, 2, 1],
        "industry": ["retail", "health", "retail"],
        "key": [True, False, False],
        "owner": ["r1", "r2", None],
    }
    data.update(changes)
    return pd.DataFrame(data)


def reps(**changes: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "rep_id": ["r1", "r2"],
        "capacity": [10, 10],
        "level": ["senior", "junior"],
        "skills": ["retail;health", "retail"],
        "fte": [1.0, 2.0],
        "lo": [1, 1],
        "hi": [2, 2],
    }
    data.update(changes)
    return pd.DataFrame(data)


def problem(c: Any = None, r: Any = None, **kwargs: Any) -> alloc.Problem:
    return alloc.Problem(customers() if c is None else c, reps() if r is None else r, **kwargs)


def pairs(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "rep_id"])


# (build, culprit that the message must contain)
CORPUS: list[Any] = [
    pytest.param(
        lambda: problem(customers(customer_id=["c1", "c7", "c7"])),
        "'c7'",
        id="duplicate-customer-ids",
    ),
    pytest.param(lambda: problem(r=reps(rep_id=["r5", "r5"])), "'r5'", id="duplicate-rep-ids"),
    pytest.param(
        lambda: problem(customers().drop(columns="customer_id")),
        "customer_id",
        id="missing-customer-id-column",
    ),
    pytest.param(
        lambda: problem(r=reps().drop(columns="rep_id")), "rep_id", id="missing-rep-id-column"
    ),
    pytest.param(
        lambda: problem(customers(customer_id=["c1", None, "c3"])),
        "customer_id",
        id="missing-customer-id-value",
    ),
    pytest.param(lambda: problem(customers().iloc[:0]), "customers", id="empty-customers"),
    pytest.param(lambda: problem(r=reps().iloc[:0]), "reps", id="empty-reps"),
    pytest.param(lambda: problem([("c1", 5)]), "customers", id="customers-not-a-dataframe"),
    pytest.param(lambda: problem(r={"rep_id": ["r1"]}), "reps", id="reps-not-a-dataframe"),
    pytest.param(
        lambda: problem(objective=alloc.MinimizeImbalance("revenue")),
        "revenue",
        id="missing-metric-column",
    ),
    pytest.param(
        lambda: problem(
            customers(potential=["5", "three", "2"]), objective=alloc.MinimizeImbalance("potential")
        ),
        "potential",
        id="non-numeric-metric",
    ),
    pytest.param(
        lambda: problem(
            customers(potential=[5.0, np.nan, 2.0]), objective=alloc.MinimizeImbalance("potential")
        ),
        "'c2'",
        id="nan-in-metric",
    ),
    pytest.param(
        lambda: problem(
            customers(potential=[5.0, np.inf, 2.0]),
            rules=[alloc.Balance("potential", tolerance=0.1)],
        ),
        "'c2'",
        id="infinite-metric",
    ),
    pytest.param(
        lambda: problem(
            customers(workload=[2, -1, 1]), rules=[alloc.Capacity("workload", limit="capacity")]
        ),
        "'c2'",
        id="negative-workload-for-capacity",
    ),
    pytest.param(
        lambda: problem(
            r=reps(capacity=[10, -4]), rules=[alloc.Capacity("workload", limit="capacity")]
        ),
        "'r2'",
        id="negative-capacity",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Capacity("workload", limit="hours")]),
        "hours",
        id="capacity-limit-column-missing",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Pin({"c9": "r1"})]), "'c9'", id="pin-unknown-customer"
    ),
    pytest.param(lambda: problem(rules=[alloc.Pin({"c1": "r9"})]), "'r9'", id="pin-unknown-rep"),
    pytest.param(
        lambda: problem(rules=[alloc.Forbid([("c1", "r1"), ("c8", "r1")])]),
        "'c8'",
        id="forbid-unknown-customer",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Forbid([("c1", "r8")])]), "'r8'", id="forbid-unknown-rep"
    ),
    pytest.param(
        lambda: problem(
            customers(owner=["r1", "r7", None]), objective=alloc.MinimizeDisruption("owner")
        ),
        "'r7'",
        id="owner-unknown-rep",
    ),
    pytest.param(
        lambda: problem(pairs=pairs([("c1", "r1"), ("c6", "r2")])),
        "'c6'",
        id="pairs-unknown-customer",
    ),
    pytest.param(
        lambda: problem(pairs=pairs([("c1", "r1"), ("c2", "r6")])), "'r6'", id="pairs-unknown-rep"
    ),
    pytest.param(
        lambda: problem(pairs=pairs([("c1", "r1"), ("c2", "r2"), ("c2", "r2")])),
        "('c2', 'r2')",
        id="duplicate-pairs",
    ),
    pytest.param(
        lambda: problem(pairs=pd.DataFrame({"customer_id": ["c1"]})),
        "rep_id",
        id="pairs-missing-rep-column",
    ),
    pytest.param(
        lambda: problem(
            pairs=pd.DataFrame({"customer_id": ["c1"], "rep_id": ["r1"]}),
            objective=alloc.MaximizeFit("fit"),
        ),
        "fit",
        id="fit-column-missing",
    ),
    pytest.param(
        lambda: problem(customers(zero=[0, 0, 0]), rules=[alloc.Balance("zero", tolerance=0.1)]),
        "zero",
        id="balance-metric-sums-to-zero",
    ),
    pytest.param(
        lambda: problem(
            r=reps(fte=[1.0, 0.0]), objective=alloc.MinimizeImbalance("potential", share="fte")
        ),
        "'r2'",
        id="share-weight-zero",
    ),
    pytest.param(
        lambda: problem(
            r=reps(fte=[-1.0, 1.0]), rules=[alloc.Balance("potential", 0.1, share="fte")]
        ),
        "'r1'",
        id="share-weight-negative",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.KeyAccounts("key", levels=["director"])]),
        "director",
        id="key-accounts-no-rep-of-level",
    ),
    pytest.param(
        lambda: problem(customers(key=["yes", "maybe", "no"]), rules=[alloc.KeyAccounts("key")]),
        "'c2'",
        id="key-accounts-flag-not-boolean",
    ),
    pytest.param(
        lambda: problem(customers(key=[1, 2, 0]), rules=[alloc.KeyAccounts("key")]),
        "'c2'",
        id="key-accounts-flag-number-not-0-or-1",
    ),
    pytest.param(
        lambda: problem(customers(key=["yes", "no", "perhaps"]), rules=[alloc.Spread("key")]),
        "'c3'",
        id="spread-flag-unknown-word",
    ),
    pytest.param(
        lambda: problem(r=reps(lo=[1, 3]), rules=[alloc.AccountLimit(min="lo", max="hi")]),
        "'r2'",
        id="account-limit-min-above-max",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Match("industry", "skillset")]),
        "skillset",
        id="match-missing-rep-column",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Match("sector", "skills")]),
        "sector",
        id="match-missing-customer-column",
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Together("family")]), "family", id="together-missing-column"
    ),
    pytest.param(
        lambda: problem(rules=[alloc.Spread("industry")]), "industry", id="spread-column-not-a-flag"
    ),
]


@pytest.mark.parametrize(("build", "culprit"), CORPUS)
def test_malformed_input_raises_invalid_problem_error_naming_the_culprit(
    build: Callable[[], alloc.Problem], culprit: str
) -> None:
    with pytest.raises(alloc.InvalidProblemError) as info:
        build()
    assert culprit in str(info.value)


def test_corpus_is_large_and_well_formed() -> None:
    assert len(CORPUS) >= 15
    assert len({p.id for p in CORPUS}) == len(CORPUS)
    # the baseline tables themselves are valid, so each defect is the only one
    problem(
        rules=[
            alloc.Capacity("workload", limit="capacity"),
            alloc.AccountLimit(min="lo", max="hi"),
            alloc.KeyAccounts("key"),
        ],
        objective=[
            alloc.MinimizeImbalance("potential", share="fte"),
            alloc.MinimizeDisruption("owner"),
        ],
    )


def test_invalid_problem_error_is_a_value_error_and_alloc_error() -> None:
    with pytest.raises(ValueError):
        problem(customers(customer_id=["c1", "c1", "c3"]))
    with pytest.raises(alloc.AllocError):
        problem(customers(customer_id=["c1", "c1", "c3"]))
    assert issubclass(alloc.InvalidProblemError, ValueError)
    assert issubclass(alloc.InvalidProblemError, alloc.AllocError)
    assert issubclass(alloc.InvalidParameterError, ValueError)
    assert issubclass(alloc.InvalidParameterError, TypeError)
    assert issubclass(alloc.InfeasibleError, alloc.AllocError)
    assert issubclass(alloc.SolverError, alloc.AllocError)
    assert issubclass(alloc.PrecisionWarning, alloc.AllocWarning)
    assert issubclass(alloc.AllocWarning, UserWarning)


BAD_PARAMETERS: list[Any] = [
    pytest.param(
        lambda: alloc.solve(problem(), time_limit=-1), "time_limit", id="negative-time-limit"
    ),
    pytest.param(
        lambda: alloc.Balance("potential", tolerance=-1),
        "tolerance",
        id="balance-negative-tolerance",
    ),
    pytest.param(
        lambda: alloc.MinimizeImbalance("potential", norm="l2"), "norm", id="imbalance-norm-l2"
    ),
    pytest.param(
        lambda: alloc.MinimizeImbalance("potential", weight=float("nan")),
        "weight",
        id="imbalance-weight-nan",
    ),
    pytest.param(
        lambda: alloc.Capacity("workload", limit=None), "limit", id="capacity-without-limit"
    ),
    pytest.param(lambda: alloc.AccountLimit(), "min/max", id="account-limit-without-bounds"),
    pytest.param(lambda: alloc.AccountLimit(max=-2), "max", id="account-limit-negative-max"),
    pytest.param(
        lambda: alloc.KeyAccounts("key", max_per_rep=-1),
        "max_per_rep",
        id="key-accounts-negative-max",
    ),
    pytest.param(
        lambda: alloc.Match("industry", "skills", missing="all"), "missing", id="match-bad-missing"
    ),
    pytest.param(lambda: alloc.Pin([("c1", "r1")]), "mapping", id="pin-not-a-mapping"),
    pytest.param(lambda: alloc.Forbid([("c1",)]), "pairs", id="forbid-not-pairs"),
    pytest.param(lambda: alloc.solve(problem(), workers=0), "workers", id="zero-workers"),
    pytest.param(lambda: problem(rules=["capacity"]), "rules", id="rules-not-rules"),
    pytest.param(
        lambda: problem(objective=[alloc.Match("industry", "skills")]),
        "objective",
        id="rule-passed-as-objective",
    ),
]


@pytest.mark.parametrize(("call", "name"), BAD_PARAMETERS)
def test_bad_parameter_raises_invalid_parameter_error_naming_it(
    call: Callable[[], object], name: str
) -> None:
    with pytest.raises(alloc.InvalidParameterError) as info:
        call()
    assert f"'{name}'" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_a_true_false_metric_is_refused_saying_the_column_is_not_numeric() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "potential": [True, False]})
    with pytest.raises(
        alloc.InvalidProblemError, match=r"'potential'\] must be numeric; it is not"
    ):
        alloc.Problem(
            customers,
            pd.DataFrame({"rep_id": ["r"]}),
            objective=alloc.MinimizeImbalance("potential"),
        )


def test_an_owner_with_a_trailing_space_is_refused_naming_the_near_rep() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "w": [1, 2], "owner": ["REP1 ", "REP2"]})
    reps = pd.DataFrame({"rep_id": ["REP1", "REP2"]})
    with pytest.raises(alloc.InvalidProblemError, match=r"'REP1 ' -> 'REP1'"):
        alloc.Problem(customers, reps, objective=alloc.MinimizeDisruption("owner"))
