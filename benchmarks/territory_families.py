"""Territory-design instances of other recipes than alloc's own, and an exact MIP baseline.

Families (each seeded with ``numpy.random.default_rng(seed)``):

``tdp``
    The shape of the commercial territory design problem of Rios-Mercado and
    Fernandez (2009): ``n`` basic units as uniform random points in a 500 x 500 square,
    contiguity from their Delaunay triangulation, three activity measures (number of
    customers uniform 4-20, product demand log-normal, workload uniform 15-100), ``k``
    territories, every measure within +-``tol`` (default 5 %) of its fair share,
    p-median dispersion with centres chosen among the units.
``textbook``
    The shape of the classic pharma brick case: 22 bricks (points in a 10 x 10 square,
    Delaunay contiguity), 4 reps whose offices are bricks (base units, fixed centres),
    a workload index per brick (gamma distributed), Euclidean distances, a current
    owner per brick (nearest office, then a few swapped); workload window
    ``[lo, hi]`` times the fair share; minimise total distance to the offices.

`mip_dispersion` solves a family instance exactly with HiGHS (``scipy.optimize.milp``):
assignment variables ``x[i, t]``, p-median (chosen centres, ``x[t, t]`` opens ``t``) or
fixed territories, the balance rows, and single-commodity flow contiguity: flow is
generated only at centres, every unit consumes one unit of it, and may only travel on
an arc whose two ends lie in the same territory.

Run as a script to compare `alloc.solvers.territory_search.search` with the MIP on
instances with at most 60 units (100 with fixed centres; the heuristic alone on larger
ones); the table goes to ``benchmarks/results/territory_search_s20.txt``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix
from scipy.spatial import Delaunay

from alloc.data.geography import Geography
from alloc.data.model import Constraint, Model
from alloc.data.tolerance import lower_limit, upper_limit
from alloc.solvers.deadline import Deadline
from alloc.solvers.territory_search import dispersion_value, search

RESULTS = Path(__file__).resolve().parent / "results"
#: The textbook case's workload windows, as fractions of the fair share.
WINDOWS = ((0.8, 1.2), (0.85, 1.15), (0.9, 1.1))


@dataclass
class TerritoryInstance:
    """A territory instance in raw form plus its compiled Model and Geography."""

    name: str
    points: np.ndarray  # (n, 2)
    edges: np.ndarray  # (m, 2) undirected, i < j
    measures: np.ndarray  # (n, M)
    lo: np.ndarray  # (M,) lower limit per measure (the same for every territory)
    hi: np.ndarray  # (M,)
    k: int
    base: np.ndarray  # (k,) office unit per territory, -1 when centres are chosen
    owner: np.ndarray | None  # (n,) current territory, textbook only
    model: Model
    geography: Geography

    @property
    def n(self) -> int:
        return int(self.points.shape[0])

    @property
    def distance(self) -> np.ndarray:
        diff = self.points[:, None, :] - self.points[None, :, :]
        return np.sqrt((diff**2).sum(-1))


def _delaunay(points: np.ndarray) -> np.ndarray:
    edges = set()
    for tri in Delaunay(points).simplices:
        for i in range(3):
            a, b = int(tri[i]), int(tri[(i + 1) % 3])
            edges.add((min(a, b), max(a, b)))
    return np.array(sorted(edges), dtype=np.int64)


def _compile(
    name: str,
    points: np.ndarray,
    measures: np.ndarray,
    k: int,
    lo_frac: float,
    hi_frac: float,
    base: np.ndarray,
    owner: np.ndarray | None = None,
) -> TerritoryInstance:
    n = points.shape[0]
    edges = _delaunay(points)
    fair = measures.sum(axis=0) / k
    lo, hi = fair * lo_frac, fair * hi_frac
    pair_unit, pair_rep = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
    rows = tuple(
        Constraint(f"m{j}", measures[pair_unit, j], np.full(k, lo[j]), np.full(k, hi[j]))
        for j in range(measures.shape[1])
    )
    model = Model(
        n,
        k,
        np.arange(n + 1) * k,
        pair_unit,
        pair_rep,
        np.zeros(n * k),
        rows,
        (),
        np.arange(n),
        np.ones(n, dtype=np.int64),
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.tolist())
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([graph.degree(u) for u in range(n)])
    indices = np.array([v for u in range(n) for v in sorted(graph[u])], dtype=np.int64)
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt((diff**2).sum(-1))
    fixed = base >= 0
    geo = Geography(
        indptr,
        indices,
        True,
        base,
        "sum",
        1.0,
        dist[:, base] if fixed.all() else None,
        None if fixed.all() else dist,
    )
    return TerritoryInstance(name, points, edges, measures, lo, hi, k, base, owner, model, geo)


def tdp(n: int, k: int, seed: int, tol: float = 0.05) -> TerritoryInstance:
    """Rios-Mercado-style commercial territory design instance (centres chosen)."""
    rng = np.random.default_rng(seed)
    points = rng.random((n, 2)) * 500
    measures = np.column_stack(
        [
            rng.integers(4, 21, n).astype(float),
            np.round(rng.lognormal(5.0, 0.5, n), 1),
            rng.integers(15, 101, n).astype(float),
        ]
    )
    name = f"tdp-n{n}-k{k}-s{seed}-t{round(tol * 100)}"
    return _compile(name, points, measures, k, 1 - tol, 1 + tol, np.full(k, -1))


def textbook(
    seed: int, lo: float = 0.8, hi: float = 1.2, n: int = 22, k: int = 4
) -> TerritoryInstance:
    """Brick-case shape: offices as base units (fixed centres), a workload index."""
    rng = np.random.default_rng(seed)
    points = rng.random((n, 2)) * 10
    index = np.round(rng.gamma(2.0, 0.5, n), 4)
    # Offices: spread out (farthest-point choice from a random first brick).
    offices = [int(rng.integers(n))]
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt((diff**2).sum(-1))
    while len(offices) < k:
        offices.append(int(np.argmax(dist[:, offices].min(axis=1))))
    owner = np.argmin(dist[:, offices], axis=1)
    swap = rng.choice(n, size=max(1, n // 8), replace=False)
    owner[swap] = rng.integers(0, k, swap.size)
    owner[offices] = np.arange(k)
    name = f"textbook-n{n}-k{k}-s{seed}-[{lo},{hi}]"
    return _compile(name, points, index[:, None], k, lo, hi, np.array(offices), owner)


# ---- exact MIP baseline ------------------------------------------------------------------
@dataclass
class MipResult:
    status: str  # "optimal", "feasible" (time limit), "infeasible", "unknown"
    objective: float
    bound: float
    seconds: float
    territory: np.ndarray | None  # (n,) territory (centre unit or rep) of each unit


Row = tuple[list[int], list[float], float, float]


def _mip_rows(inst: TerritoryInstance, T: int, chosen: bool, arcs: np.ndarray) -> list[Row]:
    """Rows ``(columns, values, lo, hi)``; columns: x (n*T), w (arcs), f (arcs), g (n)."""
    n, A = inst.n, arcs.shape[0]
    off_w, off_f, off_g = n * T, n * T + A, n * T + 2 * A
    rows: list[Row] = [([i * T + t for t in range(T)], [1.0] * T, 1.0, 1.0) for i in range(n)]
    if chosen:  # x[i, t] <= x[t, t]; k centres open
        rows += [
            ([i * T + t, t * T + t], [1.0, -1.0], -np.inf, 0.0)
            for t in range(T)
            for i in range(n)
            if i != t
        ]
        rows.append(([t * T + t for t in range(T)], [1.0] * T, inst.k, inst.k))
    for t, j in itertools.product(range(T), range(inst.measures.shape[1])):
        w, cols = inst.measures[:, j], [i * T + t for i in range(n)]
        if chosen:  # lo * open <= load <= hi * open
            rows.append((cols, list(w - np.eye(n)[t] * inst.lo[j]), 0.0, np.inf))
            rows.append((cols, list(w - np.eye(n)[t] * inst.hi[j]), -np.inf, 0.0))
        else:
            rows.append((cols, list(w), inst.lo[j], inst.hi[j]))
    for a, (u, v) in enumerate(arcs.tolist()):  # an arc in use stays inside a territory
        rows += [
            ([off_w + a, u * T + t, v * T + t], [1.0, 1.0, -1.0], -np.inf, 1.0) for t in range(T)
        ]
        rows.append(([off_f + a, off_w + a], [1.0, -(n - 1.0)], -np.inf, 0.0))
    for i in range(n):  # inflow - outflow + generation = 1
        into, out = np.flatnonzero(arcs[:, 1] == i), np.flatnonzero(arcs[:, 0] == i)
        cols = [off_f + a for a in into] + [off_f + a for a in out] + [off_g + i]
        rows.append((cols, [1.0] * into.size + [-1.0] * out.size + [1.0], 1.0, 1.0))
        if chosen:  # generation only at open centres
            rows.append(([off_g + i, i * T + i], [1.0, -float(n)], -np.inf, 0.0))
    return rows


def _mip_flow(inst: TerritoryInstance, time_limit: float) -> MipResult:
    """Minimum dispersion plan with balance windows and flow contiguity (one HiGHS run)."""
    n, dist = inst.n, inst.distance
    chosen = bool((inst.base < 0).all())
    T = n if chosen else inst.k
    centre = np.arange(n) if chosen else inst.base
    arcs = np.vstack([inst.edges, inst.edges[:, ::-1]])
    A = arcs.shape[0]
    off_f, off_g = n * T + A, n * T + 2 * A
    n_var = off_g + n
    rows = _mip_rows(inst, T, chosen, arcs)
    r_idx = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
    c_idx = np.concatenate([r[0] for r in rows])
    vals = np.concatenate([r[1] for r in rows])
    matrix = coo_matrix((vals, (r_idx, c_idx)), shape=(len(rows), n_var)).tocsr()
    lo, hi = np.array([r[2] for r in rows]), np.array([r[3] for r in rows])
    cost = np.zeros(n_var)
    cost[: n * T] = dist[:, centre].ravel()
    lb, ub = np.zeros(n_var), np.ones(n_var)
    ub[off_f:off_g] = n - 1.0
    ub[off_g:] = n
    if not chosen:  # flow starts only at the offices, each in its own territory
        ub[off_g:] = 0.0
        ub[off_g + inst.base] = n
        lb[inst.base * T + np.arange(T)] = 1.0
    integrality = np.zeros(n_var)
    integrality[: n * T + A] = 1
    start = time.perf_counter()
    res = milp(
        cost,
        constraints=LinearConstraint(matrix, lo, hi),
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-7},
    )
    seconds = time.perf_counter() - start
    bound = float(getattr(res, "mip_dual_bound", np.nan) or np.nan)
    if res.x is None:
        status = "infeasible" if res.status == 2 else "unknown"
        return MipResult(status, np.inf, bound, seconds, None)
    territory = np.argmax(res.x[: n * T].reshape(n, T), axis=1)
    status = "optimal" if res.status == 0 else "feasible"
    return MipResult(status, float(res.fun), bound, seconds, territory)


def _solve(
    cost: np.ndarray, rows: list[Row], lb: np.ndarray, ub: np.ndarray, limit: float
) -> object:
    r_idx = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
    c_idx = np.concatenate([r[0] for r in rows])
    vals = np.concatenate([r[1] for r in rows])
    matrix = coo_matrix((vals, (r_idx, c_idx)), shape=(len(rows), cost.size)).tocsr()
    lo, hi = np.array([r[2] for r in rows]), np.array([r[3] for r in rows])
    return milp(
        cost,
        constraints=LinearConstraint(matrix, lo, hi),
        integrality=np.ones(cost.size),
        bounds=Bounds(lb, ub),
        options={"time_limit": max(limit, 1.0), "mip_rel_gap": 1e-7},
    )


def _cuts(inst: TerritoryInstance, territory: np.ndarray, centre: np.ndarray, T: int) -> list[Row]:
    """Separator rows for every piece of a territory cut off from its centre:
    ``x[i, t] <= sum of x[s, t]`` over the piece's outside neighbours ``s``."""
    graph = nx.Graph()
    graph.add_nodes_from(range(inst.n))
    graph.add_edges_from(inst.edges.tolist())
    rows: list[Row] = []
    for t in np.unique(territory).tolist():
        members = np.flatnonzero(territory == t).tolist()
        for piece in nx.connected_components(graph.subgraph(members)):
            if int(centre[t]) in piece:
                continue
            border = sorted({v for u in piece for v in graph[u]} - piece)
            for i in piece:
                cols = [i * T + t] + [s * T + t for s in border]
                rows.append((cols, [1.0] + [-1.0] * len(border), -np.inf, 0.0))
    return rows


