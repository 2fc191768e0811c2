"""``alloc.solve``: the portfolio of construction, local search, CP-SAT and bounds.

1. Pre-checks prove cheap infeasibilities in plain numbers.
2. A constraint-aware greedy builds a first plan (customers bigger than a fair share
   first, on the reps their bound prefers: `alloc.solvers.oversized`). If it breaks a
   rule that a short repair cannot fix, a feasibility-only CP-SAT run follows: its proof
   of infeasibility ends the solve at once with a minimal named conflict.
3. For linear objectives with hard rows, a Lagrangian relaxation gives a bound, reduced
   costs and a start (each unit on its cheapest pair at the relaxed prices).
4. Local search (shift, swap, perturbation) improves the plan (or repairs the start).
5. CP-SAT: for linear objectives, on growing cores of low-reduced-cost pairs (exact once
   the core holds every pair that could improve the plan), with a turn for HiGHS
   (branch-and-cut) on narrow cores in long solves; otherwise, warm-started with
   a complete hint, it solves small problems exactly and runs a large-neighbourhood
   search (a few reps' customers re-optimised at a time) on big ones, after a plateau
   search (max-norm terms as hard windows) when a max-norm term is mixed with costs.
6. A bound gives the gap: the best of CP-SAT's, the Lagrangian's, a Hall-type count for
   imbalance terms, an LP per rep that may take an oversized customer, and the LP
   relaxation's (HiGHS, started after the greedy in a thread beside the search, for
   every objective the Lagrangian does not cover).

Every candidate plan is re-scored exactly on the model before it is kept, and the
returned objective is recomputed from the tables by the independent checker.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import replace

import numpy as np

from alloc.data.geography import needs_territory_solver
from alloc.data.model import Model
from alloc.data.problem import Problem
from alloc.data.tolerance import bound_closes
from alloc.errors import InvalidParameterError, PrecisionWarning
from alloc.result import Result, Status
from alloc.solvers.bounds import (
    Lagrangian,
    imbalance_bound,
    integrality_floors,
    lagrangian,
    rounded_up,
)
from alloc.solvers.conflicts import explain_infeasible, feasibility_run
from alloc.solvers.cores import CoreSearch
from alloc.solvers.cpsat import exact_imbalance_terms, solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.diagnose import precheck, prove_infeasible
from alloc.solvers.float_mip import FloatMipSearch
from alloc.solvers.group_bound import group_bound
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.lp import LpSearch, lp_seconds
from alloc.solvers.lp_neighbourhoods import relaxation_induced_search
from alloc.solvers.mip import MipResult
from alloc.solvers.neighbourhoods import large_neighbourhood_search
from alloc.solvers.oversized import oversized_greedy
from alloc.solvers.plateau import loosening_search, lp_window_search, plateau_search
from alloc.solvers.rep_bound import oversized_unit_bound
from alloc.solvers.run_state import (
    EXACT_COST_PAIR_LIMIT,
    EXACT_PAIR_LIMIT,
    CpOutcome,
    Run,
)
from alloc.solvers.scaling import Scaled
from alloc.solvers.scaling import relaxation as scaling_relaxation
from alloc.solvers.staged import has_priorities, solve_with_priorities
from alloc.solvers.state import Rows, score_of
from alloc.validation import check_param

__all__ = ["EXACT_COST_PAIR_LIMIT", "EXACT_PAIR_LIMIT", "solve"]

#: Models this small get only a short local search before CP-SAT proves them.
TINY_PAIR_LIMIT = 1_000
#: The share of a tiny model's exact phase given to HiGHS's branch and cut beside CP-SAT.
HIGHS_BESIDE_SHARE = 0.3
#: Up to this many pairs, HiGHS's branch and cut runs beside CP-SAT for the whole exact
#: phase when the objective has sum-norm terms or pair costs and no max-norm term (see
#: `_exact_phase`).
FLOAT_MIP_BESIDE_PAIR_LIMIT = EXACT_PAIR_LIMIT
#: The large-neighbourhood search stops after this share of its time (at least this
#: many seconds) without an improvement, and local search takes the rest.
LNS_PATIENCE_SHARE = 0.25
LNS_PATIENCE_SECONDS = 2.0
#: Where the full LP relaxation is out of reach, the LPs over groups of reps
#: (`alloc.solvers.group_bound`) get this share of the time left, at most this many
#: seconds. Measured: combined 100,000 x 1,000 (benchmarks/families.py) gets 0.93 % from
#: its fullest group in 0.4 s, where the other bounds give 0.
GROUP_BOUND_SHARE = 0.03
GROUP_BOUND_SECONDS = 3.0
#: Local search beside the LP stops after this share of the time limit without a
#: better plan (at least LNS_PATIENCE_SECONDS), and CP-SAT's LNS takes over.
LS_PATIENCE_SHARE = 0.15
#: Problems up to this many pairs whose first plan a short repair cannot make feasible
#: get a feasibility-only CP-SAT run before the search (larger ones wait for its end).
EARLY_PROOF_PAIR_LIMIT = EXACT_COST_PAIR_LIMIT


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
    workers = _check_params(problem, time_limit, seed, workers)
    if has_priorities(problem):  # Budget rows or a Lexicographic objective (issue 14)
        return solve_with_priorities(problem, float(time_limit), seed, workers, solve)
    if needs_territory_solver(problem.model):  # contiguity or chosen centres (issue 14)
        # Imported here: its graph routines are not needed by other solves.
        from alloc.solvers.territories import solve_territories

        return solve_territories(problem, float(time_limit), seed, workers, progress)
    run = Run(problem, float(time_limit), seed, workers, progress, t0)
    # 1. Pre-checks.
    reasons = precheck(problem, run.rows)
    run.phase("precheck", math.nan)
    if reasons:
        return run.finish(
            Status.INFEASIBLE, None, math.inf, "Infeasible: " + " ".join(reasons), "precheck"
        )
    # 2. Construction.
    chosen = oversized_greedy(run.model, run.rows, seed, run.greedy_deadline)
    run.chosen, run.found_by = chosen, "greedy"
    run.best = score_of(run.model, run.rows, chosen, run.rows.loads(run.model, chosen))
    run.phase("greedy", run.best.objective)
    run.say("greedy", run.best)
    if _two_sided_rows(run) and run.model.n_pairs <= EARLY_PROOF_PAIR_LIMIT:
        # Started before the early proof, which may take a third of the time when the
        # greedy's plan breaks the windows; stoppable, so that a proof ends it at once.
        run.lp = _start_lp(run, interruptible=True)
    proof = _early_proof(run)
    if proof is not None:
        if run.lp is not None:
            run.lp.stop()  # no HiGHS thread outlives the call
        return proof
    relaxation = _relax(run)
    if run.lp is None and (relaxation is None or _two_sided_rows(run)):
        run.lp = _start_lp(run)
    _local_search(run, relaxation)
    outcome = _bound(run, _cp_sat(run, relaxation))
    return _conclude(run, outcome)


#: Share of what is left after local search that plateau search gets (mixed objectives).
PLATEAU_SHARE = 0.5

#: The LP relaxation may use this share of the time limit (in a thread of its own).
LP_SHARE = 0.6
#: ... and this share when pairs have positive costs (the LP's plan then usually guides
#: the search, which waits for it: see `_lp_guided_search`).
LP_SHARE_COSTS = 0.75


#: Local search from the LP's windows (`lp_window_search`) may run to this share of what
#: is left of the time limit when the LP ends (0.8 before CP-SAT searched the LP's
#: neighbourhoods, `relaxation_induced_search`, which now gets most of the rest).
LP_WINDOW_SHARE = 0.5
#: Share of what is left after local search for `relaxation_induced_search`.
LP_NEIGHBOURHOOD_SHARE = 0.7


def _start_lp(run: Run, interruptible: bool | None = None) -> LpSearch | None:
    """3b. The LP relaxation in a background thread, for objectives the Lagrangian does
    not cover (imbalance terms, mixed objectives, costs without hard rows).

    It runs beside local search (which holds one core) and ends by ``LP_SHARE`` of the
    time limit; `_bound` collects it. ``interruptible`` (default: small models only)
    lets `LpSearch.stop` end it early.
    """
    if interruptible is None:
        interruptible = run.small
    if _no_objective(run.model, run.rows):
        return None
    # Which LP fits is decided on LP_SHARE; the extra time is slack for a busy machine.
    fits = run.deadline.share(LP_SHARE).minus(0.05)
    share = LP_SHARE_COSTS if _expect_positive_bound(run.model) else LP_SHARE
    deadline = run.deadline.share(share).minus(0.05)
    run.lp_deadline = deadline
    # A vertex rounds to far fewer moves where moves have a price (see LpSearch).
    vertex = _expect_positive_bound(run.model)
    if lp_seconds(run.model.n_pairs) <= fits.remaining():
        return LpSearch(
            run.model, run.rows, deadline, interruptible=interruptible, vertex=vertex
        ).start()
    # Too large for the full LP in its share: the LP over classes of units with the same
    # eligible reps (far fewer columns), whose duals bound the full model.
    search = LpSearch(
        run.model, run.rows, deadline, by_class=True, interruptible=False, vertex=vertex
    )
    needs = lp_seconds(search.n_pairs)
    if needs <= fits.remaining():
        run.notes.append(
            f"the LP relaxation was solved over {search.n_units:,} classes of customers with "
            "the same eligible reps; its duals bound the full model"
        )
        return search.start()
    # Stopped early, interior-point duals give a valid but useless bound, and HiGHS
    # would hold a core and memory (1.4 GB at 1.2 M pairs) for nothing.
    run.lp_skipped = (
        f"the LP relaxation was not attempted: at {run.model.n_pairs:,} eligible pairs "
        f"({search.n_pairs:,} by class) it needs about {needs:.0f} s, more than its share "
        f"of the time limit ({fits.remaining():.0f} s)"
    )
    return None


def _two_sided_rows(run: Run) -> bool:
    """True when a linear objective meets hard rows with lower limits (Balance windows):
    there the LP's vertex, rounded, is a near-feasible plan close to the optimum, while
    the Lagrangian's start and the greedy's break the windows by far (2,000 x 20, three
    windows of 3-6 % and capacity, travel: no plan in 5 s; from the LP's vertex, 0.3 %
    above the LP bound). Rows with upper limits only (capacity, GAP) stay with the
    Lagrangian and cores, which do better there."""
    if not run.linear_only or run.model.n_pairs <= TINY_PAIR_LIMIT:
        return False  # tiny models go to the exact solvers at once
    hard = ~(run.rows.is_max | run.rows.is_sum)
    return bool(np.isfinite(run.rows.lo[hard]).any())


def _expect_positive_bound(model: Model) -> bool:
    """True when moves have a price (disruption, travel), so the LP's bound is above 0."""
    return bool(np.any(model.cost > 0)) and bool(np.all(model.cost >= 0))


