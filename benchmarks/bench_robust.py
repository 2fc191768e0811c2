"""Robust search: alloc on problem families it was not built on, against an LP bound and
two same-run baselines.

For each family of `families.py` x size x seed, in a fresh process (so that its peak
memory is its own):

- ``alloc.solve(problem, time_limit=T, seed=seed)``: status, objective, bound, time,
  ``alloc.check`` on the plan (must be ``[]``), max deviation of potential (and
  workload) from the fair share;
- alloc's greedy construction alone (`alloc.policies.Greedy`);
- a plain CP-SAT model written here from ``problem.model`` the way a user would write
  it: one Boolean per eligible pair, exactly one rep per unit, every hard row per rep,
  each max-norm imbalance as one variable above every rep's relative deviation (sum-norm:
  one per rep), linear costs; no hints, same time limit, 2 workers;
- the LP relaxation's bound (`lp_reference`: ``alloc.solvers.lp.lp_relaxation``;
  ``ROBUST_LP=highs`` uses the benchmark's own HiGHS model, `highs_lp`, instead).

"Distance to the LP bound" is ``100 x (objective - LP bound)`` in points of the
objective (for a potential-only objective: points of max deviation; where the bound is
0 it is the value itself). Peak memory is the process's maximum resident set size
right after alloc's solve (tables, problem, alloc) and at the end (with the baselines).

Usage::

    python benchmarks/bench_robust.py --sizes small,medium --seeds 3 --families sparse,combined

Re-running some families (or seeds) replaces their rows and keeps the others; each row
names its commit. ``--skip-cpsat`` leaves out the plain CP-SAT baseline.

``--profile combined --sizes medium`` writes a cProfile of alloc.solve on that case to
benchmarks/results/profile_robust_medium.txt instead.

Sizes: small 2,000 x 20 (5 s), medium 20,000 x 200 (30 s), large 100,000 x 1,000 (120 s).
Writes benchmarks/results/robust_<size>.csv and .txt (atomically, after every case).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _common import commit
from families import FAMILIES, build

RESULTS = Path(__file__).parent / "results"
SIZES = {
    "small": (2_000, 20, 5.0),
    "medium": (20_000, 200, 30.0),
    "large": (100_000, 1_000, 120.0),
}
# The LP is a yardstick, not a competitor: it gets more time than the solvers.
LP_SECONDS = {"small": 30.0, "medium": 120.0, "large": 600.0}
LP_SOURCE = os.environ.get("ROBUST_LP", "alloc")  # alloc: solvers.lp; highs: highs_lp
LP_METHOD = os.environ.get("ROBUST_LP_METHOD", "ipm")  # HiGHS: ipm (with crossover), simplex
IMBALANCE_SCALE = 1_000_000  # plain CP-SAT: relative deviations in millionths


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- LP bound: the one place to switch to alloc.solvers.lp when it lands ------------------
def lp_reference(problem: object, seconds: float) -> tuple[float, str]:
    """(bound, status) of the LP relaxation of ``problem.model``'s rows: alloc's own
    ``alloc.solvers.lp.lp_relaxation`` (a dual bound, valid for any duals), or with
    ``ROBUST_LP=highs`` the benchmark's own HiGHS model below (`highs_lp`)."""
    from alloc.solvers.deadline import Deadline
    from alloc.solvers.lp import lp_relaxation
    from alloc.solvers.state import Rows

    model = problem.model  # type: ignore[attr-defined]
    rows = Rows.from_model(model)
    if LP_SOURCE == "highs":
        return highs_lp(model, rows, seconds)
    r = lp_relaxation(model, rows, Deadline(time.perf_counter() + seconds))
    return r.bound, r.status


def highs_mip_run(model: Any, rows: Any, seconds: float) -> tuple[Any, float]:
    """HiGHS's branch and cut on `highs_model` with integer pair columns: one thread, no
    start, no relative gap; the solved ``Highs`` instance and its wall time."""
    import highspy

    lp = highs_model(model, rows)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * model.n_pairs + [
        highspy.HighsVarType.kContinuous
    ] * (lp.num_col_ - model.n_pairs)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", float(seconds))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-9)
    highs.passModel(lp)
    t = time.perf_counter()
    highs.run()
    return highs, time.perf_counter() - t


