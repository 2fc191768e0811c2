"""Solving a model with global caps (``alloc.Budget`` rows): a start, then CP-SAT.

The portfolio's greedy, local search, cores and neighbourhoods work on per-rep rows and
know nothing of a row over the whole plan, so a model with budgets is solved here:

1. A start: the caller's plan (the previous stage of ``alloc.Lexicographic``), or the
   portfolio's plan for the capped terms themselves under the per-rep rules
   (``sum_b term_b / |cap_b|``). Its lower bound proves the caps impossible when it
   exceeds ``sum_b cap_b / |cap_b|`` (a plan meeting every cap scores at most that).
2. CP-SAT on the whole model (`alloc.solvers.cpsat.build_model`) with one linear row
   per budget, hinted with the start. Budget rows are scaled like hard rows (exact for
   whole numbers and decimals, limits rounded outward), so OPTIMAL and INFEASIBLE are
   proofs only when every row and the objective are scaled exactly.
3. When CP-SAT proved nothing about the kept plan on a small model (its objective had
   to be approximated: distances in floats, shares that are no small rationals; or its
   plan broke a raw cap that its widened integer row allowed), HiGHS's branch and cut on
   the float data with the budget rows (`alloc.solvers.float_mip`), from the best plan:
   its optimum is a proof where CP-SAT's is not (a 9 x 3 travel problem with a distance
   budget was FEASIBLE with a bound 38 % below its optimum before).

Every plan is re-checked on the raw rows and budgets before it is kept.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from alloc.checker import objective_value
from alloc.data.model import Model
from alloc.data.problem import Problem
from alloc.data.tolerance import bound_closes, upper_limit
from alloc.errors import DataWarning
from alloc.result import Result, SolveStats, Status
from alloc.solvers.cpsat import CpBuild, build_model, exact_imbalance_terms, run
from alloc.solvers.deadline import Deadline
from alloc.solvers.diagnose import precheck
from alloc.solvers.float_mip import solve_float_mip
from alloc.solvers.scaling import Scaled, relaxation, scale_global_row
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["chosen_of", "derived", "meets_budgets", "solve_budgeted"]

#: ``plain(problem, time_limit, seed, workers)``: the portfolio for models without budgets.
PlainSolve = Callable[..., Result]

#: Share of the time the start (the portfolio on the capped terms) may use.
START_SHARE = 0.25
#: Share of what is left the penalty search may use, and its number of portfolio runs.
PENALTY_SHARE = 0.5
PENALTY_ROUNDS = 5
#: Models up to this many pairs go to CP-SAT straight after the start (it proves them).
EXACT_PAIRS = 1_000
#: Models up to this many pairs get HiGHS's branch and cut when CP-SAT's integer
#: objective is approximate (as in the portfolio: `alloc.solvers.float_mip`).
HIGHS_PAIRS = 1_000


def derived(problem: Problem, **changes: Any) -> Problem:
    """``problem.replace(**changes)`` without repeating the data warnings the caller saw
    when building ``problem`` (the stages and caps reuse its tables)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return problem.replace(**changes)


def chosen_of(problem: Problem, assignment: pd.Series) -> np.ndarray:
    """The plan as one pair per unit (-1 where a unit's rep is not an eligible pair)."""
    model = problem.model
    reps = problem.rep_ids.get_indexer(pd.Index(assignment.reindex(problem.customer_ids)))
    unit_rep = np.zeros(model.n_units, dtype=np.int64)
    unit_rep[model.customer_unit] = reps
    chosen = model.pair_index(np.arange(model.n_units), unit_rep)
    chosen[np.bincount(model.customer_unit[reps < 0], minlength=model.n_units) > 0] = -1
    return chosen


def meets_budgets(model: Model, chosen: np.ndarray) -> bool:
    """True when a complete plan keeps every budget row within its allowed limit."""
    if (chosen < 0).any():
        return False
    return all(
        float(b.weight[chosen].sum()) <= float(upper_limit(np.float64(b.hi))) for b in model.budgets
    )


