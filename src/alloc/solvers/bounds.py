"""Lower bounds on the optimal objective: a Lagrangian relaxation of linear objectives
with hard rows, and Hall-type counts for max-norm imbalance terms.

Every bound here is valid on the unscaled float data; the LP relaxation (HiGHS) is in
`alloc.solvers.lp`, the bound of the reps that may take an oversized customer in
`alloc.solvers.rep_bound`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alloc.data.model import Model, restricted_groups
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows

__all__ = [
    "Lagrangian",
    "granularity",
    "imbalance_bound",
    "imbalance_floors",
    "integrality_floors",
    "lagrangian",
    "rounded_up",
]


def imbalance_bound(model: Model, rows: Rows) -> float:
    """A bound for max-norm imbalance terms from customers that few reps may serve.

    For every group of units whose eligible reps all lie in a set S (a single customer,
    or e.g. "key accounts of retail, which only these seniors may serve"), some rep of S
    carries at least its share of their load: ``max_r dev_r >= value(group) /
    share(S) - 1``. The bound is the weighted sum over max-norm terms of the largest
    such figure (`imbalance_floors`; 0 when every group fits in its reps' fair shares).
    It makes structural imbalance visible instead of reporting a trivial bound of 0.
    """
    return float((rows.imb_weight * imbalance_floors(model, rows)).sum())


def imbalance_floors(model: Model, rows: Rows) -> np.ndarray:
    """Per row: a value every plan's largest relative deviation reaches on that
    max-norm term (the Hall-type count of `imbalance_bound`), 0 for the other rows.

    Below it a rep's deviation never decides the term, which local search uses to
    steer (`alloc.solvers.state.Rows.floor`).
    """
    floors = np.zeros(rows.n_rows)
    if model.n_pairs == 0 or np.any(np.diff(model.unit_start) == 0):
        # A unit without an eligible rep: no plan exists (the pre-check says so), and
        # the segment sums below need every unit to have a pair.
        return floors
    start = model.unit_start[:-1]
    groups = restricted_groups(model)
    for k in np.flatnonzero(rows.is_max).tolist():
        weight, share = rows.weight[:, k], rows.share[k]
        # Single units: whichever eligible rep serves u carries at least value[u].
        excess = (weight - share[model.pair_rep]) / share[model.pair_rep]
        best = float(np.minimum.reduceat(excess, start).max())
        value = np.minimum.reduceat(weight, start)
        for mask, inside in groups:
            if inside.any():
                best = max(best, float(value[inside].sum() / share[mask].sum()) - 1.0)
        floors[k] = max(0.0, best)
    return floors


def granularity(values: np.ndarray) -> float:
    """The largest ``g`` with every value a whole multiple of it (whole numbers, or
    amounts in tenths, cents or thousandths), or 0 when there is none."""
    for scale in (1, 10, 100, 1000):
        scaled = values * scale
        whole = np.round(scaled)
        if np.all(np.abs(scaled - whole) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            g = int(np.gcd.reduce(np.abs(whole).astype(np.int64))) if whole.size else 0
            return g / scale if g > 0 else 0.0
    return 0.0


#: Whole steps finer than this share of every fair share are treated as continuous.
STEP_SHARE_LIMIT = 1e-3


def integrality_floors(model: Model, rows: Rows) -> np.ndarray:
    """Per imbalance row: a value every plan's term reaches because loads come in whole
    steps, 0 for the other rows.

    When every weight of a row is a multiple of ``g`` (counts: 1), each rep's load is
    too, so its relative deviation is at least the distance from its fair share to the
    nearest multiple of ``g``, over the share (a share of 37.5 accounts: 0.5 / 37.5).
    A sum-norm term adds these up over the reps, a max-norm term takes the largest
    (and the Hall-type count of `imbalance_floors`, if larger). A small relative margin
    keeps the floor below what float sums of the loads can show. Steps finer than
    ``STEP_SHARE_LIMIT`` of every fair share (money in cents, hours in tenths over
    hundreds of hours) count as continuous: their floor (3e-5 on make_problem's 600 x
    12) would only turn "no informative bound" into a gap of 99.7 %.
    """
    floors = np.zeros(rows.n_rows)
    if model.n_pairs == 0:
        return floors
    hall = imbalance_floors(model, rows)
    for k in np.flatnonzero(rows.is_max | rows.is_sum).tolist():
        g = granularity(rows.weight[:, k])
        if g <= 0:
            floors[k] = hall[k]
            continue
        share = rows.share[k]
        if g < STEP_SHARE_LIMIT * float(share.min(initial=np.inf)):
            floors[k] = hall[k]
            continue
        steps = share / g
        per_rep = np.abs(steps - np.round(steps)) * g / share
        value = float(per_rep.sum() if rows.is_sum[k] else per_rep.max(initial=0.0))
        floors[k] = max(hall[k], value * (1.0 - 1e-9))
    return floors


@dataclass(frozen=True)
class Lagrangian:
    """Result of `lagrangian`: a bound and the reduced cost of every pair.

    ``reduced[p]`` is how much choosing pair ``p`` for its unit adds to the Lagrangian
    value: every plan that uses ``p`` costs at least ``bound + reduced[p]``. Pairs whose
    reduced cost exceeds ``incumbent - bound`` cannot be in a better plan.
    """

    bound: float
    reduced: np.ndarray  # (P,) >= 0, 0 for each unit's cheapest pair
    assignment: np.ndarray  # (U,) each unit's cheapest pair at the best multipliers
    iterations: int


def lagrangian(
    model: Model,
    rows: Rows,
    deadline: Deadline,
    upper: float | None = None,
    max_iterations: int = 3000,
) -> Lagrangian | None:
    """Lagrangian bound for linear objectives: hard rows relaxed, assignment kept.

    With the rows ``lo <= load <= hi`` moved into the objective with multipliers
    ``mu >= 0``, each unit simply takes its cheapest pair at the adjusted cost, so one
    evaluation is a few vectorised passes over the pairs. Because the kept assignment
    constraints are integral, the best multipliers reach the LP bound; the subgradient
    method (Polyak steps towards ``upper``, step halved when progress stalls) gets
    close in far less time than an LP solver needs on large problems. Any multipliers
    give a valid bound, so stopping early is safe. Returns None for objectives with
    imbalance terms (they are not linear).
    """
    if rows.imb_weight.any() or model.n_pairs == 0:
        return None
    hard = np.flatnonzero(rows.pen_scale > 0)
    start = model.unit_start[:-1]
    seg = model.pair_unit  # the unit of each pair
    cost = np.asarray(model.cost, dtype=float)
    rep = model.pair_rep
    R = model.n_reps
    W = rows.weight[:, hard]  # (P, H)
    # The rules' own limits (the tolerance would move the bound by 1e-9 relative only).
    lo, hi = rows.raw_lo[hard], rows.raw_hi[hard]  # (H, R)
    allowed_lo, allowed_hi = rows.lo[hard], rows.hi[hard]
    has_hi, has_lo = np.isfinite(hi), np.isfinite(lo)
    hi0, lo0 = np.where(has_hi, hi, 0.0), np.where(has_lo, lo, 0.0)
    mu_hi = np.zeros_like(hi0)
    mu_lo = np.zeros_like(lo0)

    def evaluate(mu_hi: np.ndarray, mu_lo: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        net = mu_hi - mu_lo  # (H, R)
        adjusted = cost + np.einsum("ph,hp->p", W, net[:, rep]) if hard.size else cost
        best = np.minimum.reduceat(adjusted, start)
        value = float(best.sum() - (mu_hi * hi0).sum() + (mu_lo * lo0).sum())
        return value, adjusted, best

    value, adjusted, best = evaluate(mu_hi, mu_lo)
    best_value, best_adjusted, best_min = value, adjusted, best
    iterations = 0
    if hard.size and (has_hi.any() or has_lo.any()):
        target = upper if upper is not None and math.isfinite(upper) else None
        theta, stall = 2.0, 0
        while iterations < max_iterations and not deadline.expired():
            iterations += 1
            # The chosen pair of each unit at these multipliers: its first cheapest pair.
            is_min = adjusted <= best[seg] + 1e-12
            first = np.flatnonzero(is_min)
            first = first[np.r_[True, seg[first][1:] != seg[first][:-1]]]
            loads = np.zeros_like(hi0)
            for h in range(hard.size):
                loads[h] = np.bincount(rep[first], weights=W[first, h], minlength=R)
            g_hi = np.where(has_hi, loads - hi0, 0.0)
            g_lo = np.where(has_lo, lo0 - loads, 0.0)
            # A row the comparison rule accepts (a decimal tie such as 1.7 + 2.2 against
            # 3.9) pushes no multiplier: a float excess of 1e-16 would drive it without end.
            g_hi[(g_hi > 0) & (loads <= allowed_hi)] = 0.0
            g_lo[(g_lo > 0) & (loads >= allowed_lo)] = 0.0
            # Projected subgradient: no step on a multiplier at 0 pushed below 0.
            g_hi[(mu_hi <= 0) & (g_hi < 0)] = 0.0
            g_lo[(mu_lo <= 0) & (g_lo < 0)] = 0.0
            norm = float((g_hi**2).sum() + (g_lo**2).sum())
            if norm == 0:
                break  # the relaxed plan is feasible: the bound is tight for these rows
            goal = target if target is not None else best_value + 0.05 * abs(best_value) + 1.0
            step = theta * max(goal - value, 1e-9 * max(1.0, abs(value))) / norm
            mu_hi = np.maximum(0.0, mu_hi + step * g_hi)
            mu_lo = np.maximum(0.0, mu_lo + step * g_lo)
            value, adjusted, best = evaluate(mu_hi, mu_lo)
            if value > best_value + 1e-9 * max(1.0, abs(best_value)):
                best_value, best_adjusted, best_min = value, adjusted, best
                stall = 0
            else:
                stall += 1
                if stall >= 20:
                    theta, stall = theta / 2, 0
                    if theta < 1e-4:
                        break
            if target is not None and best_value >= target - 1e-9 * max(1.0, abs(target)):
                break
    reduced = np.maximum(best_adjusted - best_min[seg], 0.0)
    order = np.lexsort((reduced, seg))
    assignment = order[model.unit_start[:-1]].astype(np.int64)
    return Lagrangian(best_value, reduced, assignment, iterations)


def rounded_up(model: Model, rows: Rows, bound: float) -> float:
    """A bound on an objective that only takes whole values is rounded up to one."""
    whole = not rows.imb_weight.any() and bool(np.all(model.cost == np.round(model.cost)))
    if not whole or not math.isfinite(bound):
        return bound
    # The margin keeps float noise (5.0000000001) from rounding a bound past the optimum.
    return float(math.ceil(bound - 1e-6 * max(1.0, abs(bound))))
