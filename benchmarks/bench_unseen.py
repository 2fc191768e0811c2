"""alloc on recipes it was not tuned on (`families_unseen.py`), against HiGHS in the same run.

For each recipe x size x seed, one after the other in this process:

1. ``alloc.solve(problem, time_limit=5, seed=seed)``: status, objective, bound, gap,
   ``bound_note``, time to return; ``alloc.check`` on its plan (must be ``[]``) and
   ``alloc.evaluate``'s objective of it (must equal ``result.objective``);
2. the LP relaxation (`bench_robust.highs_lp`: HiGHS IPM with crossover, one thread);
3. HiGHS branch-and-cut on the whole model (`bench_robust.highs_model` with integer pair
   columns, as in `robust_exact.py` / `bench_midsize.py`; one thread, no start,
   ``mip_rel_gap`` 0): its best plan, re-scored by ``alloc.evaluate`` (``alloc.check``
   must be ``[]``), and its dual bound (less 1e-6 relative for HiGHS's tolerances).

Printed per row: alloc's status, objective, bound; HiGHS's plan objective, dual bound;
the LP bound; alloc's distance to HiGHS's plan (``d_plan``: alloc - HiGHS, negative when
alloc is better; also in % of ``max(|alloc|, |HiGHS|, 1e-6)``) and to the best valid
bound (``d_bound``: alloc - max(alloc bound, HiGHS bound, LP bound); also in % of
``max(|alloc|, 1e-6)``, the gap alloc could have reported with that bound).

FLAGS (each contradicts something alloc promises):

- ``false_infeasible``: alloc INFEASIBLE, HiGHS has a plan that passes ``alloc.check``;
- ``false_optimal``: alloc OPTIMAL, but HiGHS's plan is better or HiGHS's bound is above
  alloc's objective;
- ``bound_above_plan``: alloc's bound above its own plan or HiGHS's checked plan;
- ``unknown_with_plan``: alloc UNKNOWN (no plan), HiGHS found one;
- ``check``: alloc's plan fails ``alloc.check``;
- ``objective!=evaluate``: ``result.objective`` differs from ``alloc.evaluate``'s;
- ``gap_none_no_reason``: a plan, gap None and an empty ``bound_note``;
- ``crash``: ``alloc.solve`` raised.

Also recorded (not alloc's fault but worth knowing): ``highs_check`` (HiGHS's plan fails
``alloc.check``: the baseline's model and alloc's checker disagree) and ``unproven``
(HiGHS proved optimality or infeasibility in under 5 s, alloc did not).
A tolerance of 1e-6 x max(1, |value|) is used in every comparison.

Usage::

    python benchmarks/bench_unseen.py --sizes small --seeds 0,1,2
    python benchmarks/bench_unseen.py --sizes large --recipes windows --seeds 1
    # alloc alone against the stored HiGHS figures (a before/after pair in minutes):
    python benchmarks/bench_unseen.py --reference unseen --tag _after
    python benchmarks/run_with_src.py /path/to/base/src benchmarks/bench_unseen.py \
        --reference unseen --tag _before

Sizes: small 300 x 8 (alloc 5 s, HiGHS 60 s), large 2,000 x 20 (alloc 5 s, HiGHS 120 s).
Writes benchmarks/results/unseen_<size>.txt and .csv (atomically, after every case;
re-running some recipes or seeds replaces their rows and keeps the others).
``--rescore`` rewrites the .txt (distances, flags) from the .csv without solving.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import traceback
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _common import commit
from bench_robust import highs_lp, highs_mip_run
from families_unseen import RECIPES, build
from robust_exact import _plan_of

RESULTS = Path(__file__).parent / "results"
# name: (customers, reps, alloc seconds, HiGHS MIP seconds, LP seconds)
SIZES = {"small": (300, 8, 5.0, 60.0, 30.0), "large": (2_000, 20, 5.0, 120.0, 60.0)}
TOL = 1e-6
QUICK = 5.0  # HiGHS proofs faster than this that alloc lacks are noted as "unproven"


def _tol(value: float) -> float:
    return TOL * max(1.0, abs(value)) if math.isfinite(value) else 0.0


def highs_mip(problem: Any, rows: Any, seconds: float) -> dict[str, Any]:
    """HiGHS branch-and-cut on the whole model, no start, one thread."""
    import alloc

    highs, took = highs_mip_run(problem.model, rows, seconds)
    info = highs.getInfo()
    out: dict[str, Any] = {
        "mip_s": took,
        "mip_status": highs.modelStatusToString(highs.getModelStatus()),
        "mip_nodes": int(info.mip_node_count),
    }
    dual = float(info.mip_dual_bound)
    out["mip_bound"] = dual - 1e-6 * max(1.0, abs(dual)) if abs(dual) < 1e30 else -math.inf
    if out["mip_status"] == "Optimal":
        # A proof: the dual bound is the optimum (less the tolerance taken off above).
        out["mip_bound"] = float(info.objective_function_value) - 1e-6 * max(
            1.0, abs(float(info.objective_function_value))
        )
    out["mip_objective"], out["mip_check"], out["mip_internal_diff"] = math.nan, -1, math.nan
    if info.primal_solution_status == 2:
        plan = _plan_of(problem, np.asarray(highs.getSolution().col_value))
        out["mip_check"] = len(alloc.check(problem, plan))
        out["mip_objective"] = float(alloc.evaluate(problem, plan)["objective"])
        out["mip_internal_diff"] = float(info.objective_function_value) - out["mip_objective"]
    return out


def run_alloc(problem: Any, limit: float, seed: int) -> dict[str, Any]:
    import alloc

    out: dict[str, Any] = {"crash": ""}
    t = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = alloc.solve(problem, time_limit=limit, seed=seed)
    except Exception as exc:  # a crash is a finding, not the end of the run
        out["alloc_s"] = time.perf_counter() - t
        out["crash"] = f"{type(exc).__name__}: {exc}"[:300]
        traceback.print_exc()
        out.update(alloc_status="crash", alloc_objective=math.nan, alloc_bound=math.nan)
        return out
    out["alloc_s"] = time.perf_counter() - t
    has_plan = result.assignment is not None
    out.update(
        alloc_status=result.status.value,
        alloc_objective=float(result.objective) if has_plan else math.nan,
        alloc_bound=float(result.bound) if result.bound is not None else math.nan,
        alloc_gap=result.gap,
        bound_note=result.bound_note,
        found_by=result.stats.found_by,
        phases=" ".join(f"{p}@{s:.1f}s={v:.6g}" for p, s, v in result.stats.phases),
        explanation=" ".join(result.explanation.split())[:400],
        alloc_check=-1,
        alloc_eval_diff=math.nan,
    )
    if has_plan:
        out["alloc_check"] = len(alloc.check(problem, result.assignment))
        evaluated = float(alloc.evaluate(problem, result.assignment)["objective"])
        out["alloc_eval_diff"] = evaluated - float(result.objective)
    return out


def flags(row: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(flags against alloc's promises, notes) of one row; see the module docstring."""
    out: list[str] = []
    notes: list[str] = []
    status = row["alloc_status"]
    if status == "crash":
        return ["crash"], notes
    obj, bound = row["alloc_objective"], row["alloc_bound"]
    mip_plan = row["mip_check"] == 0
    mip_obj = row["mip_objective"] if mip_plan else math.nan
    if status == "infeasible" and mip_plan:
        out.append("false_infeasible")
    if status == "optimal" and (
        (mip_plan and mip_obj < obj - _tol(mip_obj))
        or (math.isfinite(row["mip_bound"]) and row["mip_bound"] > obj + _tol(obj))
    ):
        out.append("false_optimal")
    if math.isfinite(bound):
        known = min(v for v in (obj, mip_obj, math.inf) if not math.isnan(v))
        if bound > known + _tol(known):
            out.append("bound_above_plan")
    if status == "unknown" and mip_plan:
        out.append("unknown_with_plan")
    if row["alloc_check"] > 0:
        out.append("check")
    diff = row["alloc_eval_diff"]
    if not math.isnan(diff) and abs(diff) > _tol(obj):
        out.append("objective!=evaluate")
    if math.isfinite(obj) and row["alloc_gap"] is None and not str(row["bound_note"]).strip():
        out.append("gap_none_no_reason")
    if row["mip_check"] > 0:
        notes.append("highs_check")
    proved = row["mip_status"] in ("Optimal", "Infeasible")
    if proved and row["mip_s"] < QUICK and status in ("feasible", "unknown"):
        notes.append("unproven")
    return out, notes