def _check_params(problem: Problem, time_limit: float, seed: int, workers: int | None) -> int:
    """Check ``solve``'s parameters; return the number of workers to use."""
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
    return workers


def _early_proof(run: Run) -> Result | None:
    """2b. When a short repair leaves the plan infeasible, a feasibility-only CP-SAT run.

    It runs on the hard rows of the integer relaxation of the raw rows (the proof of
    `prove_infeasible`), so its INFEASIBLE ends the solve at once with a minimal named
    conflict; a plan it finds is re-scored on the raw data and kept if better.
    """
    model, rows = run.model, run.rows
    if run.best.penalty == 0 or not rows.n_rows or model.n_pairs > EARLY_PROOF_PAIR_LIMIT:
        return None
    repair = LocalSearch(model, rows, run.chosen, seed=run.seed)
    budget = run.deadline.share(0.05, cap=0.05 + 5e-5 * model.n_pairs)
    chosen, repaired = repair.run(budget, until_feasible=True)
    if repaired.penalty == 0:
        # Linear objectives go on from the greedy plan as before this check existed:
        # a feasible incumbent changes the Lagrangian's steps and the cores' start, and
        # on the GAP suite that cost time. The others go on from the repair.
        if not run.linear_only:
            run.improve(chosen, "local search")
        return None
    run.scaled = Scaled.from_rows(model, rows)
    relaxed = scaling_relaxation(model, rows, run.scaled)
    feasibility = feasibility_run(model, rows, relaxed, run.deadline.share(0.3), run.seed)
    run.improve(feasibility.chosen, "cp-sat feasibility")
    run.phase("cp-sat feasibility", run.best.objective)
    if feasibility.status != "INFEASIBLE":
        return None
    run.say("cp-sat feasibility", None, "infeasible")
    expl = explain_infeasible(
        run.problem, rows, relaxed, feasibility.core, run.deadline.share(0.5), run.seed
    )
    return run.finish(Status.INFEASIBLE, None, math.inf, expl, "cp-sat feasibility")


