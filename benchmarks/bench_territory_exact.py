"""Territory design solved exactly: time to a proof on random planar maps (issue 14).

Instances come from our own generator (no published data): ``n`` bricks at random
points, neighbours by Delaunay triangulation (scipy), a workload index per brick
(1-100), ``k`` reps whose office is a brick (``Contiguous(base=...)``), workload
windows ``[lo, hi]`` x fair share, and either the total distance to the offices
(``MinimizeDispersion("sum")`` with fixed centres: a linear cost) or chosen centres
(p-median / p-centre). Every plan is checked by ``alloc.check``; the table reports the
status, the objective, the bound and the wall time, so the exact-size limit of
``alloc.solvers.territories`` (``EXACT_UNIT_LIMIT``) can be chosen by measurement.

Run: ``PYTHONPATH=src python benchmarks/bench_territory_exact.py [--quick]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import Delaunay

import alloc


def planar_case(
    n: int, k: int, seed: int, window: tuple[float, float], centres: str, kind: str = "sum"
) -> alloc.Problem:
    """A random planar territory problem (see the module docstring)."""
    rng = np.random.default_rng([seed, n, k])
    xy = rng.uniform(0, 100, (n, 2)).round(1)
    tri = Delaunay(xy)
    links = {
        tuple(sorted((int(a), int(b))))
        for s in tri.simplices
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2]))
    }
    ids = [f"b{i:03d}" for i in range(n)]
    customers = pd.DataFrame(
        {"customer_id": ids, "x": xy[:, 0], "y": xy[:, 1], "workload": rng.integers(1, 101, n)}
    )
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(k)]})
    base = None
    if centres == "office":
        reps["office"] = [ids[int(u)] for u in rng.choice(n, size=k, replace=False)]
        base = "office"
    neighbors = pd.DataFrame(
        [(ids[a], ids[b]) for a, b in sorted(links)], columns=["customer_id", "neighbor_id"]
    )
    rules = [
        alloc.Contiguous(neighbors, base=base),
        alloc.Balance("workload", min=window[0], max=window[1]),
    ]
    return alloc.Problem(customers, reps, rules=rules, objective=alloc.MinimizeDispersion(kind))


def brick_case(seed: int, window: tuple[float, float], n: int = 22, k: int = 4) -> alloc.Problem:
    """The textbook brick shape (our own numbers): ``n`` bricks, ``k`` reps with office
    bricks, a workload index per brick (two decimals, about 1.0 per rep), a road
    distance table (straight line times a 1.0-1.4 detour, symmetric), contiguous
    territories and the total distance to the offices."""
    rng = np.random.default_rng([seed, n, k, 7])
    xy = rng.uniform(0, 60, (n, 2)).round(1)
    tri = Delaunay(xy)
    links = {
        tuple(sorted((int(a), int(b))))
        for s in tri.simplices
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2]))
    }
    ids = [f"brick{i:02d}" for i in range(n)]
    straight = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    detour = rng.uniform(1.0, 1.4, (n, n))
    road = (straight * np.triu(detour, 1)).round(1)
    road = road + road.T
    index = rng.uniform(0.5, 1.5, n)
    customers = pd.DataFrame({"customer_id": ids, "index": (index * k / index.sum()).round(2)})
    reps = pd.DataFrame(
        {
            "rep_id": [f"SR{j + 1}" for j in range(k)],
            "office": [ids[int(u)] for u in rng.choice(n, size=k, replace=False)],
        }
    )
    neighbors = pd.DataFrame(
        [(ids[a], ids[b]) for a, b in sorted(links)], columns=["customer_id", "neighbor_id"]
    )
    rules = [
        alloc.Contiguous(neighbors, base="office"),
        alloc.Balance("index", min=window[0], max=window[1]),
    ]
    distances = pd.DataFrame(road, index=ids, columns=ids)
    objective = alloc.MinimizeDispersion(distances=distances)
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def bricks(time_limit: float, seeds: int) -> None:
    """Proof times of the brick shape (22 x 4) for the three textbook windows."""
    rows = []
    for window in ((0.8, 1.2), (0.85, 1.15), (0.9, 1.1)):
        for seed in range(seeds):
            problem = brick_case(seed, window)
            t0 = time.perf_counter()
            result = alloc.solve(problem, time_limit=time_limit, seed=0)
            ok = result.assignment is None or alloc.check(problem, result.assignment) == []
            rows.append(
                {
                    "window": f"[{window[0]}, {window[1]}]",
                    "seed": seed,
                    "status": result.status.name,
                    "objective": round(result.objective, 1),
                    "seconds": round(time.perf_counter() - t0, 2),
                    "checked": ok,
                }
            )
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


def brick_priorities_case(
    seed: int, window: tuple[float, float], n: int = 22, k: int = 4
) -> tuple[alloc.Problem, dict[str, np.ndarray]]:
    """The textbook brick case with priorities (our own numbers, no contiguity, as in the
    textbook model): ``n`` bricks, ``k`` reps whose office bricks are pinned to them, a
    workload index per brick (two decimals), a road distance table (0.1 km), a current
    owner per brick (the nearest office, then one brick in eight moved at random), a
    workload window; minimise the total distance to the offices, then the disruption
    weighted by the index value (``alloc.Lexicographic``). Returns the problem and the
    arrays of the two-stage MIP."""
    rng = np.random.default_rng([seed, n, k, 11])
    xy = rng.uniform(0, 60, (n, 2)).round(1)
    straight = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    detour = rng.uniform(1.0, 1.4, (n, n))
    road = (straight * np.triu(detour, 1)).round(1)
    road = road + road.T
    index = rng.uniform(0.5, 1.5, n)
    index = (index * k / index.sum()).round(2)
    offices = rng.choice(n, size=k, replace=False)
    owner = np.argmin(road[:, offices], axis=1)
    moved = rng.choice(n, size=max(1, n // 8), replace=False)
    owner[moved] = rng.integers(0, k, moved.size)
    owner[offices] = np.arange(k)
    ids = [f"brick{i:02d}" for i in range(n)]
    reps = [f"SR{j + 1}" for j in range(k)]
    customers = pd.DataFrame(
        {"customer_id": ids, "index": index, "owner": [reps[o] for o in owner]}
    )
    distance = road[:, offices]
    pairs = pd.DataFrame(
        {"customer_id": np.repeat(ids, k), "rep_id": np.tile(reps, n), "km": distance.ravel()}
    )
    rules = [
        alloc.Pin({ids[u]: reps[j] for j, u in enumerate(offices)}),
        alloc.Balance("index", min=window[0], max=window[1]),
    ]
    objective = alloc.Lexicographic(
        [alloc.MinimizeTravel(distance="km"), alloc.MinimizeDisruption("owner", value="index")]
    )
    problem = alloc.Problem(
        customers, pd.DataFrame({"rep_id": reps}), pairs=pairs, rules=rules, objective=objective
    )
    data = {"distance": distance, "index": index, "owner": owner, "offices": offices}
    return problem, data


def priorities_mip(
    data: dict[str, np.ndarray], window: tuple[float, float], slack: float, time_limit: float
) -> dict[str, object]:
    """The brick case's two stages as two MIPs in HiGHS (``scipy.optimize.milp``):
    ``x[i, j]`` binary, one rep per brick, offices fixed, ``lo * share <= sum index x <=
    hi * share``; stage 1 minimises distance, stage 2 minimises the index value away from
    its owner subject to ``distance <= (1 + slack) * stage-1 optimum`` (+1e-6 for float
    noise)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    dist, index, owner, offices = (data[key] for key in ("distance", "index", "owner", "offices"))
    n, k = dist.shape
    share = index.sum() / k
    one = np.kron(np.eye(n), np.ones(k))  # sum_j x[i, j] = 1
    load = np.zeros((k, n * k))
    for j in range(k):
        load[j, j::k] = index
    rows = [
        LinearConstraint(one, 1.0, 1.0),
        LinearConstraint(load, window[0] * share, window[1] * share),
    ]
    lb = np.zeros(n * k)
    lb[offices * k + np.arange(k)] = 1.0
    bounds = Bounds(lb, np.ones(n * k))
    options = {"time_limit": time_limit, "mip_rel_gap": 0.0}
    t0 = time.perf_counter()
    first = milp(
        dist.ravel(), constraints=rows, integrality=np.ones(n * k), bounds=bounds, options=options
    )
    if first.x is None:
        return {
            "mip": "infeasible" if first.status == 2 else "unknown",
            "mip_s": round(time.perf_counter() - t0, 2),
        }
    disruption = (index[:, None] * (np.arange(k)[None, :] != owner[:, None])).ravel()
    cap = float(first.fun) * (1 + slack) + 1e-6
    rows.append(LinearConstraint(dist.ravel()[None, :], -np.inf, cap))
    second = milp(
        disruption, constraints=rows, integrality=np.ones(n * k), bounds=bounds, options=options
    )
    status = "optimal" if first.status == 0 and second.status == 0 else "not proven"
    return {
        "mip": status,
        "mip_distance": round(float(dist.ravel() @ np.round(second.x)), 4),
        "mip_disruption": round(float(second.fun), 4),
        "mip_s": round(time.perf_counter() - t0, 2),
    }


