"""Cheap infeasibility proofs in plain numbers, run before any search.

Each check is a necessary condition for feasibility; when one fails, the problem is
proven infeasible and the message says why with figures, e.g. *"the 12 customers only
senior reps may serve need at least 1,240 of workload; those 3 reps allow at most
1,100"*. Checks: customers with no eligible rep; per hard row, total need against total
limit (both sides); single units above the upper limit of every rep who may take them;
and Hall-type checks on groups of reps: units that only a set of
reps may serve must fit within those reps' limits. Limits are the allowed ones of
`alloc.data.tolerance` (``Rows.lo`` / ``Rows.hi``), so a decimal tie is no proof.
"""

from __future__ import annotations

import numpy as np

from alloc.data.model import Model, restricted_groups
from alloc.data.problem import Problem
from alloc.errors import format_ids
from alloc.solvers.conflicts import explain_infeasible
from alloc.solvers.cpsat import infeasible_core
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import Scaled, relaxation
from alloc.solvers.state import Rows

__all__ = ["precheck", "prove_infeasible"]

_MAX_GROUPS = 30


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _sum_slack(terms: np.ndarray, limits: np.ndarray) -> float:
    """Bound on the rounding error of summing ``terms`` and ``limits`` in another order.

    The checks compare float sums whose terms the plan's per-rep loads add up in a
    different order; a proof must not rest on that difference.
    """
    n = terms.size + limits.size
    return 4.0 * n * float(np.finfo(float).eps) * float(np.abs(terms).sum() + np.abs(limits).sum())


def _unmatched_values(problem: Problem, culprits: list[str], customers: np.ndarray) -> str:
    """The customers' values that a culprit ``Match`` rule found in no rep's set, with
    the near spelling (``'retail '``: did you mean 'Retail'?), or ``""``."""
    parts = []
    for rule in problem.rules:
        explain = getattr(rule, "explain_unmatched", None)
        if explain is not None and repr(rule) in culprits:
            text = explain(problem.tables, customers)
            if text:
                parts.append(text)
    return "; ".join(parts)


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
        details = _unmatched_values(problem, culprits, customers)
        if details:
            why += ": " + details
        if not culprits and problem.source_pairs is not None:
            why = " (the pair table has no row for them)"
        reasons.append(
            f"{_count(customers.size, 'customer')} {'has' if customers.size == 1 else 'have'} "
            f"no eligible rep: {format_ids(ids)}{why}. "
            f"Relax the rule, add reps who qualify, or pass pairs for them."
        )
        return reasons  # the other checks assume every unit can go somewhere
    start = model.unit_start[:-1]
    for k, con in enumerate(model.constraints):
        w = con.weight
        min_w = np.minimum.reduceat(w, start)
        max_w = np.maximum.reduceat(w, start)
        # Sums of the allowed limits (the tolerance of every rep included), so a plan
        # that ties each limit in decimals is never declared impossible here.
        need, allowed = float(min_w.sum()), float(rows.hi[k].sum())
        if np.isfinite(allowed) and need > allowed + _sum_slack(min_w, rows.hi[k]):
            reasons.append(
                f"{con.source!r}: customers need at least {_fmt(need)} in total, but "
                f"the reps' limits add up to {_fmt(con.hi.sum())}."
            )
        bring, minimum = float(max_w.sum()), float(rows.lo[k].sum())
        if np.isfinite(minimum) and bring < minimum - _sum_slack(max_w, rows.lo[k]):
            reasons.append(
                f"{con.source!r}: the reps' minimums add up to {_fmt(con.lo.sum())}, but all "
                f"customers together bring at most {_fmt(bring)}."
            )
    if reasons:
        return reasons
    reasons.extend(_oversized_units(problem, model, rows, start))
    if reasons:
        return reasons
    reasons.extend(_hall_checks(problem, model, rows, start))
    return reasons


