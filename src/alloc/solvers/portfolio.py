"""``alloc.solve``: the portfolio of construction, local search, CP-SAT and bounds.

1. Pre-checks prove cheap infeasibilities in plain numbers.
2. A constraint-aware greedy builds a first plan.
3. For linear objectives with hard rows, a Lagrangian relaxation gives a bound, reduced
   costs and a start (each unit on its cheapest pair at the relaxed prices).
4. Local search (shift, swap, perturbation) improves the plan (or repairs the start).
5. CP-SAT: for linear objectives, on growing cores of low-reduced-cost pairs (exact once
   the core holds every pair that could improve the plan), with a turn for HiGHS
   (branch-and-cut) on narrow cores in long solves; otherwise, warm-started with
   a complete hint, it solves small problems exactly and runs a large-neighbourhood
   search (a few reps' customers re-optimised at a time) on big ones.
6. A bound (CP-SAT's, the Lagrangian or the LP relaxation) gives the gap.

Every candidate plan is re-scored exactly on the model before it is kept, and the
returned objective is recomputed from the tables by the independent checker.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import pandas as pd

from alloc.check import objective_value
from alloc.data.model import Model
from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError, PrecisionWarning, check_param
from alloc.result import Result, SolveStats, Status
from alloc.solvers.bounds import Lagrangian, imbalance_bound, lagrangian, lp_bound
from alloc.solvers.cpsat import Scaled, infeasible_core, solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.diagnose import precheck
from alloc.solvers.greedy import greedy
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.mip import MipResult, MipSearch, solve_mip
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["EXACT_COST_PAIR_LIMIT", "EXACT_PAIR_LIMIT", "solve"]

#: Problems with at most this many eligible pairs are given to CP-SAT as one exact model.
EXACT_PAIR_LIMIT = 6_000
#: The same limit for objectives made of linear terms only (cost, fit, travel, ...).
EXACT_COST_PAIR_LIMIT = 40_000


class _Progress:
    def __init__(self, enabled: bool, start: float, stream: TextIO | None = None) -> None:
        self.enabled, self.start = enabled, start
        self.stream = stream or sys.stderr

    def __call__(self, phase: str, score: Score | None = None, note: str = "") -> None:
        if not self.enabled:
            return
        t = time.perf_counter() - self.start
        text = f"[{t:7.2f}s] {phase:<14}"
        if score is not None:
            text += f" objective {score.objective:.6g}"
            if score.penalty > 0:
                text += f"  violation {score.penalty:.3g}"
        print(text + (f"  {note}" if note else ""), file=self.stream, flush=True)


def solve(
    problem: Problem,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = False,
) -> Result:
    """Solve an allocation problem with the portfolio and return a checked ``Result``.

    Parameters
    ----------
    problem : Problem
    time_limit : float
        Seconds; the call returns within it (plus a small constant) with the best plan.
    seed : int
        Random seed; with ``workers=1`` results are reproducible.
    workers : int, optional
        CP-SAT worker threads (default: the machine's cores, at most 8).
    progress : bool
        Print a line to stderr at each phase and improvement.

    Returns
    -------
    Result
        Status, assignment, objective, bound, gap, loads, metrics and an explanation.

    Examples
    --------
    >>> import alloc
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> result = alloc.solve(problem, time_limit=2)
    >>> result.status.has_solution, alloc.check(problem, result.assignment)
    (True, [])
    """
    t0 = time.perf_counter()
    if not isinstance(problem, Problem):
        raise InvalidParameterError(
            "the 'problem' parameter of solve must be an alloc.Problem; "
            f"got {type(problem).__name__}."
        )
    ok = (
        isinstance(time_limit, (int, float)) and not isinstance(time_limit, bool) and time_limit > 0
    )
    check_param(
        "time_limit",
        time_limit,
        "solve",
        ok and math.isfinite(time_limit),
        "a positive number of seconds",
    )
    check_param(
        "seed",
        seed,
        "solve",
        isinstance(seed, (int, np.integer)) and not isinstance(seed, bool),
        "an integer",
    )
    if workers is None:
        workers = max(1, min(8, os.cpu_count() or 1))
    check_param(
        "workers", workers, "solve", isinstance(workers, int) and workers >= 1, "a positive integer"
    )
    deadline = t0 + float(time_limit)
    say = _Progress(progress, t0)
    model = problem.model
    rows = Rows.from_model(model)
    phases: list[tuple[str, float, float]] = []
    notes: list[str] = []

    def finish(
        status: Status,
        chosen: np.ndarray | None,
        bound: float,
        explanation: str,
        found_by: str,
        scaling_error: float = 0.0,
    ) -> Result:
        assignment = None
        objective = math.inf
        if chosen is not None:
            assignment = _to_assignment(problem, chosen)
            objective = objective_value(problem, assignment)
        stats = SolveStats(
            time=time.perf_counter() - t0,
            phases=tuple(phases),
            found_by=found_by,
            seed=seed,
            workers=workers,
            time_limit=float(time_limit),
            scaling_error=scaling_error,
            notes=tuple(notes),
        )
        say("done", None, f"{status.value}")
        return Result(problem, status, assignment, objective, bound, explanation, stats)

    # 1. Pre-checks.
    reasons = precheck(problem, rows)
    phases.append(("precheck", time.perf_counter() - t0, math.nan))
    if reasons:
        return finish(
            Status.INFEASIBLE, None, math.inf, "Infeasible: " + " ".join(reasons), "precheck"
        )

    # 2. Construction.
    chosen = greedy(model, rows, seed, deadline=t0 + 0.4 * float(time_limit))
    best = score_of(model, rows, chosen, rows.loads(model, chosen))
    found_by = "greedy"
    phases.append(("greedy", time.perf_counter() - t0, best.objective))
    say("greedy", best)

    # Cost-driven objectives suit CP-SAT's full model (with a complete hint) up to much
    # larger sizes than balance objectives, whose max-norm terms defeat its search.
    linear_only = bool(np.any(model.cost != 0)) and not rows.imb_weight.any()
    small = model.n_pairs <= (EXACT_COST_PAIR_LIMIT if linear_only else EXACT_PAIR_LIMIT)
    remaining = deadline - time.perf_counter()
    scaled: Scaled | None = None

    def improve(candidate: np.ndarray | None, label: str) -> None:
        nonlocal chosen, best, found_by
        if candidate is None or (candidate < 0).any():
            return
        score = score_of(model, rows, candidate, rows.loads(model, candidate))
        if score.better_than(best):
            chosen, best, found_by = candidate.copy(), score, label
            say(label, best)

    # 3. Lagrangian relaxation (linear objectives with hard rows): a bound, reduced
    # costs that steer CP-SAT to a core of pairs, and a start for local search - each
    # unit on its cheapest pair at the relaxed prices, which local search then repairs
    # (on tight capacities far closer to the optimum than a greedy plan).
    relaxation: Lagrangian | None = None
    start = chosen
    if linear_only and rows.n_rows:
        upper = best.objective if best.penalty == 0 else None
        budget = min(0.1 * float(time_limit), 2.0)
        relaxation = lagrangian(model, rows, time.perf_counter() + budget, upper=upper)
        if relaxation is not None:
            start = relaxation.assignment.copy()
            phases.append(("lagrangian", time.perf_counter() - t0, relaxation.bound))
            say("lagrangian", None, f"bound {relaxation.bound:.6g}")

    # 4. Local search.
    # Linear objectives go to CP-SAT (one model or cores), which needs the time more.
    remaining = deadline - time.perf_counter()
    if linear_only:
        ls_share = 0.1 if relaxation is not None else 0.05
    else:
        ls_share = 0.15 if small else 0.6
    ls_deadline = time.perf_counter() + max(0.0, remaining * ls_share - 0.05)
    search = LocalSearch(model, rows, start, seed=seed)
    ls_chosen, _ = search.run(ls_deadline, on_improve=lambda s: say("local search", s))
    improve(ls_chosen, "local search")
    if relaxation is not None and best.penalty > 0 and not small:
        # The relaxed start is not repaired yet: on a large problem a feasible plan is
        # worth more time here (CP-SAT may find none on a tight core in a short limit;
        # small problems are better left to CP-SAT, which also proves infeasibility).
        more = time.perf_counter() + max(0.0, 0.25 * (deadline - time.perf_counter()))
        ls_chosen, _ = LocalSearch(model, rows, ls_chosen, seed=seed + 1).run(more)
        improve(ls_chosen, "local search")
    phases.append(("local search", time.perf_counter() - t0, best.objective))

    # 5. CP-SAT: cores for linear objectives, else exact on small problems, LNS on large.
    bound = relaxation.bound if relaxation is not None else -math.inf
    proven = False
    cp_status = ""
    prover = "CP-SAT"
    if rows.n_rows or np.any(model.cost != 0) or best.penalty > 0:
        scaled = Scaled.from_rows(model, rows)
        if scaled.error > 1e-6:
            notes.append(
                f"integer scaling for CP-SAT changes weights by up to {scaled.error:.2e} (relative)"
            )
    if relaxation is not None and scaled is not None:
        core = _core_search(
            model, rows, scaled, relaxation, chosen, best, deadline - 0.1, seed, workers, say
        )
        improve(core.chosen, core.found_by)
        cp_status = core.status
        prover = core.proven_by
        bound = max(bound, core.bound)
        if core.proven:
            proven = True
            bound = best.objective
        elif core.blocked_by_scaling:
            warnings.warn(
                "alloc.solve: CP-SAT solved its integer model to optimality, but scaling "
                f"float data to integers changed it by up to {scaled.error:.2e} (relative); "
                "the plan is reported FEASIBLE, not OPTIMAL.",
                PrecisionWarning,
                stacklevel=2,
            )
        phases.append(("cp-sat core", time.perf_counter() - t0, best.objective))
    elif small and scaled is not None:
        remaining = deadline - time.perf_counter() - 0.1
        if remaining > 0.05:
            # Cost-driven: CP-SAT searches better from scratch than from a local optimum
            # (measured on the GAP suite: a hint can trap it far from the optimum).
            hint = None if linear_only or best.penalty > 0 else chosen
            res = solve_cpsat(
                model,
                rows,
                scaled,
                deadline=Deadline.after(remaining),
                seed=seed,
                workers=workers,
                hint=hint,
            )
            cp_status = res.status
            improve(res.chosen, "cp-sat")
            exact_scaling = _exact_scaling(scaled, rows)
            if res.status == "OPTIMAL" and not exact_scaling:
                why = (
                    f"scaling float data to integers changed it by up to {scaled.error:.2e} "
                    "(relative)"
                    if scaled.error > 0
                    else "the fair shares are unequal, so the integer model approximates "
                    "the relative deviations"
                )
                warnings.warn(
                    f"alloc.solve: CP-SAT solved its integer model to optimality, but {why}; "
                    "the plan is reported FEASIBLE, not OPTIMAL.",
                    PrecisionWarning,
                    stacklevel=2,
                )
            if res.status == "OPTIMAL" and exact_scaling:
                proven = True
                bound = best.objective
            elif res.status in ("OPTIMAL", "FEASIBLE") and exact_scaling:
                bound = res.bound
            phases.append(("cp-sat", time.perf_counter() - t0, best.objective))
    elif scaled is not None:
        chosen_lns = _lns(model, rows, scaled, chosen, best, deadline - 0.15, seed, say)
        improve(chosen_lns, "cp-sat lns")
        phases.append(("lns", time.perf_counter() - t0, best.objective))
    elif best.penalty == 0 and not rows.n_rows and not np.any(model.cost != 0):
        proven = True  # no objective and no rows: any complete assignment is optimal
        bound = 0.0

    # 6. Bound.
    pure_imbalance = not np.any(model.cost != 0) and bool(rows.imb_weight.any())
    if not proven and best.penalty == 0:
        if pure_imbalance:
            bound = max(bound, imbalance_bound(model, rows))
        elif np.any(model.cost != 0) and not math.isfinite(bound):
            budget = min(2.0, deadline - time.perf_counter() - 0.05)
            if budget > 0.2 and model.n_pairs <= 300_000:
                bound = max(bound, lp_bound(model, rows, budget))
        if math.isfinite(bound) and best.objective - bound <= 1e-9 * max(1.0, abs(best.objective)):
            proven = True

    # 7. Status and words.
    if best.penalty > 0:
        status, expl = _no_plan(model, rows, scaled, cp_status, deadline, seed)
        return finish(status, None, math.inf, expl, found_by, scaled.error if scaled else 0.0)
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if proven:
        expl = f"Optimal: proven by {prover if cp_status == 'OPTIMAL' else 'the bound'}."
    elif pure_imbalance:
        expl = (
            "Feasible: best plan found in the time limit. The objective is made of imbalance "
            f"terms only; the bound ({bound:.4g}) comes from customers that only few reps may "
            "serve or that exceed a fair share on their own (0 when none does), so the gap "
            "is an upper estimate, not a proof of a poor plan."
        )
    elif math.isfinite(bound):
        gap = max(0.0, best.objective - bound) / max(abs(best.objective), 1e-9)
        expl = f"Feasible: within {gap:.3%} of the bound."
    else:
        expl = "Feasible: best plan found in the time limit; no bound was computed."
    return finish(status, chosen, bound, expl, found_by, scaled.error if scaled else 0.0)


def _exact_scaling(scaled: Scaled, rows: Rows) -> bool:
    """True when CP-SAT's integer model has exactly the true objective.

    Max-norm terms with equal shares are modelled exactly (``|R * load - total|``), and
    sum-norm terms whose share weights are small-denominator rationals (``fte`` 3 : 2).
    """
    if scaled.error != 0 or not np.all(scaled.equal_share[rows.is_max]):
        return False
    return bool(np.all(scaled.share_den[rows.is_sum] > 0))


def _no_plan(model, rows, scaled, cp_status, deadline, seed):  # type: ignore[no-untyped-def]
    """Status and explanation when search found no feasible plan."""
    if cp_status == "INFEASIBLE":
        remaining = max(0.2, deadline - time.perf_counter())
        _, core = infeasible_core(
            model, rows, scaled, deadline=Deadline.after(min(remaining, 5.0)), seed=seed
        )
        names = ", ".join(repr(c) for c in core) or "the rules"
        return Status.INFEASIBLE, (
            f"Infeasible: CP-SAT proved that {names} cannot all hold together. Relax one of "
            f"them (raise a limit, widen a tolerance, allow more reps)."
        )
    return Status.UNKNOWN, (
        "No feasible plan was found in the time limit and infeasibility was not proven. "
        "Give more time, or relax the tightest rules."
    )


@dataclass(frozen=True)
class _CoreOutcome:
    chosen: np.ndarray | None
    status: str  # CP-SAT status of the last core ("INFEASIBLE" only for the whole model)
    proven: bool  # the plan is optimal for the whole model
    # CP-SAT proved its integer model optimal, but rows were rounded for it, so the plan
    # is not proven optimal for the true data.
    blocked_by_scaling: bool = False
    found_by: str = "cp-sat core"  # the search that found the plan
    proven_by: str = "CP-SAT"
    bound: float = -math.inf  # a lower bound proven on the way (HiGHS's), if any


#: Core sizes tried in turn, in pairs per unit (the whole model comes last).
_CORE_SIZES = (1.5, 2.0, 3.0, 5.0, 8.0)
MIP_MIN_SECONDS = 20.0  # core search time from which HiGHS gets a share
MIP_MAX_PAIRS_PER_UNIT = 2.5  # widest second core HiGHS gets a turn on
MIP_BESIDE_MAX_PAIRS = 5_000  # models HiGHS searches whole, beside CP-SAT


def _core_search(  # type: ignore[no-untyped-def]
    model, rows, scaled, relaxation, chosen, best, deadline, seed, workers, say
) -> _CoreOutcome:
    """CP-SAT on growing cores of the pairs with the smallest Lagrangian reduced costs.

    Most units of a cost-driven problem have one or two plausible reps; the reduced
    costs say which. CP-SAT searches a core of about 1.5 pairs per unit far better than
    the whole model (measured on the GAP suite, 10 s, 900-1,600 customers x 40-80 reps:
    0.06-1.7 % from the best known values, where the whole model ended 1-150 % off).
    Every core holds the best plan's pairs; the first is searched without a hint, later
    ones from the best plan, each wider than the last. Pairs whose reduced
    cost exceeds ``incumbent - bound`` cannot be in a better plan, so once the core holds
    every other pair, CP-SAT's optimum on it is optimal for the whole model.
    """
    rc = relaxation.reduced
    P = model.n_pairs
    integral = bool(np.allclose(model.cost, np.round(model.cost), rtol=0, atol=1e-9))
    # As for the whole model: rows rounded for CP-SAT block a proof; fractional costs do
    # not (CP-SAT scales a float objective itself and proves within its tolerance).
    exact_data = scaled.error == 0
    # One cheapest pair per unit keeps every core feasible for the assignment rows.
    first = np.zeros(P, dtype=bool)
    first[relaxation.assignment] = True
    sorted_rc = np.sort(rc)
    current = chosen.copy() if best.penalty == 0 else None
    current_obj = float(model.cost[current].sum()) if current is not None else math.inf
    current_by = "cp-sat core"
    # Reduced costs are often tied (integer costs: on the GAP type D suite 3-4 pairs
    # per unit sit at 0, and the best plans use them all), so a core cut at a count
    # would drop tied pairs at random; each cut takes every pair within `tie` of it.
    tie = 1e-3 * float(np.mean(np.abs(model.cost)))

    def keep(plan: np.ndarray | None, label: str, pairs: int) -> None:
        nonlocal current, current_obj, current_by
        if plan is None or not _feasible(model, rows, plan):
            return
        obj = float(model.cost[plan].sum())
        if obj < current_obj - 1e-9 * max(1.0, abs(current_obj)):
            current, current_obj, current_by = plan, obj, label
            say(label, None, f"objective {obj:.6g} on {pairs} pairs")

    def cut(level: int) -> float:
        """Largest reduced cost in the core of ``_CORE_SIZES[level]`` pairs per unit."""
        size = int(_CORE_SIZES[level] * model.n_units)
        return float(sorted_rc[size]) + tie if size < P else math.inf

    # Long solves also give HiGHS a turn (see alloc.solvers.mip) when the second core is
    # narrow; short ones keep all the time for CP-SAT, which finds good plans sooner. On
    # wide cores (many tied reduced costs: GAP type D, 4 pairs per customer) HiGHS found
    # nothing in 15 s, and the time was lost to CP-SAT (measured, 60 s runs).
    second_pairs = int(np.sum(rc <= cut(1)))
    use_mip = (
        deadline - time.perf_counter() >= MIP_MIN_SECONDS
        and second_pairs <= MIP_MAX_PAIRS_PER_UNIT * model.n_units
    )
    beside: MipSearch | None = None
    mip_bound = -math.inf
    cp_workers = workers
    # Small models: HiGHS on the whole model in its own thread, beside CP-SAT's cores
    # (one worker fewer). It proves optimality where the cores cannot (GAP e20100, 2,000
    # pairs: optimal in about 47 s, where the cores ended 0.1-0.2 % above it). Larger
    # models keep the core turns below: there HiGHS does far better on a narrow core
    # than on the whole model, and CP-SAT's first core needs every worker (GAP e40400,
    # 60 s: 44,569 with the core turns, 44,627-44,673 with HiGHS on the whole model).
    if use_mip and P <= MIP_BESIDE_MAX_PAIRS and workers >= 2:
        say("mip", None, f"HiGHS on all {P} pairs beside CP-SAT")
        beside = MipSearch(
            model,
            rows,
            pair_mask=np.ones(P, dtype=bool),
            time_limit=deadline - time.perf_counter(),
            start=current,
        ).start()
        cp_workers, use_mip = workers - 1, False

    def settle(found: MipResult) -> bool:
        """Keep HiGHS's plan and bound; True when no better plan can exist."""
        nonlocal mip_bound
        keep(found.chosen, "mip", P)
        mip_bound = max(mip_bound, found.bound)
        if current is None or not math.isfinite(found.bound):
            return False
        slack = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(current_obj))
        return found.status == "OPTIMAL" and current_obj - found.bound < slack

    status, proven, whole, blocked, proven_by = "UNKNOWN", False, False, False, "CP-SAT"
    level, last_delta = 0, -math.inf
    while True:
        if beside is not None and not beside.running():
            done, beside, cp_workers = beside.finish(), None, workers
            # settle() re-checks HiGHS's plan on the true rows before the proof counts.
            if settle(done):
                status, proven, proven_by = "OPTIMAL", True, "HiGHS"
                break
        remaining = deadline - time.perf_counter()
        if remaining < 0.1:
            break
        # Every pair that could be in a strictly better plan.
        allowance = math.inf
        if current is not None:
            allowance = current_obj - relaxation.bound - (1.0 if integral else 0.0)
            allowance += 1e-6 * max(1.0, abs(current_obj))
        # The next cut that is wider than the last one (tied cuts are skipped).
        delta = math.inf
        while level < len(_CORE_SIZES):
            delta = cut(level)
            if delta > last_delta:
                break
            level += 1
        if level >= len(_CORE_SIZES):
            delta = math.inf
        last_delta = delta
        exact = delta >= allowance
        mask = (rc <= min(delta, allowance)) | first
        if current is not None:
            mask[current] = True
        whole = bool(mask.all())
        if use_mip and level > 0 and not exact:
            # HiGHS first on each wider core while it closes them; on a core it cannot
            # close, CP-SAT goes on from the best plan and HiGHS gets no further turn.
            found = solve_mip(model, rows, pair_mask=mask, time_limit=0.5 * remaining)
            keep(found.chosen, "mip core", int(mask.sum()))
            if found.status == "OPTIMAL" and not whole and level < len(_CORE_SIZES):
                level += 1  # CP-SAT cannot beat HiGHS's optimum on the same core
                continue
            use_mip = found.status == "OPTIMAL"
            remaining = deadline - time.perf_counter()
            if remaining < 0.1:
                break
        share = (0.45 if use_mip else 0.75) if level == 0 else 0.5
        budget = remaining if exact or whole else max(share * remaining, min(1.0, remaining))
        res = solve_cpsat(
            model,
            rows,
            scaled,
            deadline=Deadline.after(budget),
            seed=seed + level,
            workers=cp_workers,
            # The first core is searched without a hint: a hint from a local-search
            # plan traps CP-SAT near it (measured on the GAP suite).
            hint=current if level > 0 else None,
            pair_mask=None if whole else mask,
            # CP-SAT stops when HiGHS has proven its plan optimal (checked just above).
            stop=beside.proved if beside is not None else None,
        )
        keep(res.chosen, "cp-sat core", int(mask.sum()))
        status = res.status
        if res.status == "OPTIMAL" and (exact or whole):
            proven, blocked = exact_data, not exact_data
            break
        if res.status == "INFEASIBLE" and exact and current is not None:
            # No plan better than the current one exists.
            proven, blocked = exact_data, not exact_data
            break
        if res.status == "INFEASIBLE" and whole:
            break
        if level >= len(_CORE_SIZES):
            break
        level += 1
    if beside is not None and settle(beside.finish()) and not proven:
        status, proven, blocked, proven_by = "OPTIMAL", True, False, "HiGHS"
    if status == "INFEASIBLE" and not whole:
        status = "UNKNOWN"  # a core without a plan says nothing about the whole model
    return _CoreOutcome(current, status, proven, blocked, current_by, proven_by, mip_bound)


