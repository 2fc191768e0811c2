"""Cheap infeasibility proofs in plain numbers, run before any search.

Each check is a necessary condition for feasibility; when one fails, the problem is
proven infeasible and the message says why with figures, e.g. *"the 12 customers only
senior reps may serve need at least 1,240 of workload; those 3 reps allow at most
1,100"*. Checks: customers with no eligible rep; per hard row, total need against total
limit (both sides); and Hall-type checks on groups of reps: units that only a set of
reps may serve must fit within those reps' limits.
"""

from __future__ import annotations

import numpy as np

from alloc.data.model import Model, restricted_groups
from alloc.data.problem import Problem
from alloc.errors import format_ids
from alloc.solvers.state import Rows

__all__ = ["precheck"]

_MAX_GROUPS = 30


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def precheck(problem: Problem, rows: Rows) -> list[str]:
    """Reasons the problem is infeasible (empty when no cheap check fails)."""
    model = problem.model
    reasons: list[str] = []
    degree = np.diff(model.unit_start)
    empty_units = np.flatnonzero(degree == 0)
    if empty_units.size:
        customers = np.flatnonzero(np.isin(model.customer_unit, empty_units))
        ids = problem.customer_ids[customers]
        culprits = [rule for rule, lost in problem.pruned_by if np.isin(lost, customers).any()]
        why = f" ({'; '.join(culprits)} removed their last eligible reps)" if culprits else ""
        if not culprits and problem.source_pairs is not None:
            why = " (the pair table has no row for them)"
        reasons.append(
            f"{_count(customers.size, 'customer')} {'has' if customers.size == 1 else 'have'} "
            f"no eligible rep: {format_ids(ids)}{why}. "
            f"Relax the rule, add reps who qualify, or pass pairs for them."
        )
        return reasons  # the other checks assume every unit can go somewhere
    start = model.unit_start[:-1]
    for con in model.constraints:
        w = con.weight
        min_w = np.minimum.reduceat(w, start)
        max_w = np.maximum.reduceat(w, start)
        hi_total, lo_total = con.hi.sum(), con.lo.sum()
        if np.isfinite(hi_total) and min_w.sum() > hi_total * (1 + 1e-9) + 1e-9:
            reasons.append(
                f"{con.source!r}: customers need at least {_fmt(min_w.sum())} in total, but "
                f"the reps' limits add up to {_fmt(hi_total)}."
            )
        if np.isfinite(lo_total) and max_w.sum() < lo_total * (1 - 1e-9) - 1e-9:
            reasons.append(
                f"{con.source!r}: the reps' minimums add up to {_fmt(lo_total)}, but all "
                f"customers together bring at most {_fmt(max_w.sum())}."
            )
    if reasons:
        return reasons
    reasons.extend(_hall_checks(problem, model, start))
    return reasons


def _hall_checks(problem: Problem, model: Model, start: np.ndarray) -> list[str]:
    """Units whose eligible reps all lie in a set S must fit in the limits of S."""
    if not model.constraints:
        return []
    for mask, inside in restricted_groups(model, _MAX_GROUPS):
        for con in model.constraints:
            min_w = np.minimum.reduceat(con.weight, start)
            need = float(min_w[inside].sum())
            cap = float(con.hi[mask].sum())
            if np.isfinite(cap) and need > cap * (1 + 1e-9) + 1e-9:
                n_customers = int(model.unit_size[inside].sum())
                reps = problem.rep_ids[mask]
                return [
                    f"{con.source!r}: the {_count(n_customers, 'customer')} that only reps "
                    f"{format_ids(reps)} may serve need at least {_fmt(need)}, but those "
                    f"{mask.sum()} reps allow at most {_fmt(cap)}. Raise their limits, allow "
                    f"more reps to serve these customers, or relax the rule."
                ]
    return []
