"""Mid-size problems (20-150 customers, at most ~1,000 eligible pairs) against an exact MIP.

The fuzz campaign (`fuzz.py`) checks statuses by brute force on 3-9 customers and
`bench_robust.py` checks quality at 2,000 customers and more. Between them lie the
tables a new user types by hand, where issue 12 asks that alloc hand the problem to an
exact solver and prove it (OPTIMAL or INFEASIBLE) "in well under a second whenever
HiGHS or CP-SAT alone can". This script draws such problems from five recipes of its
own (different from `families.py`, `alloc.datasets.generate` and the fuzz generator):

- ``field``: customers and reps on a map (clustered x/y), two activity measures with
  whole numbers balanced within 5-12 %, `MinimizeTravel`;
- ``book``: current owners, industries and skills, capacity in hours with one decimal,
  potential imbalance plus a disruption price;
- ``fte``: part-timers (fte 0.5-1.0), money with cents balanced by fte within 3-8 %,
  account limits, sum-norm workload imbalance plus a little travel;
- ``tight``: ``field`` with 12-40 customers and windows of 2-4 % (often no plan at all);
- ``key``: key accounts for seniors, a [0.9, 1.1] window on potential, disruption only
  (a whole-number objective).

Each problem is solved by HiGHS's branch and cut on the whole model (one thread, no
start, ``--mip-seconds``; `bench_robust.highs_model` with integer pair columns), which
gives the truth where it finishes, and by ``alloc.solve`` (``--time-limit``). A row is
flagged when:

- ``false_infeasible``: alloc says INFEASIBLE, HiGHS has a plan that passes `alloc.check`;
- ``false_optimal``: alloc says OPTIMAL, HiGHS's plan is better;
- ``invalid_bound``: alloc's bound is above a plan HiGHS found;
- ``missed_plan``: alloc has no plan (UNKNOWN), HiGHS has one;
- ``unproven``: HiGHS proved optimality or infeasibility in under ``--quick`` seconds
  (default 1 s) and alloc ends FEASIBLE or UNKNOWN;
- ``check``: alloc's plan fails `alloc.check`, or its objective differs from
  `alloc.evaluate`'s.

Also printed: alloc's wall time to a proof, and its objective above HiGHS's optimum.

Usage::

    python benchmarks/bench_midsize.py --n 60 --seed 0 --output benchmarks/results/midsize.txt
    # alloc before and after a change, against the reference of the run above:
    python benchmarks/run_with_src.py /work/base/src benchmarks/bench_midsize.py --n 60 \
        --mip-from benchmarks/results/midsize.csv --output benchmarks/results/midsize_before.txt
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _common import commit
from bench_robust import highs_mip_run
from robust_exact import _plan_of

RECIPES = ("field", "book", "fte", "tight", "key")
TOL = 1e-6


# ---- recipes ------------------------------------------------------------------------------
def _reps(rng: np.random.Generator, m: int) -> pd.DataFrame:
    return pd.DataFrame({"rep_id": [f"REP{i + 1}" for i in range(m)]})


def _map(rng: np.random.Generator, n: int, m: int, customers: pd.DataFrame, reps: pd.DataFrame):
    """Customers in a few towns around the reps' offices (km on a 200 x 200 map)."""
    towns = rng.uniform(0, 200, size=(int(rng.integers(2, 6)), 2))
    home = towns[rng.integers(len(towns), size=n)]
    spread = rng.uniform(5, 30)
    customers["x"] = np.round(home[:, 0] + rng.normal(0, spread, n), 1)
    customers["y"] = np.round(home[:, 1] + rng.normal(0, spread, n), 1)
    office = towns[rng.integers(len(towns), size=m)]
    reps["x"] = np.round(office[:, 0] + rng.normal(0, 5, m), 1)
    reps["y"] = np.round(office[:, 1] + rng.normal(0, 5, m), 1)


def field(rng: np.random.Generator, n: int, m: int) -> Any:
    import alloc

    customers = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)]})
    customers["potential"] = (rng.lognormal(3.0, 0.8, n)).round().astype(int) * 100
    customers["visits"] = rng.integers(1, 13, n)
    reps = _reps(rng, m)
    _map(rng, n, m, customers, reps)
    rules = [
        alloc.Balance("potential", round(float(rng.uniform(0.05, 0.12)), 2)),
        alloc.Balance("visits", round(float(rng.uniform(0.05, 0.12)), 2)),
    ]
    return alloc.Problem(customers, reps, rules=rules, objective=alloc.MinimizeTravel())