def highs_model(model: Any, rows: Any) -> Any:
    """``problem.model`` as a ``highspy.HighsLp`` (pair columns continuous).

    Columns: ``0 <= x[p] <= 1`` per eligible pair (first, in pair order), one
    ``z[k] >= 0`` per max-norm term, one ``d[k, r] >= 0`` per sum-norm term and rep.
    Rows: one rep per unit (= 1); every hard row per rep within the rules' raw limits;
    ``+-(load[r] / share[r] - 1) <= z`` (or ``d[k, r]``). Objective: pair costs + term
    weights x deviations. `robust_exact.py` makes the pair columns integer.
    """
    import highspy
    from scipy.sparse import coo_matrix, csc_matrix, hstack, vstack

    R, P = model.n_reps, model.n_pairs
    unit, rep = model.pair_unit, model.pair_rep
    cols = np.arange(P)
    blocks = [coo_matrix((np.ones(P), (unit, cols)), shape=(model.n_units, P))]
    lower, upper = [np.ones(model.n_units)], [np.ones(model.n_units)]
    dev_blocks: list[tuple[int, Any]] = []
    dev_cost: list[float] = []
    for k in range(rows.n_rows):
        w = rows.weight[:, k]
        if not (rows.is_max[k] or rows.is_sum[k]):
            lo, hi = rows.raw_lo[k], rows.raw_hi[k]
            used = np.isfinite(lo) | np.isfinite(hi)
            if used.any():
                a = csc_matrix((w, (rep, cols)), shape=(R, P)).tocsr()[used]
                blocks.append(a.tocoo())
                lower.append(lo[used])
                upper.append(hi[used])
                dev_blocks.append((a.shape[0], None))
            continue
        rel = w / rows.share[k][rep]
        a = coo_matrix((rel, (rep, cols)), shape=(R, P))
        blocks += [a, coo_matrix((-rel, (rep, cols)), shape=(R, P))]
        lower += [np.full(R, -np.inf)] * 2
        upper += [np.ones(R), -np.ones(R)]
        weight = float(rows.imb_weight[k])
        if rows.is_max[k]:
            dev = coo_matrix((-np.ones(2 * R), (np.arange(2 * R), np.zeros(2 * R))), (2 * R, 1))
            dev_cost.append(weight)
        else:
            eye = np.tile(np.arange(R), 2)
            dev = coo_matrix((-np.ones(2 * R), (np.arange(2 * R), eye)), (2 * R, R))
            dev_cost += [weight] * R
        dev_blocks.append((2 * R, dev))
    n_dev = len(dev_cost)
    # Deviation columns: block-diagonal over the imbalance terms, zero elsewhere.
    dev_rows, offset = [coo_matrix((model.n_units, n_dev))], 0
    for height, dev in dev_blocks:
        if dev is None:
            dev_rows.append(coo_matrix((height, n_dev)))
            continue
        width = dev.shape[1]
        left = coo_matrix((height, offset))
        right = coo_matrix((height, n_dev - offset - width))
        dev_rows.append(hstack([left, dev, right]))
        offset += width
    matrix = hstack([vstack(blocks), vstack(dev_rows)]).tocsc()
    inf = highspy.kHighsInf
    row_lo = np.concatenate(lower)
    row_hi = np.concatenate(upper)
    lp = highspy.HighsLp()
    lp.num_col_ = P + n_dev
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = np.concatenate([np.asarray(model.cost, dtype=float), dev_cost])
    lp.col_lower_ = np.zeros(P + n_dev)
    lp.col_upper_ = np.concatenate([np.ones(P), np.full(n_dev, inf)])
    lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_hi), row_hi, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    return lp


