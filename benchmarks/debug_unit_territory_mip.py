"""Can any connected territory holding unit u meet every window? An exact check per unit.

A scratch diagnostic for the territory cases that stay UNKNOWN: for each unit given,
a MIP (scipy's HiGHS) over one territory: ``x[v]`` (unit v in the territory,
``x[u] = 1``), a single-commodity flow from ``u`` that reaches every chosen unit only
through chosen units (``f[a, b] <= n x[b]``, inflow - outflow = ``x[v]`` at ``v != u``),
and each Balance row within its *allowed* window widened by 1e-7 relative. Infeasible
means no connected territory of any rep can hold ``u`` (the reps are
interchangeable), so the problem has no plan: a stronger, exact form of the reach
test (`alloc.solvers.territory_reach`, an LP on the reach).

Usage: python benchmarks/debug_unit_territory_mip.py georgia population elderly_population
       --k 10 --units 32 43 [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import alloc  # noqa: E402
from alloc.solvers.state import Rows  # noqa: E402
from debug_territory_search import problem_of  # noqa: E402


def unit_territory_exists(problem: alloc.Problem, root: int, seconds: float) -> str:
    """'yes', 'no' or 'unknown' (time limit) for unit ``root`` (a model unit index)."""
    model = problem.model
    g = model.geography
    assert g is not None
    rows = Rows.from_model(model)
    n = model.n_units
    w = rows.weight[model.unit_start[:-1], :]
    tails = np.repeat(np.arange(n), np.diff(g.indptr))
    heads = np.asarray(g.indices)
    arcs = tails.size
    r_idx, c_idx, vals = [], [], []
    others = [v for v in range(n) if v != root]
    row_of = {v: i for i, v in enumerate(others)}
    for a in range(arcs):  # inflow - outflow - x[v] = 0 at every v != root
        if int(heads[a]) != root:
            r_idx.append(row_of[int(heads[a])])
            c_idx.append(n + a)
            vals.append(1.0)
        if int(tails[a]) != root:
            r_idx.append(row_of[int(tails[a])])
            c_idx.append(n + a)
            vals.append(-1.0)
    for v in others:
        r_idx.append(row_of[v])
        c_idx.append(v)
        vals.append(-1.0)
    base = len(others)
    for a in range(arcs):  # f[a] - n x[head] <= 0
        r_idx += [base + a, base + a]
        c_idx += [n + a, int(heads[a])]
        vals += [1.0, -float(n)]
    matrix = coo_matrix((vals, (r_idx, c_idx)), shape=(base + arcs, n + arcs))
    lo = np.r_[np.zeros(base), np.full(arcs, -np.inf)]
    hi = np.zeros(base + arcs)
    margin = 1e-7 * np.maximum(np.abs(rows.lo[:, 0]), np.abs(rows.hi[:, 0]))
    constraints = [
        LinearConstraint(matrix, lo, hi),
        LinearConstraint(
            np.c_[w.T, np.zeros((w.shape[1], arcs))], rows.lo[:, 0] - margin, rows.hi[:, 0] + margin
        ),
    ]
    lower = np.zeros(n + arcs)
    lower[root] = 1.0
    upper = np.r_[np.ones(n), np.full(arcs, float(n))]
    res = milp(
        np.zeros(n + arcs),
        constraints=constraints,
        bounds=Bounds(lower, upper),
        integrality=np.r_[np.ones(n), np.zeros(arcs)],
        options={"time_limit": seconds},
    )
    return {0: "yes", 2: "no"}.get(res.status, "unknown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state")
    parser.add_argument("measures", nargs=2)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--units", type=int, nargs="+", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    problem, _ = problem_of(args.state, args.measures, args.k)
    ids = problem.customer_ids.to_numpy()
    for u in args.units:
        start = time.perf_counter()
        answer = unit_territory_exists(problem, u, args.seconds)
        took = time.perf_counter() - start
        print(
            f"{args.state} {'+'.join(args.measures)} k={args.k} unit {u} "
            f"({ids[problem.model.customer_unit == u][0]}): connected territory in the "
            f"windows exists: {answer} ({took:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