def _feasible(model: Model, rows: Rows, chosen: np.ndarray) -> bool:
    """True when a plan meets every hard row on the true (unscaled) data."""
    return score_of(model, rows, chosen, rows.loads(model, chosen)).penalty == 0


def _lns(model, rows, scaled, chosen, best, deadline, seed, say):  # type: ignore[no-untyped-def]
    """Large-neighbourhood search: re-optimise the customers of a few reps with CP-SAT."""
    rng = np.random.default_rng(seed)
    R = model.n_reps
    current = chosen.copy()
    current_score = best
    per_rep = max(1.0, model.n_units / R)
    k = int(np.clip(round(400 / per_rep), 2, min(R, 8)))
    while time.perf_counter() < deadline - 0.2:
        reps = _pick_reps(model, rows, current, rng, k)
        mask = np.zeros(R, dtype=bool)
        mask[reps] = True
        units = np.flatnonzero(mask[model.pair_rep[current]])
        if units.size == 0:
            continue
        budget = min(2.0, deadline - time.perf_counter())
        if budget < 0.1:
            break
        res = solve_cpsat(
            model,
            rows,
            scaled,
            deadline=Deadline.after(budget),
            seed=int(rng.integers(1 << 30)),
            workers=1,
            hint=current,
            units=units,
            rep_mask=mask,
            fixed=current,
        )
        if res.chosen is None:
            continue
        score = score_of(model, rows, res.chosen, rows.loads(model, res.chosen))
        if score.better_than(current_score):
            current, current_score = res.chosen, score
            say("cp-sat lns", score)
    return current


def _pick_reps(model, rows, chosen, rng, k):  # type: ignore[no-untyped-def]
    R = model.n_reps
    if rows.is_max.any() and rng.random() < 0.6:
        loads = rows.loads(model, chosen)
        kk = int(np.flatnonzero(rows.is_max)[rng.integers(np.count_nonzero(rows.is_max))])
        dev = (loads[kk] - rows.share[kk]) / rows.share[kk]
        order = np.argsort(dev)
        picked = {int(order[-1]), int(order[0])}
        while len(picked) < k:
            picked.add(int(rng.integers(R)))
        return np.array(sorted(picked))
    return rng.choice(R, size=k, replace=False)


def _to_assignment(problem: Problem, chosen: np.ndarray) -> pd.Series:
    model = problem.model
    unit_rep = model.pair_rep[chosen]
    rep_codes = unit_rep[model.customer_unit]
    return pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],
        index=problem.customer_ids.copy(),
        name=problem.id_columns["rep"],
    )
