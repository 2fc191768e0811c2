"""GAP suite: alloc.solve against best known solutions and two baselines, in one run.

For each instance of the generalized assignment problem (OR-Library format, copied in
``benchmarks/instances/gap``) this script solves, at the same time limit:

- ``alloc``: :func:`alloc.solve` on :func:`alloc.datasets.read_gap` (its default workers);
- ``cpsat``: a plain CP-SAT model (``x[i,j]`` booleans, exactly one agent per job,
  capacity per agent, minimum cost; no hint; ``num_workers=2``);
- ``highs``: the same model as a MIP through :func:`scipy.optimize.milp` (HiGHS).

Every plan is checked by :func:`alloc.check` and its cost recomputed from the raw cost
matrix before it is recorded (``checked``). It prints one row per instance (gap % to the
best known solution, BKS), then averages per family, and writes
``benchmarks/results/gap.csv`` atomically after every instance.

Usage::

    python benchmarks/bench_gap.py                      # default set, 10 s per solver
    python benchmarks/bench_gap.py --quick --time-limit 2
    python benchmarks/bench_gap.py --set chu1997 --instances 'd*' --baselines cpsat
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import alloc
from alloc.datasets import gap_tables, read_gap

HERE = Path(__file__).resolve().parent
INSTANCES = HERE / "instances" / "gap"
RESULTS = HERE / "results"
SETS = ("cattrysse1994", "chu1997", "yagiura2004")
DEFAULT_SETS = ("chu1997", "yagiura2004")
BASELINES = ("cpsat", "highs")
#: A spread of types and sizes for a smoke run (``--quick``).
QUICK = ("a05100", "b10100", "c20100", "d05100", "e10100")
SHORT = {"cattrysse1994": "osman", "chu1997": "chu", "yagiura2004": "yagiura"}


@dataclass(frozen=True)
class Instance:
    name: str
    set: str
    path: Path
    m: int
    n: int
    bks: float
    bks_optimal: bool
    lower_bound: float

    @property
    def family(self) -> str:
        """Set and type, e.g. ``chu/d`` or ``yagiura/e`` (``osman/gap`` for gap1-12)."""
        kind = "gap" if self.set == "cattrysse1994" else self.name[0]
        return f"{SHORT[self.set]}/{kind}"


@dataclass(frozen=True)
class Outcome:
    status: str
    objective: float
    bound: float
    time: float
    checked: bool
    note: str = ""


# ---- instances ----------------------------------------------------------------------
def load_instances(
    sets: Sequence[str],
    pattern: str | None,
    max_jobs: int | None,
    quick: bool,
    min_jobs: int | None = None,
) -> list[Instance]:
    """Instances of the chosen sets (minimisation rows of bks.csv), filtered."""
    bks = pd.read_csv(INSTANCES / "bks.csv")
    bks = bks[bks["objective_sense"] == "min"]
    if quick:
        bks = bks[bks["instance"].isin(QUICK)].set_index("instance").loc[list(QUICK)]
        bks = bks.reset_index()
    else:
        bks = bks[bks["dataset"].isin(sets)]
        if max_jobs is not None:
            bks = bks[bks["n_jobs"] <= max_jobs]
        if min_jobs is not None:
            bks = bks[bks["n_jobs"] >= min_jobs]
        if pattern:
            bks = bks[[fnmatch.fnmatch(name, pattern) for name in bks["instance"]]]
    out = []
    for row in bks.to_dict("records"):
        lb = row["lower_bound"] if not pd.isna(row["lower_bound"]) else row["bks"]
        out.append(
            Instance(
                name=str(row["instance"]),
                set=str(row["dataset"]),
                path=INSTANCES / str(row["file"]),
                m=int(row["m_agents"]),
                n=int(row["n_jobs"]),
                bks=float(row["bks"]),
                bks_optimal=bool(row["is_optimal"]),
                lower_bound=float(lb),
            )
        )
    return out


def matrices(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost (m x n), resource use (m x n) and capacity (m) of an instance file."""
    customers, reps, pairs = gap_tables(path)
    m, n = len(reps), len(customers)
    cost = pairs["cost"].to_numpy(np.int64).reshape(m, n)
    weight = pairs["weight"].to_numpy(np.int64).reshape(m, n)
    return cost, weight, reps["capacity"].to_numpy(np.int64)


def verify(
    problem: alloc.Problem, cost: np.ndarray, agents: np.ndarray | None
) -> tuple[bool, float]:
    """Check a plan (agent per job) with alloc.check; return (feasible, raw cost)."""
    if agents is None:
        return False, math.nan
    n = cost.shape[1]
    plan = pd.Series([f"a{i}" for i in agents], index=[f"j{j}" for j in range(n)])
    raw = float(cost[agents, np.arange(n)].sum())
    return alloc.check(problem, plan) == [], raw


