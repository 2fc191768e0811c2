"""``alloc.frontier``: the trade-off between two objective terms by epsilon-constraint.

The secondary term is capped with ``alloc.Budget`` at evenly spaced values between its
own minimum and its value at the primary term's best plan (the least secondary among
those, by ``alloc.Lexicographic`` when the primary term can be capped); each point
minimises the primary term under its cap. Each point's status is that solve's: an
OPTIMAL point is a proven point of the frontier.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from alloc.checker import term_value
from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError
from alloc.objectives import MinimizeCost, MinimizeDisruption, MinimizeTravel, Term
from alloc.priority_rules import Budget, Lexicographic
from alloc.result import Result
from alloc.solvers.budgeted import derived
from alloc.solvers.deadline import Deadline
from alloc.solvers.portfolio import solve
from alloc.validation import check_param, is_int, is_real_at_least

__all__ = ["frontier"]


def _check(problem: Any, primary: Any, secondary: Any, steps: Any, time_limit: Any) -> None:
    check_param("problem", problem, "frontier", isinstance(problem, Problem), "an alloc.Problem")
    ok = isinstance(primary, Term) and not isinstance(primary, Lexicographic)
    check_param("primary", primary, "frontier", ok, "an objective term (e.g. MinimizeTravel())")
    capped = isinstance(secondary, (MinimizeCost, MinimizeTravel, MinimizeDisruption))
    check_param(
        "secondary",
        secondary,
        "frontier",
        capped,
        "a MinimizeCost, MinimizeTravel or MinimizeDisruption term (it is capped by Budget)",
    )
    ok = is_int(steps) and int(steps) >= 2
    check_param("steps", steps, "frontier", ok, "an integer >= 2")
    check_param(
        "time_limit",
        time_limit,
        "frontier",
        is_real_at_least(time_limit, 0, strict=True),
        "a positive number of seconds (for the whole frontier)",
    )


def frontier(
    problem: Problem,
    primary: Term,
    secondary: Term,
    steps: int = 5,
    time_limit: float = 30.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Points of the trade-off between two terms, by capping the secondary one.

    Parameters
    ----------
    problem : Problem
        Its rules hold at every point; its objective is replaced by ``primary``.
    primary : Term
        The term each point minimises.
    secondary : MinimizeCost, MinimizeTravel or MinimizeDisruption
        The capped term (``alloc.Budget``).
    steps : int
        Number of caps, evenly spaced from the secondary's minimum to its value at the
        primary's best plan (both ends included).
    time_limit : float
        Seconds for the whole frontier (``steps + 2`` solves share it).
    seed : int

    Returns
    -------
    pandas.DataFrame
        One row per cap: ``budget``, ``primary``, ``secondary`` (the plan's values, from
        the tables), ``status`` and ``gap`` (of the primary term under its cap).

    Examples
    --------
    >>> import pandas as pd, alloc
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "owner": ["r0", "r0"]})
    >>> reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    >>> pairs = pd.DataFrame({"customer_id": ["a", "a", "b", "b"],
    ...                       "rep_id": ["r0", "r1", "r0", "r1"], "km": [2, 1, 3, 1]})
    >>> p = alloc.Problem(customers, reps, pairs=pairs)
    >>> table = alloc.frontier(p, alloc.MinimizeTravel(distance="km"),
    ...                        alloc.MinimizeDisruption("owner"), steps=3, time_limit=10)
    >>> table[["budget", "primary", "secondary"]].to_numpy().tolist()
    [[0.0, 5.0, 0.0], [1.0, 3.0, 1.0], [2.0, 2.0, 2.0]]
    """
    _check(problem, primary, secondary, steps, time_limit)
    deadline = Deadline.after(float(time_limit))
    n_solves = int(steps) + 2

    def run(p: Problem, left: int) -> Result:
        seconds = max(deadline.share(1.0 / left).remaining(), 0.05)
        return solve(p, time_limit=seconds, seed=seed)

    low_plan = run(derived(problem, objective=secondary), n_solves)
    if low_plan.assignment is None:
        raise InvalidParameterError(
            f"frontier: the problem has no plan ({low_plan.status.value}): {low_plan.explanation}"
        )
    try:
        best = Lexicographic([primary, secondary])
    except InvalidParameterError:  # a primary term that cannot be capped: its plan alone
        best = primary  # type: ignore[assignment]
    high_plan = run(derived(problem, objective=best), n_solves - 1)
    low = term_value(problem, low_plan.assignment, secondary)
    high = (
        low
        if high_plan.assignment is None
        else term_value(problem, high_plan.assignment, secondary)
    )
    rows = []
    for i, cap in enumerate(np.linspace(low, max(low, high), int(steps)).tolist()):
        capped = derived(
            problem, rules=[*problem.rules, Budget(secondary, max=float(cap))], objective=primary
        )
        t0 = time.perf_counter()
        res = run(capped, int(steps) - i)
        plan = res.assignment
        rows.append(
            {
                "budget": float(cap),
                "primary": np.nan if plan is None else term_value(problem, plan, primary),
                "secondary": np.nan if plan is None else term_value(problem, plan, secondary),
                "status": res.status.value,
                "gap": res.gap,
                "seconds": time.perf_counter() - t0,
            }
        )
    return pd.DataFrame(rows)
