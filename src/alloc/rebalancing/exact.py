"""CP-SAT in rebalancing: the exact polish of small problems, large-neighbourhood search
on big ones, and the shedding LNS for a tolerance out of reach. The budgets (and, in
tolerance mode, the tolerance) are constraints of the model; every plan CP-SAT returns
is re-scored exactly by a :class:`~alloc.rebalancing.plan.Plan` before it is kept."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from alloc.rebalancing.plan import Outcome, Plan, Snapshot, better, key_not_worse
from alloc.rebalancing.search import Search
from alloc.rebalancing.setup import Budget, Setup
from alloc.solvers.cpsat import Scaled
from alloc.solvers.deadline import Deadline

__all__ = ["CpOut", "cp_solve", "exact", "keep_if_better", "lns", "shed_lns"]


@dataclass
class CpOut:
    status: str
    chosen: np.ndarray | None  # complete assignment (units outside the sub-model unchanged)
    proven: bool  # optimal for the model solved, with exact data and objective


@dataclass
class _CpModel:
    """The CP-SAT model of a sub-problem under construction: one ``x`` per kept pair."""

    cp: Any
    x: list[Any]
    pairs: np.ndarray
    by_rep: dict[int, np.ndarray]
    base: np.ndarray  # (K, R) scaled loads of the fixed units
    cur_load: np.ndarray  # (K, R) scaled loads of the current plan, for hints
    weight: np.ndarray  # (P, K) scaled weights
    aux_hints: list[tuple[Any, int]]  # auxiliary variables at the current plan

    def load(self, k: int, r: int) -> Any:
        idx = self.by_rep[r]
        w = self.weight[self.pairs[idx], k]
        nz = w != 0
        return cp_model.LinearExpr.weighted_sum(
            [self.x[i] for i in idx[nz].tolist()], w[nz].tolist()
        ) + int(self.base[k, r])


def _sub_model(
    setup: Setup,
    scaled: Scaled,
    current: np.ndarray,
    units: np.ndarray,
    rep_mask: np.ndarray,
    frozen: bool,
) -> _CpModel:
    """Variables, one-rep-per-unit and hard rows of the units ``units`` on ``rep_mask``."""
    model, rows = setup.model, setup.rows
    R, K = model.n_reps, rows.n_rows
    start = model.unit_start
    in_sub = np.zeros(model.n_units, dtype=bool)
    in_sub[units] = True
    pairs = np.concatenate([np.arange(start[u], start[u + 1]) for u in units.tolist()])
    keep = rep_mask[model.pair_rep[pairs]]
    if frozen:
        keep &= setup.mp[pairs] == 0
    keep |= np.isin(pairs, current[units])  # the current pair always stays available
    pairs = pairs[keep]
    fixed = current[~in_sub]
    base = np.zeros((K, R), dtype=np.int64)
    cur_load = np.zeros((K, R), dtype=np.int64)
    for k in range(K):
        base[k] = np.bincount(
            model.pair_rep[fixed], weights=scaled.weight[fixed, k], minlength=R
        ).astype(np.int64)
        cur_load[k] = np.bincount(
            model.pair_rep[current], weights=scaled.weight[current, k], minlength=R
        ).astype(np.int64)
    cp = cp_model.CpModel()
    x = [cp.new_bool_var(f"x{p}") for p in pairs.tolist()]
    owner = model.pair_unit[pairs]
    order = np.argsort(owner, kind="stable")
    lo_i = np.searchsorted(owner[order], units)
    hi_i = np.searchsorted(owner[order], units, side="right")
    for a, b in zip(lo_i.tolist(), hi_i.tolist(), strict=True):
        cp.add_exactly_one([x[i] for i in order[a:b].tolist()])
    pair_rep = model.pair_rep[pairs]
    active = np.flatnonzero(rep_mask)
    by_rep = {int(r): np.flatnonzero(pair_rep == r) for r in active.tolist()}
    sub = _CpModel(cp, x, pairs, by_rep, base, cur_load, scaled.weight, [])
    for k in np.flatnonzero(rows.pen_scale > 0).tolist():
        for r in active.tolist():
            expr = sub.load(k, r)
            if scaled.hi[k, r] < 2**49:
                cp.add(expr <= int(scaled.hi[k, r]))
            if scaled.lo[k, r] > -(2**49):
                cp.add(expr >= int(scaled.lo[k, r]))
    return sub


def _budget_rows(
    sub: _CpModel, setup: Setup, budget: Budget, current: np.ndarray, units: np.ndarray
) -> Any:
    """Move and moved-value budgets as rows; returns the fewest-moves tie-break objective."""
    cp, x, pairs = sub.cp, sub.x, sub.pairs
    in_sub = np.zeros(setup.model.n_units, dtype=bool)
    in_sub[units] = True
    fixed = current[~in_sub]
    mv_factor = 1e6 / float(setup.mv.max()) if setup.mv.max(initial=0.0) > 0 else 1.0
    mv_int = np.ceil(setup.mv * mv_factor - 1e-9).astype(np.int64)
    moves_expr = cp_model.LinearExpr.weighted_sum(x, setup.mc[pairs].tolist())
    value_expr = cp_model.LinearExpr.weighted_sum(x, mv_int[pairs].tolist())
    if math.isfinite(budget.moves):
        cp.add(moves_expr <= int(budget.moves) - int(setup.mc[fixed].sum()))
    if math.isfinite(budget.value):
        # Values rounded up, the budget down: a CP-SAT plan is within the true budget.
        cp.add(
            value_expr
            <= int(math.floor(budget.value * mv_factor + 1e-9)) - int(mv_int[fixed].sum())
        )
    return moves_expr * (int(mv_int[pairs].sum()) + 1) + value_expr


def _tolerance_rows(
    sub: _CpModel, setup: Setup, scaled: Scaled, tol: np.ndarray, active: np.ndarray
) -> None:
    """Every targeted metric within its tolerance at every rep of the sub-model."""
    rows = setup.rows
    imb_rows = np.flatnonzero((rows.imb_weight != 0) | rows.is_max | rows.is_sum)
    for k in imb_rows.tolist():
        if not np.isfinite(tol[k]):
            continue
        share = rows.share[k] * scaled.factor[k]
        for r in active.tolist():
            expr = sub.load(k, r)
            sub.cp.add(expr <= int(math.floor((1 + tol[k]) * share[r] + 1e-9)))
            sub.cp.add(expr >= int(math.ceil((1 - tol[k]) * share[r] - 1e-9)))


@dataclass
class _Terms:
    """Objective terms of the imbalance rows and what they allow to be proven."""

    terms: list[Any]
    zvars: list[Any]  # exact max-norm variables (held at their optimum by a second solve)
    integral: bool  # the objective is exact: an optimum of the model is a true optimum


def _equal_share_max(
    sub: _CpModel,
    k: int,
    T: int,
    R: int,
    w: float,
    active: np.ndarray,
    outside: np.ndarray,
    gap_tol: float | None,
    out: _Terms,
) -> None:
    """Exact max norm with equal shares: ``z >= |R * load - T|`` (gap: beyond the tolerance)."""
    cp = sub.cp
    other = int(np.abs(R * sub.base[k, outside] - T).max(initial=0))
    z = cp.new_int_var(other, R * T + T, f"z{k}")
    for r in active.tolist():
        expr = sub.load(k, r)
        cp.add(z >= R * expr - T)
        cp.add(z >= T - R * expr)
    z_now = max(other, int(np.abs(R * sub.cur_load[k, active] - T).max(initial=0)))
    sub.aux_hints.append((z, z_now))
    if gap_tol is not None:
        g = cp.new_int_var(0, R * T + T, f"g{k}")
        cp.add(g >= z - int(math.floor(gap_tol * T)))
        sub.aux_hints.append((g, max(0, z_now - int(math.floor(gap_tol * T)))))
        out.terms.append(g * (w / T))
        out.integral = False
        return
    out.terms.append(z * (w / T))
    out.zvars.append(z)


def _scaled_deviation(
    sub: _CpModel,
    k: int,
    T: int,
    w: float,
    share: np.ndarray,
    is_max: bool,
    active: np.ndarray,
    outside: np.ndarray,
    gap_tol: float | None,
    out: _Terms,
) -> None:
    """Max norm (on a 1e6 scale of relative deviation) or sum norm, unequal shares."""
    cp = sub.cp
    out.integral = False
    Q = 1_000_000
    z: Any = None
    if is_max:
        base_out = sub.base[k, outside]
        dev_out = np.abs(base_out - share[outside]) / np.maximum(share[outside], 1)
        z_lo = int(math.ceil(float(dev_out.max(initial=0.0)) * Q - 1e-9))
        z = cp.new_int_var(z_lo, 100 * Q, f"z{k}")
        s_now = np.maximum(1, np.round(share[active])).astype(np.int64)
        dev_now = np.abs(sub.cur_load[k, active] - s_now) * Q / s_now
        z_now = min(100 * Q, max(z_lo, int(np.ceil(dev_now.max(initial=0.0)))))
        sub.aux_hints.append((z, z_now))
        if gap_tol is not None:
            g = cp.new_int_var(0, 100 * Q, f"g{k}")
            cp.add(g >= z - int(math.floor(gap_tol * Q)))
            sub.aux_hints.append((g, max(0, z_now - int(math.floor(gap_tol * Q)))))
            out.terms.append(g * (w / Q))
        else:
            out.terms.append(z * (w / Q))
    for r in active.tolist():
        s_r = max(1, int(round(share[r])))
        expr = sub.load(k, r)
        if is_max:
            cp.add(Q * (expr - s_r) <= s_r * z)
            cp.add(Q * (s_r - expr) <= s_r * z)
        else:
            d = cp.new_int_var(0, 2 * T + 2 * s_r, f"d{k}_{r}")
            cp.add(d >= expr - s_r)
            cp.add(d >= s_r - expr)
            sub.aux_hints.append((d, min(2 * T + 2 * s_r, abs(int(sub.cur_load[k, r]) - s_r))))
            out.terms.append(d * (w / s_r))


def _imbalance_terms(
    sub: _CpModel,
    setup: Setup,
    scaled: Scaled,
    tol: np.ndarray | None,
    rep_mask: np.ndarray,
    gap: bool,
    integral: bool,
) -> _Terms:
    """Objective terms of the imbalance rows (gap: distance of the targeted metrics to
    their tolerance only)."""
    rows, R = setup.rows, setup.model.n_reps
    out = _Terms([], [], integral)
    active, outside = np.flatnonzero(rep_mask), ~rep_mask
    imb_rows = np.flatnonzero((rows.imb_weight != 0) | rows.is_max | rows.is_sum)
    for k in imb_rows.tolist():
        T = int(scaled.total[k])
        w = float(rows.imb_weight[k])
        gap_tol: float | None = None
        if gap:
            assert tol is not None
            w = 1.0 if np.isfinite(tol[k]) else 0.0
            gap_tol = float(tol[k])
        if T <= 0 or w == 0:
            continue
        share = rows.share[k] * scaled.factor[k]
        if (rows.is_max[k] or gap) and scaled.equal_share[k]:
            _equal_share_max(sub, k, T, R, w, active, outside, gap_tol, out)
            continue
        is_max = bool(rows.is_max[k] or gap)
        _scaled_deviation(sub, k, T, w, share, is_max, active, outside, gap_tol, out)
    return out


def _solve(cp: Any, deadline: Deadline, seed: int) -> tuple[Any, Any]:
    """One CP-SAT solve on one worker until the deadline (not started when expired)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.symmetry_level = 0
    solver.parameters.absolute_gap_limit = 0.0
    solver.parameters.relative_gap_limit = 0.0
    if deadline.expired():
        return solver, None
    solver.parameters.max_time_in_seconds = deadline.seconds()
    return solver, solver.solve(cp)