def mip_dispersion(inst: TerritoryInstance, time_limit: float, method: str = "cuts") -> MipResult:
    """Minimum dispersion plan with balance windows and contiguity, by HiGHS.

    ``method="cuts"``: the p-median (or fixed-centre) assignment with the windows, and
    separator rows added for every cut-off piece until the plan is contiguous (each
    round one MIP; the rows are valid for every contiguous plan, so a proven optimum
    of the last round is the optimum). ``method="flow"``: one MIP with the
    single-commodity flow rows.
    """
    if method == "flow":
        return _mip_flow(inst, time_limit)
    n, dist = inst.n, inst.distance
    chosen = bool((inst.base < 0).all())
    T = n if chosen else inst.k
    centre = np.arange(n) if chosen else inst.base
    rows: list[Row] = [([i * T + t for t in range(T)], [1.0] * T, 1.0, 1.0) for i in range(n)]
    if chosen:
        rows += [
            ([i * T + t, t * T + t], [1.0, -1.0], -np.inf, 0.0)
            for t in range(T)
            for i in range(n)
            if i != t
        ]
        rows.append(([t * T + t for t in range(T)], [1.0] * T, inst.k, inst.k))
    for t, j in itertools.product(range(T), range(inst.measures.shape[1])):
        w, cols = inst.measures[:, j], [i * T + t for i in range(n)]
        if chosen:
            rows.append((cols, list(w - np.eye(n)[t] * inst.lo[j]), 0.0, np.inf))
            rows.append((cols, list(w - np.eye(n)[t] * inst.hi[j]), -np.inf, 0.0))
        else:
            rows.append((cols, list(w), inst.lo[j], inst.hi[j]))
    # A unit away from its centre needs a neighbour in the same territory.
    nbr = [[] for _ in range(n)]  # type: list[list[int]]
    for a, b in inst.edges.tolist():
        nbr[a].append(b)
        nbr[b].append(a)
    for i, t in itertools.product(range(n), range(T)):
        if i != centre[t] and centre[t] not in nbr[i]:
            rows.append(
                (
                    [i * T + t] + [s * T + t for s in nbr[i]],
                    [1.0] + [-1.0] * len(nbr[i]),
                    -np.inf,
                    0.0,
                )
            )
    cost = dist[:, centre].ravel()
    lb, ub = np.zeros(n * T), np.ones(n * T)
    if not chosen:
        lb[inst.base * T + np.arange(T)] = 1.0
    start = time.perf_counter()
    bound = np.nan
    while True:
        left = time_limit - (time.perf_counter() - start)
        if left <= 0:
            return MipResult("unknown", np.inf, bound, time.perf_counter() - start, None)
        res = _solve(cost, rows, lb, ub, left)
        bound = float(getattr(res, "mip_dual_bound", np.nan) or np.nan)
        if res.x is None:
            status = "infeasible" if res.status == 2 else "unknown"
            return MipResult(status, np.inf, bound, time.perf_counter() - start, None)
        territory = np.argmax(res.x.reshape(n, T), axis=1)
        new = _cuts(inst, territory, centre, T)
        if not new:
            status = "optimal" if res.status == 0 else "feasible"
            return MipResult(status, float(res.fun), bound, time.perf_counter() - start, territory)
        if res.status != 0:  # out of time with a cut plan: only the bound is known
            return MipResult("unknown", np.inf, bound, time.perf_counter() - start, None)
        rows += new


