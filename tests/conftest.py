"""Shared test configuration: Hypothesis profiles, bundled test data, brute force.

Hypothesis profiles: ``ci`` (20 derandomised examples, used by ``make test``) and
``dev`` (15 examples, the default). Choose one with ``HYPOTHESIS_PROFILE=ci``.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, settings
from hypothesis import strategies as st

import alloc
from alloc.checker import objective_value

# 20 examples: the fresh-clone CI run reached 15.5 min with 25 (stop 25).
settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=15, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: Bundled test data (copies; tests never read /work/shared at run time).
DATA_DIR = Path(__file__).parent / "data"

#: Refuse to brute-force more assignments than this (keeps the suite fast).
BRUTE_FORCE_LIMIT = 5_000


class CpuShare:
    """Times a block: wall seconds, this process's CPU seconds, and whether the machine
    was busier than its cores meanwhile (so that a time-limited solve may honestly end
    without a plan). The one-minute load average lags behind a burst of other work, so a
    process that got less than half a core of CPU also counts as starved."""

    def __enter__(self) -> CpuShare:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.load0 = os.getloadavg()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0

    @property
    def busy(self) -> bool:
        cores = os.cpu_count() or 1
        load = max(self.load0, os.getloadavg()[0]) / cores
        return load > 1.0 or self.cpu < 0.5 * self.wall


def model_brute_force(model: alloc.data.model.Model, rows: object) -> float:
    """Smallest objective (``score_of``) over every plan of a compiled model that meets
    its hard rows, ``inf`` when none does: the oracle of the bound tests."""
    from alloc.solvers.state import score_of

    start = model.unit_start
    best = math.inf
    for offsets in itertools.product(*[range(b - a) for a, b in itertools.pairwise(start)]):
        chosen = start[:-1] + np.array(offsets, dtype=np.int64)
        score = score_of(model, rows, chosen, rows.loads(model, chosen))  # type: ignore[attr-defined]
        if score.penalty == 0:
            best = min(best, score.objective)
    return best


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


# --------------------------------------------------------------------------- strategies
# Hypothesis strategies shared by several test files (import them from conftest).

#: Target units (1 drawn twice as often as the others).
units = st.sampled_from([1, 1, 5, 100])


@st.composite
def weight_lists(draw, min_size=1, max_size=8, allow_zero=True):
    """Non-negative weights with a positive sum: all ints (0..50) or all floats."""
    n = draw(st.integers(min_size, max_size))
    if draw(st.booleans()):
        low = 0 if allow_zero else 1
        w = draw(st.lists(st.integers(low, 50), min_size=n, max_size=n))
    else:
        positive = st.floats(1e-6, 1e3, allow_nan=False, allow_infinity=False)
        value = st.one_of(st.just(0.0), positive) if allow_zero else positive
        w = draw(st.lists(value, min_size=n, max_size=n))
    assume(sum(w) > 0)
    return w


# ---- generalized assignment problems (tests/solvers: Lagrangian bound, HiGHS) -------------
def gap_problem(cost: np.ndarray, work: np.ndarray, capacity: np.ndarray) -> alloc.Problem:
    """A generalized assignment problem: rep-dependent cost and workload, capacities."""
    n, m = cost.shape
    pairs = pd.DataFrame(
        [(f"c{i}", f"r{j}", int(cost[i, j]), int(work[i, j])) for i in range(n) for j in range(m)],
        columns=["customer_id", "rep_id", "cost", "work"],
    )
    return alloc.Problem(
        pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)]}),
        pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)], "capacity": capacity.tolist()}),
        pairs=pairs,
        rules=[alloc.Capacity("work", limit="capacity")],
        objective=alloc.MinimizeCost("cost"),
    )


@st.composite
def gap_instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 6))
    m = draw(st.integers(2, 3))
    cost = np.array(draw(st.lists(st.integers(1, 30), min_size=n * m, max_size=n * m)))
    work = np.array(draw(st.lists(st.integers(1, 9), min_size=n * m, max_size=n * m)))
    cost, work = cost.reshape(n, m), work.reshape(n, m)
    # Capacities from tight (most plans infeasible) to loose.
    slack = draw(st.floats(0.45, 1.2))
    capacity = np.full(m, max(1, int(work.min(axis=1).sum() * slack / m * 1.8)))
    return cost, work, capacity


# ---- command line (tests/test_cli.py, tests/test_cli_errors.py) -----------------------------
#: A valid ``alloc solve`` config for the bundled sample tables.
CLI_CONFIG = """
[[rules]]
type = "Match"
customer_col = "industry"
rep_col = "skills"