class _Budgeted:
    """One call: the best plan that meets every rule and budget, and how it was found."""

    def __init__(self, problem: Problem, deadline: Deadline, seed: int, workers: int) -> None:
        self.problem, self.model = problem, problem.model
        self.rows = Rows.from_model(self.model)
        self.deadline, self.seed, self.workers = deadline, seed, workers
        self.t0 = time.perf_counter()
        self.best: np.ndarray | None = None
        self.score = Score(math.inf, math.inf, math.inf)
        self.found_by = ""
        self.relaxed_bound = -math.inf  # bound of the problem without its budgets
        self.phases: list[tuple[str, float, float]] = []
        self.notes: list[str] = []

    def keep(self, chosen: np.ndarray | None, label: str) -> None:
        if chosen is None or not meets_budgets(self.model, chosen):
            return
        score = score_of(self.model, self.rows, chosen, self.rows.loads(self.model, chosen))
        if score.penalty == 0 and score.better_than(self.score):
            self.best, self.score, self.found_by = chosen.copy(), score, label
        self.phases.append((label, time.perf_counter() - self.t0, score.objective))

    def result(self, status: Status, bound: float | None, explanation: str, note: str) -> Result:
        assignment = None
        objective = math.inf
        if self.best is not None:
            rep_codes = self.model.pair_rep[self.best][self.model.customer_unit]
            assignment = pd.Series(
                self.problem.rep_ids.to_numpy()[rep_codes],
                index=self.problem.customer_ids.copy(),
                name=self.problem.id_columns["rep"],
            )
            objective = objective_value(self.problem, assignment)
        stats = SolveStats(
            time=time.perf_counter() - self.t0,
            phases=tuple(self.phases),
            found_by=self.found_by,
            seed=self.seed,
            workers=self.workers,
            time_limit=self.deadline.at - self.t0,
            notes=tuple(self.notes),
        )
        return Result(
            self.problem, status, assignment, objective, bound, explanation, stats, bound_note=note
        )


def solve_budgeted(
    problem: Problem,
    deadline: Deadline,
    seed: int,
    workers: int,
    plain: PlainSolve,
    start: pd.Series | None = None,
) -> Result:
    """Solve a problem whose model has budget rows; see the module docstring.

    Parameters
    ----------
    problem : Problem
        Its model has at least one ``Budget`` row (and no territory geography).
    deadline : Deadline
    seed, workers : int
    plain : callable
        The portfolio (``alloc.solve``) for the start, on a problem without budgets.
    start : pandas.Series, optional
        A plan to start from (it need not meet the budgets).
    """
    call = _Budgeted(problem, deadline, seed, workers)
    reasons = precheck(problem, call.rows)
    if reasons:
        return call.result(Status.INFEASIBLE, None, "Infeasible: " + " ".join(reasons), "")
    hint = None if start is None else chosen_of(problem, start)
    if hint is None:
        proof, hint = _start(call, plain)
        if proof is not None:
            return proof
    call.keep(hint, "start")
    if call.model.n_pairs > EXACT_PAIRS:
        proof = _penalty_search(call, plain, call.deadline.share(PENALTY_SHARE))
        if proof is not None:
            return proof
    return _cp_sat(call, call.best if call.best is not None else hint)


def _penalty_search(call: _Budgeted, plain: PlainSolve, window: Deadline) -> Result | None:
    """The portfolio on the objective plus ``mu * sum_b term_b / |cap_b|``, for a few mu.

    mu = 0 first: the problem without its budgets is a relaxation, so its bound is
    valid, and its proven optimum, if it meets the budgets, is optimal (returned).
    Then mu grows until the plan meets the budgets and is halved back toward the
    largest mu that did not (bisection); every plan that meets them is kept.
    """
    problem, budgets = call.problem, call.model.budgets
    rules = [r for r in problem.rules if not hasattr(r, "budgets")]
    capped = [
        (term, 1.0 / max(abs(b.hi), 1e-6))
        for b in budgets
        for term in b.source.terms  # type: ignore[attr-defined]
    ]
    low, high, mu = 0.0, math.inf, 0.0
    for left in range(PENALTY_ROUNDS, 0, -1):
        seconds = window.share(1.0 / left).remaining()
        if seconds < 0.05:
            break
        objective = [*problem.objective, *(term * (mu * c) for term, c in capped if mu > 0)]
        res = plain(
            derived(problem, rules=rules, objective=objective), seconds, call.seed, call.workers
        )
        call.phases.append(
            (f"penalty search mu={mu:.3g}", time.perf_counter() - call.t0, res.objective)
        )
        if res.assignment is None:
            return None
        chosen = chosen_of(problem, res.assignment)
        meets = meets_budgets(call.model, chosen)
        if meets:
            call.keep(chosen, "penalty search")
        if mu == 0:
            call.relaxed_bound = -math.inf if res.bound is None else res.bound
            if meets and res.status is Status.OPTIMAL:
                why = "Optimal: the best plan without the budgets meets them (proven)."
                return call.result(Status.OPTIMAL, res.objective, why, res.bound_note)
            scale = max(abs(res.objective), 1e-3)
        if meets:
            high = mu
        else:
            low = mu
        mu = (low + high) / 2 if math.isfinite(high) else max(4 * low, scale)
        if mu == 0:
            break
    return None