# ---- solvers --------------------------------------------------------------------------
def run_alloc(problem: alloc.Problem, cost: np.ndarray, time_limit: float, seed: int) -> Outcome:
    t0 = time.perf_counter()
    result = alloc.solve(problem, time_limit=time_limit, seed=seed)
    elapsed = time.perf_counter() - t0
    agents = None
    if result.assignment is not None:
        agents = result.assignment.str.slice(1).astype(int).to_numpy()
    ok, raw = verify(problem, cost, agents)
    checked = ok and math.isclose(raw, result.objective, rel_tol=1e-9, abs_tol=1e-6)
    objective = result.objective if agents is not None else math.nan
    return Outcome(
        result.status.value,
        objective,
        math.nan if result.bound is None else result.bound,
        elapsed,
        checked,
        result.stats.found_by,
    )


def run_cpsat(
    problem: alloc.Problem,
    cost: np.ndarray,
    weight: np.ndarray,
    capacity: np.ndarray,
    time_limit: float,
    seed: int,
) -> Outcome:
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    m, n = cost.shape
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x[{i},{j}]") for j in range(n)] for i in range(m)]
    for j in range(n):
        model.add_exactly_one(x[i][j] for i in range(m))
    for i in range(m):
        model.add(sum(int(weight[i, j]) * x[i][j] for j in range(n)) <= int(capacity[i]))
    model.minimize(sum(int(cost[i, j]) * x[i][j] for i in range(m) for j in range(n)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    elapsed = time.perf_counter() - t0
    name = solver.status_name(status).lower()
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Outcome(name, math.nan, math.nan, elapsed, False)
    values = np.array([[solver.boolean_value(x[i][j]) for j in range(n)] for i in range(m)])
    agents = values.argmax(axis=0)
    ok, raw = verify(problem, cost, agents)
    checked = ok and math.isclose(raw, solver.objective_value, abs_tol=1e-6)
    return Outcome(name, raw, solver.best_objective_bound, elapsed, checked)


def run_highs(
    problem: alloc.Problem,
    cost: np.ndarray,
    weight: np.ndarray,
    capacity: np.ndarray,
    time_limit: float,
) -> Outcome:
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    m, n = cost.shape
    var = np.arange(m * n).reshape(m, n)  # variable of (agent i, job j)
    one_agent = sparse.csr_array(
        (np.ones(m * n), (np.tile(np.arange(n), m), var.ravel())), shape=(n, m * n)
    )
    capacity_rows = sparse.csr_array(
        (weight.ravel().astype(float), (np.repeat(np.arange(m), n), var.ravel())),
        shape=(m, m * n),
    )
    remaining = max(0.01, time_limit - (time.perf_counter() - t0))
    res = milp(
        cost.ravel().astype(float),
        constraints=[
            LinearConstraint(one_agent, 1, 1),
            LinearConstraint(capacity_rows, -np.inf, capacity.astype(float)),
        ],
        integrality=np.ones(m * n),
        bounds=Bounds(0, 1),
        options={"time_limit": remaining, "disp": False},
    )
    elapsed = time.perf_counter() - t0
    status = {0: "optimal", 1: "time limit", 2: "infeasible"}.get(
        res.status, f"status {res.status}"
    )
    bound = float(getattr(res, "mip_dual_bound", math.nan) or math.nan)
    if res.x is None:
        return Outcome(status, math.nan, bound, elapsed, False)
    agents = np.asarray(res.x).reshape(m, n).argmax(axis=0)
    ok, raw = verify(problem, cost, agents)
    checked = ok and math.isclose(raw, float(res.fun), abs_tol=1e-6)
    return Outcome(status, raw, bound, elapsed, checked)


# ---- table ----------------------------------------------------------------------------
def gap_pct(objective: float, reference: float) -> float:
    if not math.isfinite(objective):
        return math.nan
    return 100.0 * (objective - reference) / abs(reference)


def record(inst: Instance, time_limit: float, outcomes: dict[str, Outcome]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "instance": inst.name,
        "set": inst.set,
        "family": inst.family,
        "m": inst.m,
        "n": inst.n,
        "bks": inst.bks,
        "bks_optimal": inst.bks_optimal,
        "lower_bound": inst.lower_bound,
        "time_limit": time_limit,
    }
    for label, out in outcomes.items():
        row[f"{label}_status"] = out.status
        row[f"{label}_objective"] = out.objective
        row[f"{label}_bound"] = out.bound
        row[f"{label}_gap_pct"] = gap_pct(out.objective, inst.bks)
        row[f"{label}_gap_lb_pct"] = gap_pct(out.objective, inst.lower_bound)
        row[f"{label}_time"] = out.time
        row["checked" if label == "alloc" else f"{label}_checked"] = out.checked
        if label == "alloc":
            row["alloc_found_by"] = out.note
    return row


def fmt(value: float, spec: str = ".0f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def print_header(baselines: Sequence[str]) -> None:
    head = f"{'instance':<9} {'m x n':>8} {'BKS':>8} {'alloc':>8} {'gap%':>6} {'bound':>8} "
    head += f"{'time':>5} {'ok':>3}"
    for label in baselines:
        head += f" {label:>8} {'gap%':>6}"
    print(head)
    print("-" * len(head))


def print_row(row: dict[str, Any], baselines: Sequence[str]) -> None:
    star = "" if row["bks_optimal"] else "*"
    line = (
        f"{row['instance']:<9} {row['m']:>3}x{row['n']:<4} {fmt(row['bks']) + star:>8} "
        f"{fmt(row['alloc_objective']):>8} {fmt(row['alloc_gap_pct'], '.2f'):>6} "
        f"{fmt(row['alloc_bound']):>8} {row['alloc_time']:>5.1f} "
        f"{'yes' if row['checked'] else 'NO':>3}"
    )
    for label in baselines:
        line += f" {fmt(row[f'{label}_objective']):>8} {fmt(row[f'{label}_gap_pct'], '.2f'):>6}"
    print(line, flush=True)


def summary(frame: pd.DataFrame, baselines: Sequence[str]) -> pd.DataFrame:
    """Mean gap % to BKS and mean time per family (and overall), per solver."""
    cols: dict[str, tuple[str, Any]] = {"instances": ("instance", "size")}
    for label in ("alloc", *baselines):
        cols[f"{label}_gap_pct"] = (f"{label}_gap_pct", "mean")
        cols[f"{label}_at_bks"] = (f"{label}_gap_pct", lambda g: int((g.abs() < 1e-9).sum()))
        cols[f"{label}_time"] = (f"{label}_time", "mean")
    by_family = frame.groupby("family", sort=False).agg(**cols)
    overall = frame.assign(family="all").groupby("family").agg(**cols)
    return pd.concat([by_family, overall])


def write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            frame.to_csv(handle, index=False)
        os.chmod(tmp, 0o644)  # mkstemp creates the file private (0600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}"


# ---- main -----------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--set",
        default=",".join(DEFAULT_SETS),
        help="comma-separated instance sets: cattrysse1994 (gap1-12), chu1997 (types A-D), "
        "yagiura2004 (types C, D, E), or 'all' (default: %(default)s)",
    )
    parser.add_argument(
        "--max-jobs",
        type=int,
        default=None,
        help="only instances with at most this many jobs (default: no limit)",
    )
    parser.add_argument(
        "--min-jobs",
        type=int,
        default=None,
        help="only instances with at least this many jobs (default: no limit)",
    )
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solver run")
    parser.add_argument("--instances", default=None, help="glob on instance names, e.g. 'd*'")
    parser.add_argument(
        "--baselines",
        default=",".join(BASELINES),
        help="comma-separated baselines to run in the same run: cpsat, highs, or 'none' "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run on 5 instances ({', '.join(QUICK)})"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="CSV to write (default: benchmarks/results/gap.csv; gap_quick.csv with --quick)",
    )
    args = parser.parse_args(argv)
    sets = SETS if args.set == "all" else tuple(s.strip() for s in args.set.split(",") if s)
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        parser.error(f"unknown --set {', '.join(unknown)}; choose from {', '.join(SETS)} or all")
    baselines = () if args.baselines == "none" else tuple(args.baselines.split(","))
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        parser.error(f"unknown --baselines {', '.join(unknown)}; choose from cpsat, highs, none")
    if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        parser.error("--time-limit must be a positive number of seconds")
    args.sets, args.baseline_list = sets, baselines
    if args.output is None:
        args.output = RESULTS / ("gap_quick.csv" if args.quick else "gap.csv")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    instances = load_instances(args.sets, args.instances, args.max_jobs, args.quick, args.min_jobs)
    if not instances:
        print("no instance matches the selection", file=sys.stderr)
        return 2
    baselines: tuple[str, ...] = args.baseline_list
    print(
        f"GAP suite: {len(instances)} instances, {args.time_limit:g} s per solver, "
        f"alloc {alloc.__version__}, {machine()}, {dt.date.today().isoformat()}"
    )
    print("gap% = 100 (objective - BKS) / BKS; * marks a BKS not proven optimal\n")
    print_header(baselines)
    rows: list[dict[str, Any]] = []
    for inst in instances:
        problem = read_gap(inst.path)
        cost, weight, capacity = matrices(inst.path)
        outcomes = {"alloc": run_alloc(problem, cost, args.time_limit, args.seed)}
        if "cpsat" in baselines:
            outcomes["cpsat"] = run_cpsat(
                problem, cost, weight, capacity, args.time_limit, args.seed
            )
        if "highs" in baselines:
            outcomes["highs"] = run_highs(problem, cost, weight, capacity, args.time_limit)
        row = record(inst, args.time_limit, outcomes)
        row["date"] = dt.date.today().isoformat()
        row["machine"] = machine()
        rows.append(row)
        print_row(row, baselines)
        write_atomic(pd.DataFrame(rows), args.output)
    frame = pd.DataFrame(rows)
    print("\nMean gap % to BKS, instances at BKS, and mean seconds, per family:")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summary(frame, baselines).round(3).to_string())
    unchecked = frame.loc[~frame["checked"], "instance"].tolist()
    if unchecked:
        print(f"\nalloc plans that failed the check: {', '.join(unchecked)}")
    print(f"\nwrote {args.output}")
    return 1 if unchecked else 0


if __name__ == "__main__":
    raise SystemExit(main())
