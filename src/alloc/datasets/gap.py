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
from alloc.objectives import MaximizeFit, MinimizeCost
from alloc.rules import Capacity
from alloc.validation import Param, check_params, is_int

__all__ = ["gap_tables", "make_gap", "read_gap", "read_gap_solution"]


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


def make_gap(m: int, n: int, *, kind: str = "d", seed: int = 0) -> Problem:
    """A new random GAP instance of type C, D or E, drawn like the published suites.

    The recipes of Chu & Beasley (1997) and Laguna et al. (1995), as used for the
    OR-Library and Yagiura instances, with every agent's capacity at 80 % of its fair
    share of the total resource use (tight):

    - ``"c"``: resource use ``a ~ U{5..25}``, cost ``c ~ U{10..50}``, independent;
    - ``"d"``: ``a ~ U{1..100}``, ``c = 111 - a + U{-10..10}`` (cheap jobs are heavy);
    - ``"e"``: ``a = 1 - 10 ln U(0, 1]`` (rounded), ``c = 1000 / a - 10 U[0, 1]``
      (rounded).

    Capacity: ``b_i = floor(0.8 * sum_j a_ij / m)``. Use it to test allocation
    policies on instances nobody has tuned for; the same ``seed`` gives the same
    instance. Jobs are customers ``j0``..., agents reps ``a0``..., as in
    [`read_gap`][alloc.datasets.read_gap].

    Examples
    --------
    >>> import alloc
    >>> alloc.datasets.make_gap(5, 40, kind="c", seed=1)
    Problem(40 customers, 5 reps, 200 eligible pairs, 1 rules, 1 objective terms)
    """
    kind_of = Param(lambda v: v in ("c", "d", "e"), "one of 'c', 'd', 'e'")
    size = Param(lambda v: is_int(v) and v >= 1, "a positive integer")
    check_params(
        "make_gap",
        {"kind": kind_of, "m": size, "n": size},
        {"kind": kind, "m": m, "n": n},
    )
    rng = np.random.default_rng(seed)
    if kind == "c":
        weight = rng.integers(5, 26, size=(m, n))
        cost = rng.integers(10, 51, size=(m, n))
    elif kind == "d":
        weight = rng.integers(1, 101, size=(m, n))
        cost = 111 - weight + rng.integers(-10, 11, size=(m, n))
    else:
        u = 1.0 - rng.random(size=(m, n))  # in (0, 1]
        raw = 1.0 - 10.0 * np.log(u)
        weight = np.maximum(1, np.rint(raw)).astype(np.int64)
        cost = np.maximum(1, np.rint(1000.0 / raw - 10.0 * rng.random(size=(m, n))))
        cost = cost.astype(np.int64)
    capacity = np.floor(0.8 * weight.sum(axis=1) / m).astype(np.int64)
    # Every job must fit somewhere on its own, or the instance is trivially infeasible.
    capacity = np.maximum(capacity, weight.min(axis=0).max())
    jobs = [f"j{j}" for j in range(n)]
    agents = [f"a{i}" for i in range(m)]
    pairs = pd.DataFrame(
        {
            "customer_id": np.tile(jobs, m),
            "rep_id": np.repeat(agents, n),
            "cost": cost.ravel(),
            "weight": weight.ravel(),
        }
    )
    return Problem(
        pd.DataFrame({"customer_id": jobs}),
        pd.DataFrame({"rep_id": agents, "capacity": capacity}),
        pairs=pairs,
        rules=[Capacity("weight", limit="capacity")],
        objective=MinimizeCost("cost"),
    )
