"""How close the territory search gets on the bundled counties: best plan's deviations.

For each case (state, two measures, k) runs `territory_search.search` for ``--seconds``
and prints, for its best plan (feasible or not), the largest deviation of each measure
from the fair share, the number of territories outside a window and the contiguity
breaks. A debugging aid for issue 14's larger-k cases, not a benchmark.

Usage: python benchmarks/debug_territory_search.py [--seconds 60] [--k 10 20]
       [--case georgia:rural_population,area ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import alloc  # noqa: E402
from _common import load_map  # noqa: E402
from alloc.solvers import territory_search  # noqa: E402
from alloc.solvers.deadline import Deadline  # noqa: E402
from alloc.solvers.dispersion import contiguity_breaks  # noqa: E402

CASES = [
    "georgia:rural_population,area",
    "georgia:population,elderly_population",
    "north_carolina:births_1979_84,area",
    "north_carolina:births_1974_78,births_1979_84",
]


def problem_of(
    state: str, measures: list[str], k: int, tolerance: float = 0.05
) -> tuple[alloc.Problem, pd.DataFrame]:
    table = load_map(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        neighbors = alloc.geo.adjacency(table, kind="queen")
    customers = table.drop(columns="geometry")
    reps = pd.DataFrame({"rep_id": [f"R{i + 1:02d}" for i in range(k)]})
    rules = [alloc.Contiguous(neighbors)] + [alloc.Balance(m, tolerance) for m in measures]
    problem = alloc.Problem(customers, reps, rules=rules, objective=alloc.MinimizeDispersion("sum"))
    return problem, customers


def deviations(customers: pd.DataFrame, measures: list[str], rep_of: np.ndarray, k: int):
    out = []
    for m in measures:
        load = np.bincount(rep_of, weights=customers[m].to_numpy(float), minlength=k)
        share = load.sum() / k
        out.append(np.abs(load / share - 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--k", nargs="+", type=int, default=[10, 20])
    parser.add_argument("--case", nargs="+", default=CASES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    for case in args.case:
        state, names = case.split(":")
        measures = names.split(",")
        for k in args.k:
            problem, customers = problem_of(state, measures, k, args.tolerance)
            model = problem.model
            geo = model.geography
            start = time.perf_counter()
            plan = territory_search.search(model, geo, Deadline.after(args.seconds), seed=args.seed)
            took = time.perf_counter() - start
            rep_of = model.pair_rep[np.asarray(plan.chosen)]
            devs = deviations(customers, measures, rep_of, k)
            outside = int(np.sum(np.any(np.stack(devs) > args.tolerance, axis=0)))
            brk = contiguity_breaks(model, geo, rep_of)
            print(
                f"{state[:5]} {'+'.join(m[:8] for m in measures):<20} k={k:<3} "
                f"tol {args.tolerance:.2f} {took:5.1f}s feasible={plan.feasible!s:<5} breaks={brk} "
                f"outside={outside:2d} maxdev=" + " ".join(f"{100 * d.max():6.2f}%" for d in devs),
                flush=True,
            )


if __name__ == "__main__":
    main()