def _oversized_units(problem: Problem, model: Model, rows: Rows, start: np.ndarray) -> list[str]:
    """Units that alone exceed the upper limit of every rep who may serve them.

    Typical of territory maps: one county holding more than ``(1 + tol) / k`` of a
    measure puts whichever rep takes it over its window.
    """
    reasons: list[str] = []
    for k, con in enumerate(model.constraints):
        hi = rows.hi[k][model.pair_rep]  # allowed limits: the tolerance included
        if not np.isfinite(hi).any():
            continue
        w = con.weight
        slack = (
            8.0
            * float(np.finfo(float).eps)
            * (np.abs(w) + np.abs(np.where(np.isfinite(hi), hi, 0)))
        )
        over = w > hi + slack
        stuck = np.flatnonzero(np.logical_and.reduceat(over, start))
        if stuck.size == 0:
            continue
        customers = np.flatnonzero(np.isin(model.customer_unit, stuck))
        u = int(stuck[np.argmax(np.minimum.reduceat(w, start)[stuck])])
        pairs = slice(start[u], model.unit_start[u + 1])
        reasons.append(
            f"{con.source!r}: {_count(customers.size, 'customer')} "
            f"{format_ids(problem.customer_ids[customers])} alone exceed the limit of every "
            f"rep who may serve them (the largest brings {_fmt(float(w[pairs].min()))} where "
            f"those reps may hold at most {_fmt(float(con.hi[model.pair_rep[pairs]].max()))}). "
            "Raise that limit (a wider window, or a larger share for the rep who takes it), "
            "split the customer, or relax the rule."
        )
    return reasons


def _hall_checks(problem: Problem, model: Model, rows: Rows, start: np.ndarray) -> list[str]:
    """Units whose eligible reps all lie in a set S must fit in the limits of S."""
    if not model.constraints:
        return []
    for mask, inside in restricted_groups(model, _MAX_GROUPS):
        for k, con in enumerate(model.constraints):
            min_w = np.minimum.reduceat(con.weight, start)
            need = float(min_w[inside].sum())
            cap = float(rows.hi[k, mask].sum())  # allowed limits: the tolerance included
            if np.isfinite(cap) and need > cap + _sum_slack(min_w[inside], rows.hi[k, mask]):
                n_customers = int(model.unit_size[inside].sum())
                reps = problem.rep_ids[mask]
                return [
                    f"{con.source!r}: the {_count(n_customers, 'customer')} that only reps "
                    f"{format_ids(reps)} may serve need at least {_fmt(need)}, but those "
                    f"{mask.sum()} reps allow at most {_fmt(float(con.hi[mask].sum()))}. Raise "
                    f"their limits, allow more reps to serve these customers, or relax the rule."
                ]
    return []


def prove_infeasible(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    deadline: Deadline,
    seed: int = 0,
    cp_status: str = "",
    problem: Problem | None = None,
) -> tuple[bool, str]:
    """Try to prove with CP-SAT that the raw hard rows cannot all hold.

    The proof is made on the hard rows alone (no objective), in integers that are a
    relaxation of the raw rows: exact when ``scaled.error == 0`` (whole numbers and
    decimals, limits rounded outward from the allowed ones), else widened by every
    rounding error (`relaxation`). An INFEASIBLE there is an
    INFEASIBLE of the raw model; anything else proves nothing. ``cp_status`` is CP-SAT's
    status on the whole model with its objective: with exact data and no imbalance
    terms (whose auxiliary variables have bounded domains) that model has exactly these
    rows, so its INFEASIBLE is the proof when the core search runs out of time.

    Parameters
    ----------
    model, rows, scaled : Model, Rows, Scaled
    deadline : Deadline
    seed : int
    cp_status : str
    problem : Problem, optional
        The problem of ``model``: when given, the explanation names a minimal set of
        rules and reps in conflict, with numbers (`alloc.solvers.conflicts`), searched
        in what is left of ``deadline`` after the proof.

    Returns
    -------
    (bool, str)
        Whether infeasibility is proven, and the explanation for the result.
    """
    relaxed = relaxation(model, rows, scaled)
    proof_deadline = deadline if problem is None else deadline.share(0.6)
    status, core = infeasible_core(model, rows, relaxed, deadline=proof_deadline, seed=seed)
    same_rows = scaled.error == 0 and not (rows.is_max | rows.is_sum).any()
    if status == "INFEASIBLE" or (cp_status == "INFEASIBLE" and same_rows):
        if problem is not None:
            return True, explain_infeasible(problem, rows, relaxed, core, deadline, seed)
        names = ", ".join(repr(c) for c in core) or "the rules"
        return True, (
            f"Infeasible: CP-SAT proved that {names} cannot all hold together. Relax one "
            f"of them (raise a limit, widen a tolerance, allow more reps)."
        )
    why = (
        f"scaling float data to integers changed weights by up to {scaled.error:.2e} "
        "(relative), and its model widened by every rounding error was not proven infeasible"
        if scaled.error > 0
        else "its hard rows alone were not proven infeasible in the time left"
    )
    return False, (
        "No feasible plan was found and infeasibility was not proven: CP-SAT found no plan "
        f"of its integer model, but {why}. Give more time, or relax the tightest rules."
    )
