"""Small rebalancing cases and brute force shared by the tests in tests/rebalancing/."""

from __future__ import annotations

import itertools

import pandas as pd

import alloc
from alloc.checker import objective_value

DISCRETIONARY = ["capacity", "balance"]


def discretionary(result: alloc.Result) -> pd.DataFrame:
    assert result.moves is not None
    return result.moves[result.moves["reason"].isin(DISCRETIONARY)]


def brute_force_budget(
    problem: alloc.Problem, incumbent: pd.Series, max_moves: int | None
) -> tuple[float, int] | None:
    """(objective, discretionary moves) of the best plan within the budget, by enumeration.

    Ties on the objective are broken by fewer moves. Feasibility from ``alloc.check``,
    objective from ``objective_value``; no solver code is used.
    """
    customers = list(problem.customer_ids)
    reps = list(problem.rep_ids)
    best: tuple[float, int] | None = None
    for combo in itertools.product(reps, repeat=len(customers)):
        moves = sum(
            1
            for c, r in zip(customers, combo, strict=True)
            if incumbent.get(c) in reps and incumbent[c] != r
        )
        if max_moves is not None and moves > max_moves:
            continue
        plan = pd.Series(list(combo), index=customers, dtype=object)
        if alloc.check(problem, plan):
            continue
        key = (round(objective_value(problem, plan), 12), moves)
        if best is None or key < best:
            best = key
    return best


def three_reps() -> tuple[alloc.Problem, pd.Series]:
    customers = pd.DataFrame({"customer_id": list("abcdef"), "potential": [8, 2, 3, 1, 3, 1]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2", "r3"]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    incumbent = pd.Series({"a": "r1", "b": "r1", "c": "r2", "d": "r2", "e": "r3", "f": "r3"})
    return problem, incumbent


def capacity_case(capacity_r1: float = 6.0) -> tuple[alloc.Problem, pd.Series]:
    customers = pd.DataFrame(
        {"customer_id": list("abcd"), "potential": [4.0, 3, 2, 1], "work": [4.0, 3, 2, 1]}
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "cap": [capacity_r1, 10.0]})
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Capacity("work", limit="cap")],
        objective=alloc.MinimizeImbalance("potential"),
    )
    incumbent = pd.Series({"a": "r1", "b": "r1", "c": "r1", "d": "r2"})
    return problem, incumbent