[[rules]]
type = "Capacity"
metric = "workload"
limit = "capacity"

[[objective]]
type = "MinimizeImbalance"
metric = "potential"

[solve]
time_limit = 1
"""


@pytest.fixture(scope="session")
def sample_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return alloc.datasets.load_sample()


@pytest.fixture
def files(tmp_path: Path, sample_tables: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, Path]:
    """The sample's customers and reps as CSV, ``CLI_CONFIG`` and an output path."""
    customers, reps = sample_tables
    paths = {
        "customers": tmp_path / "customers.csv",
        "reps": tmp_path / "reps.csv",
        "config": tmp_path / "rules.toml",
        "out": tmp_path / "plan.csv",
    }
    customers.to_csv(paths["customers"], index=False)
    reps.to_csv(paths["reps"], index=False)
    paths["config"].write_text(CLI_CONFIG)
    return paths


# ---- a problem typed by hand (issue 12): 300 customers x 8 reps, one misspelt skill ----
_INDUSTRY_CYCLE = (
    "healthcare",
    "retail",
    "energy",
    "finance",
    "retail",
    "healthcare",
    "finance",
    "energy",
    "retail",
    "finance",
)


def hand_typed_tables(
    n_customers: int = 300, *, fixed_spelling: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers C001... in round thousands of potential; 8 reps REP1-REP8 with skills.

    REP2's skills say "healtcare" (no customer's industry), so only REP2 and REP4 serve
    the energy customers, whose potential lets one of them reach 95 % of a fair share
    but not both: with ``Balance("potential", tolerance=0.05)`` the problem is
    infeasible although every customer has an eligible rep. With
    ``fixed_spelling=True`` REP2 may serve healthcare customers too, and it is feasible.
    Also read by benchmarks/bench_infeasible.py.
    """
    rows = []
    for i in range(n_customers):
        industry = _INDUSTRY_CYCLE[i % 10]
        potential = 1000 * (4 + (i * 7) % 13) + (1000 if industry == "energy" else 0)
        rows.append((f"C{i + 1:03d}", industry, potential))
    customers = pd.DataFrame(rows, columns=["customer_id", "industry", "potential"])
    skills = {
        "REP1": ["healthcare", "retail"],
        "REP2": ["healthcare" if fixed_spelling else "healtcare", "energy"],
        "REP3": ["healthcare", "finance"],
        "REP4": ["energy"],
        "REP5": ["retail", "finance"],
        "REP6": ["healthcare", "retail"],
        "REP7": ["finance", "retail"],
        "REP8": ["healthcare", "finance"],
    }
    reps = pd.DataFrame({"rep_id": list(skills), "skills": list(skills.values())})
    return customers, reps


# ---- territory maps built directly as arrays (solvers' territory tests) -------------------
def grid_map(rows: int, cols: int) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """Cell centres of a rows x cols grid and its rook edges (u < v)."""
    points = np.array([(i, j) for i in range(rows) for j in range(cols)], dtype=float)
    edges = set()
    for i, j in itertools.product(range(rows), range(cols)):
        u = i * cols + j
        if j + 1 < cols:
            edges.add((u, u + 1))
        if i + 1 < rows:
            edges.add((u, u + cols))
    return points, edges


def neighbour_csr(n: int, edges: set[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR (indptr, indices) of an undirected edge set over n units."""
    nbr: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        nbr[a].append(b)
        nbr[b].append(a)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(x) for x in nbr])
    indices = np.array([v for x in nbr for v in sorted(x)], dtype=np.int64)
    return indptr, indices


