"""Long exact runs on `bench_robust.py` cases: is a gap to the LP bound in the plan or in
the bound?

For each family x size x seed given, in this process, one after the other:

1. ``alloc.solve`` with the bench's time limit (5 s at 2,000 x 20): its objective and
   bound (the figures `bench_robust.py` reports);
2. the LP relaxation (`bench_robust.highs_lp`, HiGHS IPM with crossover);
3. HiGHS branch-and-cut (one thread) on the same model with integer pair columns
   (`bench_robust.highs_model`), started from alloc's plan, for ``--seconds``: its best
   plan (re-scored by ``alloc.evaluate``; ``alloc.check`` must be ``[]``) and its dual
   bound, which is valid for the integer problem (less HiGHS's feasibility tolerance,
   1e-6 relative is taken off).

From these: alloc's distance to the LP bound splits into the LP's integrality gap
(best MIP bound minus LP bound: no plan can close it) and what a better plan could
still win (alloc's objective minus the best MIP bound, at most; minus the MIP's plan, at
least).

Usage::

    python benchmarks/robust_exact.py --cases key_accounts:small:0,1,2 regional:small:1 \
        --seconds 240 --output benchmarks/results/robust_exact.txt
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _common import commit
from bench_robust import SIZES, highs_lp, highs_model
from families import build


def _chosen_pairs(problem: Any, assignment: pd.Series) -> np.ndarray:
    """The chosen pair of every unit of ``problem.model`` for a plan (rep per customer)."""
    model = problem.model
    rep_code = problem.rep_ids.get_indexer(assignment.reindex(problem.customer_ids).to_numpy())
    unit_rep = np.full(model.n_units, -1, dtype=np.int64)
    unit_rep[model.customer_unit] = rep_code
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    for u in range(model.n_units):
        lo, hi = model.unit_start[u], model.unit_start[u + 1]
        hit = np.flatnonzero(model.pair_rep[lo:hi] == unit_rep[u])
        chosen[u] = lo + int(hit[0])
    return chosen


def _start_values(model: Any, rows: Any, chosen: np.ndarray) -> np.ndarray:
    """Column values of `highs_model` for a plan: pairs, then the deviations it reaches."""
    x = np.zeros(model.n_pairs)
    x[chosen] = 1.0
    devs: list[np.ndarray] = []
    rep = model.pair_rep[chosen]
    for k in range(rows.n_rows):
        if not (rows.is_max[k] or rows.is_sum[k]):
            continue
        load = np.bincount(rep, weights=rows.weight[chosen, k], minlength=model.n_reps)
        dev = np.abs(load / rows.share[k] - 1.0)
        devs.append(np.array([dev.max()]) if rows.is_max[k] else dev)
    return np.concatenate([x, *devs])


def _plan_of(problem: Any, values: np.ndarray) -> pd.Series:
    model = problem.model
    picked = np.flatnonzero(values[: model.n_pairs] > 0.5)
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    chosen[model.pair_unit[picked]] = picked
    rep_codes = model.pair_rep[chosen][model.customer_unit]
    return pd.Series(problem.rep_ids.to_numpy()[rep_codes], index=problem.customer_ids.copy())


def highs_mip(problem: Any, rows: Any, start: np.ndarray, seconds: float) -> dict[str, Any]:
    """HiGHS branch-and-cut on the whole model from ``start`` (chosen pair per unit)."""
    import highspy

    import alloc

    model = problem.model
    lp = highs_model(model, rows)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * model.n_pairs + [
        highspy.HighsVarType.kContinuous
    ] * (lp.num_col_ - model.n_pairs)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", float(seconds))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.passModel(lp)
    solution = highspy.HighsSolution()
    solution.col_value = _start_values(model, rows, start).tolist()
    solution.value_valid = True
    highs.setSolution(solution)
    t = time.perf_counter()
    highs.run()
    info = highs.getInfo()
    out: dict[str, Any] = {
        "mip_s": time.perf_counter() - t,
        "mip_status": highs.modelStatusToString(highs.getModelStatus()),
        "mip_nodes": int(info.mip_node_count),
    }
    dual = float(info.mip_dual_bound)
    out["mip_bound"] = dual - 1e-6 * max(1.0, abs(dual)) if abs(dual) < 1e30 else -math.inf
    if info.primal_solution_status == 2:
        plan = _plan_of(problem, np.asarray(highs.getSolution().col_value))
        out["mip_check"] = len(alloc.check(problem, plan))
        out["mip_objective"] = float(alloc.evaluate(problem, plan)["objective"])
    else:
        out["mip_check"], out["mip_objective"] = -1, math.nan
    return out


def run(family: str, size: str, seed: int, seconds: float) -> dict[str, Any]:
    import alloc
    from alloc.solvers.state import Rows

    n, m, limit = SIZES[size]
    problem = build(family, n, m, seed)
    rows = Rows.from_model(problem.model)
    t = time.perf_counter()
    result = alloc.solve(problem, time_limit=limit, seed=seed)
    row: dict[str, Any] = {
        "family": family,
        "size": size,
        "seed": seed,
        "pairs": problem.n_pairs,
        "alloc_s": time.perf_counter() - t,
        "alloc_objective": result.objective,
        "alloc_bound": result.bound,
        "alloc_check": len(alloc.check(problem, result.assignment)),
    }
    t = time.perf_counter()
    row["lp_bound"], _ = highs_lp(problem.model, rows, 120.0)
    row["lp_s"] = time.perf_counter() - t
    start = _chosen_pairs(problem, result.assignment)
    row.update(highs_mip(problem, rows, start, seconds))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", required=True, help="family:size:seed,seed ...")
    parser.add_argument("--seconds", type=float, default=240.0, help="HiGHS MIP time limit")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    head = (
        f"robust_exact.py  commit {commit()}  "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {platform.node()} "
        f"({os.cpu_count()} cores, load {load:.1f} at start)\n"
        f"HiGHS MIP: 1 thread, {args.seconds:.0f} s, started from alloc's plan\n"
        "Objectives and bounds x 100. lp->mip_bound_pt: the LP's integrality gap proven so "
        "far; alloc->mip_bound_pt: the most a better plan could win.\n"
    )
    print(head, flush=True)
    rows = []
    for case in args.cases:
        family, size, seeds = case.split(":")
        for seed in seeds.split(","):
            row = run(family, size, int(seed), args.seconds)
            row["load_end"] = os.getloadavg()[0]
            rows.append(row)
            print(row, flush=True)
    frame = pd.DataFrame(rows)
    for col in ("alloc_objective", "alloc_bound", "lp_bound", "mip_bound", "mip_objective"):
        frame[col + "_%"] = 100 * frame[col]
    frame["alloc->lp_pt"] = frame["alloc_objective_%"] - frame["lp_bound_%"]
    frame["lp->mip_bound_pt"] = frame["mip_bound_%"] - frame["lp_bound_%"]
    frame["alloc->mip_bound_pt"] = frame["alloc_objective_%"] - frame["mip_bound_%"]
    frame["alloc->mip_plan_pt"] = frame["alloc_objective_%"] - frame["mip_objective_%"]
    cols = [
        "family",
        "size",
        "seed",
        "pairs",
        "alloc_objective_%",
        "alloc_bound_%",
        "lp_bound_%",
        "mip_bound_%",
        "mip_objective_%",
        "alloc->lp_pt",
        "lp->mip_bound_pt",
        "alloc->mip_bound_pt",
        "alloc->mip_plan_pt",
        "mip_status",
        "mip_nodes",
        "mip_s",
        "mip_check",
        "alloc_check",
        "load_end",
    ]
    text = head + "\n" + frame[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}")
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
