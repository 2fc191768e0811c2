"""Brute-force review of the per-unit proof (`alloc.solvers.territory_units`).

Draws many small random maps (the generators and the brute force of
tests/solvers/test_territory_units.py, imported from there), runs `unit_conflict` with
no time limit and compares with brute force (every connected set holding each unit):
a wrong proof (a unit claimed with a territory that exists) is the bug to find; on
exact decimal data a missed unit is one too. Prints the counts, how many proofs the
reach test would have missed, and the seeds of any disagreement.

Usage: python benchmarks/check_territory_units.py [--cases 3000] [--first-seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "tests" / "solvers")]

from test_territory_units import (  # noqa: E402
    _random_map,
    _units_without_territory,
)

from alloc.solvers.deadline import Deadline  # noqa: E402
from alloc.solvers.state import Rows  # noqa: E402
from alloc.solvers.territory_reach import reach_conflicts  # noqa: E402
from alloc.solvers.territory_units import unit_conflict  # noqa: E402
from conftest import territory_problem  # noqa: E402


def one_case(seed: int) -> tuple[str, bool]:
    """('agree' | 'wrong proof' | 'missed', whether the reach test found it too)."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 11)), int(rng.integers(2, 5))
    links = _random_map(rng, n)
    exact = rng.random() < 0.7
    if exact:
        measures = {
            "a": rng.choice([0.0, 0.5, 1.0, 2.5, 8.0], size=n) + 1,
            "b": rng.integers(0, 10, n) / 10,
        }
    else:
        measures = {"a": rng.lognormal(0, 1, n), "b": rng.random(n) / 3}
    tolerance = float(rng.choice([0.05, 0.1, 0.2, 0.4, 0.6, 0.8]))
    base = [int(u) for u in rng.choice(n, size=k, replace=False)] if rng.random() < 0.3 else None
    problem = territory_problem(links, measures, k, tolerance, base=base)
    model = problem.model
    rows = Rows.from_model(model)
    conflict = unit_conflict(model, rows, Deadline.never())
    missing = _units_without_territory(problem, links)
    reach = bool(reach_conflicts(model, rows, Deadline.never()))
    if conflict is not None and conflict.unit not in missing:
        return "wrong proof", reach
    if conflict is None and missing and exact:
        return "missed", reach
    return ("proof" if conflict is not None else "agree"), reach


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    counts: dict[str, int] = {}
    beyond_reach, bad = 0, []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.cases):
        verdict, reach = one_case(seed)
        counts[verdict] = counts.get(verdict, 0) + 1
        beyond_reach += verdict == "proof" and not reach
        if verdict in ("wrong proof", "missed"):
            bad.append((seed, verdict))
    print(
        f"{args.cases} cases ({time.perf_counter() - start:.0f} s): "
        + ", ".join(f"{v} {c}" for v, c in sorted(counts.items()))
        + f"; proofs the reach test missed {beyond_reach}; disagreements {bad or 'none'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
