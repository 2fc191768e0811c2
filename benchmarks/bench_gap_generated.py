"""Unseen GAP instances: alloc against HiGHS (and plain CP-SAT) at equal time.

The public suite (``bench_gap.py``) is the instances alloc was developed on. This script
draws new ones with :func:`alloc.datasets.make_gap` (the published recipes of the tight
types C, D and E, new seeds) and solves each with alloc and the same baselines as
``bench_gap.py``, at the same time limit, in one run. There is no best known value, so
each objective is compared with the best plan of the run (``gap_best %``) and with the
best lower bound any solver proved (``gap_lb %``: alloc's Lagrangian/CP-SAT bound or
HiGHS's dual bound). Every plan is checked with :func:`alloc.check`.

Usage::

    python benchmarks/bench_gap_generated.py                 # 3 types x 4 sizes, 10 s
    python benchmarks/bench_gap_generated.py --time-limit 5 --seeds 101,102
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import alloc
from _common import commit
from alloc.datasets import make_gap
from bench_gap import BASELINES, Outcome, machine, run_alloc, run_cpsat, run_highs, write_atomic

HERE = Path(__file__).resolve().parent
#: (agents, jobs) drawn for every type; the mid and large sizes of the public suite.
SIZES = ((10, 100), (20, 200), (40, 400), (30, 900))
KINDS = ("c", "d", "e")


def matrices(problem: alloc.Problem, m: int, n: int) -> tuple[np.ndarray, ...]:
    """Cost, resource use (m x n, agent a{i} by job j{j}) and capacity (m) of a problem."""
    pairs = problem.pairs
    agent = pairs["rep_id"].str.slice(1).astype(int).to_numpy()
    job = pairs["customer_id"].str.slice(1).astype(int).to_numpy()
    cost = np.zeros((m, n), dtype=np.int64)
    weight = np.zeros((m, n), dtype=np.int64)
    cost[agent, job] = pairs["cost"].to_numpy(np.int64)
    weight[agent, job] = pairs["weight"].to_numpy(np.int64)
    capacity = problem.reps["capacity"].reindex([f"a{i}" for i in range(m)])
    return cost, weight, capacity.to_numpy(np.int64)


def pct(value: float, reference: float) -> float:
    if not (math.isfinite(value) and math.isfinite(reference)):
        return math.nan
    return 100.0 * (value - reference) / abs(reference)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seeds", default="101", help="comma-separated instance seeds")
    parser.add_argument("--baselines", default=",".join(BASELINES))
    parser.add_argument("--output", type=Path, default=HERE / "results" / "gap_generated.csv")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    baselines = () if args.baselines == "none" else tuple(args.baselines.split(","))
    if set(baselines) - set(BASELINES):
        parser.error(f"--baselines: choose from {', '.join(BASELINES)} or none")
    print(
        f"Generated GAP instances: {len(KINDS) * len(SIZES) * len(seeds)} instances, "
        f"{args.time_limit:g} s per solver, alloc {alloc.__version__} ({commit()}), "
        f"{machine()}, {dt.date.today().isoformat()}"
    )
    print("gap_best% = 100 (objective - best of the run) / best; gap_lb% against the best bound\n")
    head = f"{'instance':<14} {'alloc':>8} {'best%':>6} {'lb%':>6}"
    for label in baselines:
        head += f" {label:>8} {'best%':>6} {'lb%':>6}"
    print(head)
    print("-" * len(head))
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        for kind in KINDS:
            for m, n in SIZES:
                name = f"{kind}{m:02d}{n}-s{seed}"
                problem = make_gap(m, n, kind=kind, seed=seed)
                cost, weight, capacity = matrices(problem, m, n)
                outcomes: dict[str, Outcome] = {
                    "alloc": run_alloc(problem, cost, args.time_limit, 0)
                }
                if "cpsat" in baselines:
                    outcomes["cpsat"] = run_cpsat(
                        problem, cost, weight, capacity, args.time_limit, 0
                    )
                if "highs" in baselines:
                    outcomes["highs"] = run_highs(problem, cost, weight, capacity, args.time_limit)
                best = min((o.objective for o in outcomes.values() if o.checked), default=math.nan)
                bounds = [o.bound for o in outcomes.values() if math.isfinite(o.bound)]
                lower = max(bounds) if bounds else math.nan
                row: dict[str, Any] = {
                    "instance": name,
                    "kind": kind,
                    "m": m,
                    "n": n,
                    "seed": seed,
                    "time_limit": args.time_limit,
                    "best": best,
                    "best_bound": lower,
                }
                line = f"{name:<14}"
                for label, out in outcomes.items():
                    row[f"{label}_status"] = out.status
                    row[f"{label}_objective"] = out.objective
                    row[f"{label}_bound"] = out.bound
                    row[f"{label}_checked"] = out.checked
                    row[f"{label}_time"] = out.time
                    row[f"{label}_gap_best_pct"] = pct(out.objective, best)
                    row[f"{label}_gap_lb_pct"] = pct(out.objective, lower)
                    line += (
                        f" {out.objective:>8.0f} {row[f'{label}_gap_best_pct']:>6.2f}"
                        f" {row[f'{label}_gap_lb_pct']:>6.2f}"
                    )
                row["date"], row["machine"], row["commit"] = (
                    dt.date.today().isoformat(),
                    machine(),
                    commit(),
                )
                rows.append(row)
                print(line, flush=True)
                write_atomic(pd.DataFrame(rows), args.output)
    frame = pd.DataFrame(rows)
    print("\nMean gap % to the best plan of the run / to the best bound, per type:")
    cols = {}
    for label in ("alloc", *baselines):
        cols[f"{label}_best%"] = (f"{label}_gap_best_pct", "mean")
        cols[f"{label}_lb%"] = (f"{label}_gap_lb_pct", "mean")
    table = pd.concat(
        [frame.groupby("kind").agg(**cols), frame.assign(kind="all").groupby("kind").agg(**cols)]
    )
    print(table.round(3).to_string())
    for label in baselines:
        theirs = frame[f"{label}_objective"]
        no_worse = (frame["alloc_objective"] <= theirs + 1e-9) | theirs.isna()
        print(f"alloc no worse than {label} on {int(no_worse.sum())} of {len(frame)}")
    unchecked = frame.loc[~frame["alloc_checked"], "instance"].tolist()
    if unchecked:
        print(f"alloc plans that failed the check: {', '.join(unchecked)}", file=sys.stderr)
    print(f"\nwrote {args.output}")
    return 1 if unchecked else 0


if __name__ == "__main__":
    raise SystemExit(main())