def _relax(run: Run) -> Lagrangian | None:
    """3. Lagrangian relaxation (linear objectives with hard rows).

    A bound, reduced costs that steer CP-SAT to a core of pairs, and a start for local
    search - each unit on its cheapest pair at the relaxed prices, which local search
    then repairs (on tight capacities far closer to the optimum than a greedy plan).
    """
    if not (run.linear_only and run.rows.n_rows):
        return None
    upper = run.best.objective if run.best.penalty == 0 else None
    budget = run.deadline.share(1.0, cap=min(0.1 * run.time_limit, 2.0))
    relaxation = lagrangian(run.model, run.rows, budget, upper=upper)
    if relaxation is not None:
        run.phase("lagrangian", relaxation.bound)
        run.say("lagrangian", None, f"bound {relaxation.bound:.6g}")
    return relaxation


def _local_search(run: Run, relaxation: Lagrangian | None) -> None:
    """4. Local search from the greedy plan (or from the relaxed start)."""
    model, rows, seed = run.model, run.rows, run.seed
    start = relaxation.assignment.copy() if relaxation is not None else run.chosen
    # Linear objectives go to CP-SAT (one model or cores), which needs the time more.
    if run.linear_only:
        ls_share = 0.1 if relaxation is not None else 0.05
    else:
        ls_share = 0.15 if run.small else 0.6
    ls_deadline = run.deadline.share(ls_share).minus(0.05)
    if model.n_pairs <= TINY_PAIR_LIMIT:
        # CP-SAT proves tiny models in a fraction of a second; local search only brings
        # it a hint, so it gets a short slice rather than a share of the time limit.
        ls_deadline = ls_deadline.earliest(Deadline.after(0.05 + 2e-4 * model.n_pairs))
    if run.lp is None:
        ls_chosen = _search(run, start, ls_deadline, seed, "local search")
    else:
        ls_chosen = _lp_guided_search(run, run.lp, start, ls_deadline)
    if relaxation is not None and run.best.penalty > 0 and not run.small:
        # The relaxed start is not repaired yet: on a large problem a feasible plan is
        # worth more time here (CP-SAT may find none on a tight core in a short limit;
        # small problems are better left to CP-SAT, which also proves infeasibility).
        more = LocalSearch(model, rows, ls_chosen, seed=seed + 1)
        ls_chosen, _ = more.run(run.deadline.share(0.25))
        run.improve(ls_chosen, "local search")
    run.phase("local search", run.best.objective)