def balanced_model(
    n: int,
    measures: list[np.ndarray],
    n_reps: int,
    tol: float,
    eligible: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
) -> alloc.data.Model:
    """A Model of n units with one window (fair share +- tol) per measure over eligible pairs, and
    an optional per-rep cap on the first measure; no costs, one customer per unit."""
    from alloc.data.model import Constraint, Model

    R = n_reps
    ok = np.ones((n, R), bool) if eligible is None else eligible
    pair_unit, pair_rep = np.nonzero(ok)
    unit_start = np.concatenate([[0], np.cumsum(ok.sum(axis=1))])
    rows = []
    for k, m in enumerate(measures):
        fair = m.sum() / R
        lo, hi = np.full(R, fair * (1 - tol)), np.full(R, fair * (1 + tol))
        rows.append(Constraint(f"m{k}", m[pair_unit].astype(float), lo, hi))
    if capacity is not None:
        w = measures[0][pair_unit].astype(float)
        rows.append(Constraint("cap", w, np.full(R, -np.inf), capacity.astype(float)))
    return Model(
        n,
        R,
        unit_start,
        pair_unit,
        pair_rep,
        np.zeros(pair_unit.size),
        tuple(rows),
        (),
        np.arange(n),
        np.ones(n, dtype=np.int64),
    )


def territory_problem(
    links: list[tuple[int, int]],
    measures: dict[str, np.ndarray],
    k: int,
    tolerance: float,
    contiguous: bool = True,
    base: list[int] | None = None,
) -> alloc.Problem:
    """Units ``u000``... with ``measures``, ``k`` reps, a Balance window per measure
    and (``contiguous``) a Contiguous rule on ``links``, with base units ``base``."""
    n = len(next(iter(measures.values())))
    ids = [f"u{i:03d}" for i in range(n)]
    customers = pd.DataFrame({"customer_id": ids, **measures})
    reps = pd.DataFrame({"rep_id": [f"r{r}" for r in range(k)]})
    rules: list[object] = [alloc.Balance(name, tolerance) for name in measures]
    if contiguous:
        a = [ids[u] for u, v in links] + [ids[v] for u, v in links]
        b = [ids[v] for u, v in links] + [ids[u] for u, v in links]
        neighbors = pd.DataFrame({"customer_id": a, "neighbor_id": b})
        if base is not None:
            reps["home"] = [ids[u] for u in base]
        rules.insert(0, alloc.Contiguous(neighbors, base="home" if base is not None else None))
    return alloc.Problem(customers, reps, rules=rules)


def oversized_customer_problem(
    seed: int, n: int, *, disruption: bool = False, match: bool = True
) -> alloc.Problem:
    """``n`` customers and reps R0-R2 (skills a, a;b, b). Customer C0 is worth more than
    a fair share of potential but has little workload: the rep that takes it needs
    workload from others, which brings more potential. Objective potential + 0.5 x
    workload imbalance (+ 0.05 x moves from ``owner`` with ``disruption``)."""
    rng = np.random.default_rng(seed)
    potential = rng.integers(1, 10, n).astype(float)
    potential[0] = potential.sum() * 0.6
    workload = rng.integers(1, 10, n).astype(float)
    workload[0] = 1.0
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "potential": potential,
            "workload": workload,
            "industry": rng.choice(["a", "b"], n),
            "owner": [f"R{j}" for j in rng.integers(0, 3, n)],
        }
    )
    reps = pd.DataFrame({"rep_id": ["R0", "R1", "R2"], "skills": ["a", "a;b", "b"]})
    objective = alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload")
    if disruption:
        objective = objective + 0.05 * alloc.MinimizeDisruption("owner")
    rules = [alloc.Match("industry", "skills")] if match else []
    return alloc.Problem(customers, reps, rules=rules, objective=objective)
