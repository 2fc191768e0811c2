"""Is there any plan at all? CP-SAT on the whole territory flow model, no objective.

A scratch diagnostic for the bundled-state cases that stay UNKNOWN: the model of
`alloc.solvers.territory_cp` (one single-commodity flow per territory for contiguity,
roots in increasing unit order to break the symmetry of interchangeable reps, every
Balance window as an integer row rounded outward from the allowed limits, so an
INFEASIBLE is a proof for the raw data), without the dispersion objective, with a long
time limit. FEASIBLE prints the plan's deviations (checked by ``alloc.check``).

Usage: python benchmarks/territory_feasibility.py georgia rural_population area --k 10
       [--seconds 1200] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import alloc  # noqa: E402
from _common import load_map  # noqa: E402
from alloc.solvers.deadline import Deadline  # noqa: E402
from alloc.solvers.scaling import Scaled  # noqa: E402
from alloc.solvers.state import Rows  # noqa: E402
from alloc.solvers.territory_cp import build_territory_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state")
    parser.add_argument("measures", nargs="+")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--seconds", type=float, default=1200.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table = load_map(args.state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        neighbors = alloc.geo.adjacency(table, kind="queen")
    customers = table.drop(columns="geometry")
    reps = pd.DataFrame({"rep_id": [f"R{i + 1:02d}" for i in range(args.k)]})
    rules = [alloc.Contiguous(neighbors)] + [
        alloc.Balance(m, args.tolerance) for m in args.measures
    ]
    problem = alloc.Problem(customers, reps, rules=rules)  # no objective: feasibility
    model = problem.model
    rows = Rows.from_model(model)
    scaled = Scaled.from_rows(model, rows)
    print(
        f"{args.state} {'+'.join(args.measures)} k={args.k} +-{args.tolerance:.0%}: "
        f"{model.n_units} units, scaling error {scaled.error} (0: an INFEASIBLE is a proof)",
        flush=True,
    )
    cp = build_territory_model(model, rows, scaled, contiguity=True)
    start = time.perf_counter()
    solution, chosen = cp.solve(
        Deadline.after(args.seconds), seed=0, workers=args.workers, probing=False
    )
    took = time.perf_counter() - start
    print(f"CP-SAT {solution.status} after {took:.0f} s ({args.workers} workers)", flush=True)
    if chosen is not None:
        rep_ids = problem.rep_ids.to_numpy()[model.pair_rep[chosen][model.customer_unit]]
        plan = pd.Series(rep_ids, index=problem.customer_ids)
        print("alloc.check:", alloc.check(problem, plan) or "no violation")
        for m in args.measures:
            load = customers.groupby(plan.to_numpy())[m].sum()
            dev = (load / (customers[m].sum() / args.k) - 1).abs().max()
            print(f"  {m}: largest deviation {100 * dev:.2f} %")


if __name__ == "__main__":
    main()
