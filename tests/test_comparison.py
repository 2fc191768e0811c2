"""Tests for alloc.comparison (alloc.compare): the tidy table, the executors and the
checks before any work."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.comparison import FIXED_COLUMNS, compare
from alloc.errors import InvalidParameterError
from alloc.policies import Greedy, Optimized, RandomPolicy, RoundRobin, StatusQuo

FAST = [RoundRobin(), RandomPolicy(), Greedy()]
FIGURES = ["objective", "feasible", "violations", "potential_max_dev", "workload_max_dev"]


@pytest.fixture(scope="module")
def problems() -> dict[str, alloc.Problem]:
    return {
        "p1": alloc.datasets.make_problem(150, 6, seed=1),
        "p2": alloc.datasets.make_problem(150, 6, seed=2),
    }


class RecordingExecutor(concurrent.futures.Executor):
    """Runs tasks inline and counts them."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        self.submitted += 1
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


class Exploding(RoundRobin):
    def allocate(self, problem: alloc.Problem, seed: int = 0) -> alloc.Result:
        raise RuntimeError(f"boom on seed {seed}")


def test_compare_returns_one_tidy_row_per_problem_policy_and_seed(
    problems: dict[str, alloc.Problem],
) -> None:
    table = compare(problems, [*FAST, StatusQuo()], seeds=[0, 1], executor="serial")
    assert len(table) == 2 * 4 * 2
    assert tuple(table.columns[: len(FIXED_COLUMNS)]) == FIXED_COLUMNS
    assert table.columns[-1] == "time"
    assert {"potential_max_dev", "workload_max_dev", "moves", "count_cv"} <= set(table.columns)
    first = table.iloc[:8]
    assert first["problem"].eq("p1").all()
    assert first["policy"].tolist() == [
        n for n in ["round robin", "random", "greedy", "status quo"] for _ in (0, 1)
    ]
    assert first["seed"].tolist() == [0, 1] * 4
    assert table["status"].isin([s.value for s in alloc.Status]).all()
    assert (table["time"] > 0).all()
    quo = table[table["policy"] == "status quo"]
    assert (quo["moves"] == 0).all()


def test_compare_rows_agree_with_evaluate(problems: dict[str, alloc.Problem]) -> None:
    table = compare(problems, [Greedy()], seeds=3, executor="serial")
    for name, problem in problems.items():
        plan = Greedy().allocate(problem, seed=3).assignment
        expected = alloc.evaluate(problem, plan)
        row = table[table["problem"] == name].iloc[0]
        for key in ("objective", "feasible", "violations", "potential_max_dev", "moves"):
            assert row[key] == pytest.approx(expected[key])


def test_compare_names_a_list_of_problems_in_order(problems: dict[str, alloc.Problem]) -> None:
    table = compare(list(problems.values()), [RoundRobin()], executor="serial")
    assert table["problem"].tolist() == ["problem0", "problem1"]
    single = compare(problems["p1"], RoundRobin(), seeds=5, executor="serial")
    assert single[["problem", "seed"]].values.tolist() == [["problem0", 5]]


def test_compare_on_a_process_pool_matches_serial(problems: dict[str, alloc.Problem]) -> None:
    serial = compare(problems, FAST, seeds=[0, 1], executor="serial")
    pooled = compare(problems, FAST, seeds=[0, 1])  # default: a local process pool
    pd.testing.assert_frame_equal(serial.drop(columns="time"), pooled.drop(columns="time"))


def test_compare_keeps_only_the_metrics_asked_for(problems: dict[str, alloc.Problem]) -> None:
    table = compare(problems, FAST, executor="serial", metrics=["moves", "potential_cv"])
    assert list(table.columns) == [*FIXED_COLUMNS, "moves", "potential_cv", "time"]