def _start(call: _Budgeted, plain: PlainSolve) -> tuple[Result | None, np.ndarray | None]:
    """The portfolio on the capped terms under the per-rep rules: a start, or a proof."""
    problem, budgets = call.problem, call.model.budgets
    weights = [1.0 / max(abs(b.hi), 1e-6) for b in budgets]
    terms = []
    for b, c in zip(budgets, weights, strict=True):
        terms += [term * c for term in b.source.terms]  # type: ignore[attr-defined]
    # Hard per-rep rules only: a soft window would add its price to the capped terms and
    # its bound could then "prove" caps impossible that a plan meets (found by fuzzing).
    rules = [
        r for r in problem.rules if not hasattr(r, "budgets") and not getattr(r, "soft", False)
    ]
    seconds = call.deadline.share(START_SHARE).remaining()
    relaxed = derived(problem, rules=rules, objective=terms)
    first = plain(relaxed, max(seconds, 0.05), call.seed, call.workers)
    call.phases.append(("start: capped terms", time.perf_counter() - call.t0, first.objective))
    if first.status is Status.INFEASIBLE:
        return call.result(Status.INFEASIBLE, None, first.explanation, ""), None
    ceiling = sum(c * b.hi for b, c in zip(budgets, weights, strict=True))
    if first.bound is not None and first.bound > ceiling + 1e-9 * max(1.0, abs(ceiling)):
        names = "; ".join(f"{b.label}" for b in budgets)
        if len(budgets) == 1:
            least = first.bound / weights[0]
            detail = f"no plan under the rules gets it below {least:.6g}"
        else:
            detail = (
                f"the capped terms, each divided by its cap, cannot sum to less than "
                f"{first.bound:.6g}, and a plan within every cap scores at most {ceiling:.6g}"
            )
        why = (
            f"Infeasible: the budgets cannot be met under the rules ({names}): {detail} "
            f"(the bound: {first.bound_note}). Raise the caps or relax the rules."
        )
        return call.result(Status.INFEASIBLE, None, why, ""), None
    if first.assignment is None:
        return None, None
    return None, chosen_of(problem, first.assignment)


