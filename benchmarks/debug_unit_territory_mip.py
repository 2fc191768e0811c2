"""Can any connected territory holding unit u meet every window? An exact check per unit.

A scratch diagnostic for the territory cases that stay UNKNOWN: for each unit given,
a MIP (scipy's HiGHS) over one territory: ``x[v]`` (unit v in the territory,
``x[u] = 1``), a single-commodity flow from ``u`` that reaches every chosen unit only
through chosen units (``f[a, b] <= n x[b]``, inflow - outflow = ``x[v]`` at ``v != u``),
and each Balance row within its *allowed* window widened by 1e-7 relative. Infeasible
means no connected territory of any rep can hold ``u`` (the reps are
interchangeable), so the problem has no plan: a stronger, exact form of the reach
test (`alloc.solvers.territory_reach`, an LP on the reach).

``--solver cpsat`` runs the same question through CP-SAT instead (the whole map, no
reach ball, no path cuts: a check of `alloc.solvers.territory_units` that shares none
of its reasoning), with each measure scaled by ``10**d`` to whole numbers (``d`` the
fewest decimals that write it) and the windows rounded outward.

Usage: python benchmarks/debug_unit_territory_mip.py georgia population elderly_population
       --k 10 --units 32 43 [--seconds 60] [--solver highs|cpsat] [--ball]
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
from alloc.data.geography import Geography  # noqa: E402
from alloc.solvers.state import Rows  # noqa: E402
from debug_territory_search import problem_of  # noqa: E402


def _unit_data(problem: alloc.Problem) -> tuple[Geography, Rows, int, np.ndarray]:
    """The neighbour graph, the rows, the number of units and each unit's weights."""
    model = problem.model
    assert model.geography is not None
    rows = Rows.from_model(model)
    return model.geography, rows, model.n_units, rows.weight[model.unit_start[:-1], :]


def ball(problem: alloc.Problem, root: int) -> np.ndarray:
    """Units a territory holding ``root`` can contain (``--ball``): those joined to it by
    a path whose load (both ends counted) stays within the allowed upper limit of every
    row, by a plain Dijkstra of its own on each row (all weights here are >= 0)."""
    import heapq

    model = problem.model
    g = model.geography
    assert g is not None
    rows = Rows.from_model(model)
    w = rows.weight[model.unit_start[:-1], :]
    inside = np.ones(model.n_units, dtype=bool)
    for k in range(w.shape[1]):
        limit = rows.hi[k, 0] * (1 + 1e-7)
        far = np.full(model.n_units, np.inf)
        far[root] = w[root, k]
        heap = [(far[root], root)]
        while heap:
            d, a = heapq.heappop(heap)
            if d > far[a]:
                continue
            for b in g.neighbours(a).tolist():
                if d + w[b, k] < far[b]:
                    far[b] = d + w[b, k]
                    heapq.heappush(heap, (far[b], b))
        inside &= far <= limit
    return inside


def unit_territory_exists(
    problem: alloc.Problem, root: int, seconds: float, inside: np.ndarray | None = None
) -> str:
    """'yes', 'no' or 'unknown' (time limit) for unit ``root`` (a model unit index);
    units outside ``inside`` (when given) are left out."""
    g, rows, n, w = _unit_data(problem)
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
    upper = np.r_[np.ones(n) if inside is None else inside.astype(float), np.full(arcs, float(n))]
    res = milp(
        np.zeros(n + arcs),
        constraints=constraints,
        bounds=Bounds(lower, upper),
        integrality=np.r_[np.ones(n), np.zeros(arcs)],
        options={"time_limit": seconds},
    )
    return {0: "yes", 2: "no"}.get(res.status, "unknown")


def unit_territory_exists_cp(
    problem: alloc.Problem, root: int, seconds: float, inside: np.ndarray | None = None
) -> str:
    """As `unit_territory_exists`, by CP-SAT on whole-number rows (see the module)."""
    from ortools.sat.python import cp_model

    g, rows, n, w = _unit_data(problem)
    cp = cp_model.CpModel()
    x = [cp.new_bool_var(f"x{v}") for v in range(n)]
    cp.add(x[root] == 1)
    if inside is not None:
        for v in np.flatnonzero(~inside).tolist():
            cp.add(x[v] == 0)
    inflow: list[list] = [[] for _ in range(n)]
    outflow: list[list] = [[] for _ in range(n)]
    for a in range(n):
        for b in g.neighbours(a).tolist():
            f = cp.new_int_var(0, n - 1, f"f{a}_{b}")
            cp.add(f <= (n - 1) * x[a])
            cp.add(f <= (n - 1) * x[b])
            outflow[a].append(f)
            inflow[b].append(f)
    for v in range(n):
        if v != root:
            cp.add(sum(inflow[v]) - sum(outflow[v]) == x[v])
    for k in range(w.shape[1]):
        d = next(d for d in range(7) if np.allclose(w[:, k] * 10**d, np.round(w[:, k] * 10**d)))
        whole = np.round(w[:, k] * 10**d).astype(int).tolist()
        lo = rows.lo[k, 0] * 10**d * (1 - 1e-7 * np.sign(rows.lo[k, 0]))
        hi = rows.hi[k, 0] * 10**d * (1 + 1e-7 * np.sign(rows.hi[k, 0]))
        load = cp_model.LinearExpr.weighted_sum(x, whole)
        if np.isfinite(lo):
            cp.add(load >= int(np.ceil(lo)))
        if np.isfinite(hi):
            cp.add(load <= int(np.floor(hi)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    code = solver.solve(cp)
    return {cp_model.OPTIMAL: "yes", cp_model.FEASIBLE: "yes", cp_model.INFEASIBLE: "no"}.get(
        code, "unknown"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state")
    parser.add_argument("measures", nargs=2)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--units", type=int, nargs="+", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--solver", choices=["highs", "cpsat"], default="highs")
    parser.add_argument("--ball", action="store_true", help="only units within path reach")
    args = parser.parse_args()
    problem, _ = problem_of(args.state, args.measures, args.k)
    ids = problem.customer_ids.to_numpy()
    for u in args.units:
        start = time.perf_counter()
        exists = unit_territory_exists if args.solver == "highs" else unit_territory_exists_cp
        inside = ball(problem, u) if args.ball else None
        answer = exists(problem, u, args.seconds, inside)
        size = f", ball of {int(inside.sum())}" if inside is not None else ""
        took = time.perf_counter() - start
        print(
            f"{args.state} {'+'.join(args.measures)} k={args.k} {args.solver} unit {u} "
            f"({ids[problem.model.customer_unit == u][0]}{size}): connected territory in the "
            f"windows exists: {answer} ({took:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