def _hint(sub: _CpModel, chosen: np.ndarray, units: np.ndarray) -> None:
    on = set(chosen[units].tolist())
    for i, p in enumerate(sub.pairs.tolist()):
        sub.cp.add_hint(sub.x[i], p in on)


def _read(sub: _CpModel, solver: Any, setup: Setup, current: np.ndarray) -> np.ndarray:
    out = current.copy()
    values = np.array([solver.boolean_value(v) for v in sub.x], dtype=bool)
    sel = sub.pairs[values]
    out[setup.model.pair_unit[sel]] = sel
    return out


def cp_solve(
    setup: Setup,
    scaled: Scaled,
    current: np.ndarray,
    budget: Budget,
    tol: np.ndarray | None,
    units: np.ndarray,
    rep_mask: np.ndarray,
    deadline: Deadline,
    seed: int,
    frozen: bool,
    lexicographic: bool,
    gap: bool = False,
) -> CpOut:
    """CP-SAT on the units ``units`` and the reps in ``rep_mask``, the rest fixed.

    Model (``x[p]`` one per unit, hard rows as in :mod:`alloc.solvers.cpsat`, ``base``
    the loads of the fixed units)::

        sum_p mc[p] x[p] <= max_moves - fixed moves     (and the same for moved value)
        minimise objective                                    (no tolerance), or
        |base + load[k, r] - share[k, r]| <= tol[k] * share[k, r], minimise moves (tolerance)

    With ``lexicographic``, a second solve keeps every imbalance term at its optimum and
    minimises moves, then moved value. With ``gap`` (a tolerance not yet reached), the
    objective is the sum over targeted metrics of how far their maximum deviation exceeds
    the tolerance, with no tolerance constraint.
    """
    model = setup.model
    sub = _sub_model(setup, scaled, current, units, rep_mask, frozen)
    cp, pairs = sub.cp, sub.pairs
    tie = _budget_rows(sub, setup, budget, current, units)
    integral = scaled.error == 0 and not np.any(model.cost[pairs] != 0)
    terms = _Terms([], [], integral)
    if tol is not None and not gap:
        _tolerance_rows(sub, setup, scaled, tol, np.flatnonzero(rep_mask))
        cp.minimize(tie)
        terms.integral = True
    else:
        terms = _imbalance_terms(sub, setup, scaled, tol, rep_mask, gap, integral)
        cost = model.cost[pairs] if not gap else np.zeros(pairs.size)
        terms.terms.extend(sub.x[i] * float(cost[i]) for i in np.flatnonzero(cost != 0).tolist())
        cp.minimize(sum(terms.terms) if terms.terms else tie)
    _hint(sub, current, units)
    for var, value in sub.aux_hints:
        cp.add_hint(var, value)
    solver, code = _solve(cp, deadline, seed)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpOut("UNKNOWN" if code is None else solver.status_name(code), None, False)
    chosen = _read(sub, solver, setup, current)
    proven = code == cp_model.OPTIMAL and terms.integral
    if lexicographic and terms.terms and proven and terms.zvars:
        # Second solve: no imbalance term worse than its optimum, fewest moves, least value.
        for z in terms.zvars:
            cp.add(z <= int(solver.value(z)))
        cp.minimize(tie)
        cp.clear_hints()
        _hint(sub, chosen, units)
        solver, code = _solve(cp, deadline, seed)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = _read(sub, solver, setup, current)
        proven = code == cp_model.OPTIMAL
        if code is None:
            return CpOut("UNKNOWN", chosen, False)
    return CpOut(solver.status_name(code), chosen, proven)


