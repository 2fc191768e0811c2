"""Scaling: build time, solve time, peak memory and balance from 2,000 to 100,000 customers.

Each size runs in its own process (so peak memory is that size's own), on
``make_problem(n, m)`` with about 10 eligible reps per customer and the standard rules
(Match, KeyAccounts, Capacity, AccountLimit), objective potential + 0.5 x workload
imbalance. Beside alloc.solve, in the same process: alloc's greedy construction alone.

Goals (core issue): 20,000 x 200 feasible within time_limit=30 with potential deviation
<= 1 %; 100,000 x 1,000 completes within 120 s.

Usage: python benchmarks/bench_scale.py [--sizes 2000x20:5,20000x200:30,100000x1000:120]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from alloc._io import write_atomic

RESULTS = Path(__file__).parent / "results"
DEFAULT_SIZES = "2000x20:5,20000x200:30,100000x1000:120"


def run_one(n: int, m: int, time_limit: float, seed: int) -> dict[str, object]:
    import alloc
    from alloc.solvers.greedy import greedy
    from alloc.solvers.run_state import to_assignment
    from alloc.solvers.state import Rows

    t = time.perf_counter()
    customers, reps = alloc.datasets.make_tables(n, m, seed)
    gen_time = time.perf_counter() - t
    t = time.perf_counter()
    problem = alloc.Problem(
        customers,
        reps,
        rules=alloc.datasets.standard_rules(),
        objective=alloc.MinimizeImbalance("potential") + 0.5 * alloc.MinimizeImbalance("workload"),
    )
    build_time = time.perf_counter() - t
    t = time.perf_counter()
    chosen = greedy(problem.model, Rows.from_model(problem.model), seed)
    greedy_time = time.perf_counter() - t
    g = alloc.evaluate(problem, to_assignment(problem, chosen))
    t = time.perf_counter()
    result = alloc.solve(problem, time_limit=time_limit, seed=seed)
    solve_time = time.perf_counter() - t
    t = time.perf_counter()
    violations = alloc.check(problem, result.assignment)
    check_time = time.perf_counter() - t
    r = result.metrics
    return {
        "customers": n,
        "reps": m,
        "pairs": problem.n_pairs,
        "eligible_per_customer": problem.n_pairs / n,
        "time_limit": time_limit,
        "generate_s": gen_time,
        "build_s": build_time,
        "solve_s": solve_time,
        "check_s": check_time,
        "status": result.status.value,
        "violations": len(violations),
        "potential_max_dev": r["potential_max_dev"],
        "workload_max_dev": r["workload_max_dev"],
        "greedy_s": greedy_time,
        "greedy_potential_max_dev": g["potential_max_dev"],
        "greedy_workload_max_dev": g["workload_max_dev"],
        "greedy_violations": g["violations"],
        "found_by": result.stats.found_by,
        "bound": math.nan if result.bound is None else result.bound,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="NxM:seconds,...")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        n, m, limit = args.one.split(",")
        print(json.dumps(run_one(int(n), int(m), float(limit), args.seed)))
        return
    rows = []
    for spec in args.sizes.split(","):
        size, limit = spec.split(":")
        n, m = size.split("x")
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--one", f"{n},{m},{limit}", "--seed", str(args.seed)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            print(f"{size}: failed\n{out.stderr[-2000:]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["wall_s"] = time.perf_counter() - t
        rows.append(row)
        print(
            f"{size:>12}: build {row['build_s']:.2f} s, solve {row['solve_s']:.1f} s "
            f"(limit {limit}), peak {row['peak_rss_mb']:.0f} MB, potential dev "
            f"{row['potential_max_dev']:.4%} (greedy {row['greedy_potential_max_dev']:.3%}), "
            f"workload dev {row['workload_max_dev']:.4%}, violations {row['violations']}, "
            f"objective bound {row['bound']:.4g}",
            flush=True,
        )
    frame = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(
        frame[
            [
                "customers",
                "reps",
                "eligible_per_customer",
                "build_s",
                "greedy_s",
                "solve_s",
                "time_limit",
                "peak_rss_mb",
                "potential_max_dev",
                "greedy_potential_max_dev",
                "workload_max_dev",
                "greedy_workload_max_dev",
                "violations",
                "status",
            ]
        ].to_string(index=False)
    )
    RESULTS.mkdir(exist_ok=True)
    write_atomic(RESULTS / "scale.csv", lambda tmp: frame.to_csv(tmp, index=False))
    print(f"wrote {RESULTS / 'scale.csv'}")


if __name__ == "__main__":
    main()