def highs_lp(model: Any, rows: Any, seconds: float) -> tuple[float, str]:
    """The LP relaxation written directly for HiGHS (IPM, then PDLP; one thread).

    The model is `highs_model`'s. The value, less 1e-7 relative for HiGHS's tolerances,
    bounds every plan's objective from below.
    """
    import highspy

    lp = highs_model(model, rows)
    end = time.perf_counter() + seconds
    status = "not run"
    # IPM with crossover is exact and fast on most of these LPs; when it fails (a
    # "Solve error" on the combined 20,000 x 200 case), PDLP, a first-order method whose
    # value is only as good as its tolerances: 1e-4 relative is subtracted for it.
    for method, slack in ((LP_METHOD, 1e-7), ("pdlp", 1e-4)):
        left = end - time.perf_counter()
        if left < 1.0:
            break
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("time_limit", float(left))
        highs.setOptionValue("solver", method)
        highs.passModel(lp)
        highs.run()
        model_status = highs.getModelStatus()
        status = f"{method}: {highs.modelStatusToString(model_status)}"
        if model_status == highspy.HighsModelStatus.kOptimal:
            value = float(highs.getInfo().objective_function_value)
            return value - slack * max(1.0, abs(value)), status
    return -math.inf, status


# ---- plain CP-SAT: what a user would write ---------------------------------------------
def _decimal_scale(values: np.ndarray) -> int:
    """Smallest power of ten making every value whole (at most 10**6, then rounded)."""
    for digits in range(7):
        scaled = values * 10**digits
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return 10**digits
    return 10**6


def plain_cpsat(problem: object, time_limit: float, seed: int) -> dict[str, object]:
    """Solve ``problem.model`` with a direct CP-SAT formulation; the plan and figures."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    model = problem.model  # type: ignore[attr-defined]
    R, P = model.n_reps, model.n_pairs
    cp = cp_model.CpModel()
    x = [cp.new_bool_var(f"x{p}") for p in range(P)]
    start = model.unit_start
    for u in range(model.n_units):
        cp.add_exactly_one(x[start[u] : start[u + 1]])
    order = np.argsort(model.pair_rep, kind="stable")
    cuts = np.searchsorted(model.pair_rep[order], np.arange(R + 1))
    by_rep = [order[cuts[r] : cuts[r + 1]] for r in range(R)]

    def load(r: int, weight: np.ndarray) -> cp_model.LinearExpr:
        idx = by_rep[r]
        return cp_model.LinearExpr.weighted_sum([x[p] for p in idx], weight[idx].tolist())

    for con in model.constraints:
        scale = _decimal_scale(np.asarray(con.weight, dtype=float))
        w = np.round(np.asarray(con.weight) * scale).astype(np.int64)
        for r in range(R):
            lo, hi = float(con.lo[r]), float(con.hi[r])
            if math.isfinite(hi):
                cp.add(load(r, w) <= math.floor(hi * scale + 1e-9))
            if math.isfinite(lo):
                cp.add(load(r, w) >= math.ceil(lo * scale - 1e-9))
    terms: list[tuple[float, cp_model.IntVar]] = []
    for term in model.imbalances:
        # Each pair's value relative to its rep's share, in millionths: a rep's load is
        # then 10**6 x (its load / its share), and |load - 10**6| its deviation.
        rel = np.round(
            np.asarray(term.value) / np.asarray(term.share)[model.pair_rep] * IMBALANCE_SCALE
        ).astype(np.int64)
        top = int(max(rel[idx].sum() for idx in by_rep)) + IMBALANCE_SCALE
        if term.norm == "max":
            z = cp.new_int_var(0, top, f"dev_{term.label}")
            for r in range(R):
                cp.add(z >= load(r, rel) - IMBALANCE_SCALE)
                cp.add(z >= IMBALANCE_SCALE - load(r, rel))
            terms.append((float(term.weight) / IMBALANCE_SCALE, z))
        else:
            for r in range(R):
                d = cp.new_int_var(0, top, f"dev_{term.label}_{r}")
                cp.add(d >= load(r, rel) - IMBALANCE_SCALE)
                cp.add(d >= IMBALANCE_SCALE - load(r, rel))
                terms.append((float(term.weight) / IMBALANCE_SCALE, d))
    costly = np.flatnonzero(np.asarray(model.cost) != 0)
    objective = cp_model.LinearExpr.weighted_sum(
        [x[p] for p in costly] + [v for _, v in terms],
        [float(model.cost[p]) for p in costly] + [c for c, _ in terms],
    )
    cp.minimize(objective)
    build_s = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = int(seed)
    t1 = time.perf_counter()
    status = solver.solve(cp)
    out: dict[str, object] = {
        "cpsat_status": solver.status_name(status),
        "cpsat_build_s": build_s,
        "cpsat_solve_s": time.perf_counter() - t1,
        "cpsat_bound": float(solver.best_objective_bound)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else math.nan,
    }
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        out["assignment"] = None
        return out
    value = np.fromiter((solver.boolean_value(v) for v in x), dtype=bool, count=P)
    chosen = np.full(model.n_units, -1, dtype=np.int64)
    chosen[model.pair_unit[value]] = np.flatnonzero(value)
    rep_codes = model.pair_rep[chosen][model.customer_unit]
    out["assignment"] = pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],  # type: ignore[attr-defined]
        index=problem.customer_ids.copy(),  # type: ignore[attr-defined]
    )
    return out


# ---- one case, in its own process ---------------------------------------------------------
def _figures(problem: object, assignment: pd.Series | None, prefix: str) -> dict[str, object]:
    """Objective, deviations and check of one plan, from alloc's independent checker."""
    import alloc

    if assignment is None:
        return {f"{prefix}_objective": math.nan, f"{prefix}_violations": math.nan}
    violations = alloc.check(problem, assignment)  # type: ignore[arg-type]
    m = alloc.evaluate(problem, assignment)  # type: ignore[arg-type]
    out: dict[str, object] = {
        f"{prefix}_objective": m["objective"],
        f"{prefix}_violations": len(violations),
        f"{prefix}_potential_max_dev": m.get("potential_max_dev", math.nan),
        f"{prefix}_workload_max_dev": m.get("workload_max_dev", math.nan),
    }
    if violations:
        out[f"{prefix}_first_violation"] = str(violations[0])[:300]
    return out