def _find_feasible(
    setup: Setup,
    scaled: Scaled,
    outcome: Outcome,
    budget: Budget,
    tol: np.ndarray | None,
    deadline: Deadline,
    seed: int,
    t0: float,
) -> Outcome:
    """The search found no feasible plan: look for one with CP-SAT (protected customers
    frozen first) or prove that none exists within the budgets."""
    model = setup.model
    every = np.arange(model.n_units)
    all_reps = np.ones(model.n_reps, dtype=bool)
    protected = bool((setup.mp > 0).any())
    for frozen in (True, False) if protected else (False,):
        res = cp_solve(
            setup,
            scaled,
            outcome.chosen,
            budget,
            tol,
            every,
            all_reps,
            deadline,
            seed,
            frozen=frozen,
            lexicographic=False,
        )
        phases = [*outcome.phases, ("cp-sat", time.perf_counter() - t0, math.nan)]
        if res.chosen is not None:
            probe = Plan(setup, res.chosen, budget, tol)
            snap = probe.snapshot()
            if snap.key[0] == 0:
                found = Outcome(
                    snap.chosen,
                    True,
                    snap.key[1] > 0,
                    None if tol is None else probe.tol_gap() <= 1e-12,
                    phases,
                    "cp-sat",
                    notes=outcome.notes,
                )
                if found.protected_forced or deadline.expired(0.05):
                    return found
                return exact(setup, found, budget, tol, deadline, seed, t0)
        if res.status != "INFEASIBLE":
            return outcome  # out of time: nothing proven
        if not frozen:
            return Outcome(
                outcome.chosen,
                False,
                False,
                None,
                phases,
                "cp-sat",
                proven=True,
                notes=outcome.notes,
            )
    return outcome


