"""Priorities in ``alloc.solve``: staged objectives (``alloc.Lexicographic``) and budgets.

`solve_with_priorities` is where ``alloc.solve`` sends a problem whose objective is
``Lexicographic`` or whose rules hold a ``Budget``. Stages are solved in turn, each as a
problem of its own (``problem.replace``): stage 1 minimises its terms under the rules;
stage ``s`` minimises its terms under the rules plus a cap on every earlier stage
(`alloc.priority_rules.stage_cap`: a ``Budget``-like row at the earlier stage's value
plus its slack, or a ``Balance`` window for a max-norm imbalance stage), starting from
the previous stage's plan, which meets every cap. A stage without budget rows goes to the
portfolio; one with budgets to `alloc.solvers.budgeted`.

The result is OPTIMAL only when every stage is proven optimal. Its bound is the last
stage's when every earlier stage is proven optimal: the last stage's feasible set then
holds the lexicographic optimum, so its bound is valid for it. Otherwise no bound is
given: a plan whose first stage is not optimal may beat the lexicographic optimum on
the last stage, so a gap there would not measure it; ``result.stages`` holds each
stage's value, status and bound.
"""

from __future__ import annotations

import math
import time
from typing import Any

from alloc.checker import objective_value, term_value
from alloc.data.geography import needs_territory_solver
from alloc.data.problem import Problem
from alloc.errors import InvalidProblemError
from alloc.priority_rules import Lexicographic, stage_cap
from alloc.result import Result, SolveStats, Stage, Status
from alloc.solvers.budgeted import PlainSolve, derived, solve_budgeted
from alloc.solvers.deadline import Deadline

__all__ = ["has_priorities", "solve_with_priorities"]


def has_priorities(problem: Problem) -> bool:
    """True when the problem has budget rows or a staged objective."""
    staged = any(isinstance(term, Lexicographic) for term in problem.objective)
    return staged or bool(problem.model.budgets)


def solve_with_priorities(
    problem: Problem,
    time_limit: float,
    seed: int,
    workers: int,
    plain: PlainSolve,
) -> Result:
    """Solve a problem with budgets or a ``Lexicographic`` objective (see module docs).

    ``plain(problem, time_limit, seed, workers)`` is the portfolio, for stages without
    budget rows.
    """
    staged = [term for term in problem.objective if isinstance(term, Lexicographic)]
    later = staged[0].stages[1:] if staged else ()
    # A model compiles the first stage only: a later stage's chosen centres (territory
    # geography) show only in that stage's own model.
    territorial = needs_territory_solver(problem.model) or any(
        needs_territory_solver(derived(problem, objective=list(terms)).model)
        for terms in later
        if any(hasattr(term, "points") for term in terms)
    )
    if territorial:
        raise InvalidProblemError(
            "Budget and Lexicographic are not supported with Contiguous or with chosen "
            "centres (MinimizeDispersion without rep locations or base units): the "
            "territory solver has no global rows. Drop Contiguous (offices can be kept "
            "with Pin), or combine the terms with weights instead."
        )
    t0 = time.perf_counter()
    deadline = Deadline(t0 + time_limit)
    soft = [rule for rule in problem.rules if getattr(rule, "soft", False)]
    if staged and soft:
        raise InvalidProblemError(
            f"{soft[0]!r} with Lexicographic: a soft window's price would belong to no "
            "stage. Put MinimizeImbalance in a stage, or make the window hard."
        )
    if not staged:
        return solve_budgeted(problem, deadline, seed, workers, plain)
    return _solve_stages(problem, staged[0], deadline, seed, workers, plain, t0)


def _solve_stages(
    problem: Problem,
    lex: Lexicographic,
    deadline: Deadline,
    seed: int,
    workers: int,
    plain: PlainSolve,
    t0: float,
) -> Result:
    caps: list[Any] = []
    done: list[Result] = []
    for s, terms in enumerate(lex.stages):
        window = deadline.share(1.0 / (len(lex.stages) - s))
        sub = derived(problem, objective=list(terms), rules=[*problem.rules, *caps])
        start = done[-1].assignment if done else None
        if sub.model.budgets:
            res = solve_budgeted(sub, window, seed, workers, plain, start=start)
        else:
            res = plain(sub, max(window.remaining(), 0.05), seed, workers)
        if not res.status.has_solution:
            if not done:  # stage 1 has the rules alone: its status is the problem's
                return _finish(problem, lex, [res], t0, seed, workers, time_limit(deadline, t0))
            break  # out of time in a later stage: the previous stage's plan stands
        done.append(res)
        if s < len(lex.stages) - 1:
            value = sum(term_value(sub, res.assignment, term) for term in terms)
            caps += stage_cap(terms, value, lex.slack[s], lex.absolute[s])
    return _finish(problem, lex, done, t0, seed, workers, time_limit(deadline, t0))


def time_limit(deadline: Deadline, t0: float) -> float:
    return deadline.at - t0


def _finish(
    problem: Problem,
    lex: Lexicographic,
    done: list[Result],
    t0: float,
    seed: int,
    workers: int,
    limit: float,
) -> Result:
    last = done[-1]
    stats = SolveStats(
        time=time.perf_counter() - t0,
        phases=tuple(
            (f"stage {i + 1}: {name}", t, v)
            for i, res in enumerate(done)
            for name, t, v in res.stats.phases
        ),
        found_by=f"stage {len(done)}: {last.stats.found_by}",
        seed=seed,
        workers=workers,
        time_limit=limit,
        scaling_error=max(res.stats.scaling_error for res in done),
        notes=tuple(n for res in done for n in res.stats.notes),
    )
    if last.assignment is None:
        why = f"Stage 1 ({_label(lex.stages[0])}): {last.explanation}"
        return Result(problem, last.status, None, math.inf, None, why, stats)
    plan = last.assignment
    stages = tuple(
        Stage(
            _label(terms),
            done[i].status if i < len(done) else Status.UNKNOWN,
            sum(term_value(problem, plan, term) for term in terms),
            done[i].bound if i < len(done) else None,
            done[i].bound_note if i < len(done) else "not run: out of time",
        )
        for i, terms in enumerate(lex.stages)
    )
    short = [i for i, st in enumerate(stages) if st.status is not Status.OPTIMAL]
    objective = objective_value(problem, plan)
    if not short:
        why = (
            "Optimal: every stage proven optimal ("
            + "; ".join(f"stage {i + 1} {st.note}" for i, st in enumerate(stages))
            + ")."
        )
        return Result(
            problem,
            Status.OPTIMAL,
            plan,
            objective,
            objective,
            why,
            stats,
            bound_note="every stage proven optimal",
            stages=stages,
        )
    first = short[0]
    if first == len(stages) - 1 and len(done) == len(stages):
        bound, note = last.bound, f"the last stage's bound ({last.bound_note})"
    else:
        bound = None
        note = (
            f"stage {first + 1} ({stages[first].label}) was not proven optimal "
            f"({stages[first].status.value}): the plan may give up some of it for a better "
            "later stage, so a gap on the last stage would not say how far the plan is from "
            "the lexicographic optimum (each stage's own bound is in result.stages)"
        )
    why = (
        f"Feasible: stage {first + 1} of {len(stages)} was not proven optimal in the time "
        f"limit; each stage's value, status and bound are in result.stages."
    )
    return Result(
        problem,
        Status.FEASIBLE,
        plan,
        objective,
        bound,
        why,
        stats,
        bound_note=note,
        stages=stages,
    )


def _label(terms: tuple[Any, ...]) -> str:
    return " + ".join(map(repr, terms))
