"""Shared test configuration: Hypothesis profiles, bundled test data, brute force.

Hypothesis profiles: ``ci`` (25 derandomised examples, used by ``make test``) and
``dev`` (15 examples, the default). Choose one with ``HYPOTHESIS_PROFILE=ci``.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

import alloc
from alloc.check import objective_value

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=15, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: Bundled test data (copies; tests never read /work/shared at run time).
DATA_DIR = Path(__file__).parent / "data"

#: Refuse to brute-force more assignments than this (keeps the suite fast).
BRUTE_FORCE_LIMIT = 5_000


def brute_force(problem: alloc.Problem) -> float | None:
    """Smallest objective over every complete assignment that ``alloc.check`` accepts.

    Enumerates, with ``itertools.product``, every assignment of each customer to one of
    its eligible reps (the problem's pair table); feasibility comes from ``alloc.check``
    and the objective from ``alloc.check.objective_value``, never from the solvers.
    Returns None when no assignment is feasible.
    """
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
    pairs = problem.pairs
    customers = list(problem.customer_ids)
    options = [list(pairs.loc[pairs[c_col] == c, r_col]) for c in customers]
    size = math.prod(len(o) for o in options)
    assert size <= BRUTE_FORCE_LIMIT, f"{size} assignments: too many to brute-force"
    best: float | None = None
    for combo in itertools.product(*options):
        assignment = pd.Series(list(combo), index=customers, dtype=object)
        if alloc.check(problem, assignment):
            continue
        value = objective_value(problem, assignment)
        if best is None or value < best:
            best = value
    return best


@pytest.fixture(scope="session")
def brute() -> Callable[[alloc.Problem], float | None]:
    """The brute-force optimum function (see :func:`brute_force`)."""
    return brute_force


@pytest.fixture(scope="session")
def gap_dir() -> Path:
    """Directory of the bundled GAP instances, solutions and best known values."""
    return DATA_DIR / "gap"
