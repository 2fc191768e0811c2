"""CP-SAT in rebalancing: the exact polish of small problems, large-neighbourhood search
on big ones, and the shedding LNS for a tolerance out of reach. The budgets (and, in
tolerance mode, the tolerance) are constraints of the model; every plan CP-SAT returns
is re-scored exactly by a `Plan` before it is kept."""

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
from alloc.solvers.cpsat import CpBuild, add_imbalance, build_model, fixed_loads, run
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import Scaled

__all__ = ["CpOut", "cp_solve", "exact", "keep_if_better", "lns", "shed_lns"]


@dataclass
class CpOut:
    status: str
    chosen: np.ndarray | None  # complete assignment (units outside the sub-model unchanged)
    proven: bool  # optimal for the model solved, with exact data and objective


_Q = 1_000_000  # scale of relative deviations in the gap terms with unequal shares


def _pair_mask(
    setup: Setup, current: np.ndarray, units: np.ndarray, frozen: bool
) -> np.ndarray | None:
    """Frozen: no pair that moves a protected customer, but the current pairs stay."""
    if not frozen:
        return None
    mask = setup.mp == 0
    mask[current[units]] = True
    return mask


def _budget_rows(
    b: CpBuild, setup: Setup, budget: Budget, current: np.ndarray, units: np.ndarray
) -> Any:
    """Move and moved-value budgets as rows; returns the fewest-moves tie-break objective."""
    in_sub = np.zeros(setup.model.n_units, dtype=bool)
    in_sub[units] = True
    fixed = current[~in_sub]
    mv_factor = 1e6 / float(setup.mv.max()) if setup.mv.max(initial=0.0) > 0 else 1.0
    mv_int = np.ceil(setup.mv * mv_factor - 1e-9).astype(np.int64)
    moves_hi = value_hi = None
    if math.isfinite(budget.moves):
        moves_hi = int(budget.moves) - int(setup.mc[fixed].sum())
    if math.isfinite(budget.value):
        # Values rounded up, the budget down: a CP-SAT plan is within the true budget.
        value_hi = int(math.floor(budget.value * mv_factor + 1e-9)) - int(mv_int[fixed].sum())
    moves_expr = b.pair_sum(setup.mc[b.pairs])
    value_expr = b.pair_sum(mv_int[b.pairs])
    b.add_row(moves_expr, hi=moves_hi)
    b.add_row(value_expr, hi=value_hi)
    return moves_expr * (int(mv_int[b.pairs].sum()) + 1) + value_expr


def _imbalance_rows(setup: Setup) -> np.ndarray:
    rows = setup.rows
    return np.flatnonzero((rows.imb_weight != 0) | rows.is_max | rows.is_sum)


def _tolerance_rows(b: CpBuild, setup: Setup, scaled: Scaled, tol: np.ndarray) -> None:
    """Every targeted metric within its tolerance at every rep of the sub-model."""
    for k in _imbalance_rows(setup).tolist():
        if not np.isfinite(tol[k]):
            continue
        share = setup.rows.share[k] * scaled.factor[k]
        for r in b.active.tolist():
            b.add_row(
                b.load(k, r),
                lo=int(math.ceil((1 - tol[k]) * share[r] - 1e-9)),
                hi=int(math.floor((1 + tol[k]) * share[r] + 1e-9)),
            )


def _gap_equal_share(b: CpBuild, k: int, T: int, tol_k: float) -> Any:
    """``z >= |R load - T|`` (exact, equal shares); returns the excess over the tolerance."""
    cp, R = b.cp, b.model.n_reps
    assert b.hint_loads is not None
    other = int(np.abs(R * b.base[k, ~b.rep_mask] - T).max(initial=0))
    z = cp.new_int_var(other, R * T + T, f"z{k}")
    for r in b.active.tolist():
        load = b.load(k, r)
        cp.add(z >= R * load - T)
        cp.add(z >= T - R * load)
    z_now = max(other, int(np.abs(R * b.hint_loads[k, b.active] - T).max(initial=0)))
    g = cp.new_int_var(0, R * T + T, f"g{k}")
    cp.add(g >= z - int(math.floor(tol_k * T)))
    b.add_hint(z, z_now)
    b.add_hint(g, max(0, z_now - int(math.floor(tol_k * T))))
    return g * (1.0 / T)