def _disruption(problem: alloc.Problem, assignment: pd.Series) -> float:
    term = alloc.MinimizeDisruption("owner", value="index")
    return round(alloc.objective_value(problem.replace(objective=term), assignment), 4)


def _priorities_row(
    n: int, k: int, window: tuple[float, float], seed: int, slack: float, time_limit: float
) -> dict[str, object]:
    """One instance: alloc's Lexicographic solve, distance alone, and the two-stage MIP."""
    problem, data = brick_priorities_case(seed, window, n, k)
    if slack:
        stages = problem.objective[0].stages
        problem = problem.replace(objective=alloc.Lexicographic(list(stages), slack=slack))
    t0 = time.perf_counter()
    result = alloc.solve(problem, time_limit=time_limit, seed=0)
    row: dict[str, object] = {
        "n x k": f"{n} x {k}",
        "window": f"[{window[0]}, {window[1]}]",
        "slack": slack,
        "seed": seed,
        "status": result.status.name,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if result.assignment is not None:
        row["checked"] = alloc.check(problem, result.assignment) == []
        row["distance"] = round(result.stages[0].value, 4)
        row["disruption"] = round(result.stages[1].value, 4)
    # Before priorities: distance alone, and the disruption its plan happens to have.
    alone = alloc.solve(
        problem.replace(objective=alloc.MinimizeTravel(distance="km")), time_limit=time_limit
    )
    if alone.assignment is not None:
        row["disruption_distance_only"] = _disruption(problem, alone.assignment)
    row.update(priorities_mip(data, window, slack, 300.0))
    if result.assignment is not None and "mip_disruption" in row:
        # Stage 1's optimum is unique in value; stage 2's value is what priorities decide.
        row["equal"] = abs(float(row["disruption"]) - float(row["mip_disruption"])) <= 1e-6  # type: ignore[arg-type]
    return row


def brick_priorities(
    limits: dict[tuple[int, int], float], seeds: dict[tuple[int, int], int]
) -> list[str]:
    """alloc's Lexicographic solve of the brick case against the two-stage MIP."""
    rows = []
    for (n, k), limit in limits.items():
        for slack in (0.0, 0.05):
            for window in ((0.8, 1.2), (0.85, 1.15), (0.9, 1.1)):
                for seed in range(seeds[n, k]):
                    rows.append(_priorities_row(n, k, window, seed, slack, limit))
                    print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["equal"] = table.get("equal", pd.Series(False, index=table.index)).fillna(False)
    summary = table.groupby(["n x k", "slack", "window"]).agg(
        optimal=("status", lambda s: int((s == "OPTIMAL").sum())),
        cases=("status", "size"),
        max_s=("seconds", "max"),
        equal_mip=("equal", "sum"),
        disruption=("disruption", "mean"),
        distance_only=("disruption_distance_only", "mean"),
    )
    lines = [table.to_string(index=False), "", summary.to_string()]
    print("\n".join(lines))
    return lines


def _commit() -> str:
    import subprocess

    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return run.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller cases")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--bricks", action="store_true", help="only the 22 x 4 brick shape")
    parser.add_argument(
        "--priorities",
        action="store_true",
        help="the brick case with Lexicographic([distance, disruption]) against a two-stage MIP",
    )
    parser.add_argument("--output", default=None, help="also write the tables to this file")
    args = parser.parse_args()
    if args.priorities:
        # The limits: 5 s for 22 x 4, 60 s for the 100 x 10 version.
        limits = {(22, 4): 5.0} if args.quick else {(22, 4): 5.0, (100, 10): 60.0}
        seeds = {(22, 4): 3 if args.quick else 10, (100, 10): 5}
        commit = _commit()  # the code that runs, before any later checkout
        lines = brick_priorities(limits, seeds)
        if args.output:
            stamp = time.strftime("%Y-%m-%d %H:%M")
            head = f"# bench_territory_exact.py --priorities  commit {commit}  {stamp}"
            Path(args.output).write_text("\n".join([head, *lines]) + "\n")
        return
    if args.bricks:
        bricks(args.time_limit, 3 if args.quick else 10)
        return
    sizes = [(22, 4), (40, 6)] if args.quick else [(22, 4), (40, 6), (60, 10), (100, 10)]
    windows = [(0.8, 1.2), (0.85, 1.15), (0.9, 1.1)]
    rows = []
    warnings.simplefilter("ignore")
    for n, k in sizes:
        for centres, kind in (("office", "sum"), ("chosen", "sum"), ("chosen", "max")):
            for window in windows:
                for seed in range(2 if args.quick else 3):
                    problem = planar_case(n, k, seed, window, centres, kind)
                    t0 = time.perf_counter()
                    result = alloc.solve(problem, time_limit=args.time_limit, seed=0)
                    seconds = time.perf_counter() - t0
                    ok = result.assignment is None or alloc.check(problem, result.assignment) == []
                    rows.append(
                        {
                            "n": n,
                            "k": k,
                            "centres": f"{centres}/{kind}",
                            "window": f"[{window[0]}, {window[1]}]",
                            "seed": seed,
                            "status": result.status.name,
                            "objective": round(result.objective, 3),
                            "gap": None if result.gap is None else round(result.gap, 4),
                            "seconds": round(seconds, 2),
                            "checked": ok,
                        }
                    )
                    print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    summary = table.groupby(["n", "k", "centres"]).agg(
        proven=("status", lambda s: int((s == "OPTIMAL").sum() + (s == "INFEASIBLE").sum())),
        cases=("status", "size"),
        median_s=("seconds", "median"),
        max_s=("seconds", "max"),
    )
    print(summary.to_string())


if __name__ == "__main__":
    main()