# ---- the comparison ----------------------------------------------------------------------
def _connected(inst: TerritoryInstance, labels: np.ndarray) -> bool:
    graph = nx.Graph()
    graph.add_nodes_from(range(inst.n))
    graph.add_edges_from(inst.edges.tolist())
    return all(
        nx.is_connected(graph.subgraph(np.flatnonzero(labels == t).tolist()))
        for t in np.unique(labels)
    )


def _windows_hold(inst: TerritoryInstance, labels: np.ndarray) -> bool:
    for t in np.unique(labels):
        load = inst.measures[labels == t].sum(axis=0)
        if np.any(load > upper_limit(inst.hi)) or np.any(load < lower_limit(inst.lo)):
            return False
    return len(np.unique(labels)) == inst.k


def run(inst: TerritoryInstance, seconds: float, mip_limit: float | None) -> dict[str, object]:
    start = time.perf_counter()
    plan = search(inst.model, inst.geography, Deadline.after(seconds), seed=0)
    took = time.perf_counter() - start
    labels = inst.model.pair_rep[plan.chosen]
    row: dict[str, object] = {
        "instance": inst.name,
        "n": inst.n,
        "k": inst.k,
        "alloc": plan.objective if plan.feasible else np.inf,
        "alloc_s": took,
        "connected": _connected(inst, labels),
        "windows": _windows_hold(inst, labels),
        "disp_check": dispersion_value(inst.model, inst.geography, plan.chosen),
    }
    if mip_limit is not None:
        mip = mip_dispersion(inst, mip_limit)
        row.update(mip=mip.objective, mip_status=mip.status, mip_bound=mip.bound, mip_s=mip.seconds)
        if mip.territory is not None:
            row["mip_connected"] = _connected(inst, mip.territory)
            row["mip_windows"] = _windows_hold(inst, mip.territory)
        ref = mip.objective
        if np.isfinite(ref) and plan.feasible:
            row["gap_pct"] = 100.0 * (plan.objective - ref) / ref
        if np.isfinite(mip.bound) and mip.bound > 0 and plan.feasible:
            row["gap_lb_pct"] = 100.0 * (plan.objective - mip.bound) / mip.bound
    return row