def exact(
    setup: Setup,
    outcome: Outcome,
    budget: Budget,
    tol: np.ndarray | None,
    deadline: Deadline,
    seed: int,
    t0: float,
) -> Outcome:
    """Polish a small problem with one CP-SAT model of every unit and rep; when the search
    found no feasible plan, look for one (protected customers frozen first) or prove that
    none exists within the budgets."""
    model = setup.model
    scaled = Scaled.from_rows(model, setup.rows)
    if not outcome.feasible:
        return _find_feasible(setup, scaled, outcome, budget, tol, deadline, seed, t0)
    if outcome.protected_forced:
        return outcome
    res = cp_solve(
        setup,
        scaled,
        outcome.chosen,
        budget,
        tol,
        np.arange(model.n_units),
        np.ones(model.n_reps, dtype=bool),
        deadline,
        seed,
        frozen=bool((setup.mp > 0).any()),
        lexicographic=True,
        gap=tol is not None and outcome.tolerance_reached is False,
    )
    phases = [*outcome.phases, ("cp-sat", time.perf_counter() - t0, math.nan)]
    if res.chosen is None:
        return replace(outcome, feasible=True, protected_forced=False, phases=phases, proven=False)
    probe = Plan(setup, outcome.chosen, budget, tol)
    old = probe.snapshot()
    probe.set_chosen(res.chosen)
    new = probe.snapshot()
    if not probe.within_budget(new) or new.key[0] > 0 or not key_not_worse(new.key, old.key):
        return replace(outcome, feasible=True, protected_forced=False, phases=phases, proven=False)
    take = better(new, old) or res.proven
    snap = new if take else old
    probe.set_chosen(snap.chosen)
    reached = None if tol is None else probe.tol_gap() <= 1e-12
    return Outcome(
        snap.chosen,
        True,
        False,
        reached,
        phases,
        "cp-sat" if take else outcome.found_by,
        res.proven,
        snap.key[-1] if res.proven else outcome.bound,
        outcome.notes,
    )