def _search(
    run: Run,
    start: np.ndarray,
    deadline: Deadline,
    seed: int,
    label: str,
    patience: float | None = None,
) -> np.ndarray:
    """Local search from ``start`` until ``deadline`` (or ``patience`` seconds without a
    better plan); its plan is offered to the run."""
    search = LocalSearch(run.model, run.rows, start, seed=seed)
    chosen, _ = search.run(deadline, on_improve=lambda s: run.say(label, s), patience=patience)
    run.improve(chosen, label)
    return chosen


def _lp_guided_search(run: Run, lp: LpSearch, start: np.ndarray, window: Deadline) -> np.ndarray:
    """Local search from ``start``, then from the LP relaxation's rounded plan.

    The first search gets at least 30 % of the window and stops when the LP ends; the
    rest goes to a search from the LP's plan (each unit on its largest LP value), then
    back to the best plan. When pairs have positive costs and the LP has not ended by
    the window's end (a busy machine), the search waits for it and the search from its
    plan gets half of what is then left.

    Where the bound is above 0 the LP's plan lands near the
    optimum while searches from a greedy plan stall far above it (2,000 x 20 with
    regional restrictions: 0.311 against 0.436; key accounts to few seniors: 0.237
    against 0.669; LP bounds 0.311 and 0.214).
    """
    chosen = _search(run, start, window.share(0.3), run.seed, "local search")
    # Stalled, the searches give their time to CP-SAT's LNS (combined, 100,000 x 1,000:
    # 48 s of 120 without a better plan, and 11 s left for the LNS).
    patience = max(LNS_PATIENCE_SECONDS, LS_PATIENCE_SHARE * run.time_limit)
    if not lp.done.is_set():
        chosen = _search(
            run, chosen, window.or_when(lp.done), run.seed, "local search", patience=patience
        )
    if not lp.done.is_set() and _expect_positive_bound(run.model):
        # On a busy machine the LP may need longer than the window; its plan is worth
        # more than the search from the greedy's, which would only take its CPU.
        lp.done.wait(run.lp_deadline.remaining())
        window = run.deadline.share(0.5)
    # Reading the LP's plan costs about 1e-5 s per customer (spreading the class LP's
    # fractions): with less time left than that, the plan would end past the limit.
    if lp.done.is_set() and window.remaining() > 1e-5 * run.model.n_units:
        relaxed = lp.finish()
        rounded = relaxed.start
        # With a bound of 0 (most balance models) the LP's plan is no better a start
        # than the greedy's, and the search from it would only take time from the plan
        # that is already close: it runs when the plan is well above a positive bound.
        above = run.best.objective - relaxed.bound > 0.01 * max(abs(relaxed.bound), 1e-9)
        if rounded is not None and relaxed.bound > 1e-9 and above:
            run.lp_fraction = relaxed.fraction
            run.improve(rounded, "lp rounding")
            if relaxed.deviation is not None and run.rows.is_max.any():
                # Max-norm terms priced against costs: first into the LP's windows. The
                # two searches are still improving at the window's end at 2,000 x 20, so
                # they take time from the plateau search and LNS, which then add little.
                longer = run.deadline.share(LP_WINDOW_SHARE).minus(0.05)
                # Not for tiny models: CP-SAT proves them (the wider window took 1.5 s
                # of a 2 s limit on 12 pairs before CP-SAT ran, found by fuzzing).
                tiny = run.model.n_pairs <= TINY_PAIR_LIMIT
                window = longer if longer.at > window.at and not tiny else window
                plan = lp_window_search(
                    run.model, run.rows, rounded, relaxed.deviation, window.share(0.6), run.seed
                )
                run.improve(plan, "lp windows")
                plan = loosening_search(run.model, run.rows, plan, window.share(0.5), run.seed)
                run.improve(plan, "loosened windows")
                rounded = plan
            _search(run, rounded, window, run.seed + 2, "lp rounding + local search")
    if not window.expired():
        chosen = _search(run, run.chosen, window, run.seed + 3, "local search", patience)
    return run.chosen if run.best.penalty == 0 else chosen


