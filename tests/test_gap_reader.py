"""Tests for alloc.datasets.read_gap on bundled OR-Library GAP instances of every family.

Instances, best known solutions and values are copies under tests/data/gap/ (see its
README for provenance); nothing outside the tests directory is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.checker import objective_value
from alloc.datasets import gap_tables, read_gap, read_gap_solution

INSTANCES = ["gap1-0", "gap12-4", "a05100", "c10100", "d10100", "e10100"]


@pytest.fixture(scope="module")
def bks(gap_dir: Path) -> pd.DataFrame:
    return pd.read_csv(gap_dir / "bks.csv").set_index(["instance", "objective_sense"])


def test_bundled_data_covers_every_family(bks: pd.DataFrame, gap_dir: Path) -> None:
    families = set(bks["dataset"])
    assert families == {"cattrysse1994", "chu1997", "yagiura2004"}
    for name in INSTANCES:
        assert (gap_dir / name).is_file()
        assert (gap_dir / f"{name}_solution.txt").is_file()
        assert (name, "min") in bks.index
    assert (gap_dir / "LICENSE-fontanf-generalizedassignmentsolver.txt").is_file()


@pytest.mark.parametrize("name", INSTANCES)
def test_best_known_solution_is_feasible_with_the_best_known_cost(
    name: str, bks: pd.DataFrame, gap_dir: Path
) -> None:
    row = bks.loc[(name, "min")]
    problem = read_gap(gap_dir / name)
    assert problem.n_reps == row["m_agents"]
    assert problem.n_customers == row["n_jobs"]
    assert problem.n_pairs == row["m_agents"] * row["n_jobs"]
    solution = read_gap_solution(gap_dir / f"{name}_solution.txt")
    assert len(solution) == problem.n_customers
    assert alloc.check(problem, solution) == []
    assert objective_value(problem, solution) == row["bks"]


@pytest.mark.parametrize(
    ("name", "sense"),
    [
        ("gap1-0", "min"),
        ("gap1-0", "max"),
        ("gap12-4", "min"),
        ("gap12-4", "max"),
        ("a05100", "min"),
    ],
)
def test_small_gap_instances_are_solved_to_the_best_known_value(
    name: str, sense: str, bks: pd.DataFrame, gap_dir: Path
) -> None:
    best = bks.loc[(name, sense), "bks"]
    problem = read_gap(gap_dir / name, sense=sense)
    result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    assert result.status is alloc.Status.OPTIMAL
    assert alloc.check(problem, result.assignment) == []
    expected = best if sense == "min" else -best
    assert result.objective == expected
    assert objective_value(problem, result.assignment) == expected


def test_gap_tables_follow_the_file_layout(gap_dir: Path) -> None:
    customers, reps, pairs = gap_tables(gap_dir / "gap1-0")
    numbers = np.array((gap_dir / "gap1-0").read_text().split(), dtype=np.int64)
    m, n = int(numbers[0]), int(numbers[1])
    cost = numbers[2 : 2 + m * n].reshape(m, n)
    weight = numbers[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    assert (m, n) == (5, 15)
    assert list(customers["customer_id"]) == [f"j{j}" for j in range(n)]
    assert list(reps["rep_id"]) == [f"a{i}" for i in range(m)]
    assert reps["capacity"].tolist() == numbers[2 + 2 * m * n :].tolist()
    row = pairs[(pairs["customer_id"] == "j7") & (pairs["rep_id"] == "a3")].iloc[0]
    assert (row["cost"], row["weight"]) == (cost[3, 7], weight[3, 7])
    assert len(pairs) == m * n


def test_solution_file_maps_jobs_to_agents(gap_dir: Path) -> None:
    solution = read_gap_solution(gap_dir / "gap1-0_solution.txt")
    agents = (gap_dir / "gap1-0_solution.txt").read_text().split()
    assert list(solution.index) == [f"j{j}" for j in range(15)]
    assert list(solution) == [f"a{a}" for a in agents]


def test_malformed_gap_files_are_reported(tmp_path: Path, gap_dir: Path) -> None:
    truncated = tmp_path / "truncated"
    truncated.write_text(" ".join((gap_dir / "gap1-0").read_text().split()[:-1]))
    with pytest.raises(alloc.InvalidProblemError, match="truncated"):
        read_gap(truncated)
    words = tmp_path / "words"
    words.write_text("2 3\nfoo bar\n")
    with pytest.raises(alloc.InvalidProblemError, match="words"):
        read_gap(words)
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(alloc.InvalidProblemError, match="empty"):
        read_gap(empty)
    with pytest.raises(alloc.InvalidProblemError, match="missing-file"):
        read_gap(tmp_path / "missing-file")
    with pytest.raises(alloc.InvalidProblemError, match="sense"):
        read_gap(gap_dir / "gap1-0", sense="maximise")


def test_tiny_gap_text_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_text("2 3\n1 2 3\n3 2 1\n1 1 1\n1 1 1\n2 2\n")
    problem = read_gap(path)
    result = alloc.solve(problem, time_limit=2, workers=1)
    assert result.status is alloc.Status.OPTIMAL
    # each agent takes at most 2 jobs: best is j0, j1 -> a0 (1 + 2), j2 -> a1 (1)
    assert result.objective == 4


@pytest.mark.parametrize("kind", ["c", "d", "e"])
def test_make_gap_draws_tight_reproducible_instances(kind: str) -> None:
    problem = alloc.datasets.make_gap(6, 40, kind=kind, seed=3)
    again = alloc.datasets.make_gap(6, 40, kind=kind, seed=3)
    other = alloc.datasets.make_gap(6, 40, kind=kind, seed=4)
    pairs = problem.pairs
    assert len(pairs) == 6 * 40
    assert pairs.equals(again.pairs) and not pairs.equals(other.pairs)
    weight = pairs.pivot(index="rep_id", columns="customer_id", values="weight")
    cost = pairs.pivot(index="rep_id", columns="customer_id", values="cost")
    capacity = problem.reps["capacity"]
    # Capacity at 80 % of each agent's fair share of the total use (the published recipe).
    expected = np.floor(0.8 * weight.sum(axis=1) / 6).astype(int)
    assert (capacity.loc[expected.index] >= expected).all()
    assert (weight >= 1).all().all() and (cost >= 1).all().all()
    if kind == "d":  # cheap jobs are heavy: cost = 111 - weight + U{-10..10}
        assert ((cost + weight - 111).abs() <= 10).all().all()
    result = alloc.solve(problem, time_limit=3, seed=0, workers=1)
    assert result.status.has_solution
    assert alloc.check(problem, result.assignment) == []
    assert result.bound <= result.objective + 1e-9


def test_make_gap_rejects_unknown_kinds_and_sizes() -> None:
    with pytest.raises(alloc.InvalidParameterError, match="kind"):
        alloc.datasets.make_gap(3, 10, kind="a")
    with pytest.raises(alloc.InvalidParameterError, match="'m' parameter of make_gap must be"):
        alloc.datasets.make_gap(0, 10)