def run_case(family: str, size: str, seed: int) -> dict[str, object]:
    import warnings

    import alloc
    from alloc.policies import Greedy

    n, m, limit = SIZES[size]
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem = build(family, n, m, seed)
        problem.model  # noqa: B018  (compile now, so build time is counted here)
    row: dict[str, object] = {
        "commit": commit(),
        "family": family,
        "size": size,
        "customers": n,
        "reps": m,
        "seed": seed,
        "time_limit": limit,
        "units": problem.model.n_units,
        "pairs": problem.n_pairs,
        "build_s": time.perf_counter() - t,
        "build_warnings": " | ".join(str(w.message)[:120] for w in caught),
    }
    t = time.perf_counter()
    try:
        result = alloc.solve(problem, time_limit=limit, seed=seed)
        row.update(
            {
                "alloc_s": time.perf_counter() - t,
                "alloc_status": result.status.value,
                "alloc_bound": result.bound,
                "alloc_found_by": result.stats.found_by,
                "alloc_peak_mb": peak_mb(),
            }
        )
        row.update(_figures(problem, result.assignment, "alloc"))
    except Exception as exc:  # a crash is a finding: record it, run the baselines anyway
        row.update({"alloc_status": "exception", "alloc_error": f"{type(exc).__name__}: {exc}"})
    t = time.perf_counter()
    greedy = Greedy().allocate(problem, seed=seed)
    row.update({"greedy_s": time.perf_counter() - t, "greedy_status": greedy.status.value})
    row.update(_figures(problem, greedy.assignment, "greedy"))
    if os.environ.get("ROBUST_SKIP_CPSAT") != "1":
        cp = plain_cpsat(problem, limit, seed)
        assignment = cp.pop("assignment")
        row.update(cp)
        row.update(_figures(problem, assignment, "cpsat"))  # type: ignore[arg-type]
    else:
        row.update({"cpsat_status": "skipped", "cpsat_objective": math.nan})
    t = time.perf_counter()
    lp_seconds = float(os.environ.get("ROBUST_LP_SECONDS", LP_SECONDS[size]))
    row["lp_bound"], row["lp_status"] = lp_reference(problem, lp_seconds)
    row["lp_s"] = time.perf_counter() - t
    row["peak_mb"] = peak_mb()
    return row


