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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller cases")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--bricks", action="store_true", help="only the 22 x 4 brick shape")
    args = parser.parse_args()
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
