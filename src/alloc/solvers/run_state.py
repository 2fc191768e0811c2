"""The state of one ``alloc.solve`` call, shared by the phases of `alloc.solvers.portfolio`.

`Run` holds the best plan so far (every candidate is re-scored exactly on the model
before it is kept), the phases and the deadline; `CpOutcome` what the exact phases
established (bound, proof, who proved it); `Run.finish` turns the plan into a `Result`
whose objective the independent checker recomputes from the tables.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, replace
from typing import TextIO

import numpy as np
import pandas as pd

from alloc.checker import objective_value
from alloc.data.problem import Problem
from alloc.result import Result, SolveStats, Status
from alloc.solvers.bounds import imbalance_floors
from alloc.solvers.deadline import Deadline
from alloc.solvers.lp import LpSearch
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows, Score, score_of

__all__ = [
    "EXACT_COST_PAIR_LIMIT",
    "EXACT_PAIR_LIMIT",
    "CpOutcome",
    "Progress",
    "Run",
    "to_assignment",
]

#: Problems with at most this many eligible pairs are given to CP-SAT as one exact model.
#: (20,000 was tried for mixed objectives: on 2,000 x 20, 5 s, regional restrictions
#: with travel gained 0.06-0.1 pt but key accounts with disruption lost 1.2-3.6 pt
#: against the LP-guided local search and large-neighbourhood search.)
EXACT_PAIR_LIMIT = 6_000
#: The same limit for objectives made of linear terms only (cost, fit, travel, ...).
EXACT_COST_PAIR_LIMIT = 40_000


class Progress:
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


@dataclass(frozen=True)
class CpOutcome:
    """What the CP-SAT phase (and the bound phase after it) established."""

    bound: float = -math.inf
    proven: bool = False
    cp_status: str = ""  # CP-SAT's status on the whole model ("" when it did not run)
    prover: str = "CP-SAT"
    bound_by: str = ""  # where ``bound`` comes from, in words

    def with_bound(self, value: float, source: str) -> CpOutcome:
        """This outcome with ``value`` as its bound if it is the better one."""
        if value > self.bound:
            return replace(self, bound=value, bound_by=source)
        return self


class Run:
    """State of one ``solve`` call: the best plan so far, the phases and the deadline."""

    def __init__(
        self,
        problem: Problem,
        time_limit: float,
        seed: int,
        workers: int,
        progress: bool,
        t0: float,
    ) -> None:
        self.problem, self.model = problem, problem.model
        self.time_limit, self.seed, self.workers, self.t0 = time_limit, seed, workers, t0
        # One deadline for the call; the greedy construction may use 40 % of it.
        self.deadline = Deadline(t0 + time_limit)
        self.greedy_deadline = self.deadline.share(0.4)
        self.say = Progress(progress, t0)
        rows = Rows.from_model(self.model)
        self.rows = replace(rows, floor=imbalance_floors(self.model, rows))
        self.phases: list[tuple[str, float, float]] = []
        self.notes: list[str] = []
        # A PrecisionWarning to issue if the plan ends FEASIBLE (a later bound may still
        # prove it optimal, and then the warning would contradict the status).
        self.precision = ""
        self.chosen = np.zeros(0, dtype=np.int64)
        self.best = Score(math.inf, math.inf, math.inf)
        self.found_by = ""
        self.scaled: Scaled | None = None
        self.lp: LpSearch | None = None  # the LP relaxation, solving in its own thread
        self.lp_skipped = ""  # why the LP relaxation was not attempted
        self.lp_deadline = self.deadline
        self.lp_fraction: np.ndarray | None = None  # the LP's pair values, when it guides
        # Cost-driven objectives suit CP-SAT's full model (with a complete hint) up to
        # much larger sizes than balance objectives, whose max-norm terms defeat its
        # search.
        self.linear_only = bool(np.any(self.model.cost != 0)) and not self.rows.imb_weight.any()
        limit = EXACT_COST_PAIR_LIMIT if self.linear_only else EXACT_PAIR_LIMIT
        self.small = self.model.n_pairs <= limit

    def phase(self, name: str, value: float) -> None:
        self.phases.append((name, time.perf_counter() - self.t0, value))

    def improve(self, candidate: np.ndarray | None, label: str, ties: bool = False) -> None:
        """Keep ``candidate`` if it is a complete plan better than the best so far (or as
        good, with ``ties``)."""
        if candidate is None or (candidate < 0).any():
            return
        score = score_of(self.model, self.rows, candidate, self.rows.loads(self.model, candidate))
        if score.better_than(self.best) or (ties and not self.best.better_than(score)):
            self.chosen, self.best, self.found_by = candidate.copy(), score, label
            self.say(label, self.best)

    def finish(
        self,
        status: Status,
        chosen: np.ndarray | None,
        bound: float,
        explanation: str,
        found_by: str,
        bound_note: str = "",
    ) -> Result:
        assignment = None
        objective = math.inf
        if chosen is not None:
            assignment = to_assignment(self.problem, chosen)
            objective = objective_value(self.problem, assignment)
        stats = SolveStats(
            time=time.perf_counter() - self.t0,
            phases=tuple(self.phases),
            found_by=found_by,
            seed=self.seed,
            workers=self.workers,
            time_limit=self.time_limit,
            scaling_error=self.scaled.error if self.scaled is not None else 0.0,
            notes=tuple(self.notes),
        )
        self.say("done", None, f"{status.value}")
        return Result(
            self.problem,
            status,
            assignment,
            objective,
            bound,
            explanation,
            stats,
            bound_note=bound_note,
        )


def to_assignment(problem: Problem, chosen: np.ndarray) -> pd.Series:
    """The plan as a Series: rep id per customer id."""
    model = problem.model
    unit_rep = model.pair_rep[chosen]
    rep_codes = unit_rep[model.customer_unit]
    return pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],
        index=problem.customer_ids.copy(),
        name=problem.id_columns["rep"],
    )
