"""Solve a fuzz case with alloc and classify the outcome against the brute-force oracle.

Classes (a case can fall into several; ``primary`` is the first that applies in
``CLASSES`` order, and ``ok`` means none applies):

wrong answers (issue 17 wants 0 of each)
    ``exception``            Problem() or solve() raised (the generator only builds valid
                             problems)
    ``violations``           the oracle says the returned plan breaks a rule
    ``false_infeasible``     status INFEASIBLE while a feasible plan exists
    ``false_unknown``        status UNKNOWN while a feasible plan exists
    ``suboptimal_optimal``   status OPTIMAL, objective > optimum + tolerance
    ``misreported``          result.objective differs from the oracle's objective of the
                             returned plan
    ``invalid_bound``        a returned plan's bound > optimum + tolerance (bounds are only
                             judged when a plan is returned: UNKNOWN/INFEASIBLE report inf)
    ``checker_disagrees``    alloc.check and the oracle disagree on the returned plan
    ``overrun``              wall time > time_limit + 1 s
weaknesses (not lies)
    ``feasible_but_optimal`` status FEASIBLE although the plan is optimal
    ``feasible_suboptimal``  status FEASIBLE and worse than the optimum
    ``unknown_infeasible``   status UNKNOWN on an infeasible case (no proof found)

Objective values are compared with ``oracle.objective_tolerance`` (relative 1e-6).
"""

from __future__ import annotations

import math
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

from oracle import Case, Oracle, Verdict, objective_tolerance

import alloc

WRONG = (
    "exception",
    "violations",
    "false_infeasible",
    "false_unknown",
    "suboptimal_optimal",
    "misreported",
    "invalid_bound",
    "checker_disagrees",
    "overrun",
)
WEAK = ("feasible_but_optimal", "feasible_suboptimal", "unknown_infeasible")
CLASSES = (*WRONG, *WEAK, "ok")
OVERRUN_SLACK = 1.0


@dataclass
class Outcome:
    """One case's solve, the oracle's answer and the classes it falls in."""

    case: Case
    classes: list[str] = field(default_factory=list)
    status: str = ""
    objective: float = math.nan
    bound: float = math.nan
    wall: float = 0.0
    verdict: Verdict | None = None
    plan_objective: float = math.nan
    broken: list[str] = field(default_factory=list)
    checker: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def primary(self) -> str:
        return next(c for c in CLASSES if c in self.classes or c == "ok")

    def row(self) -> dict[str, Any]:
        """A flat CSV row."""
        v = self.verdict
        return {
            "case": self.case.name,
            "customers": len(self.case.customers),
            "reps": len(self.case.reps),
            "rules": " + ".join(s.kind for s in self.case.rules),
            "objective_terms": " + ".join(s.kind for s in self.case.objective),
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "plan_objective": self.plan_objective,
            "oracle_plans": None if v is None else v.n_plans,
            "oracle_feasible": None if v is None else v.n_feasible,
            "oracle_optimal_plans": None if v is None else v.n_optimal,
            "oracle_optimum": None if v is None else v.optimum,
            "wall": round(self.wall, 4),
            "primary": self.primary,
            "classes": ";".join(self.classes) or "ok",
            "broken": ";".join(self.broken),
            "checker": ";".join(self.checker),
            "error": self.error,
            "spec": self.case.describe(),
        }


def _number(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def classify(
    case: Case,
    time_limit: float = 1.0,
    seed: int = 0,
    workers: int = 1,
    verdict: Verdict | None = None,
) -> Outcome:
    """Solve ``case`` with alloc and classify the result against brute force."""
    out = Outcome(case)
    oracle = Oracle(case)
    out.verdict = verdict = verdict if verdict is not None else oracle.solve()
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # precision notes are expected on decimal data
            warnings.simplefilter("ignore", alloc.AllocWarning)
            problem = case.problem()
            result = alloc.solve(problem, time_limit=time_limit, seed=seed, workers=workers)
    except Exception as exc:  # every failure is a finding, never a crash of the campaign
        out.wall = time.perf_counter() - t0
        out.classes.append("exception")
        out.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        out.error += " | " + traceback.format_exc(limit=-1).strip().splitlines()[-2].strip()
        return out
    out.wall = time.perf_counter() - t0
    out.status = result.status.name
    out.objective, out.bound = _number(result.objective), _number(result.bound)
    if out.wall > time_limit + OVERRUN_SLACK:
        out.classes.append("overrun")
    feasible = verdict.n_feasible > 0
    has_plan = result.assignment is not None
    if out.status == "INFEASIBLE" and feasible:
        out.classes.append("false_infeasible")
    if out.status == "UNKNOWN":
        out.classes.append("false_unknown" if feasible else "unknown_infeasible")
    if has_plan:
        _judge_plan(out, oracle, problem, result)
    elif out.status in ("OPTIMAL", "FEASIBLE"):
        out.classes.append("violations")
        out.broken = ["no assignment"]
    return out


def _judge_plan(out: Outcome, oracle: Oracle, problem: Any, result: Any) -> None:
    assert out.verdict is not None
    optimum = out.verdict.optimum
    out.broken = oracle.broken_rules(result.assignment)
    try:
        out.checker = [str(v) for v in alloc.check(problem, result.assignment)]
    except Exception as exc:
        out.classes.append("exception")
        out.error = f"alloc.check: {type(exc).__name__}: {exc}"[:300]
    if out.broken:
        out.classes.append("violations")
    if bool(out.broken) != bool(out.checker):
        out.classes.append("checker_disagrees")
    if out.broken:
        return  # objective comparisons mean nothing for an infeasible plan
    value = out.plan_objective = oracle.objective_of(result.assignment)
    if not abs(out.objective - value) <= objective_tolerance(value):
        out.classes.append("misreported")
    tol = objective_tolerance(optimum)
    worse_than_optimum = value > optimum + tol
    if out.status == "OPTIMAL" and worse_than_optimum:
        out.classes.append("suboptimal_optimal")
    if out.status == "FEASIBLE":
        out.classes.append("feasible_suboptimal" if worse_than_optimum else "feasible_but_optimal")
    if math.isfinite(out.bound) and out.bound > optimum + tol:
        out.classes.append("invalid_bound")