def tight(rng: np.random.Generator, n: int, m: int) -> Any:
    import alloc

    problem = field(rng, n, m)
    rules = [
        alloc.Balance("potential", round(float(rng.uniform(0.02, 0.04)), 3)),
        alloc.Balance("visits", round(float(rng.uniform(0.02, 0.04)), 3)),
    ]
    return alloc.Problem(problem.customers, problem.reps, rules=rules, objective=problem.objective)


def book(rng: np.random.Generator, n: int, m: int) -> Any:
    import alloc

    industries = ["retail", "health", "energy", "finance", "public", "media"]
    pop = rng.dirichlet(np.ones(len(industries)) * 2)
    customers = pd.DataFrame(
        {
            "customer_id": [f"ACC-{1000 + i}" for i in range(n)],
            "industry": rng.choice(industries, size=n, p=pop),
            "potential": np.round(rng.gamma(1.5, 20_000, n), -2),
            "hours": np.round(rng.uniform(2, 40, n), 1),
        }
    )
    skills = []
    for _ in range(m):
        k = int(rng.integers(2, 5))
        skills.append(", ".join(rng.choice(industries, size=k, replace=False, p=pop)))
    reps = _reps(rng, m)
    reps["skills"] = skills
    # Every industry has at least one rep (a new user would fix an uncovered one).
    for ind in industries:
        if not any(ind in s for s in reps["skills"]):
            r = int(rng.integers(m))
            reps.loc[r, "skills"] = reps.loc[r, "skills"] + f", {ind}"
    eligible = [
        [r for r in range(m) if ind in reps.loc[r, "skills"]] for ind in customers["industry"]
    ]
    customers["owner"] = [reps.loc[int(rng.choice(e)), "rep_id"] for e in eligible]
    slack = float(rng.uniform(1.05, 1.3))
    reps["capacity"] = round(slack * customers["hours"].sum() / m, 1)
    rules = [alloc.Match("industry", "skills"), alloc.Capacity("hours", limit="capacity")]
    price = float(rng.choice([0.2, 1.0, 5.0])) / n
    objective = alloc.MinimizeImbalance("potential") + price * alloc.MinimizeDisruption("owner")
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def fte(rng: np.random.Generator, n: int, m: int) -> Any:
    import alloc

    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "revenue": np.round(rng.lognormal(8.0, 1.0, n), 2),
            "workload": np.round(rng.uniform(0.5, 6.0, n), 2),
        }
    )
    reps = _reps(rng, m)
    reps["fte"] = rng.choice([0.5, 0.8, 1.0, 1.0], size=m)
    _map(rng, n, m, customers, reps)
    per = n / reps["fte"].sum()
    reps["max_accounts"] = np.ceil(1.3 * per * reps["fte"]).astype(int)
    rules = [
        alloc.Balance("revenue", round(float(rng.uniform(0.03, 0.08)), 2), share="fte"),
        alloc.AccountLimit(min=1, max="max_accounts"),
    ]
    objective = alloc.MinimizeImbalance("workload", share="fte", norm="sum") + 0.0005 * (
        alloc.MinimizeTravel()
    )
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def key(rng: np.random.Generator, n: int, m: int) -> Any:
    import alloc

    customers = pd.DataFrame(
        {
            "customer_id": [f"K{i}" for i in range(n)],
            "potential": rng.integers(1, 50, n) * 1000,
        }
    )
    top = customers["potential"].rank(ascending=False, method="first") <= max(2, n // 12)
    customers["key_account"] = np.where(top, "yes", "")
    reps = _reps(rng, m)
    n_senior = max(1, m // 3)
    reps["level"] = ["senior"] * n_senior + ["junior"] * (m - n_senior)
    customers["owner"] = reps["rep_id"].to_numpy()[rng.integers(m, size=n)]
    rules = [
        alloc.KeyAccounts("key_account", levels="senior"),
        alloc.Balance("potential", min=0.9, max=1.1),
    ]
    return alloc.Problem(customers, reps, rules=rules, objective=alloc.MinimizeDisruption("owner"))


MAKERS = {"field": field, "book": book, "fte": fte, "tight": tight, "key": key}


def draw(recipe: str, seed: int, i: int) -> Any:
    """Problem ``i`` of a recipe: sizes drawn so that pairs stay at most about 1,000."""
    rng = np.random.default_rng([seed, RECIPES.index(recipe), i])
    if recipe == "tight":
        n, m = int(rng.integers(12, 41)), int(rng.integers(2, 5))
    else:
        m = int(rng.integers(2, 9))
        n = int(rng.integers(20, min(150, 1000 // m) + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data warnings are not what is measured here
        return MAKERS[recipe](rng, n, m)


# ---- the exact reference ------------------------------------------------------------------
def highs_exact(problem: Any, seconds: float) -> dict[str, Any]:
    """HiGHS branch and cut on the whole model from no start (one thread)."""
    import alloc
    from alloc.solvers.state import Rows

    model = problem.model
    rows = Rows.from_model(model)
    highs, took = highs_mip_run(model, rows, seconds)
    status = highs.modelStatusToString(highs.getModelStatus())
    out: dict[str, Any] = {"mip_s": took, "mip_status": status}
    info = highs.getInfo()
    out["mip_objective"], out["mip_check"] = math.nan, -1
    if info.primal_solution_status == 2:
        plan = _plan_of(problem, np.asarray(highs.getSolution().col_value))
        out["mip_check"] = len(alloc.check(problem, plan))
        out["mip_objective"] = float(alloc.evaluate(problem, plan)["objective"])
    return out


MIP_COLUMNS = ("mip_s", "mip_status", "mip_objective", "mip_check")


def run_case(
    recipe: str,
    seed: int,
    i: int,
    time_limit: float,
    mip_seconds: float,
    earlier: pd.DataFrame | None = None,
) -> dict:
    """One problem: HiGHS's reference (or ``earlier``'s row for it) and alloc's solve."""
    import alloc

    problem = draw(recipe, seed, i)
    row: dict[str, Any] = {
        "recipe": recipe,
        "case": i,
        "customers": problem.n_customers,
        "reps": problem.n_reps,
        "pairs": problem.n_pairs,
    }
    if earlier is None:
        row.update(highs_exact(problem, mip_seconds))
    else:
        # The reference of an earlier run of the same seed (the draw is deterministic;
        # the sizes are compared so that a changed recipe cannot be paired silently).
        match = earlier[(earlier["recipe"] == recipe) & (earlier["case"] == i)]
        same = not match.empty and all(
            int(match.iloc[0][k]) == row[k] for k in ("customers", "reps", "pairs")
        )
        if not same:
            raise SystemExit(f"--mip-from has no row for {recipe} {i} of this size")
        row.update({k: match.iloc[0][k] for k in MIP_COLUMNS})
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = alloc.solve(problem, time_limit=time_limit, seed=0)
    row["alloc_s"] = time.perf_counter() - t
    row["alloc_status"] = result.status.value
    row["alloc_objective"] = result.objective
    row["alloc_bound"] = result.bound
    row["alloc_check"] = -1
    row["alloc_eval_diff"] = math.nan
    if result.assignment is not None:
        row["alloc_check"] = len(alloc.check(problem, result.assignment))
        evaluated = float(alloc.evaluate(problem, result.assignment)["objective"])
        row["alloc_eval_diff"] = abs(evaluated - result.objective)
    row["flags"] = " ".join(flags(row, QUICK))
    return row


QUICK = 1.0


def alloc_file() -> str:
    import alloc

    return str(alloc.__file__)


def flags(row: dict[str, Any], quick: float) -> list[str]:
    """What contradicts the exact reference (see the module docstring)."""
    out: list[str] = []
    status = row["alloc_status"]
    mip_plan = row["mip_check"] == 0
    mip_obj = row["mip_objective"]
    tol = TOL * max(1.0, abs(mip_obj)) if mip_plan else 0.0
    if status == "infeasible" and mip_plan:
        out.append("false_infeasible")
    alloc_obj = row["alloc_objective"]
    if status == "optimal" and mip_plan and alloc_obj is not None and mip_obj < alloc_obj - tol:
        out.append("false_optimal")
    bound = row["alloc_bound"]
    if mip_plan and bound is not None and math.isfinite(bound) and bound > mip_obj + tol:
        out.append("invalid_bound")
    if status == "unknown" and mip_plan:
        out.append("missed_plan")
    mip_proved = row["mip_status"] in ("Optimal", "Infeasible")
    if mip_proved and row["mip_s"] < quick and status in ("feasible", "unknown"):
        out.append("unproven")
    if row["alloc_check"] > 0 or (row["alloc_eval_diff"] > 1e-6 * max(1.0, abs(mip_obj or 1))):
        out.append("check")
    return out


def summary(frame: pd.DataFrame) -> str:
    lines = []
    for recipe, part in frame.groupby("recipe", sort=False):
        mip_opt = part["mip_status"] == "Optimal"
        mip_inf = part["mip_status"] == "Infeasible"
        proven = part["alloc_status"].isin(["optimal", "infeasible"])
        above = part.loc[mip_opt & part["alloc_objective"].notna()]
        gap = (above["alloc_objective"] - above["mip_objective"]).clip(lower=0)
        rel = gap / above["mip_objective"].abs().clip(lower=1e-9)
        proof_s = part.loc[proven, "alloc_s"]
        lines.append(
            f"{recipe:<6} {len(part):>4} {int(mip_opt.sum()):>7} {int(mip_inf.sum()):>7}"
            f" {int(proven.sum()):>7} {int((part['alloc_status'] == 'optimal').sum()):>7}"
            f" {int((part['alloc_status'] == 'infeasible').sum()):>7}"
            f" {int((part['alloc_status'] == 'unknown').sum()):>7}"
            f" {(proof_s.median() if len(proof_s) else math.nan):>8.2f}"
            f" {(proof_s.max() if len(proof_s) else math.nan):>8.2f}"
            f" {(part['mip_s'].median()):>8.2f}"
            f" {(100 * rel.max() if len(rel) else math.nan):>10.4f}"
            f" {int((part['flags'] != '').sum()):>6}"
        )
    head = (
        f"{'recipe':<6} {'n':>4} {'mip_opt':>7} {'mip_inf':>7} {'proven':>7} {'opt':>7}"
        f" {'infeas':>7} {'unknown':>7} {'proof_s50':>8} {'proof_smx':>8} {'mip_s50':>8}"
        f" {'worst_%opt':>10} {'flags':>6}"
    )
    return "\n".join([head, *lines])


def _num(value: float | None) -> str:
    return f"{value:>12.6g}" if value is not None else f"{'-':>12}"


def main() -> None:
    global QUICK
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10, help="problems per recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--mip-seconds", type=float, default=60.0)
    parser.add_argument("--quick", type=float, default=1.0)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/midsize.txt"))
    parser.add_argument(
        "--mip-from",
        type=Path,
        default=None,
        help="reuse HiGHS's reference from an earlier run's CSV (same --seed): for quick "
        "before/after runs of alloc alone (benchmarks/run_with_src.py runs the 'before')",
    )
    args = parser.parse_args()
    earlier = pd.read_csv(args.mip_from) if args.mip_from is not None else None
    QUICK = args.quick
    recipes = args.recipes.split(",")
    head = (
        f"bench_midsize.py  commit {commit()}  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
        f"{platform.machine()} ({os.cpu_count()} cores), load {os.getloadavg()[0]:.1f} at start\n"
        f"alloc.solve time_limit={args.time_limit:g} s; HiGHS MIP "
        f"{'(see below)' if earlier is not None else f'{args.mip_seconds:g} s'}, "
        f"1 thread, no start; 'unproven' = HiGHS proved it in < {args.quick:g} s, alloc did not"
        + (f"\nHiGHS's reference read from {args.mip_from}" if earlier is not None else "")
        + f"\nalloc from {Path(alloc_file()).parent}"
    )
    print(head, flush=True)
    rows: list[dict[str, Any]] = []
    for i in range(args.n):
        for recipe in recipes:
            row = run_case(recipe, args.seed, i, args.time_limit, args.mip_seconds, earlier)
            rows.append(row)
            print(
                f"{recipe:<6} {i:>3} {row['customers']:>4}x{row['reps']:<2} pairs {row['pairs']:>4}"
                f"  mip {row['mip_status']:<20} {_num(row['mip_objective'])} {row['mip_s']:>6.2f}s"
                f"  alloc {row['alloc_status']:<10} {_num(row['alloc_objective'])}"
                f" bound {_num(row['alloc_bound'])} {row['alloc_s']:>6.2f}s  {row['flags']}",
                flush=True,
            )
            frame = pd.DataFrame(rows)
            text = "\n\n".join(
                [
                    head + f"; load {os.getloadavg()[0]:.1f} now",
                    summary(frame),
                    "Flagged rows:\n"
                    + frame.loc[frame["flags"] != ""].to_string(index=False, max_colwidth=40),
                ]
            )
            args.output.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.output.with_name(args.output.name + ".tmp")
            tmp.write_text(text + "\n")
            os.replace(tmp, args.output)
            frame.to_csv(args.output.with_suffix(".csv"), index=False)
    print("\n" + summary(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
