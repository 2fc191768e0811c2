"""What a rebalancing returns: the assignment, the move list with a reason per move, the
explanation lines (forced and discretionary moves, deviations before and after, the
tolerance, protected moves) and the [`Result`][alloc.Result] that carries them."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from alloc.checker import check, objective_value
from alloc.data.problem import Problem
from alloc.errors import format_ids
from alloc.objectives import MinimizeDisruption
from alloc.rebalancing.plan import Outcome, Plan
from alloc.rebalancing.setup import REASONS, Budget, Setup
from alloc.result import Result, SolveStats, Status

__all__ = [
    "budget_words",
    "imbalance_metrics",
    "max_devs",
    "moves_frame",
    "result",
    "to_assignment",
]


def max_devs(setup: Setup, chosen: np.ndarray) -> np.ndarray:
    """Max relative deviation per row of the plan ``chosen`` (0 for hard rows)."""
    return Plan(setup, chosen, Budget()).max_dev()


def imbalance_metrics(setup: Setup) -> list[tuple[int, str]]:
    """(row index, metric name) of the imbalance rows, first row per metric."""
    model = setup.model
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for j, term in enumerate(model.imbalances):
        # A soft window's rows (source: the Balance rule) measure from its window ends.
        if term.metric not in seen and not hasattr(term.source, "soft_terms"):
            seen.add(term.metric)
            out.append((len(model.constraints) + j, term.metric))
    return out


def to_assignment(problem: Problem, chosen: np.ndarray) -> pd.Series:
    model = problem.model
    rep_codes = model.pair_rep[chosen][model.customer_unit]
    return pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],
        index=problem.customer_ids.copy(),
        name=problem.id_columns["rep"],
    )


def moves_frame(setup: Setup, chosen: np.ndarray) -> pd.DataFrame:
    """One row per customer that changes rep, sorted by reason then value."""
    model = setup.model
    unit = model.customer_unit
    final_pair = chosen[unit]
    final = model.pair_rep[final_pair]
    moved = final != setup.inc_code
    reason = setup.forced_reason.copy()
    discretionary = moved & (reason == "")
    home = setup.home[unit]
    capacity = discretionary & (setup.hot_from[np.maximum(home, 0)] | setup.under_to[final_pair])
    reason[capacity] = "capacity"
    reason[discretionary & ~capacity] = "balance"
    idx = np.flatnonzero(moved)
    ids = setup.problem.customer_ids.to_numpy()
    from_rep = setup.inc_label[idx].copy()
    from_rep[setup.forced_reason[idx] == "new"] = None
    frame = pd.DataFrame(
        {
            "customer_id": ids[idx],
            "from_rep": from_rep,
            "to_rep": setup.problem.rep_ids.to_numpy()[final[idx]],
            "value": setup.value[idx],
            "reason": pd.Categorical(reason[idx], categories=list(REASONS)),
            "protected": setup.protected[idx],
        }
    )
    frame = frame.sort_values(["reason", "value"], ascending=[True, False], kind="stable")
    frame["reason"] = frame["reason"].astype(str)
    return frame.reset_index(drop=True)


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def budget_words(max_moves: int | None, max_moved_value: float | None) -> str:
    parts = []
    if max_moves is not None:
        parts.append(f"max_moves={max_moves}")
    if max_moved_value is not None:
        parts.append(f"max_moved_value={max_moved_value:,.6g}")
    return " and ".join(parts) if parts else "no budget"


def _no_plan(setup: Setup, outcome: Outcome, words: str) -> tuple[Status, str]:
    if outcome.proven:
        return Status.INFEASIBLE, (
            f"Infeasible within {words}: CP-SAT proved that no plan within the "
            f"budgets satisfies every rule (after placing the {setup.n_forced:,} "
            f"orphaned, new or re-ruled customers). Raise the budgets or relax the rules."
        )
    return Status.UNKNOWN, (
        f"No plan satisfying every rule was found within {words}: after "
        f"placing the {setup.n_forced:,} orphaned, new or re-ruled customers, the "
        f"moves allowed still leave a hard rule broken. Raise the budgets, give more "
        f"time, or relax the rules."
    )


def _prices_moves(setup: Setup) -> bool:
    """The objective charges for moves: it has a ``MinimizeDisruption`` term."""
    return any(isinstance(term, MinimizeDisruption) for term in setup.problem.objective)


def _summary_lines(
    setup: Setup,
    outcome: Outcome,
    moves: pd.DataFrame,
    tol: np.ndarray | None,
    start_max: np.ndarray,
    words: str,
) -> list[str]:
    """Moves made, deviations before and after, the tolerance, protected moves."""
    discretionary = moves["reason"].isin(["capacity", "balance"])
    disc, forced = moves[discretionary], moves[~discretionary]
    counts = forced["reason"].value_counts()
    parts = []
    if len(forced):
        parts.append(
            "forced moves: "
            + ", ".join(f"{int(counts[r])} {r}" for r in REASONS if r in counts.index)
        )
    parts.append(f"{len(disc)} discretionary moves (value {disc['value'].sum():,.6g}; {words})")
    lines = ["Rebalanced with " + "; ".join(parts) + "."]
    end_max = max_devs(setup, outcome.chosen)
    for k, metric in imbalance_metrics(setup):
        lines.append(
            f"{metric}: max deviation {_pct(start_max[k])} after the forced moves, "
            f"{_pct(end_max[k])} after rebalancing."
        )
    if tol is not None:
        targets = ", ".join(
            f"{metric} {_pct(tol[k])}"
            for k, metric in imbalance_metrics(setup)
            if np.isfinite(tol[k])
        )
        if outcome.tolerance_reached:
            lines.append(f"Within the tolerance ({targets}).")
        else:
            lines.append(
                f"The tolerance ({targets}) was not reached within the budgets "
                f"and time; this is the closest plan found."
            )
    free = words == "no budget" and tol is None and not _prices_moves(setup)
    if free and len(disc):
        lines.append(
            "Moves were free (no max_moves, max_moved_value, tolerance or "
            "MinimizeDisruption term), so any move that lowers the objective was made: "
            "pass max_moves, a tolerance, or add a MinimizeDisruption term to move fewer."
        )
    prot = disc[disc["protected"]]
    if len(prot):
        lines.append(
            f"{len(prot)} protected customers had to move (no plan within the "
            f"budgets satisfies the rules without moving them): "
            f"{format_ids(prot['customer_id'])}."
        )
    return lines


def result(
    setup: Setup,
    outcome: Outcome,
    tol: np.ndarray | None,
    start_max: np.ndarray,
    t0: float,
    time_limit: float,
    seed: int,
    words: str,
) -> Result:
    """The [`Result`][alloc.Result] of a rebalancing: status, plan, moves, explanation."""
    problem = setup.problem
    stats_kw: dict[str, Any] = {
        "phases": tuple(outcome.phases),
        "found_by": outcome.found_by,
        "seed": seed,
        "workers": 1,
        "time_limit": time_limit,
        "notes": tuple(outcome.notes),
    }
    if not outcome.feasible:
        status, expl = _no_plan(setup, outcome, words)
        stats = SolveStats(time=time.perf_counter() - t0, **stats_kw)
        return Result(problem, status, None, math.inf, -math.inf, expl, stats)
    assignment = to_assignment(problem, outcome.chosen)
    violations = check(problem, assignment)
    if violations:  # pragma: no cover - the model and the checker disagree
        expl = "The search ended with a plan the independent checker rejects: " + "; ".join(
            map(str, violations[:3])
        )
        stats = SolveStats(time=time.perf_counter() - t0, **stats_kw)
        return Result(problem, Status.UNKNOWN, None, math.inf, -math.inf, expl, stats)
    objective = objective_value(problem, assignment)
    moves = moves_frame(setup, outcome.chosen)
    lines = _summary_lines(setup, outcome, moves, tol, start_max, words)
    pure_imbalance = not np.any(setup.model.cost != 0) and bool(setup.rows.imb_weight.any())
    bound = outcome.bound
    if outcome.proven and tol is None:
        status = Status.OPTIMAL
        lines.append(
            "Proven optimal within the budgets by CP-SAT (and no plan as good needs fewer moves)."
        )
    else:
        status = Status.FEASIBLE
        if outcome.proven and outcome.tolerance_reached:
            lines.append(
                "CP-SAT proved that no plan within the tolerance and the budgets needs fewer moves."
            )
        bound = -math.inf if tol is not None else bound
        if pure_imbalance:
            bound = max(bound, 0.0)
    note = _bound_note(status, bound, tol is not None, pure_imbalance)
    stats = SolveStats(time=time.perf_counter() - t0, **stats_kw)
    return Result(
        problem,
        status,
        assignment,
        objective,
        bound,
        " ".join(lines),
        stats,
        moves=moves,
        bound_note=note,
    )


def _bound_note(status: Status, bound: float, tolerance: bool, pure_imbalance: bool) -> str:
    """Where a rebalance's bound comes from, in words (``Result.bound_note``)."""
    if status is Status.OPTIMAL:
        return "proven optimal within the budgets by CP-SAT"
    # Phrases that read after "from" when Result words an uninformative bound.
    if tolerance and pure_imbalance:
        return (
            "deviations that are never negative (with a tolerance, rebalance seeks the "
            "fewest moves that reach it, not a bound)"
        )
    if tolerance:
        return (
            "no bound: with a tolerance, rebalance seeks the fewest moves that reach it, "
            "not a bound on the objective"
        )
    if pure_imbalance and bound <= 0:
        return "deviations that are never negative (the only bound computed)"
    return "CP-SAT's bound within the move budgets" if math.isfinite(bound) else ""