def _cp_sat(call: _Budgeted, hint: np.ndarray | None) -> Result:
    """CP-SAT on a relaxation of the model with the budget rows; status and bound.

    Approximate rows are widened (`alloc.solvers.scaling.relaxation`,
    `scale_global_row`), so CP-SAT's model never cuts off a plan that meets the raw
    rows: its INFEASIBLE is a proof, and with an exact objective its bound is valid and
    its OPTIMAL proves any kept plan no worse than its own.
    """
    model, rows = call.model, call.rows
    scaled = relaxation(model, rows, Scaled.from_rows(model, rows))
    usable = hint if hint is not None and (hint >= 0).all() else None
    build = build_model(model, rows, scaled, hint=usable)
    for budget in model.budgets:
        allowed = float(upper_limit(np.float64(budget.hi)))
        weight, hi, _, _ = scale_global_row(np.asarray(budget.weight), allowed, model.unit_start)
        build.add_pair_row(weight[build.pairs], hi=hi)
    factor = _integer_objective(build)
    solution = run(build, call.deadline.minus(0.05), seed=call.seed, workers=call.workers)
    if solution.found:
        call.keep(build.chosen(solution), "cp-sat")
    exact_terms = scaled.error == 0 and exact_imbalance_terms(scaled, rows)
    soft_exact = not rows.imb_weight.any() or exact_terms
    exact_objective = soft_exact and factor is not None
    bound = solution.bound / factor if solution.found and exact_objective and factor else -math.inf
    # Imbalance terms are never negative; dropping the budgets relaxes the problem.
    bound = max(bound, _cheapest(model), call.relaxed_bound)
    if call.best is None:
        if solution.status == "INFEASIBLE":
            why = (
                "Infeasible: no plan meets every rule and budget (proven by CP-SAT on an "
                "integer relaxation of the rules with the budget rows)."
            )
            return call.result(Status.INFEASIBLE, None, why, "")
        why = (
            "No plan meeting every rule and budget was found in the time limit, and "
            "infeasibility was not proven. Give more time or raise the caps."
        )
        return call.result(Status.UNKNOWN, None, why, "")
    best = call.score.objective
    proven = solution.optimal and exact_objective and best <= _plan_value(call, build, solution)
    if proven:
        why = "Optimal: proven by CP-SAT with the budget rows."
        return call.result(Status.OPTIMAL, best, why, "proven optimal by CP-SAT")
    if model.n_pairs <= HIGHS_PAIRS:  # approximate objective, or CP-SAT's plan broke a raw cap
        highs_bound = _highs(call)
        if bound_closes(call.score.objective, highs_bound):
            why = "Optimal: proven by HiGHS's branch and cut with the budget rows."
            note = "proven optimal by HiGHS"
            return call.result(Status.OPTIMAL, call.score.objective, why, note)
        if highs_bound > bound:
            note = "HiGHS's branch and cut with the budget rows"
            words = _words(call.score.objective, highs_bound, note)
            return call.result(Status.FEASIBLE, highs_bound, words, note)
    best = call.score.objective  # HiGHS may have found a better plan
    valid = bound if math.isfinite(bound) else None
    if valid is None:
        note = "no bound: CP-SAT's integer objective is approximate or it found no bound"
    elif exact_objective and solution.found:
        note = "CP-SAT with the budget rows"
    else:
        note = "every customer on its cheapest rep"
    return call.result(Status.FEASIBLE, valid, _words(best, valid, note), note)


def _highs(call: _Budgeted) -> float:
    """HiGHS on the whole float model with the budget rows, from the best plan: keeps its
    plan and returns its proven lower bound (-inf without one)."""
    deadline = call.deadline.minus(0.02)
    if deadline.remaining() <= 0.05:
        return -math.inf
    mip = solve_float_mip(call.model, call.rows, deadline, start=call.best)
    call.keep(mip.chosen, "highs")
    return mip.bound


def _plan_value(call: _Budgeted, build: CpBuild, solution: Any) -> float:
    """The raw objective of CP-SAT's own plan (its OPTIMAL proves only plans no worse)."""
    plan = build.chosen(solution)
    model, rows = call.model, call.rows
    value = score_of(model, rows, plan, rows.loads(model, plan)).objective
    return value + 1e-9 * max(1.0, abs(value))


def _words(best: float, bound: float | None, note: str) -> str:
    head = "Feasible: best plan found in the time limit that meets every rule and budget"
    if bound is None:
        return f"{head}; no bound ({note})."
    gap = max(0.0, best - bound) / max(abs(best), 1e-9)
    if gap >= 1.0:
        return f"{head}; the bound ({bound:.4g}, from {note}) is too far below it to measure by."
    return f"{head}, within {gap:.3%} of the bound from {note}."


def _integer_objective(build: CpBuild) -> float | None:
    """Linear objectives of whole numbers or decimals become integer ones (exact proofs).

    Returns the factor of the objective CP-SAT minimises (1 for the default float one
    with imbalance terms), or None when the costs had to be approximated.
    """
    if build.terms:
        return 1.0
    cost = build.model.cost[build.pairs]
    weight, _, factor, exact = scale_global_row(cost, math.inf, build.model.unit_start)
    if not exact:
        return None
    nz = np.flatnonzero(weight)
    build.minimize(
        cp_model.LinearExpr.weighted_sum([build.x[i] for i in nz.tolist()], weight[nz].tolist())
    )
    return factor


def _cheapest(model: Model) -> float:
    """Every unit on its cheapest pair: a floor for a linear objective."""
    if model.n_pairs == 0:
        return -math.inf
    return float(np.minimum.reduceat(model.cost, model.unit_start[:-1]).sum())
