"""Tests for alloc.result: a Result's fields cannot be assigned or deleted."""

from __future__ import annotations

import dataclasses
import math
import pickle

import pandas as pd
import pytest

import alloc

FIELDS = ("status", "assignment", "objective", "bound", "explanation", "stats", "moves")


@pytest.fixture
def result() -> alloc.Result:
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "w": [3.0, 4.0, 2.0]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("w"))
    plan = pd.Series({"a": "r1", "b": "r2", "c": "r1"})
    return alloc.Result(
        problem, alloc.Status.FEASIBLE, plan, 1 / 9, 0.0, "words", alloc.SolveStats(time=0.5)
    )


@pytest.mark.parametrize("name", [*FIELDS, "loads", "metrics", "gap", "problem", "_problem"])
def test_result_fields_cannot_be_assigned(result: alloc.Result, name: str) -> None:
    before = getattr(result, name)
    with pytest.raises(AttributeError):
        setattr(result, name, None)
    after = getattr(result, name)
    if isinstance(before, pd.Series | pd.DataFrame):
        assert before.equals(after)
    else:
        assert after is before or after == before


@pytest.mark.parametrize("name", FIELDS)
def test_result_fields_cannot_be_deleted(result: alloc.Result, name: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(result, name)
    assert hasattr(result, name)


def test_result_rejects_new_attributes_too(result: alloc.Result) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError, match="immutable"):
        result.note = "extra"  # type: ignore[attr-defined]


def test_result_keeps_its_own_copy_of_the_assignment(result: alloc.Result) -> None:
    plan = pd.Series({"a": "r1", "b": "r2", "c": "r2"})
    problem = result.problem
    own = alloc.Result(problem, alloc.Status.FEASIBLE, plan, 0.0, 0.0, "", alloc.SolveStats())
    plan["a"] = "r2"
    assert own.assignment is not None and own.assignment["a"] == "r1"


def test_cached_figures_still_work_and_pickled_results_stay_immutable(
    result: alloc.Result,
) -> None:
    assert result.metrics["w_max_dev"] == pytest.approx(5 / 4.5 - 1)
    assert result.loads.shape[0] == 2
    assert math.isclose(result.gap, 1.0)
    copy = pickle.loads(pickle.dumps(result))
    assert copy.objective == result.objective and copy.assignment.equals(result.assignment)
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.status = alloc.Status.OPTIMAL


def test_summary_gives_no_fake_gap_when_the_bound_is_trivial_or_missing() -> None:
    # Pure balance with no binding structure: the only bound is 0, which would print as
    # "gap 100 %"; the summary says the bound is not informative instead.
    problem = alloc.datasets.make_problem(200, 5, seed=1)
    result = alloc.solve(problem, time_limit=2, seed=0, workers=1)
    text = result.summary()
    assert "gap 100" not in text and "inf%" not in text
    if result.status is alloc.Status.OPTIMAL:
        assert "proven optimal" in text
    elif result.gap >= 1.0 or result.bound == float("-inf"):
        assert "no gap is given" in text
    else:
        assert f"gap {result.gap:.3%}" in text
