"""CP-SAT formulations: the exact model, large-neighbourhood search, infeasibility cores.

Model (for the units ``U'`` and reps ``R'`` being optimised, everything else fixed)::

    x[p] in {0, 1}                       for each eligible pair p = (u, r), u in U', r in R'
    sum_{p of u} x[p] = 1                for each unit u in U'
    lo[k, r] <= base[k, r] + sum_p w[k, p] x[p] <= hi[k, r]     each hard row k, r in R'
    z[t] >= |R * load[t, r] - T[t]|      max-norm imbalance with equal shares (exact)
    minimise  sum_p cost[p] x[p] + sum_t weight[t] * z[t] / T[t]

Float data are scaled to integers (rows to about 1e6 per largest weight). The scaling is
explicit: :class:`Scaled` records its largest relative error, and every solution CP-SAT
returns is re-scored exactly by the caller before it is used. A complete hint (every
``x`` and auxiliary variable implied by it) is passed and ``symmetry_level=0`` keeps the
hint valid in presolve.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from alloc.data.model import Model
from alloc.solvers.state import Rows

__all__ = ["CpResult", "Scaled", "infeasible_core", "solve_cpsat"]

_TARGET = 1_000_000


def _scale_factor(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0 or finite.max() == 0:
        return 1.0
    if np.allclose(finite, np.round(finite)) and finite.max() <= 1e9:
        return 1.0
    return _TARGET / float(finite.max())


@dataclass(frozen=True, eq=False)
class Scaled:
    """Integer-scaled rows of a model for CP-SAT."""

    weight: np.ndarray  # (P, K) int64
    lo: np.ndarray  # (K, R) int64 (very negative when absent)
    hi: np.ndarray  # (K, R) int64 (very large when absent)
    factor: np.ndarray  # (K,)
    total: np.ndarray  # (K,) int64: total of each imbalance row (0 for hard rows)
    equal_share: np.ndarray  # (K,) bool
    error: float  # largest relative rounding error of a weight
    # Share weights as whole numbers: share[k, r] = total[k] * share_num[k, r] / share_den[k]
    # (share_den 0 when the weights are not small-denominator rationals).
    share_num: np.ndarray  # (K, R) int64
    share_den: np.ndarray  # (K,) int64

    @classmethod
    def from_rows(cls, model: Model, rows: Rows) -> Scaled:
        K, R = rows.n_rows, model.n_reps
        weight = np.zeros((model.n_pairs, K), dtype=np.int64)
        lo = np.full((K, R), -(2**50), dtype=np.int64)
        hi = np.full((K, R), 2**50, dtype=np.int64)
        factor = np.ones(K)
        total = np.zeros(K, dtype=np.int64)
        equal = np.zeros(K, dtype=bool)
        share_num = np.zeros((K, R), dtype=np.int64)
        share_den = np.zeros(K, dtype=np.int64)
        error = 0.0
        first_pair = model.unit_start[:-1]
        for k in range(K):
            w = rows.weight[:, k]
            f = _scale_factor(w)
            factor[k] = f
            wi = np.round(w * f).astype(np.int64)
            nz = w != 0
            if nz.any():
                error = max(error, float(np.max(np.abs(wi[nz] / f - w[nz]) / np.abs(w[nz]))))
            weight[:, k] = wi
            fin_lo, fin_hi = np.isfinite(rows.lo[k]), np.isfinite(rows.hi[k])
            lo[k, fin_lo] = np.ceil(rows.lo[k, fin_lo] * f - 1e-9).astype(np.int64)
            hi[k, fin_hi] = np.floor(rows.hi[k, fin_hi] * f + 1e-9).astype(np.int64)
            if rows.imb_weight[k] != 0 or rows.is_max[k] or rows.is_sum[k]:
                total[k] = int(wi[first_pair].sum()) if model.n_pairs else 0
                equal[k] = bool(np.allclose(rows.share[k], rows.share[k][0]))
                share_den[k], share_num[k] = _rational_weights(rows.share[k])
        return cls(weight, lo, hi, factor, total, equal, error, share_num, share_den)


def _rational_weights(share: np.ndarray) -> tuple[int, np.ndarray]:
    """(M, m) with share / sum(share) == m / M for whole m and a small M, else (0, 0s)."""
    q = share / share.sum()
    for den in range(1, 1001):
        num = np.round(q * den)
        if np.allclose(q * den, num, rtol=0, atol=1e-9) and (num > 0).all():
            return den, num.astype(np.int64)
    return 0, np.zeros(share.size, dtype=np.int64)


@dataclass(frozen=True)
class CpResult:
    status: str  # "OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"
    chosen: np.ndarray | None  # chosen pair per unit of the optimised set (global ids)
    bound: float  # lower bound on the (scaled) objective of the optimised part
    wall_time: float


def _build(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    units: np.ndarray,
    rep_mask: np.ndarray,
    base: np.ndarray,
    other_dev: np.ndarray,
    hint: np.ndarray | None,
    pair_mask: np.ndarray | None = None,
) -> tuple[cp_model.CpModel, np.ndarray, list[cp_model.IntVar]]:
    cp = cp_model.CpModel()
    start = model.unit_start
    pairs = (
        np.concatenate([np.arange(start[u], start[u + 1]) for u in units.tolist()])
        if units.size
        else np.zeros(0, np.int64)
    )
    keep = rep_mask[model.pair_rep[pairs]]
    if pair_mask is not None:
        keep &= pair_mask[pairs]
    pairs = pairs[keep]
    x = [cp.new_bool_var(f"x{p}") for p in pairs.tolist()]
    hint_set = set() if hint is None else set(hint[units].tolist())
    # Each unit exactly one rep.
    owner = model.pair_unit[pairs]
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], units)
    ends = np.searchsorted(owner[order], units, side="right")
    for a, b in zip(bounds.tolist(), ends.tolist(), strict=True):
        cp.add_exactly_one([x[i] for i in order[a:b].tolist()])
    active = np.flatnonzero(rep_mask)
    pair_rep = model.pair_rep[pairs]
    by_rep = {int(r): np.flatnonzero(pair_rep == r) for r in active}
    K = rows.n_rows
    objective_terms: list[tuple[cp_model.LinearExprT, float]] = []
    aux_hints: list[tuple[cp_model.IntVar, int]] = []
    hint_loads = None
    if hint is not None:
        hp = hint[units]
        hp = hp[rep_mask[model.pair_rep[hp]]]
        hint_loads = np.zeros((K, model.n_reps), dtype=np.int64)
        for k in range(K):
            hint_loads[k] = np.bincount(
                model.pair_rep[hp], weights=scaled.weight[hp, k], minlength=model.n_reps
            ).astype(np.int64)
        hint_loads += base
    R = model.n_reps
    for k in range(K):
        soft = bool(rows.is_max[k] or rows.is_sum[k])
        for r, idx in by_rep.items():
            w = scaled.weight[pairs[idx], k]
            nz = w != 0
            expr = cp_model.LinearExpr.weighted_sum(
                [x[i] for i in idx[nz].tolist()], w[nz].tolist()
            )
            b = int(base[k, r])
            if not soft:
                con_lo, con_hi = int(scaled.lo[k, r]) - b, int(scaled.hi[k, r]) - b
                if con_hi < 2**49:
                    cp.add(expr <= con_hi)
                if con_lo > -(2**49):
                    cp.add(expr >= con_lo)
        if not soft:
            continue
        T = int(scaled.total[k])
        weight = float(rows.imb_weight[k])
        if T <= 0:
            continue
        share = rows.share[k] * scaled.factor[k]
        if rows.is_max[k]:
            # z in units of 1/(R*...) : equal shares exact, else relative deviation x 1e6.
            if scaled.equal_share[k]:
                z = cp.new_int_var(0, R * T + T, f"z{k}")
                cp.add(z >= int(math.ceil(other_dev[k] * T - 1e-9)))
                for r, idx in by_rep.items():
                    w = scaled.weight[pairs[idx], k]
                    expr = cp_model.LinearExpr.weighted_sum(
                        [x[i] for i in idx.tolist()], w.tolist()
                    )
                    cp.add(z >= R * (expr + int(base[k, r])) - T)
                    cp.add(z >= T - R * (expr + int(base[k, r])))
                objective_terms.append((z, weight / T))
                if hint_loads is not None:
                    dev = np.abs(R * hint_loads[k, active] - T)
                    val = max(int(dev.max(initial=0)), int(math.ceil(other_dev[k] * T - 1e-9)))
                    aux_hints.append((z, val))
            else:
                Q = 1_000_000
                z = cp.new_int_var(0, 100 * Q, f"z{k}")
                cp.add(z >= int(math.ceil(other_dev[k] * Q - 1e-9)))
                for r, idx in by_rep.items():
                    w = scaled.weight[pairs[idx], k]
                    s_r = max(1, int(round(share[r])))
                    expr = cp_model.LinearExpr.weighted_sum(
                        [x[i] for i in idx.tolist()], w.tolist()
                    )
                    load = expr + int(base[k, r])
                    cp.add(Q * (load - s_r) <= s_r * z)
                    cp.add(Q * (s_r - load) <= s_r * z)
                objective_terms.append((z, weight / Q))
        elif scaled.share_den[k] > 0:
            # Sum norm, exact: |load - T m/M| / (T m/M) = |M load - T m| / (T m).
            den = int(scaled.share_den[k])
            for r, idx in by_rep.items():
                w = scaled.weight[pairs[idx], k]
                m_r = int(scaled.share_num[k, r])
                d = cp.new_int_var(0, den * T + T * m_r, f"d{k}_{r}")
                expr = cp_model.LinearExpr.weighted_sum([x[i] for i in idx.tolist()], w.tolist())
                load = expr + int(base[k, r])
                cp.add(d >= den * load - T * m_r)
                cp.add(d >= T * m_r - den * load)
                objective_terms.append((d, weight / (T * m_r)))
                if hint_loads is not None:
                    aux_hints.append((d, int(abs(den * hint_loads[k, r] - T * m_r))))
        else:  # sum norm, shares rounded to whole scaled units
            for r, idx in by_rep.items():
                w = scaled.weight[pairs[idx], k]
                s_r = max(1, int(round(share[r])))
                d = cp.new_int_var(0, 2 * T + 2 * s_r, f"d{k}_{r}")
                expr = cp_model.LinearExpr.weighted_sum([x[i] for i in idx.tolist()], w.tolist())
                cp.add(d >= expr + int(base[k, r]) - s_r)
                cp.add(d >= s_r - expr - int(base[k, r]))
                objective_terms.append((d, weight / s_r))
                if hint_loads is not None:
                    aux_hints.append((d, int(abs(hint_loads[k, r] - s_r))))
    cost = model.cost[pairs]
    nzc = np.flatnonzero(cost != 0)
    if not objective_terms and np.allclose(cost[nzc], np.round(cost[nzc]), rtol=0, atol=1e-9):
        # Whole-number costs: an integer objective keeps CP-SAT's LP reasoning exact
        # (a float objective is rescaled internally and searches markedly worse).
        if nzc.size:
            cp.minimize(
                cp_model.LinearExpr.weighted_sum(
                    [x[i] for i in nzc.tolist()], np.round(cost[nzc]).astype(np.int64).tolist()
                )
            )
    else:
        expr_terms: list[Any] = [x[i] * float(cost[i]) for i in nzc.tolist()]
        expr_terms += [v * c for v, c in objective_terms]
        if expr_terms:
            cp.minimize(sum(expr_terms))
    if hint is not None:
        for i, p in enumerate(pairs.tolist()):
            cp.add_hint(x[i], p in hint_set)
        for var, val in aux_hints:
            cp.add_hint(var, val)
    return cp, pairs, x


def solve_cpsat(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    *,
    time_limit: float,
    seed: int = 0,
    workers: int = 1,
    hint: np.ndarray | None = None,
    units: np.ndarray | None = None,
    rep_mask: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    pair_mask: np.ndarray | None = None,
    stop: threading.Event | None = None,
) -> CpResult:
    """Solve the model (or the sub-problem of ``units`` on reps in ``rep_mask``).

    ``stop``, when set during the search, ends it early with the best plan so far (the
    portfolio sets it when HiGHS, running beside, has proven its plan optimal).

    ``fixed`` is a complete assignment whose other units stay where they are.
    ``pair_mask`` (one flag per pair) keeps only the flagged pairs: a *core* problem
    whose optimum is optimal for the whole model only if the dropped pairs provably
    cannot improve it (see :func:`alloc.solvers.bounds.lagrangian`).
    """
    t0 = time.perf_counter()
    K, R = rows.n_rows, model.n_reps
    if units is None:
        units = np.arange(model.n_units)
    if rep_mask is None:
        rep_mask = np.ones(R, dtype=bool)
    base = np.zeros((K, R), dtype=np.int64)
    other_dev = np.zeros(K)
    if fixed is not None and units.size < model.n_units:
        keep = np.ones(model.n_units, dtype=bool)
        keep[units] = False
        fp = fixed[keep]
        for k in range(K):
            base[k] = np.bincount(
                model.pair_rep[fp], weights=scaled.weight[fp, k], minlength=R
            ).astype(np.int64)
        for k in np.flatnonzero(rows.is_max).tolist():
            T = max(int(scaled.total[k]), 1)
            if scaled.equal_share[k]:
                dev = np.abs(R * base[k, ~rep_mask] - T) / T
            else:
                share = rows.share[k, ~rep_mask] * scaled.factor[k]
                dev = np.abs(base[k, ~rep_mask] - share) / np.maximum(share, 1)
            other_dev[k] = float(dev.max(initial=0.0))
    cp, pairs, x = _build(model, rows, scaled, units, rep_mask, base, other_dev, hint, pair_mask)
    solver = cp_model.CpSolver()
    # The time limit covers building the model too.
    solver.parameters.max_time_in_seconds = max(0.05, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    solver.parameters.symmetry_level = 0
    solver.parameters.log_search_progress = False
    if stop is None:
        code = solver.solve(cp)
    else:
        code = _solve_until(solver, cp, stop)
    name = solver.status_name(code)
    chosen = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        sel = pairs[values]
        chosen = np.full(model.n_units, -1, dtype=np.int64) if fixed is None else fixed.copy()
        chosen[model.pair_unit[sel]] = sel
    bound = (
        solver.best_objective_bound if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else -math.inf
    )
    return CpResult(name, chosen, float(bound), time.perf_counter() - t0)


def _solve_until(solver: Any, cp: Any, stop: threading.Event) -> Any:
    """``solver.solve(cp)``, stopped early once ``stop`` is set."""
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if stop.wait(0.05):
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return solver.solve(cp)
    finally:
        finished.set()
        watcher.join()


def infeasible_core(
    model: Model, rows: Rows, scaled: Scaled, *, time_limit: float, seed: int = 0
) -> tuple[str, list[object]]:
    """Solve for feasibility with one assumption literal per rule; return the status and
    a set of rules that together cannot be satisfied (when CP-SAT proves infeasibility).
    """
    sources = []
    for con in model.constraints:
        if con.source not in sources:
            sources.append(con.source)
    cp = cp_model.CpModel()
    lits = {src: cp.new_bool_var(f"rule{i}") for i, src in enumerate(sources)}
    cp_full, _, _ = _build_with(cp, model, rows, scaled, lits)
    cp_full.add_assumptions(list(lits.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    code = solver.solve(cp_full)
    if code != cp_model.INFEASIBLE:
        return solver.status_name(code), []
    core = set(solver.sufficient_assumptions_for_infeasibility())
    return "INFEASIBLE", [src for src, lit in lits.items() if lit.index in core]


def _build_with(
    cp: cp_model.CpModel,
    model: Model,
    rows: Rows,
    scaled: Scaled,
    lits: dict[object, cp_model.IntVar],
) -> tuple[cp_model.CpModel, np.ndarray, list[cp_model.IntVar]]:
    """Hard rows only, each enforced by its rule's literal, built into ``cp``."""
    P = model.n_pairs
    x = [cp.new_bool_var(f"x{p}") for p in range(P)]
    start = model.unit_start
    for u in range(model.n_units):
        cp.add_exactly_one(x[start[u] : start[u + 1]])
    for k, con in enumerate(model.constraints):
        lit = lits[con.source]
        for r in range(model.n_reps):
            idx = np.flatnonzero(model.pair_rep == r)
            w = scaled.weight[idx, k]
            expr = cp_model.LinearExpr.weighted_sum([x[i] for i in idx.tolist()], w.tolist())
            if scaled.hi[k, r] < 2**49:
                cp.add(expr <= int(scaled.hi[k, r])).only_enforce_if(lit)
            if scaled.lo[k, r] > -(2**49):
                cp.add(expr >= int(scaled.lo[k, r])).only_enforce_if(lit)
    return cp, np.arange(P), x