# ---- the driver --------------------------------------------------------------------------
def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column, NaN where absent (e.g. no alloc figures after an exception)."""
    if name not in frame:
        return pd.Series(math.nan, index=frame.index)
    return pd.to_numeric(frame[name], errors="coerce").astype(float)


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-case figures: distances to the LP and best bounds (points), the best plan any
    method found, and flags for alloc bounds or statuses that a same-run plan refutes."""
    f = frame.copy()
    obj = _col(f, "alloc_objective")
    lp = _col(f, "lp_bound")
    alloc_bound = _col(f, "alloc_bound").where(lambda v: np.isfinite(v))
    cpsat_bound = _col(f, "cpsat_bound").where(lambda v: np.isfinite(v))
    f["best_bound"] = pd.concat([lp.where(np.isfinite(lp)), alloc_bound, cpsat_bound], axis=1).max(
        axis=1
    )
    f["dist_lp_pt"] = 100 * (obj - lp.where(np.isfinite(lp)))
    f["dist_best_pt"] = 100 * (obj - f["best_bound"])
    plans = []
    for method in ("alloc", "greedy", "cpsat"):
        ok = _col(f, f"{method}_violations") == 0
        plans.append(_col(f, f"{method}_objective").where(ok))
    f["best_plan"] = pd.concat(plans, axis=1).min(axis=1)
    tol = 1e-6 * np.maximum(1.0, f["best_plan"].abs())
    f["alloc_worse_than_cpsat"] = obj > plans[2] + tol
    status = f.get("alloc_status", pd.Series("", index=f.index)).astype(str)
    found = f["best_plan"].notna()
    f["alloc_issue"] = np.select(
        [
            status.eq("exception"),
            _col(f, "alloc_violations").fillna(0) > 0,
            status.eq("infeasible") & found,
            status.eq("optimal") & (obj > f["best_plan"] + tol),
            alloc_bound > f["best_plan"] + tol,
            lp > f["best_plan"] + tol,
            status.eq("unknown") & found,
        ],
        [
            "exception",
            "check failed",
            "INFEASIBLE but a plan exists",
            "OPTIMAL but a better plan exists",
            "bound above a plan",
            "LP bound above a plan",
            "UNKNOWN but a baseline found a plan",
        ],
        default="",
    )
    return f


