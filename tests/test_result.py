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
    assert result.gap is None  # the bound (0) says nothing about the plan
    copy = pickle.loads(pickle.dumps(result))
    assert copy.objective == result.objective and copy.assignment.equals(result.assignment)
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.status = alloc.Status.OPTIMAL


@pytest.mark.parametrize(
    ("status", "bound", "expected"),
    [
        # A trivial bound of 0 under a positive objective would print "gap 100 %".
        (alloc.Status.FEASIBLE, 0.0, "the best bound (0) is too far below the plan"),
        (alloc.Status.FEASIBLE, -math.inf, "no gap: no valid bound was computed"),
        (alloc.Status.FEASIBLE, 0.1, "bound 0.1   gap 10.000%"),
        (alloc.Status.OPTIMAL, 1 / 9, "proven optimal"),
    ],
)
def test_summary_gives_a_gap_only_when_the_bound_says_something(
    result: alloc.Result, status: alloc.Status, bound: float, expected: str
) -> None:
    plan = result.assignment
    assert plan is not None
    other = alloc.Result(
        result.problem, status, plan, 1 / 9, bound, "words", alloc.SolveStats(time=0.5)
    )
    text = other.summary()
    assert expected in text
    assert "gap 100" not in text and "inf%" not in text