def _gap_weighted(b: CpBuild, k: int, share: np.ndarray, tol_k: float) -> Any:
    """Max relative deviation on a 1e6 scale (unequal shares); returns the excess."""
    cp, outside, active = b.cp, ~b.rep_mask, b.active
    assert b.hint_loads is not None
    dev_out = np.abs(b.base[k, outside] - share[outside]) / np.maximum(share[outside], 1)
    z_lo = int(math.ceil(float(dev_out.max(initial=0.0)) * _Q - 1e-9))
    z = cp.new_int_var(z_lo, 100 * _Q, f"z{k}")
    s_now = np.maximum(1, np.round(share[active])).astype(np.int64)
    dev_now = np.abs(b.hint_loads[k, active] - s_now) * _Q / s_now
    z_now = min(100 * _Q, max(z_lo, int(np.ceil(dev_now.max(initial=0.0)))))
    g = cp.new_int_var(0, 100 * _Q, f"g{k}")
    cp.add(g >= z - int(math.floor(tol_k * _Q)))
    for r in active.tolist():
        s_r = max(1, int(round(share[r])))
        load = b.load(k, r)
        cp.add(_Q * (load - s_r) <= s_r * z)
        cp.add(_Q * (s_r - load) <= s_r * z)
    b.add_hint(z, z_now)
    b.add_hint(g, max(0, z_now - int(math.floor(tol_k * _Q))))
    return g * (1.0 / _Q)


def _gap_terms(b: CpBuild, setup: Setup, scaled: Scaled, tol: np.ndarray) -> list[Any]:
    """How far each targeted metric's maximum deviation exceeds its tolerance."""
    terms = []
    for k in _imbalance_rows(setup).tolist():
        T = int(scaled.total[k])
        if T <= 0 or not np.isfinite(tol[k]):
            continue
        if scaled.equal_share[k]:
            terms.append(_gap_equal_share(b, k, T, float(tol[k])))
        else:
            share = setup.rows.share[k] * scaled.factor[k]
            terms.append(_gap_weighted(b, k, share, float(tol[k])))
    return terms


def _hint_weighted_max(b: CpBuild, setup: Setup, scaled: Scaled, other_dev: np.ndarray) -> None:
    """Hint the max-norm variables of rows with unequal shares at the current plan (the
    builder leaves them unhinted; rebalancing always gave CP-SAT a complete hint)."""
    assert b.hint_loads is not None
    rows, active = setup.rows, b.active
    hinted = set(b.cp.proto.solution_hint.vars)
    for k, z in b.z.items():
        if scaled.equal_share[k] or z.index in hinted:
            continue
        share = rows.share[k] * scaled.factor[k]
        z_lo = int(math.ceil(float(other_dev[k]) * _Q - 1e-9))
        s_now = np.maximum(1, np.round(share[active])).astype(np.int64)
        dev_now = np.abs(b.hint_loads[k, active] - s_now) * _Q / s_now
        b.add_hint(z, min(100 * _Q, max(z_lo, int(np.ceil(dev_now.max(initial=0.0))))))