def _cp_sat(run: Run, relaxation: Lagrangian | None) -> CpOutcome:
    """5. CP-SAT: cores for linear objectives, else exact on small problems, LNS on large."""
    model, rows = run.model, run.rows
    start = CpOutcome()
    if relaxation is not None:
        start = start.with_bound(relaxation.bound, "the Lagrangian relaxation")
    if rows.n_rows or np.any(model.cost != 0) or run.best.penalty > 0:
        run.scaled = scaled = Scaled.from_rows(model, rows)
        if scaled.error > 1e-6:
            run.notes.append(
                f"integer scaling for CP-SAT changes weights by up to {scaled.error:.2e} (relative)"
            )
    if run.scaled is None:
        if run.best.penalty == 0 and not rows.n_rows and not np.any(model.cost != 0):
            # No objective and no rows: any complete assignment is optimal.
            return CpOutcome(bound=0.0, proven=True)
        return start
    if relaxation is not None:
        return _core_phase(run, run.scaled, relaxation, start)
    if run.best.penalty == 0:
        # Before the search's last phase, so that it stays within the time limit.
        oversized = oversized_unit_bound(model, rows, run.deadline.share(0.15))
        start = start.with_bound(oversized, "the reps that may take the largest customer")
        if not run.small and (run.lp is None or run.lp.by_class):
            # The full LP is out of reach: small LPs over groups of reps instead.
            share = run.deadline.share(GROUP_BOUND_SHARE, cap=GROUP_BOUND_SECONDS)
            start = start.with_bound(
                group_bound(model, rows, share),
                "an LP over reps who share customers that few others may serve",
            )
    if run.small:
        return _exact_phase(run, run.scaled, start)
    if run.lp_fraction is not None and run.best.penalty == 0:
        # Moves that pay only together, around where the plan and the LP disagree.
        share = run.deadline.share(LP_NEIGHBOURHOOD_SHARE)
        plan = relaxation_induced_search(
            model, rows, run.scaled, run.chosen, run.lp_fraction, share, run.seed, run.say
        )
        run.improve(plan, "lp neighbourhood")
        run.phase("lp neighbourhood", run.best.objective)
    if rows.is_max.any() and np.any(model.cost != 0) and run.best.penalty == 0:
        # Max-norm terms with linear costs: half of what is left lowers the plateau of
        # top reps that single moves cannot (alloc.solvers.plateau).
        window = run.deadline.share(PLATEAU_SHARE)
        plan, _ = plateau_search(model, rows, run.chosen, window, run.seed)
        run.improve(plan, "plateau search")
        run.phase("plateau search", run.best.objective)
    # The LNS gives way to local search once it stalls: on 20,000 x 200 (combined
    # family) it often found nothing in its last 10 s while local search was still
    # improving when its share ended.
    deadline = run.deadline.minus(0.15)
    patience = max(LNS_PATIENCE_SECONDS, LNS_PATIENCE_SHARE * deadline.remaining())
    chosen_lns = large_neighbourhood_search(
        model, rows, run.scaled, run.chosen, run.best, deadline, run.seed, run.say, patience
    )
    run.improve(chosen_lns, "cp-sat lns")
    run.phase("lns", run.best.objective)
    if deadline.remaining() > 0.5:
        _search(run, run.chosen, deadline, run.seed + 5, "local search")
        run.phase("local search", run.best.objective)
    return start


