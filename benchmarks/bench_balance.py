"""Balance quality: alloc.solve against its greedy alone, a plain CP-SAT model and LPT.

Scenario A (the core issue's benchmark): ``make_problem(2000, 20)`` with Match,
KeyAccounts, Capacity and AccountLimit, objective ``MinimizeImbalance("potential") +
0.5 * MinimizeImbalance("workload")``, ``time_limit=5``; beside alloc, in the same run:
alloc's constraint-aware greedy alone, and a plain CP-SAT model (the same formulation,
no hint, 2 workers) at the same time limit. Variants with other generator settings
(fewer eligible reps, heavier tails, more key accounts) check that nothing is tuned to
one generator.

Scenario B: pure single-metric balance, no rules, 2,000 x 20, ``time_limit=1``, against
the largest-first greedy (LPT) in the same run.

Every plan is checked with ``alloc.check``; results go to benchmarks/results/balance.csv.

Usage: python benchmarks/bench_balance.py [--seeds 3] [--time-limit 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import alloc
from _common import commit
from alloc._io import write_atomic
from alloc.datasets import make_tables, standard_rules
from alloc.solvers.cpsat import solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.greedy import greedy
from alloc.solvers.run_state import to_assignment
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows

RESULTS = Path(__file__).parent / "results"

VARIANTS = {
    "standard": {},
    "sparse (5 eligible)": {"eligible": 5},
    "heavy tail (sigma 1.6)": {"sigma": 1.6},
    "more key accounts (3 %)": {"key_share": 0.03, "account_slack": 1.8},
}


def _figures(problem: alloc.Problem, assignment: pd.Series | None) -> dict[str, object]:
    if assignment is None:
        return {
            "feasible": False,
            "violations": np.nan,
            "potential_max_dev": np.nan,
            "workload_max_dev": np.nan,
            "objective": np.nan,
        }
    m = alloc.evaluate(problem, assignment)
    return {
        "feasible": m["feasible"],
        "violations": m["violations"],
        "potential_max_dev": m["potential_max_dev"],
        "workload_max_dev": m.get("workload_max_dev", np.nan),
        "objective": m["objective"],
    }


def scenario_a(seeds: int, time_limit: float, variants: dict[str, dict]) -> list[dict]:
    rows = []
    for variant, options in variants.items():
        for seed in range(seeds):
            customers, reps = make_tables(2000, 20, seed, **options)
            problem = alloc.Problem(
                customers,
                reps,
                rules=standard_rules(),
                objective=alloc.MinimizeImbalance("potential")
                + 0.5 * alloc.MinimizeImbalance("workload"),
            )
            model = problem.model
            arrays = Rows.from_model(model)
            t = time.perf_counter()
            result = alloc.solve(problem, time_limit=time_limit, seed=seed)
            rows.append(
                {
                    "scenario": "A",
                    "variant": variant,
                    "seed": seed,
                    "method": "alloc.solve",
                    "time": time.perf_counter() - t,
                    **_figures(problem, result.assignment),
                }
            )
            t = time.perf_counter()
            chosen = greedy(model, arrays, seed)
            rows.append(
                {
                    "scenario": "A",
                    "variant": variant,
                    "seed": seed,
                    "method": "greedy alone",
                    "time": time.perf_counter() - t,
                    **_figures(problem, to_assignment(problem, chosen)),
                }
            )
            t = time.perf_counter()
            cp = solve_cpsat(
                model,
                arrays,
                Scaled.from_rows(model, arrays),
                deadline=Deadline.after(time_limit),
                seed=seed,
                workers=2,
                hint=None,
            )
            plan = None if cp.chosen is None else to_assignment(problem, cp.chosen)
            rows.append(
                {
                    "scenario": "A",
                    "variant": variant,
                    "seed": seed,
                    "method": "plain CP-SAT (no hint)",
                    "time": time.perf_counter() - t,
                    **_figures(problem, plan),
                }
            )
            print(
                f"  A {variant:<24} seed {seed}: alloc {rows[-3]['potential_max_dev']:.5%} / "
                f"{rows[-3]['workload_max_dev']:.5%}",
                flush=True,
            )
    return rows


def lpt(values: np.ndarray, n_reps: int) -> np.ndarray:
    """Largest-first to the currently least-loaded rep (Graham's LPT)."""
    loads = np.zeros(n_reps)
    out = np.empty(values.size, dtype=np.int64)
    for i in np.argsort(-values, kind="stable"):
        r = int(np.argmin(loads))
        out[i] = r
        loads[r] += values[i]
    return out


def scenario_b(seeds: int, time_limit: float) -> list[dict]:
    rows = []
    for seed in range(seeds):
        customers, reps = make_tables(2000, 20, seed)
        problem = alloc.Problem(
            customers[["customer_id", "potential"]],
            reps[["rep_id"]],
            objective=alloc.MinimizeImbalance("potential"),
        )
        t = time.perf_counter()
        result = alloc.solve(problem, time_limit=time_limit, seed=seed)
        rows.append(
            {
                "scenario": "B",
                "variant": "potential only, no rules",
                "seed": seed,
                "method": "alloc.solve",
                "time": time.perf_counter() - t,
                **_figures(problem, result.assignment),
            }
        )
        t = time.perf_counter()
        codes = lpt(customers["potential"].to_numpy(), len(reps))
        plan = pd.Series(
            reps["rep_id"].to_numpy()[codes], index=customers["customer_id"].to_numpy()
        )
        rows.append(
            {
                "scenario": "B",
                "variant": "potential only, no rules",
                "seed": seed,
                "method": "LPT greedy",
                "time": time.perf_counter() - t,
                **_figures(problem, plan),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="one seed, standard variant only")
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds
    variants = {"standard": {}} if args.quick else VARIANTS
    print(
        f"bench_balance: {platform.node()} {os.cpu_count()} cores, commit {commit()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )
    rows = scenario_a(seeds, args.time_limit, variants) + scenario_b(seeds, 1.0)
    frame = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    summary = frame.groupby(["scenario", "variant", "method"], sort=False).agg(
        runs=("seed", "size"),
        feasible=("feasible", "mean"),
        potential_max_dev_mean=("potential_max_dev", "mean"),
        potential_max_dev_worst=("potential_max_dev", "max"),
        workload_max_dev_mean=("workload_max_dev", "mean"),
        workload_max_dev_worst=("workload_max_dev", "max"),
        time=("time", "mean"),
    )
    fmt = {c: "{:.4%}".format for c in summary.columns if "dev" in c}
    print(summary.to_string(formatters=fmt))
    a = frame[(frame.scenario == "A") & (frame.method == "alloc.solve")]
    print(
        f"\nA: alloc worst potential deviation {a.potential_max_dev.max():.4%} (goal <= 0.1 %), "
        f"worst workload deviation {a.workload_max_dev.max():.4%} (goal <= 0.5 %), "
        f"violations {int(a.violations.sum())}"
    )
    b = frame[frame.scenario == "B"].pivot(
        index="seed", columns="method", values="potential_max_dev"
    )
    ratio = (b["alloc.solve"] / b["LPT greedy"]).max()
    print(f"B: alloc / LPT max deviation, worst seed: {ratio:.3g} (goal <= 1)")
    RESULTS.mkdir(exist_ok=True)
    write_atomic(RESULTS / "balance.csv", lambda tmp: frame.to_csv(tmp, index=False))
    print(f"wrote {RESULTS / 'balance.csv'}")


if __name__ == "__main__":
    sys.exit(main())
