"""``alloc.Result`` and ``alloc.Status``: what a solve returns.

A result is immutable: assigning or deleting any of its attributes raises
`dataclasses.FrozenInstanceError` (an ``AttributeError``). Per-rep loads and
metrics are computed from the tables by the independent checker on first access
(cached), so a solve returns as soon as its time limit allows, and the figures never
come from solver state.
"""

from __future__ import annotations

import enum
import math
from dataclasses import FrozenInstanceError, dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from alloc.data.problem import Problem
from alloc.errors import InfeasibleError
from alloc.metrics import evaluate, loads_table

__all__ = ["Result", "SolveStats", "Stage", "Status"]


class Status(enum.Enum):
    """Outcome of a solve.

    Attributes
    ----------
    OPTIMAL
        Proven optimal: no plan has a lower objective (objective == bound).
    FEASIBLE
        A plan that satisfies every rule; optimality not proven (see ``bound``, ``gap``).
    INFEASIBLE
        Proven that no plan satisfies every rule; the explanation says why.
    UNKNOWN
        No plan found and no proof of infeasibility in the time given.
    """

    OPTIMAL = "optimal"  #: proven optimal (objective == bound)
    FEASIBLE = "feasible"  #: a plan satisfying every rule, optimality not proven
    INFEASIBLE = "infeasible"  #: proven that no plan satisfies every rule
    UNKNOWN = "unknown"  #: no plan found and no proof of infeasibility in the time given

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolveStats:
    """Where the time went and which method found the returned plan.

    Attributes
    ----------
    time : float
        Seconds the solve took.
    phases : tuple of (str, float, float)
        ``(phase, seconds since the start, value)`` in order. The value is the best
        plan's objective after the phase (e.g. ``("greedy", 0.02, 0.0666)``), the bound
        for ``"lagrangian"`` and NaN for ``"precheck"``.
    found_by : str
        The method that found the returned plan (``"local search"``, ``"cp-sat"``, ...).
    seed, workers, time_limit
        The parameters the solve ran with.
    scaling_error : float
        Largest relative error of scaling float data to integers for CP-SAT (0: exact).
    notes : tuple of str
        Anything else worth knowing about the run, in words.
    """

    time: float = 0.0
    phases: tuple[tuple[str, float, float], ...] = ()  # (phase, seconds, objective after)
    found_by: str = ""
    seed: int = 0
    workers: int = 1
    time_limit: float = 0.0
    scaling_error: float = 0.0  # max relative error of integer scaling for CP-SAT
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Stage:
    """One stage of a staged objective (``alloc.Lexicographic``) as it was solved.

    ``value`` is the stage's terms' value for the final plan (from the tables);
    ``status`` the stage's own solve (OPTIMAL: proven best among the plans that keep
    the earlier stages within their caps); ``bound`` its lower bound or None.
    """

    label: str
    status: Status
    value: float
    bound: float | None
    note: str = ""