def _core_phase(run: Run, scaled: Scaled, relaxation: Lagrangian, start: CpOutcome) -> CpOutcome:
    """CP-SAT (and HiGHS) on growing cores of low-reduced-cost pairs."""
    core = CoreSearch(
        run.model,
        run.rows,
        scaled,
        relaxation,
        run.chosen,
        run.best,
        run.deadline.minus(0.1),
        run.seed,
        run.workers,
        run.say,
    ).run()
    run.improve(core.chosen, core.found_by)
    outcome = replace(start, cp_status=core.status, prover=core.proven_by)
    outcome = outcome.with_bound(core.bound, "CP-SAT and HiGHS on the cores")
    if core.proven:
        outcome = replace(outcome, proven=True, bound=run.best.objective)
    elif core.blocked_by_scaling:
        run.precision = (
            "alloc.solve: CP-SAT solved its integer model to optimality, but scaling "
            f"float data to integers changed it by up to {scaled.error:.2e} (relative); "
            "the plan is reported FEASIBLE, not OPTIMAL."
        )
    run.phase("cp-sat core", run.best.objective)
    return outcome


def _exact_phase(run: Run, scaled: Scaled, start: CpOutcome) -> CpOutcome:
    """CP-SAT on the whole model of a small problem."""
    deadline = run.deadline.minus(0.1)
    if deadline.remaining() <= 0.05:
        return start
    # Cost-driven: CP-SAT searches better from scratch than from a local optimum
    # (measured on the GAP suite: a hint can trap it far from the optimum). Tiny models
    # get no hint either: local search's plan depends on how far it got in its time
    # slice, and CP-SAT with one worker from scratch returns the same optimum every run.
    tiny = run.model.n_pairs <= TINY_PAIR_LIMIT
    hint = None if run.linear_only or run.best.penalty > 0 or tiny else run.chosen
    # A tiny model is also handed to HiGHS's branch and cut, beside CP-SAT: each proves
    # optima the other is slow on (mid-size benchmark: 136 x 5 with potential imbalance
    # and a disruption price, HiGHS 0.6 s, CP-SAT 7 s), and HiGHS keeps float data exact.
    # HiGHS gets the first 30 % of the time: where it cannot prove the plan by then, its
    # core serves CP-SAT better (sum-norm imbalance, 63 x 5: 0.67 with HiGHS beside to the
    # end, 0.48 without; bench_midsize).
    # Above tiny, HiGHS stays beside CP-SAT to the end where its LP bound is strong (sum-
    # norm imbalance terms or pair costs, no max-norm term): one rep of nine leaves,
    # disruption plus sum-norm imbalance by fte, 300 x 8 (1,970 pairs), 5 s: HiGHS alone
    # 0.092 / 0.217 / 0.056 where CP-SAT alone ended at 0.112 / 0.234 / 0.086. With a
    # max-norm term it took CP-SAT's core for nothing (bench_unseen: pinned, unequal_fte).
    lp_strong = not run.rows.is_max.any() and (
        bool(run.rows.is_sum.any()) or bool(np.any(run.model.cost != 0))
    )
    mid = not tiny and lp_strong and run.model.n_pairs <= FLOAT_MIP_BESIDE_PAIR_LIMIT
    beside = None
    if tiny or mid:
        start_plan = run.chosen if run.best.penalty == 0 else None
        window = deadline if mid else deadline.share(HIGHS_BESIDE_SHARE)
        beside = FloatMipSearch(run.model, run.rows, window, start=start_plan).start()
    try:
        res = solve_cpsat(
            run.model,
            run.rows,
            scaled,
            deadline=deadline,
            seed=run.seed,
            # All of CP-SAT's workers even beside HiGHS: with one worker fewer it proved
            # less and found worse plans on mid-size problems (bench_midsize, fte recipe).
            workers=run.workers,
            hint=hint,
            stop=beside.proved if beside is not None else None,
        )
    except BaseException:
        if beside is not None:
            beside.finish(wait=False)  # no HiGHS thread outlives a failed solve
        raise
    # A proven optimum of a tiny model replaces an equally good plan of the search, so
    # that the plan returned does not depend on the machine's speed (docs/solving.md).
    run.improve(res.chosen, "cp-sat", ties=tiny and res.status == "OPTIMAL")
    exact_scaling = scaled.error == 0 and exact_imbalance_terms(scaled, run.rows)
    if res.status == "OPTIMAL" and not exact_scaling:
        why = (
            f"scaling float data to integers changed it by up to {scaled.error:.2e} (relative)"
            if scaled.error > 0
            else "the fair shares are unequal, so the integer model approximates "
            "the relative deviations"
        )
        run.precision = (
            f"alloc.solve: CP-SAT solved its integer model to optimality, but {why}; "
            "the plan is reported FEASIBLE, not OPTIMAL."
        )
    outcome = replace(start, cp_status=res.status)
    if res.status == "OPTIMAL" and exact_scaling and _at_least_as_good(run, res.chosen):
        outcome = replace(outcome, proven=True, bound=run.best.objective)
    elif res.status in ("OPTIMAL", "FEASIBLE") and exact_scaling:
        outcome = outcome.with_bound(res.bound, "CP-SAT")
    run.phase("cp-sat", run.best.objective)
    if beside is not None:
        # CP-SAT's proof (of an optimum or that no plan exists) ends HiGHS's search;
        # otherwise HiGHS has ended at its own deadline.
        # CP-SAT's INFEASIBLE settles only where it is a proof (exact integer model, no
        # plan found): on approximate data it can be wrong, and HiGHS then finds the plan.
        settled = outcome.proven or (
            res.status == "INFEASIBLE" and exact_scaling and run.best.penalty > 0
        )
        highs = beside.finish(wait=not settled)
        outcome = _float_proof(run, outcome, highs)
        if not settled and not outcome.proven and deadline.remaining() > 0.2:
            # CP-SAT ended before the deadline without a proof (its integer model is
            # approximate): HiGHS alone gets what is left, as before 78004a8.
            start_plan = run.chosen if run.best.penalty == 0 else None
            more = FloatMipSearch(run.model, run.rows, deadline, start=start_plan).start()
            outcome = _float_proof(run, outcome, more.finish(wait=True))
    return outcome