def run_case(
    recipe: str, size: str, seed: int, reference: pd.DataFrame | None = None
) -> dict[str, Any]:
    """One problem: alloc, then the LP and HiGHS's MIP (or their figures from
    ``reference``, a stored run's CSV, for before/after runs of alloc alone)."""
    from alloc.solvers.state import Rows

    n, m, limit, mip_s, lp_s = SIZES[size]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data warnings are not what is measured here
        problem = build(recipe, n, m, seed)
    row: dict[str, Any] = {
        "recipe": recipe,
        "size": size,
        "seed": seed,
        "units": problem.model.n_units,
        "pairs": problem.n_pairs,
        "load_start": os.getloadavg()[0],
    }
    row.update(run_alloc(problem, limit, seed))
    stored = None
    if reference is not None:
        match = reference[(reference["recipe"] == recipe) & (reference["seed"] == seed)]
        stored = match.iloc[0] if len(match) else None
    if stored is not None:
        for key in stored.index:
            if key.startswith(("lp_", "mip_")):
                row[key] = stored[key]
    else:
        rows = Rows.from_model(problem.model)
        t = time.perf_counter()
        row["lp_bound"], row["lp_status"] = highs_lp(problem.model, rows, lp_s)
        row["lp_s"] = time.perf_counter() - t
        row.update(highs_mip(problem, rows, mip_s))
    valid = [
        v
        for v in (row["alloc_bound"], row["mip_bound"], row["lp_bound"])
        if math.isfinite(v) and not (row["alloc_status"] == "crash")
    ]
    row["best_bound"] = max(valid) if valid else -math.inf
    distances(row)
    found, notes = flags(row)
    row["flags"] = " ".join(found)
    row["notes"] = " ".join(notes)
    row["load_end"] = os.getloadavg()[0]
    return row