class Result:
    """A solve's outcome: status, assignment, objective, bound and gap, figures, words.

    A result is immutable: assigning any attribute (``result.status = ...``) raises
    `dataclasses.FrozenInstanceError`. ``assignment`` and ``moves`` are the
    result's own copies of what the solver returned; copy them before editing.

    Attributes
    ----------
    status : Status
    assignment : pandas.Series or None
        customer_id -> rep_id; None when no plan was found.
    objective : float
        Objective of the assignment recomputed from the tables (``inf`` without one).
    bound : float or None
        A proven lower bound on the optimal objective; None when no valid bound is known
        (and when there is no plan).
    gap : float or None
        ``(objective - bound) / max(|objective|, 1e-9)``; 0 when optimal; None without a
        plan, without a bound, or when the bound is not informative (a gap of 100 % or
        more says nothing about the plan). ``bound_note`` says why.
    bound_note : str
        Where the bound comes from (e.g. "the LP relaxation"), or why there is no bound
        or no gap, in words.
    explanation : str
        Plain words: how good the plan is, or why none exists.
    stats : SolveStats
    moves : pandas.DataFrame or None
        For rebalancing: customer_id, from_rep, to_rep, value, reason per move.
    centers : dict
        rep_id -> customer_id of each territory's centre when the solver chose them
        (``MinimizeDispersion`` without rep locations or base units); empty otherwise.
    stages : tuple of Stage
        For a staged objective (``alloc.Lexicographic``): each stage's value, status and
        bound, in order; ``objective`` and ``bound`` are the last stage's. Empty otherwise.
    """

    _problem: Problem
    status: Status
    assignment: pd.Series | None
    objective: float
    bound: float | None
    explanation: str
    stats: SolveStats
    moves: pd.DataFrame | None
    bound_note: str
    centers: dict[Any, Any]
    stages: tuple[Stage, ...]

    def __init__(
        self,
        problem: Problem,
        status: Status,
        assignment: pd.Series | None,
        objective: float,
        bound: float | None,
        explanation: str,
        stats: SolveStats,
        moves: pd.DataFrame | None = None,
        *,
        bound_note: str = "",
        centers: dict[Any, Any] | None = None,
        stages: tuple[Stage, ...] = (),
    ) -> None:
        # A bound is valid or absent: -inf (none known) and +inf (no plan exists) are None.
        if assignment is None or bound is None or not math.isfinite(bound):
            bound = None
        fields = {
            "_problem": problem,
            "status": status,
            "assignment": None if assignment is None else assignment.copy(),
            "objective": float(objective),
            "bound": None if bound is None else float(bound),
            "explanation": explanation,
            "stats": stats,
            "moves": None if moves is None else moves.copy(),
            "bound_note": _bound_note(status, assignment, bound, float(objective), bound_note),
            "centers": dict(centers or {}) if assignment is not None else {},
            "stages": tuple(stages),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: a Result is immutable")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: a Result is immutable")

    @property
    def problem(self) -> Problem:
        return self._problem

    @property
    def gap(self) -> float | None:
        if self.assignment is None or self.bound is None:
            return None
        if self.status is Status.OPTIMAL:
            return 0.0
        return _gap(self.objective, self.bound)

    @cached_property
    def loads(self) -> pd.DataFrame:
        """Per-rep count and every metric a rule or term uses, with share and deviation."""
        if self.assignment is None:
            return pd.DataFrame()
        return loads_table(self._problem, self.assignment)

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """Fairness and fit figures of the assignment (see [`evaluate`][alloc.metrics.evaluate])."""
        if self.assignment is None:
            return {}
        return evaluate(self._problem, self.assignment)

    def raise_for_status(self) -> Result:
        """Return self if a plan was found; raise ``InfeasibleError`` otherwise."""
        if not self.status.has_solution:
            raise InfeasibleError(f"no plan found ({self.status.value}): {self.explanation}")
        return self

    def to_frame(self) -> pd.DataFrame:
        """Customers with their assigned rep (and all customer columns)."""
        frame = self._problem.customers
        rep_col = self._problem.id_columns["rep"]
        frame.insert(
            0, rep_col, None if self.assignment is None else self.assignment.reindex(frame.index)
        )
        return frame

    def _quality_line(self) -> str:
        """Objective, bound and gap, or why no gap is given (never a fake 100 % or inf)."""
        head = f"objective {self.objective:.6g}"
        if self.status is Status.OPTIMAL:
            return f"{head}   proven optimal"
        if self.gap is None:
            return f"{head}   no gap: {self.bound_note}"
        return f"{head}   bound {self.bound:.6g}   gap {self.gap:.3%}   ({self.bound_note})"

    def summary(self) -> str:
        """A short, readable report."""
        p = self._problem
        lines = [
            f"alloc result: {self.status.value.upper()} — {p.n_customers:,} customers, "
            f"{p.n_reps:,} reps, {self.stats.time:.2f} s (found by {self.stats.found_by or '-'})",
        ]
        if self.assignment is not None:
            lines.append(self._quality_line())
            m = self.metrics
            for key in sorted(k for k in m if k.endswith("_max_dev")):
                lines.append(
                    f"  {key[:-8]:>16}: max deviation {m[key]:.3%}, CV {m[key[:-8] + '_cv']:.3%}"
                )
            if "moves" in m:
                lines.append(f"  moves vs current owner: {m['moves']:,}")
            for i, stage in enumerate(self.stages, start=1):
                bound = "" if stage.bound is None else f", bound {stage.bound:.6g}"
                lines.append(
                    f"  stage {i} {stage.label}: {stage.value:.6g} ({stage.status.value}{bound})"
                )
            if self.centers:
                shown = ", ".join(f"{r} -> {c}" for r, c in list(self.centers.items())[:8])
                more = len(self.centers) - 8
                lines.append(f"  centres: {shown}" + (f" and {more} more" if more > 0 else ""))
        lines.append(self.explanation)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Result(status={self.status.name}, objective={self.objective:.6g}, "
            f"bound={_number(self.bound)}, gap={_number(self.gap)})"
        )


def _number(value: float | None) -> str:
    return "None" if value is None else f"{value:.6g}"


def _gap(objective: float, bound: float) -> float | None:
    """The relative gap, or None when the bound says nothing about the plan."""
    if objective - bound <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    gap = (objective - bound) / max(abs(objective), 1e-9)
    return gap if gap < 1.0 else None


def _bound_note(
    status: Status, assignment: pd.Series | None, bound: float | None, objective: float, note: str
) -> str:
    """The solver's words on the bound, or the reason no bound or gap is given."""
    if assignment is None:
        return "no plan, so no bound or gap"
    if bound is None:
        return note or "no valid bound was computed"
    if status is not Status.OPTIMAL and _gap(objective, bound) is None:
        source = f", from {note}" if note else ""
        return (
            f"the best bound ({bound:.6g}{source}) is too far below the plan to be "
            "informative: a gap of 100 % or more says nothing about the plan"
        )
    return note or "a proven lower bound"