def lns(
    search: Search, best: Snapshot, deadline: Deadline, seed: int, patience: int = 12
) -> Snapshot:
    """Large-neighbourhood search: re-optimise the customers of a few reps with CP-SAT,
    the budget as a constraint; stop after ``patience`` rounds without improvement."""
    setup = search.setup
    model, rows = setup.model, setup.rows
    R = model.n_reps
    scaled = Scaled.from_rows(model, rows)
    rng = np.random.default_rng(seed + 7)
    per_rep = max(1.0, model.n_units / R)
    k = int(np.clip(round(300 / per_rep), 2, min(R, 6)))
    search.restore(best)
    idle = 0
    while idle < patience and not deadline.expired(0.1):
        dev = (search.loads - rows.share) / rows.share
        picked: set[int] = set()
        soft = search.soft if search.soft.size else np.flatnonzero(search.is_imb)
        if soft.size and rng.random() < 0.8:
            kk = int(soft[rng.integers(soft.size)])
            picked.update((int(np.argmax(dev[kk])), int(np.argmin(dev[kk]))))
        while len(picked) < k:
            picked.add(int(rng.integers(R)))
        mask = np.zeros(R, dtype=bool)
        mask[list(picked)] = True
        units = np.flatnonzero(mask[search.rep_of])
        if units.size == 0:
            idle += 1
            continue
        round_end = deadline.share(1.0, reserve=0.05, cap=1.5)
        if round_end.remaining() < 0.05:
            break
        res = cp_solve(
            setup,
            scaled,
            search.chosen,
            search.budget,
            search.tol,
            units,
            mask,
            round_end,
            int(rng.integers(1 << 30)),
            search.frozen,
            lexicographic=False,
            gap=search.tol is not None and search.tol_gap() > 1e-12,
        )
        if res.chosen is None:
            idle += 1
            continue
        kept = keep_if_better(search, best, res.chosen)
        best, idle = (kept, 0) if kept is not None else (best, idle + 1)
    search.restore(best)
    return best