def distances(row: dict[str, Any]) -> None:
    """d_plan (alloc - HiGHS's plan, % of the larger magnitude) and d_bound (alloc - best
    valid bound, % of alloc's objective: the gap alloc could have reported), in place."""
    obj, mip_obj = row["alloc_objective"], row["mip_objective"]
    scale = max(abs(v) for v in (obj, mip_obj, 1e-6) if math.isfinite(v))
    row["d_plan"] = obj - mip_obj
    row["d_plan_%"] = 100 * row["d_plan"] / scale
    row["d_bound"] = obj - row["best_bound"]
    row["d_bound_%"] = 100 * row["d_bound"] / max(abs(obj), 1e-6)


COLUMNS = [
    "recipe",
    "seed",
    "units",
    "pairs",
    "alloc_status",
    "alloc_objective",
    "alloc_bound",
    "mip_status",
    "mip_objective",
    "mip_bound",
    "lp_bound",
    "d_plan",
    "d_plan_%",
    "d_bound",
    "d_bound_%",
    "alloc_s",
    "mip_s",
    "flags",
    "notes",
]


def summary(frame: pd.DataFrame) -> str:
    """Per recipe: statuses, the mean and worst distance to HiGHS's plan, flag count."""
    lines = [
        f"{'recipe':<12} {'alloc statuses':<28} {'HiGHS statuses':<30} "
        f"{'d_plan% mean':>12} {'worst':>8} {'d_bound% mean':>13} {'flags':>5}"
    ]
    for recipe, part in frame.groupby("recipe", sort=False):
        a = ",".join(f"{k}:{v}" for k, v in part["alloc_status"].value_counts().items())
        h = ",".join(f"{k}:{v}" for k, v in part["mip_status"].value_counts().items())
        lines.append(
            f"{recipe:<12} {a:<28} {h:<30} {part['d_plan_%'].mean():>12.3f}"
            f" {part['d_plan_%'].max():>8.3f} {part['d_bound_%'].mean():>13.3f}"
            f" {int((part['flags'].fillna('') != '').sum()):>5}"
        )
    return "\n".join(lines)