def _statuses(frame: pd.DataFrame, column: str) -> str:
    return "/".join(sorted(set(frame[column].astype(str)))) if column in frame else "?"


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per family: worst figures over seeds for alloc and both baselines."""
    f = derive(frame)
    out = []
    for family, g in f.groupby("family", sort=False):
        issues = sorted({i for i in g["alloc_issue"] if i})
        out.append(
            {
                "family": family,
                "seeds": len(g),
                "pairs": int(_col(g, "pairs").mean()) if _col(g, "pairs").notna().any() else 0,
                "alloc_potdev_%": 100 * _col(g, "alloc_potential_max_dev").max(),
                "alloc_obj_%": 100 * _col(g, "alloc_objective").max(),
                "lp_%": 100 * _col(g, "lp_bound").max(),
                "to_lp_pt": g["dist_lp_pt"].max(),
                "to_best_pt": g["dist_best_pt"].max(),
                "greedy_obj_%": 100 * _col(g, "greedy_objective").max(),
                "cpsat_obj_%": 100 * _col(g, "cpsat_objective").max(),
                "cpsat_potdev_%": 100 * _col(g, "cpsat_potential_max_dev").max(),
                "worse_than_cpsat": int(g["alloc_worse_than_cpsat"].sum()),
                "alloc_status": _statuses(g, "alloc_status"),
                "cpsat_status": _statuses(g, "cpsat_status"),
                "check_fail": int((_col(g, "alloc_violations").fillna(0) > 0).sum()),
                "issues": "; ".join(issues) or "-",
                "alloc_peak_mb": _col(g, "alloc_peak_mb").max(),
                "peak_mb": _col(g, "peak_mb").max(),
            }
        )
    return pd.DataFrame(out)


CASE_COLUMNS = [
    "family",
    "seed",
    "alloc_status",
    "alloc_objective",
    "alloc_potential_max_dev",
    "alloc_bound",
    "lp_bound",
    "dist_lp_pt",
    "greedy_objective",
    "cpsat_status",
    "cpsat_objective",
    "alloc_s",
    "lp_s",
    "alloc_peak_mb",
    "alloc_issue",
]


def table_text(frame: pd.DataFrame, head: str) -> str:
    """The summary per family, then one line per case."""
    cases = derive(frame)
    cases = cases[[c for c in CASE_COLUMNS if c in cases]]
    legend = (
        "Per family, worst over seeds. *_% columns: objective or potential max deviation"
        " x 100.\nto_lp_pt / to_best_pt: alloc objective minus the LP bound / minus the best"
        " bound (LP, alloc's, CP-SAT's), in points.\nworse_than_cpsat: seeds where the plain"
        " CP-SAT plan is better. issues: a same-run plan refutes alloc's status or bound, or"
        " check failed.\npeak MB: the case's process max RSS after alloc.solve / at the end."
    )
    with pd.option_context("display.width", 300, "display.max_columns", 60):
        return (
            f"{head}\n\n{legend}\n\n"
            + summary(frame).to_string(index=False, float_format="{:.3f}".format)
            + "\n\nPer case (objectives and bounds as fractions):\n"
            + cases.to_string(index=False, float_format="{:.5g}".format)
        )


def header(sizes: list[str], seeds: int) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    limits = ", ".join(f"{s} {SIZES[s][0]:,} x {SIZES[s][1]:,} ({SIZES[s][2]:g} s)" for s in sizes)
    return (
        f"bench_robust.py  commit {commit()}  {now}  {platform.node()} "
        f"({os.cpu_count()} cores, shared)\nsizes: {limits}; seeds: {seeds}; "
        f"LP bound: {LP_SOURCE if LP_SOURCE != 'highs' else 'HiGHS ' + LP_METHOD} "
        "(lp_reference); plain CP-SAT: 2 workers, no hints"
    )


def _stem(size: str) -> str:
    """File stem of a size's results: robust_<size>, or robust_<size>_<tag> with --tag."""
    tag = os.environ.get("ROBUST_TAG", "")
    return f"robust_{size}_{tag}" if tag else f"robust_{size}"


def _merge_earlier(size: str, frame: pd.DataFrame) -> pd.DataFrame:
    """This run's rows, plus earlier rows of the same size for other (family, seed) cases,
    so that re-running a few families updates the table (each row names its commit)."""
    path = RESULTS / f"{_stem(size)}.csv"
    if not path.exists() or frame.empty:
        return frame
    old = pd.read_csv(path)
    if "family" not in old or "seed" not in old:
        return frame
    mine = set(zip(frame["family"], frame["seed"].astype(int), strict=True))
    keep = [(f, int(s)) not in mine for f, s in zip(old["family"], old["seed"], strict=True)]
    merged = pd.concat([old[keep], frame], ignore_index=True)
    order = {name: i for i, name in enumerate(FAMILIES)}
    return merged.sort_values(
        ["family", "seed"], key=lambda c: c.map(order) if c.name == "family" else c
    ).reset_index(drop=True)


def write_outputs(size: str, frame: pd.DataFrame, head: str) -> None:
    from alloc._io import write_atomic

    RESULTS.mkdir(exist_ok=True)
    frame = _merge_earlier(size, frame)
    write_atomic(RESULTS / f"{_stem(size)}.csv", lambda p: frame.to_csv(p, index=False))
    text = table_text(frame, head)
    write_atomic(RESULTS / f"{_stem(size)}.txt", lambda p: Path(p).write_text(text + "\n"))