def shed_lns(search: Search, best: Snapshot, deadline: Deadline, seed: int) -> Snapshot:
    """Large-neighbourhood search for a tolerance out of reach within a move budget.

    The reps beyond the tolerance can usually only get there by shedding, one move per
    customer, so the neighbourhood is what decides how: the heaviest units (in a
    targeted row) of each such rep, a random number of them between a quarter of and
    the whole move budget, every unit moved so far and every forced unit, free to go to any rep.
    CP-SAT minimises how far the targeted metrics exceed their tolerance, the budgets
    as constraints; a round is kept only if the plan improves."""
    setup = search.setup
    model, rows = setup.model, setup.rows
    assert search.tol is not None
    targeted = np.flatnonzero(search.x_weight != 0)
    scaled = Scaled.from_rows(model, rows)
    rng = np.random.default_rng(seed + 17)
    movable = np.diff(model.unit_start) > 1
    every_rep = np.ones(model.n_reps, dtype=bool)
    span = max(2.0, search.budget.moves if math.isfinite(search.budget.moves) else 20.0)
    search.restore(best)
    idle = 0
    while idle < 4 and not deadline.expired(0.2) and search.tol_gap() > 1e-12:
        dev = np.abs(search.loads[targeted] - rows.share[targeted]) / rows.share[targeted]
        beyond = (dev > search.tol[targeted][:, None] + 1e-12).any(axis=0)
        free = (setup.mc[search.chosen] > 0) | (setup.home < 0)
        size = np.abs(rows.weight[search.chosen][:, targeted]).max(axis=1)
        n_heavy = int(rng.uniform(0.25, 1.0) * span)
        for r in np.flatnonzero(beyond).tolist():
            at = np.flatnonzero((search.rep_of == r) & movable)
            free[at[np.argsort(-size[at], kind="stable")[:n_heavy]]] = True
        units = np.flatnonzero(free & movable)
        round_end = deadline.share(1.0, reserve=0.1, cap=6.0)
        if units.size == 0 or round_end.remaining() < 0.2:
            break
        res = cp_solve(
            setup,
            scaled,
            search.chosen,
            search.budget,
            search.tol,
            units,
            every_rep,
            round_end,
            int(rng.integers(1 << 30)),
            search.frozen,
            lexicographic=False,
            gap=True,
        )
        if res.chosen is None:
            idle += 1
            continue
        kept = keep_if_better(search, best, res.chosen)
        best, idle = (kept, 0) if kept is not None else (best, idle + 1)
    search.restore(best)
    return best


def keep_if_better(search: Search, best: Snapshot, chosen: np.ndarray) -> Snapshot | None:
    """Move the search to ``chosen``; return its snapshot if it is within the budgets and
    better than ``best``, else restore ``best`` and return None."""
    search.set_chosen(chosen)
    snap = search.snapshot()
    if search.within_budget(snap) and better(snap, best):
        return snap
    search.restore(best)
    return None