def _objective_terms(
    b: CpBuild, setup: Setup, scaled: Scaled, other_dev: np.ndarray
) -> tuple[list[Any], list[Any], bool]:
    """The problem's objective with the builder's imbalance terms (exact max norm with
    equal shares, exact sum norm with rational shares).

    Returns the terms, the expressions a second solve holds at their optimum (one per
    exact imbalance row) and whether an optimum of the model is a true optimum.
    """
    rows, model = setup.rows, setup.model
    add_imbalance(b, other_dev)  # after build_model(hint=...): its variables are hinted
    _hint_weighted_max(b, setup, scaled, other_dev)
    cost = model.cost[b.pairs]
    priced = np.flatnonzero(cost != 0)
    # Whole-number costs (points, minutes, whole money) can be held exactly at their
    # optimum in the second solve; fractional ones cannot, so that plan is not proven.
    whole = bool(np.allclose(cost[priced], np.round(cost[priced]), rtol=0, atol=1e-9))
    exact = scaled.error == 0 and whole
    held: list[Any] = []
    if priced.size and whole:
        held.append(
            cp_model.LinearExpr.weighted_sum(
                [b.x[i] for i in priced.tolist()], np.round(cost[priced]).astype(np.int64).tolist()
            )
        )
    for k in _imbalance_rows(setup).tolist():
        reps = [r for (kk, r) in b.d if kk == k]
        if rows.imb_weight[k] == 0 or (k not in b.z and not reps):
            continue  # no term: a zero weight or an empty row
        if rows.is_max[k] and scaled.equal_share[k]:
            held.append(b.z[k])
        elif rows.is_sum[k] and scaled.share_den[k] > 0:
            # Terms d / (T m_r) of one row, held as a whole-number sum (common multiple of m).
            m = [int(scaled.share_num[k, r]) for r in reps]
            lcm = math.lcm(*m)
            held.append(sum(b.d[k, r] * (lcm // m_r) for r, m_r in zip(reps, m, strict=True)))
        else:
            exact = False
    terms = [v * c for v, c in b.terms if c != 0]
    terms.extend(b.x[i] * float(cost[i]) for i in np.flatnonzero(cost != 0).tolist())
    return terms, held, exact


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

    The model is `alloc.solvers.cpsat.build_model`'s (one variable per pair, one
    rep per unit, the hard rows with the fixed units' loads), plus::

        sum_p mc[p] x[p] <= max_moves - fixed moves     (and the same for moved value)
        minimise objective                                    (no tolerance), or
        |base + load[k, r] - share[k, r]| <= tol[k] * share[k, r], minimise moves (tolerance)

    With ``lexicographic``, a second solve keeps every exact imbalance term at its
    optimum and minimises moves, then moved value. With ``gap`` (a tolerance not yet
    reached), the objective is the sum over targeted metrics of how far their maximum
    deviation exceeds the tolerance, with no tolerance constraint.
    """
    model, rows = setup.model, setup.rows
    base, other_dev = fixed_loads(model, rows, scaled, units, rep_mask, current)
    b = build_model(
        model,
        rows,
        scaled,
        units=units,
        rep_mask=rep_mask,
        base=base,
        hint=current,
        pair_mask=_pair_mask(setup, current, units, frozen),
        objective=False,
    )
    tie = _budget_rows(b, setup, budget, current, units)
    terms: list[Any] = []
    held: list[Any] = []
    if tol is not None and not gap:
        _tolerance_rows(b, setup, scaled, tol)
        integral = True
    elif gap:
        assert tol is not None
        terms, integral = _gap_terms(b, setup, scaled, tol), False
    else:
        terms, held, integral = _objective_terms(b, setup, scaled, other_dev)
    b.minimize(sum(terms) if terms else tie)
    sol = run(b, deadline, seed=seed, zero_gap=True)
    if not sol.found:
        return CpOut(sol.status, None, False)
    chosen = b.chosen(sol, current)
    proven = sol.optimal and integral
    if lexicographic and terms and proven and held:
        # Second solve: no imbalance term worse than its optimum, fewest moves, least value.
        for expr in held:
            b.cp.add(expr <= int(sol.solver.value(expr)))  # type: ignore[union-attr]
        b.minimize(tie)
        b.hint_plan(chosen)
        sol = run(b, deadline, seed=seed, zero_gap=True)
        if sol.found:
            chosen = b.chosen(sol, current)
        proven = sol.optimal
    return CpOut(sol.status, chosen, proven)


def _proves_infeasibility(setup: Setup, scaled: Scaled, budget: Budget) -> bool:
    """True when CP-SAT's INFEASIBLE on the budgeted model holds for the raw data.

    The integer rows are a relaxation only when the weights were scaled exactly (limits
    are rounded outward), and the moved-value budget only when every moved value is a
    whole number at its scale (values are rounded up and the budget down otherwise, a
    restriction).
    """
    if scaled.error != 0:
        return False
    if not math.isfinite(budget.value) or setup.mv.max(initial=0.0) <= 0:
        return True
    factor = 1e6 / float(setup.mv.max())
    scaled_values = setup.mv * factor
    return bool(np.allclose(scaled_values, np.round(scaled_values), rtol=0, atol=1e-6))


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
        if not frozen and _proves_infeasibility(setup, scaled, budget):
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