def write(path: Path, head: str, frame: pd.DataFrame) -> None:
    shown = frame[COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.6g}")
    flagged = frame.loc[frame["flags"].fillna("") != ""]
    lines = [head, f"load now {os.getloadavg()[0]:.2f}", "", summary(frame), "", shown, ""]
    lines.append(
        "Flagged rows (reproduce: python benchmarks/bench_unseen.py --sizes SIZE "
        "--recipes RECIPE --seeds SEED):"
    )
    for _, r in flagged.iterrows():
        lines.append(
            f"  {r['recipe']} {r['size']} seed {r['seed']}: {r['flags']}"
            f"  [{r['bound_note']}] {r['crash'] if isinstance(r['crash'], str) else ''}"
        )
    lines.append("")
    lines.append("bound_note / found_by per row:")
    for _, r in frame.iterrows():
        lines.append(
            f"  {r['recipe']:<12} {r['seed']} found_by={r.get('found_by')!s:<14} "
            f"gap={r.get('alloc_gap')}  note: {r.get('bound_note')}"
        )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    tmp_csv = path.with_suffix(".csv.tmp")
    frame.to_csv(tmp_csv, index=False)
    os.replace(tmp_csv, path.with_suffix(".csv"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--rescore", action="store_true", help="rewrite .txt from .csv")
    parser.add_argument(
        "--reference",
        help="reuse the LP and HiGHS figures of this stored run ('unseen' reads "
        "results/unseen_SIZE.csv); only alloc is solved",
    )
    parser.add_argument("--tag", default="", help="suffix of the output files")
    args = parser.parse_args()
    import alloc

    if args.rescore:
        for size in args.sizes.split(","):
            path = RESULTS / f"unseen_{size}.txt"
            frame = pd.read_csv(path.with_suffix(".csv"), keep_default_na=False, na_values=[""])
            records = frame.to_dict("records")
            for row in records:
                row["alloc_gap"] = None if pd.isna(row["alloc_gap"]) else row["alloc_gap"]
                distances(row)
                found, notes = flags(row)
                row["flags"], row["notes"] = " ".join(found), " ".join(notes)
            head = (
                path.read_text()
                .split("\nload now")[0]
                .replace(
                    "bound; % of max(|alloc|, |HiGHS|, 1e-6)",
                    "bound; d_plan% of max(|alloc|, |HiGHS|, 1e-6), d_bound% of max(|alloc|, 1e-6)",
                )
            )
            write(path, head, pd.DataFrame(records))
        return

    for size in args.sizes.split(","):
        n, m, limit, mip_s, lp_s = SIZES[size]
        head = (
            f"bench_unseen.py  commit {commit()}  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
            f"{platform.machine()} ({os.cpu_count()} cores), load {os.getloadavg()[0]:.2f} "
            f"at start\n{size}: {n} x {m}; alloc.solve {limit:g} s (default workers); "
            f"HiGHS MIP {mip_s:g} s, 1 thread, no start; LP (HiGHS IPM) {lp_s:g} s\n"
            f"alloc from {Path(alloc.__file__).parent}\n"
            "d_plan = alloc - HiGHS plan; d_bound = alloc - best valid bound; d_plan% of "
            "max(|alloc|, |HiGHS|, 1e-6), d_bound% of max(|alloc|, 1e-6)"
        )
        print(head, flush=True)
        path = RESULTS / f"unseen_{size}{args.tag}.txt"
        old = pd.read_csv(path.with_suffix(".csv")) if path.with_suffix(".csv").exists() else None
        reference = None
        if args.reference:
            ref = Path(args.reference.replace("SIZE", size))
            reference = pd.read_csv(ref if ref.suffix else RESULTS / f"{ref}_{size}.csv")
            head += f"\nLP and HiGHS figures reused from {ref}"
        rows: list[dict[str, Any]] = []
        for recipe in args.recipes.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = run_case(recipe, size, seed, reference)
                rows.append(row)
                print(
                    " ".join(f"{k}={row[k]!s:.12}" for k in COLUMNS if k in row)
                    + f"  note={row.get('bound_note')}",
                    flush=True,
                )
                frame = pd.DataFrame(rows)
                if old is not None:
                    keys = set(zip(frame["recipe"], frame["seed"], strict=True))
                    keep = [
                        (r, s) not in keys for r, s in zip(old["recipe"], old["seed"], strict=True)
                    ]
                    frame = pd.concat([old[keep], frame], ignore_index=True)
                    order = {r: i for i, r in enumerate(RECIPES)}
                    frame = frame.sort_values(
                        ["recipe", "seed"], key=lambda c: c.map(order) if c.name == "recipe" else c
                    )
                write(path, head, frame)
        print(summary(frame), flush=True)


if __name__ == "__main__":
    main()
