"""[`compare_routers`][alloc.leads.compare_routers]: routers x streams x seeds, one table.

The lead-routing counterpart of [`alloc.compare`][alloc.comparison.compare], with the
same habits: every check runs before any task starts (router members, distinct names,
seeds, picklability), and tasks run on any `concurrent.futures.Executor`: a local
process pool by default, inline with ``executor="serial"``, or a Dask cluster through
``client.get_executor()``. Each task is one [`simulate`][alloc.leads.simulate] call and
returns one row of its summary.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from alloc.errors import InvalidParameterError, format_ids
from alloc.leads.generate import LeadScenario
from alloc.leads.routers import Router, check_router
from alloc.leads.simulation import simulate
from alloc.validation import check_fraction, check_param, is_int, named_items

__all__ = ["ROUTER_COLUMNS", "compare_routers"]

#: Columns of the table, in order.
ROUTER_COLUMNS = (
    "stream",
    "router",
    "seed",
    "expected_value",
    "won_value",
    "routed",
    "fallback",
    "max_share_gap",
    "reps_outside_window",
    "cap_breaches",
    "time",
)


@dataclass(frozen=True)
class _Task:
    stream_name: str
    stream: LeadScenario
    router: Any
    seed: int
    capacity: str
    fairness: float


def _run(task: _Task) -> dict[str, Any]:
    """One simulation (in a worker): its summary as a row."""
    s = task.stream
    sim = simulate(s.leads, s.reps, task.router, s.win_prob, capacity=task.capacity, seed=task.seed)
    summary = sim.summary
    outside = int((sim.by_rep["share_gap"].abs() > task.fairness + 1e-9).sum())
    return {
        "stream": task.stream_name,
        "router": task.router.name,
        "seed": task.seed,
        **{k: summary[k] for k in ("expected_value", "won_value", "routed", "fallback")},
        "max_share_gap": summary["max_share_gap"],
        "reps_outside_window": outside,
        "cap_breaches": summary["cap_breaches"],
        "time": sim.seconds,
    }


def _streams(streams: object) -> dict[str, LeadScenario]:
    return named_items(
        streams,
        LeadScenario,
        prefix="stream",
        param="streams",
        owner="compare_routers",
        expected=(
            "a LeadScenario, or a non-empty list or dict name -> LeadScenario "
            "(leads, reps, win_prob)"
        ),
    )


def _routers(routers: object) -> list[Router]:
    items = (
        list(routers)
        if isinstance(routers, Sequence) and not isinstance(routers, str)
        else [routers]
    )
    check_param("routers", routers, "compare_routers", bool(items), "a non-empty list of routers")
    for router in items:
        check_router(router, owner="compare_routers")
    names = [r.name for r in items]  # type: ignore[union-attr]
    dup = sorted({n for n in names if names.count(n) > 1})
    check_param(
        "routers",
        names,
        "compare_routers",
        not dup,
        f"routers with distinct names (pass name= to tell {format_ids(dup)} apart)",
    )
    return items  # type: ignore[return-value]


def _seeds(seeds: object) -> list[int]:
    items: list[Any] | None = [seeds] if is_int(seeds) else None
    if items is None and isinstance(seeds, Iterable) and not isinstance(seeds, (str, bytes)):
        items = list(seeds)
    ok = bool(items) and all(is_int(s) and s >= 0 for s in items or ())
    check_param(
        "seeds", seeds, "compare_routers", ok, "an integer >= 0 or a non-empty sequence of them"
    )
    assert items is not None
    return [int(s) for s in items]


def compare_routers(
    streams: Mapping[str, LeadScenario] | Sequence[LeadScenario] | LeadScenario,
    routers: Sequence[Router] | Router,
    seeds: Iterable[int] | int = (0,),
    *,
    capacity: str = "daily_cap",
    fairness: float = 0.1,
    executor: Executor | str | None = None,
) -> pd.DataFrame:
    """Simulate every router on every stream with every seed; return a tidy DataFrame.

    Parameters
    ----------
    streams : dict name -> LeadScenario, list of LeadScenario, or LeadScenario
        Lead streams (from [`make_leads`][alloc.leads.make_leads], or
        ``LeadScenario(leads, reps, win_prob, skill=None)`` for your own tables; the
        ``win_prob`` must be picklable to run in other processes).
    routers : list of Router
        Names must be distinct.
    seeds : int or sequence of int
        One run per seed (won/lost draws and tie order).
    capacity : str
        The reps' capacity column.
    fairness : float
        Window counted in ``reps_outside_window`` (|share / weight share - 1| above it).
    executor : concurrent.futures.Executor, "serial" or None
        Where tasks run: None, a local process pool shut down afterwards; ``"serial"``,
        inline; any executor (e.g. ``dask.distributed.Client(...).get_executor()``) is
        used as given.

    Returns
    -------
    pandas.DataFrame
        One row per (stream, router, seed) in the order given, with the columns of
        ``alloc.leads.ROUTER_COLUMNS`` (``time``: routing
        seconds).

    Examples
    --------
    >>> import alloc.leads as al
    >>> s = al.make_leads(n_leads=200, n_reps=10, n_days=5, seed=0)
    >>> table = al.compare_routers(s, [al.RoundRobin(), al.BestFit()], seeds=[0, 1],
    ...                            executor="serial")
    >>> table[["router", "seed", "cap_breaches"]].values.tolist()
    [['RoundRobin', 0, 0], ['RoundRobin', 1, 0], ['BestFit', 0, 0], ['BestFit', 1, 0]]
    """
    named = _streams(streams)
    items = _routers(routers)
    seed_list = _seeds(seeds)
    check_fraction("fairness", fairness, "compare_routers")
    serial = isinstance(executor, str) and executor == "serial"
    check_param(
        "executor",
        executor,
        "compare_routers",
        serial or executor is None or callable(getattr(executor, "submit", None)),
        "None, 'serial' or a concurrent.futures.Executor",
    )
    if not serial:
        for router in items:
            try:
                pickle.dumps(router)
            except Exception as exc:  # pickling raises many types
                raise InvalidParameterError(
                    f"the 'routers' parameter of compare_routers must hold picklable routers "
                    f"to run them in other processes; router {router.name!r} is not ({exc}). "
                    "Define its class at module level, or pass executor='serial'."
                ) from exc
    tasks = [
        _Task(name, stream, router, seed, capacity, float(fairness))
        for name, stream in named.items()
        for router in items
        for seed in seed_list
    ]
    if serial:
        rows = [_run(task) for task in tasks]
    elif executor is None:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            rows = _gather(pool, tasks)
    else:
        rows = _gather(executor, tasks)  # type: ignore[arg-type]
    return pd.DataFrame.from_records(rows, columns=list(ROUTER_COLUMNS))


def _gather(executor: Executor, tasks: list[_Task]) -> list[dict[str, Any]]:
    futures: list[Future[dict[str, Any]]] = [executor.submit(_run, task) for task in tasks]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