def _float_proof(run: Run, outcome: CpOutcome, res: MipResult) -> CpOutcome:
    """What HiGHS's branch and cut on the float model of a tiny problem established."""
    if outcome.proven:
        return outcome
    run.improve(res.chosen, "highs (floats)", ties=res.status == "OPTIMAL")
    run.phase("highs (floats)", run.best.objective)
    outcome = outcome.with_bound(res.bound, "HiGHS's branch and cut")
    if res.status == "OPTIMAL" and run.best.penalty == 0:
        if bound_closes(run.best.objective, res.bound):
            run.precision = ""  # the float model proved what the integer one could not
            prover = "HiGHS's branch and cut on the float model"
            return replace(outcome, proven=True, bound=run.best.objective, prover=prover)
    return outcome


def _at_least_as_good(run: Run, plan: np.ndarray | None) -> bool:
    """True when the best plan is no worse, on the raw data, than CP-SAT's ``plan``.

    CP-SAT's optimum proves optimality only for a plan at least as good as its own: its
    plan may have been refused on the raw rows (float noise within the tolerance).
    """
    if plan is None:
        return False
    other = score_of(run.model, run.rows, plan, run.rows.loads(run.model, plan)).objective
    return run.best.objective <= other + 1e-9 * max(1.0, abs(other))


def _bound(run: Run, outcome: CpOutcome) -> CpOutcome:
    """6. A bound for a plan not proven optimal, and the proof when it meets the plan."""
    model, rows, best = run.model, run.rows, run.best
    if outcome.proven or best.penalty > 0:
        if run.lp is not None:
            run.lp.stop()
        return outcome
    if _no_objective(model, rows):
        # Every plan that meets the rules has objective 0: the plan found is optimal.
        return replace(outcome, bound=0.0, proven=True)
    lp = run.lp
    if lp is None and np.any(model.cost != 0) and not math.isfinite(outcome.bound):
        # The Lagrangian failed: the LP relaxation gets what is left of the time.
        lp_deadline = run.deadline.minus(0.05).share(1.0, cap=2.0)
        if lp_deadline.remaining() > 0.2:
            lp = LpSearch(model, rows, lp_deadline).start()
    if lp is not None:
        relaxed = lp.finish(plan=False)  # the search is over: the bound is what counts
        run.phase("lp relaxation", relaxed.bound)
        run.say("lp relaxation", None, f"bound {relaxed.bound:.6g} ({relaxed.status})")
        lp_bound = relaxed.bound
        if _pure_imbalance(model, rows) and np.all(rows.imb_weight >= 0):
            lp_bound = max(lp_bound, 0.0)  # deviations are never negative
        outcome = outcome.with_bound(lp_bound, "the LP relaxation")
    if _pure_imbalance(model, rows):
        outcome = outcome.with_bound(
            imbalance_bound(model, rows), "customers that only few reps may serve"
        )
    if np.all(rows.imb_weight >= 0):
        # Deviations are never negative: no plan costs less than every customer on its
        # cheapest pair. A floor under a relaxation stopped early (its duals then give
        # a valid but far lower value).
        cheapest = float(np.minimum.reduceat(model.cost, model.unit_start[:-1]).sum())
        outcome = outcome.with_bound(cheapest, "every customer on its cheapest rep")
        # Loads in whole steps (counts) cannot meet fair shares such as 37.5 exactly.
        steps = float((rows.imb_weight * integrality_floors(model, rows)).sum())
        outcome = outcome.with_bound(
            cheapest + steps, "loads in whole steps (counts) against fractional fair shares"
        )
    bound = rounded_up(model, rows, outcome.bound)
    proven = math.isfinite(bound) and bound_closes(best.objective, bound)
    # The bound, not CP-SAT, proved it (CP-SAT may have said OPTIMAL of a rounded model).
    prover = f"the bound ({outcome.bound_by})" if outcome.bound_by else "the bound"
    return replace(outcome, bound=bound, proven=proven, prover=prover)


