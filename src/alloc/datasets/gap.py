"""Reader for the OR-Library generalized assignment problem (GAP) format.

Format (whitespace-separated integers): ``m n``; then m rows of n costs ``c[i][j]``;
then m rows of n resource uses ``a[i][j]``; then m capacities ``b[i]``. Each job goes to
exactly one agent; an agent's jobs use at most its capacity. Jobs become customers
(``j0``...), agents reps (``a0``...); every pair exists with its ``cost`` and ``weight``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from alloc.data.problem import Problem
from alloc.errors import InvalidProblemError
from alloc.rules import Capacity, MaximizeFit, MinimizeCost

__all__ = ["gap_tables", "read_gap", "read_gap_solution"]


def gap_tables(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(customers, reps, pairs) tables of a GAP instance file."""
    try:
        with open(path) as handle:
            tokens = handle.read().split()
        numbers = np.array(tokens, dtype=np.int64)
    except (OSError, ValueError) as exc:
        raise InvalidProblemError(f"cannot read GAP file {str(path)!r}: {exc}") from exc
    if numbers.size < 2:
        raise InvalidProblemError(f"GAP file {str(path)!r} is empty or truncated.")
    m, n = int(numbers[0]), int(numbers[1])
    expected = 2 + 2 * m * n + m
    if m <= 0 or n <= 0 or numbers.size != expected:
        raise InvalidProblemError(
            f"GAP file {str(path)!r}: header says {m} agents x {n} jobs, so {expected} numbers "
            f"are expected; the file has {numbers.size}. Is it in OR-Library GAP format?"
        )
    cost = numbers[2 : 2 + m * n].reshape(m, n)
    weight = numbers[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    capacity = numbers[2 + 2 * m * n :]
    jobs = [f"j{j}" for j in range(n)]
    agents = [f"a{i}" for i in range(m)]
    customers = pd.DataFrame({"customer_id": jobs})
    reps = pd.DataFrame({"rep_id": agents, "capacity": capacity})
    pairs = pd.DataFrame(
        {
            "customer_id": np.tile(jobs, m),
            "rep_id": np.repeat(agents, n),
            "cost": cost.ravel(),
            "weight": weight.ravel(),
        }
    )
    return customers, reps, pairs


def read_gap(path: str | os.PathLike[str], *, sense: str = "min") -> Problem:
    """A GAP instance as a Problem whose objective equals the GAP cost.

    ``sense="max"`` maximises the ``cost`` column instead (OR-Library's gap1-12 are
    published as maximisation problems); the objective is then minus the profit.

    Examples
    --------
    >>> import alloc, tempfile, os
    >>> text = "2 3\\n1 2 3\\n3 2 1\\n1 1 1\\n1 1 1\\n2 2\\n"
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write(text)
    >>> alloc.datasets.read_gap(f.name)
    Problem(3 customers, 2 reps, 6 eligible pairs, 1 rules, 1 objective terms)
    >>> os.unlink(f.name)
    """
    if sense not in ("min", "max"):
        raise InvalidProblemError(f"read_gap: sense must be 'min' or 'max'; got {sense!r}.")
    customers, reps, pairs = gap_tables(path)
    term = MinimizeCost("cost") if sense == "min" else MaximizeFit("cost")
    return Problem(
        customers, reps, pairs=pairs, rules=[Capacity("weight", limit="capacity")], objective=term
    )


def read_gap_solution(path: str | os.PathLike[str]) -> pd.Series:
    """A best-known-solution file (one 0-based agent per job) as an assignment Series."""
    with open(path) as handle:
        agents = np.array(handle.read().split(), dtype=np.int64)
    return pd.Series([f"a{a}" for a in agents], index=[f"j{j}" for j in range(agents.size)])