def test_compare_checks_every_policy_on_every_problem_before_any_work(
    problems: dict[str, alloc.Problem],
) -> None:
    customers = problems["p2"].customers.drop(columns="owner").reset_index()
    mixed = {"p1": problems["p1"], "no owner": problems["p2"].replace(customers=customers)}
    executor = RecordingExecutor()
    with pytest.raises(InvalidParameterError, match="'owner_col' parameter of StatusQuo"):
        compare(mixed, [*FAST, StatusQuo()], executor=executor)
    assert executor.submitted == 0
    with pytest.raises(InvalidParameterError, match=r"'metrics' parameter.*'revenue_cv'"):
        compare(problems, FAST, executor=executor, metrics=["revenue_cv"])
    assert executor.submitted == 0
    compare(problems, FAST, seeds=[0, 1], executor=executor)
    assert executor.submitted == 2 * 3 * 2


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"problems": {}}, "problems"),
        ({"problems": ["not a problem"]}, "problems"),
        ({"policies": []}, "policies"),
        ({"policies": [RoundRobin(), RoundRobin()]}, "policies"),
        ({"policies": ["greedy"]}, "policies"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [0, 1.5]}, "seeds"),
        ({"seeds": True}, "seeds"),
        ({"executor": "threads"}, "executor"),
        ({"metrics": "moves"}, "metrics"),
    ],
)
def test_compare_rejects_bad_arguments_in_one_message_form(
    problems: dict[str, alloc.Problem], kwargs: dict[str, Any], param: str
) -> None:
    args: dict[str, Any] = {"problems": problems, "policies": FAST, "executor": "serial"}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=rf"the '{param}' parameter of compare"):
        compare(**args)


def test_compare_refuses_unpicklable_policies_for_other_processes(
    problems: dict[str, alloc.Problem],
) -> None:
    class Local(RoundRobin):  # defined in a function: cannot be pickled
        pass

    with pytest.raises(InvalidParameterError, match=r"picklable.*executor='serial'"):
        compare(problems, [Local(name="local")], executor=RecordingExecutor())
    table = compare(problems, [Local(name="local")], executor="serial")
    assert len(table) == 2


def test_compare_propagates_a_failing_policy(problems: dict[str, alloc.Problem]) -> None:
    with pytest.raises(RuntimeError, match="boom on seed 4"):
        compare(problems, [Exploding(name="exploding")], seeds=[4], executor="serial")


def test_compare_records_a_problem_without_a_plan() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "potential": [1.0, 2.0]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    pairs = pd.DataFrame({"customer_id": ["a", "a"], "rep_id": ["r1", "r2"]})
    problem = alloc.Problem(
        customers, reps, pairs=pairs, objective=alloc.MinimizeImbalance("potential")
    )
    table = compare({"stuck": problem}, [RoundRobin(), Greedy()], executor="serial")
    assert table["status"].eq("infeasible").all()
    assert table["objective"].isna().all() and not table["feasible"].any()
    assert table["violations"].isna().all() and table["potential_max_dev"].isna().all()


def test_compare_runs_on_a_dask_cluster(problems: dict[str, alloc.Problem]) -> None:
    from distributed import Client, LocalCluster

    policies = [*FAST, Optimized(time_limit=0.5)]
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        table = compare(problems, policies, seeds=[0, 1, 2], executor=client.get_executor())
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2
    assert len(table) == 2 * 4 * 3
    assert table.groupby(["problem", "policy"]).size().eq(3).all()
    rule_aware = table[table["policy"].isin(["greedy", "optimized"])]
    assert rule_aware["feasible"].all() and rule_aware["violations"].eq(0).all()
    best = table.groupby(["problem", "policy"])["objective"].min().unstack()
    assert (best["optimized"] <= best[["round robin", "random", "greedy"]].min(axis=1)).all()
    serial = compare(problems, FAST, seeds=[0, 1, 2], executor="serial")
    fast = table[table["policy"] != "optimized"].reset_index(drop=True)
    pd.testing.assert_frame_equal(fast[FIGURES], serial[FIGURES])
    assert np.isfinite(table["time"]).all()