def _no_objective(model: Model, rows: Rows) -> bool:
    return not np.any(model.cost != 0) and not np.any(rows.imb_weight != 0)


def _pure_imbalance(model: Model, rows: Rows) -> bool:
    return not np.any(model.cost != 0) and bool(rows.imb_weight.any())


def _conclude(run: Run, outcome: CpOutcome) -> Result:
    """7. Status and words."""
    best, bound = run.best, outcome.bound
    if best.penalty > 0:
        status, expl = _no_plan(run, outcome.cp_status)
        return run.finish(status, None, math.inf, expl, run.found_by)
    status = Status.OPTIMAL if outcome.proven else Status.FEASIBLE
    if run.precision:
        run.notes.append(run.precision)
        if status is Status.FEASIBLE:
            # Only then did scaling change what is reported (OPTIMAL was not claimed).
            warnings.warn(run.precision, PrecisionWarning, stacklevel=_USER_STACKLEVEL - 1)
    if outcome.proven and _no_objective(run.model, run.rows):
        expl = "Optimal: the problem has no objective, so any plan that meets every rule is."
    elif outcome.proven:
        expl = f"Optimal: proven by {outcome.prover}."
    else:
        expl = _feasible_words(run, outcome)
    note = _bound_note(run, outcome)
    return run.finish(status, run.chosen, bound, expl, run.found_by, note)


def _bound_note(run: Run, outcome: CpOutcome) -> str:
    """Where the bound comes from, or why there is none (``Result.bound_note``)."""
    if outcome.proven:
        return f"proven optimal by {outcome.prover}"
    if math.isfinite(outcome.bound):
        return outcome.bound_by
    if run.lp is not None:
        return (
            f"the LP relaxation gave no bound in the time it was given ({run.lp.finish().status})"
        )
    return run.lp_skipped or "no bound was computed in the time limit"


def _feasible_words(run: Run, outcome: CpOutcome) -> str:
    best, bound = run.best, outcome.bound
    head = "Feasible: best plan found in the time limit"
    if not math.isfinite(bound):
        return f"{head}; no bound was obtained, so how far it is from the optimum is not known."
    gap = max(0.0, best.objective - bound) / max(abs(best.objective), 1e-9)
    if gap < 1.0:
        return f"{head}, within {gap:.3%} of the bound from {outcome.bound_by}."
    words = (
        f"{head}. The best bound ({bound:.4g}, from {outcome.bound_by}) is too far below it "
        "to measure it by, which says nothing about the plan's quality"
    )
    if _pure_imbalance(run.model, run.rows) and bound <= 0:
        words += (
            ": relaxations may split customers between reps and then balance exactly, so a "
            "balance objective rarely gets a bound above 0. Read the deviations themselves"
        )
    return words + "."


def _no_plan(run: Run, cp_status: str) -> tuple[Status, str]:
    """Status and explanation when search found no feasible plan (INFEASIBLE needs a
    proof on the raw rows: see `prove_infeasible`)."""
    if cp_status == "INFEASIBLE" and run.scaled is not None:
        deadline = run.deadline.share(1.0, cap=5.0)
        proven, expl = prove_infeasible(
            run.model, run.rows, run.scaled, deadline, run.seed, cp_status, run.problem
        )
        return (Status.INFEASIBLE if proven else Status.UNKNOWN), expl
    return Status.UNKNOWN, (
        "No feasible plan was found in the time limit and infeasibility was not proven. "
        "Give more time, or relax the tightest rules."
    )


#: ``warnings.warn`` stack level of the phase functions: the caller of ``solve``.
_USER_STACKLEVEL = 4