def _fmt(row: dict[str, object]) -> str:
    def num(key: str, spec: str = ".1f") -> str:
        value = row.get(key)
        return "-" if value is None else format(value, spec)

    return (
        f"{row['instance']:<34} {row['n']:>5} {row['k']:>3} {num('alloc', '.2f'):>12} "
        f"{num('alloc_s'):>7} {'yes' if row['connected'] else 'NO':>5} "
        f"{'yes' if row['windows'] else 'NO':>5} {num('mip', '.2f'):>12} "
        f"{row.get('mip_status', '-'):>10} {num('mip_s'):>7} {num('gap_pct', '.2f'):>7} "
        f"{num('gap_lb_pct', '.2f'):>8}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="heuristic budget")
    parser.add_argument("--mip-limit", type=float, default=300.0, help="MIP time limit")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--large", action="store_true", help="add 500-2,000 unit instances")
    parser.add_argument("--output", default=str(RESULTS / "territory_search_s20.txt"))
    args = parser.parse_args(argv)
    small = []
    for seed in range(args.seeds):
        small += [tdp(30, 3, seed, 0.1), tdp(40, 4, seed, 0.1), tdp(60, 4, seed, 0.05)]
        small += [tdp(60, 5, seed, 0.1)]
        small += [textbook(seed, lo, hi) for lo, hi in WINDOWS]
        small += [textbook(seed, lo, hi, n=100, k=10) for lo, hi in WINDOWS]
    large = [tdp(n, k, 0) for n, k in ((500, 10), (1000, 20), (2000, 40))] if args.large else []
    header = (
        f"{'instance':<34} {'n':>5} {'k':>3} {'alloc':>12} {'s':>7} {'conn':>5} {'wind':>5} "
        f"{'mip':>12} {'mip_stat':>10} {'mip_s':>7} {'gap%':>7} {'gap_lb%':>8}"
    )
    lines = [header]
    print(header, flush=True)
    for inst in small + large:
        # The MIP has n*n assignment columns with chosen centres, n*k with fixed ones.
        exact = inst.n <= 60 or (inst.n <= 100 and bool((inst.base >= 0).all()))
        row = run(inst, args.seconds, args.mip_limit if exact else None)
        lines.append(_fmt(row))
        print(lines[-1], flush=True)
    Path(args.output).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
