"""[`alloc.compare`][alloc.comparison.compare]: policies over problems and seeds, in one tidy table.

Each (problem, policy, seed) is one task: the policy allocates, the independent checker
scores the plan with [`alloc.evaluate`][alloc.metrics.evaluate], and the task returns one row. Tasks
run on any `concurrent.futures.Executor`: a local process pool by default, inline with
``executor="serial"``, or a Dask cluster through ``client.get_executor()``. Problems and
policies travel to the workers by pickling; every check on them (policy members,
capability flags, owner columns, metric names, picklability) runs before any task
starts.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError, format_ids
from alloc.metrics import evaluate
from alloc.policies import Policy, check_policy
from alloc.validation import check_param, is_int, named_items

__all__ = ["FIXED_COLUMNS", "compare"]

#: Columns every comparison has, in order; metric columns follow, then ``time``.
FIXED_COLUMNS = ("problem", "policy", "seed", "status", "objective", "feasible", "violations")
_FROM_EVALUATE = ("objective", "feasible", "violations")


@dataclass(frozen=True)
class _Task:
    problem_name: str
    problem: Problem
    policy: Any
    seed: int


def _run(task: _Task) -> dict[str, Any]:
    """Run one task (in a worker): allocate, time it, and score the plan."""
    t0 = time.perf_counter()
    result = task.policy.allocate(task.problem, seed=task.seed)
    elapsed = time.perf_counter() - t0
    row: dict[str, Any] = {
        "problem": task.problem_name,
        "policy": task.policy.name,
        "seed": task.seed,
        "status": result.status.value,
    }
    if result.assignment is None:
        row.update(objective=float("nan"), feasible=False, violations=None)
        metrics: dict[str, Any] = {}
    else:
        metrics = evaluate(task.problem, result.assignment)
        row.update({k: metrics[k] for k in _FROM_EVALUATE})
    row["metrics"] = {k: v for k, v in metrics.items() if k not in _FROM_EVALUATE}
    row["time"] = elapsed
    return row


def _problems(problems: object) -> dict[str, Problem]:
    return named_items(
        problems,
        Problem,
        prefix="problem",
        param="problems",
        owner="compare",
        expected="a non-empty dict name -> alloc.Problem or a list of alloc.Problem",
    )


def _policies(policies: object) -> list[Policy]:
    if isinstance(policies, Iterable) and not isinstance(policies, (str, bytes, Mapping)):
        items = list(policies)
    else:
        items = [policies]
    check_param("policies", policies, "compare", bool(items), "a non-empty list of policies")
    for policy in items:
        check_policy(policy, owner="compare")
    names = [p.name for p in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    check_param(
        "policies",
        names,
        "compare",
        not dup,
        f"policies with distinct names (pass name= to tell {format_ids(dup)} apart)",
    )
    return items


def _seeds(seeds: object) -> list[int]:
    items: list[Any] | None = [seeds] if is_int(seeds) else None
    if items is None and isinstance(seeds, Iterable) and not isinstance(seeds, (str, bytes)):
        items = list(seeds)
    ok = bool(items) and all(is_int(s) for s in items or ())
    check_param("seeds", seeds, "compare", ok, "an integer or a non-empty sequence of integers")
    assert items is not None
    return [int(s) for s in items]


def _metric_keys(problem: Problem) -> list[str]:
    """Names ``alloc.evaluate`` reports for ``problem``, from a cheap complete plan."""
    pairs = problem.pairs
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
    first = pairs.drop_duplicates(c_col).set_index(c_col)[r_col]
    plan = first.reindex(problem.customer_ids).fillna(problem.rep_ids[0])
    return [k for k in evaluate(problem, plan) if k not in _FROM_EVALUATE]


def _metrics(metrics: object, problems: Mapping[str, Problem]) -> list[str] | None:
    if metrics is None:
        return None
    ok = (
        isinstance(metrics, Sequence)
        and not isinstance(metrics, (str, bytes))
        and all(isinstance(m, str) for m in metrics)
    )
    check_param("metrics", metrics, "compare", ok, "None or a list of metric names")
    assert isinstance(metrics, Sequence)
    known: list[str] = []
    for problem in problems.values():
        known += [k for k in _metric_keys(problem) if k not in known]
    unknown = [m for m in metrics if m not in known and m not in _FROM_EVALUATE]
    check_param(
        "metrics",
        list(metrics),
        "compare",
        not unknown,
        f"names that alloc.evaluate reports ({format_ids(known, 40)}); "
        f"unknown: {format_ids(unknown)}",
    )
    return [m for m in metrics if m not in _FROM_EVALUATE]


def _check_picklable(policies: Sequence[Policy]) -> None:
    for policy in policies:
        try:
            pickle.dumps(policy)
        except Exception as exc:  # pickling raises many types
            raise InvalidParameterError(
                f"the 'policies' parameter of compare must hold picklable policies to run "
                f"them in other processes; policy {policy.name!r} is not ({exc}). Define "
                f"its class at module level, or pass executor='serial'."
            ) from exc


def _frame(
    rows: list[dict[str, Any]], metrics: list[str] | None, problems: Mapping[str, Problem]
) -> pd.DataFrame:
    names: list[str] = []
    scored: set[str] = set()
    for row in rows:
        names += [k for k in row["metrics"] if k not in names]
        if row["metrics"]:
            scored.add(row["problem"])
    for name, problem in problems.items():
        if name not in scored and metrics is None:  # no plan at all: keep its columns
            names += [k for k in _metric_keys(problem) if k not in names]
    if metrics is not None:
        names = list(metrics)
    records = [
        {
            **{k: row[k] for k in FIXED_COLUMNS},
            **{k: row["metrics"].get(k, np.nan) for k in names},
            "time": row["time"],
        }
        for row in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=[*FIXED_COLUMNS, *names, "time"])
    frame["seed"] = frame["seed"].astype("int64")
    frame["objective"] = frame["objective"].astype(float)
    frame["feasible"] = frame["feasible"].astype(bool)
    frame["violations"] = frame["violations"].astype("Int64")
    return frame


def compare(
    problems: Mapping[str, Problem] | Sequence[Problem] | Problem,
    policies: Sequence[Policy] | Policy,
    seeds: Iterable[int] | int = (0,),
    *,
    executor: Executor | str | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Run every policy on every problem with every seed; return a tidy DataFrame.

    Lead streams ([`alloc.leads.LeadScenario`][alloc.leads.LeadScenario], one or a list or
    dict of them) with lead routers as ``policies`` are handed to
    [`alloc.leads.compare_routers`][alloc.leads.compare_routers], which returns its own
    columns (``stream, router, seed``, expected and won value, share gaps, cap breaches).

    Parameters
    ----------
    problems : dict name -> Problem, list of Problem, or Problem
        A list is named ``problem0``, ``problem1``, ...
    policies : list of Policy
        E.g. [`alloc.policies.default_policies`][alloc.policies.default_policies]; names must be
        distinct.
    seeds : int or sequence of int
        One run per seed.
    executor : concurrent.futures.Executor, "serial" or None
        Where tasks run. None: a local `ProcessPoolExecutor`
        with one process per core, shut down afterwards. ``"serial"``: inline, in this
        process. Any executor (e.g. a Dask cluster's ``client.get_executor()``) is used
        as given and not shut down.
    metrics : list of str, optional
        Which [`alloc.evaluate`][alloc.metrics.evaluate] figures to keep (default: all of them).

    Returns
    -------
    pandas.DataFrame
        One row per (problem, policy, seed), in the order given, with columns
        ``problem``, ``policy``, ``seed``, ``status`` (a [`alloc.Status`][alloc.Status] value),
        ``objective`` (recomputed from the tables; NaN without a plan), ``feasible``,
        ``violations`` (number of broken rules; missing without a plan), each metric,
        and ``time`` (seconds the policy took).

    Raises
    ------
    InvalidParameterError
        Before any task runs: a bad argument, a policy that cannot work on a problem
        (e.g. a status quo without an owner column), an unknown metric, or a policy
        that cannot be pickled for another process.

    Examples
    --------
    >>> import alloc
    >>> from alloc.comparison import compare
    >>> from alloc.policies import Greedy, RandomPolicy, RoundRobin
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> table = compare({"small": problem}, [RoundRobin(), RandomPolicy(), Greedy()],
    ...                 seeds=[0, 1], executor="serial")
    >>> table.shape[0], list(table.columns[:7])
    (6, ['problem', 'policy', 'seed', 'status', 'objective', 'feasible', 'violations'])
    >>> table.groupby("policy", sort=False)["potential_max_dev"].mean().round(2).index.tolist()
    ['round robin', 'random', 'greedy']
    """
    if _are_lead_streams(problems):
        # Lead streams and routers: the same run, by alloc.leads (one row per simulation).
        from alloc.leads.tournament import compare_routers

        check_param("metrics", metrics, "compare", metrics is None, "None for lead streams")
        return compare_routers(problems, policies, seeds, executor=executor)  # type: ignore[arg-type]
    named = _problems(problems)
    items = _policies(policies)
    seed_list = _seeds(seeds)
    serial = isinstance(executor, str) and executor == "serial"
    check_param(
        "executor",
        executor,
        "compare",
        serial or executor is None or callable(getattr(executor, "submit", None)),
        "None, 'serial' or a concurrent.futures.Executor",
    )
    for problem in named.values():
        for policy in items:
            check_policy(policy, problem, owner="compare")
    keep = _metrics(metrics, named)
    if not serial:
        _check_picklable(items)
    tasks = [
        _Task(name, problem, policy, seed)
        for name, problem in named.items()
        for policy in items
        for seed in seed_list
    ]
    if serial:
        rows = [_run(task) for task in tasks]
    elif executor is None:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            rows = _gather(pool, tasks)
    else:
        rows = _gather(executor, tasks)  # type: ignore[arg-type]
    return _frame(rows, keep, named)


def _are_lead_streams(problems: object) -> bool:
    """``problems`` holds [`alloc.leads.LeadScenario`][alloc.leads.LeadScenario] streams."""
    from alloc.leads.generate import LeadScenario

    if isinstance(problems, LeadScenario):
        return True
    if isinstance(problems, Mapping):
        values = list(problems.values())
    elif isinstance(problems, Sequence) and not isinstance(problems, (str, bytes)):
        values = list(problems)
    else:
        return False
    return bool(values) and all(isinstance(v, LeadScenario) for v in values)


def _gather(executor: Executor, tasks: list[_Task]) -> list[dict[str, Any]]:
    futures: list[Future[dict[str, Any]]] = [executor.submit(_run, task) for task in tasks]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