def _run_child(family: str, size: str, seed: int) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one", f"{family},{size},{seed}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        return {
            "family": family,
            "size": size,
            "seed": seed,
            "alloc_status": "exception",
            "alloc_error": f"process failed ({out.returncode}): {out.stderr[-1500:]}",
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def _line(row: dict[str, object]) -> str:
    def pct(key: str) -> str:
        v = row.get(key, math.nan)
        return f"{100 * float(v):8.3f}" if v is not None and math.isfinite(float(v)) else "     nan"  # type: ignore[arg-type]

    return (
        f"{row['family']:>16} s{row['seed']} {row.get('alloc_status', '?'):>10} "
        f"obj% {pct('alloc_objective')} potdev% {pct('alloc_potential_max_dev')} "
        f"lp% {pct('lp_bound')} greedy% {pct('greedy_objective')} "
        f"cpsat% {pct('cpsat_objective')} ({row.get('cpsat_status', '?')}) "
        f"viol {row.get('alloc_violations', '?')} peak {float(row.get('peak_mb', math.nan)):.0f} MB"  # type: ignore[arg-type]
        + (f"  ERROR {row['alloc_error']}" if row.get("alloc_error") else "")
    )


def profile(family: str, size: str, seed: int) -> str:
    """cProfile of ``alloc.solve`` on one case: the top 15 functions by cumulative and by
    total (own) time, with the header and the result's summary."""
    import cProfile
    import io
    import pstats

    import alloc

    n, m, limit = SIZES[size]
    problem = build(family, n, m, seed)
    problem.model  # noqa: B018  (compiled before profiling: solve only)
    profiler = cProfile.Profile()
    profiler.enable()
    result = alloc.solve(problem, time_limit=limit, seed=seed)
    profiler.disable()
    parts = [
        f"{header([size], 1)}\nprofile of alloc.solve: {family} {n:,} x {m:,}, seed {seed}, "
        f"time_limit {limit:g} s, peak {peak_mb():.0f} MB\n",
        result.summary(),
        "phases: " + ", ".join(f"{p} {t:.2f} s" for p, t, _ in result.stats.phases),
    ]
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(15)
        text = out.getvalue()
        parts.append(f"\n=== top 15 by {key} ===\n" + text[text.find("   ncalls") :])
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small", help="small,medium,large")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument(
        "--skip-cpsat",
        action="store_true",
        help="leave out the plain CP-SAT baseline (its Python model dominates peak memory)",
    )
    parser.add_argument(
        "--lp-seconds",
        type=float,
        help="time for the reference LP bound (default 30 / 120 / 600 s by size)",
    )
    parser.add_argument(
        "--tag", help="write results/robust_<size>_<tag>.* instead of the files of record"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument(
        "--report", action="store_true", help="rewrite the .txt tables from the CSVs only"
    )
    parser.add_argument(
        "--profile", metavar="FAMILY", help="cProfile alloc.solve on FAMILY (first size, seed 0)"
    )
    args = parser.parse_args()
    if args.profile:
        from alloc._io import write_atomic

        size = args.sizes.split(",")[0]
        text = profile(args.profile, size, 0)
        print(text)
        target = RESULTS / f"profile_robust_{size}.txt"
        write_atomic(target, lambda p: Path(p).write_text(text + "\n"))
        return
    if args.report:
        for size in args.sizes.split(","):
            frame = pd.read_csv(RESULTS / f"{_stem(size)}.csv")
            old = (RESULTS / f"{_stem(size)}.txt").read_text().split("\n\n")[0]
            write_outputs(size, frame, old)
            print((RESULTS / f"{_stem(size)}.txt").read_text())
        return
    if args.one:
        family, size, seed = args.one.split(",")
        print(json.dumps(run_case(family, size, int(seed)), default=float))
        return
    if args.tag:
        os.environ["ROBUST_TAG"] = args.tag
    if args.skip_cpsat:
        os.environ["ROBUST_SKIP_CPSAT"] = "1"  # read by the case processes
    if args.lp_seconds is not None:
        os.environ["ROBUST_LP_SECONDS"] = str(args.lp_seconds)
    sizes = args.sizes.split(",")
    families = args.families.split(",")
    for name in sizes + families:
        if name not in SIZES and name not in FAMILIES:
            parser.error(f"unknown size or family {name!r}")
    head = header(sizes, args.seeds)
    print(head, flush=True)
    for size in sizes:
        rows = []
        for family in families:
            for seed in range(args.seeds):
                row = _run_child(family, size, seed)
                rows.append(row)
                print(_line(row), flush=True)
                write_outputs(size, pd.DataFrame(rows), head)
        print(Path(RESULTS / f"{_stem(size)}.txt").read_text(), flush=True)


if __name__ == "__main__":
    main()
