"""The search schedule of rebalancing: which phase runs when, and with what share of the
time. Each phase gets a share of what is left of the call's one
`Deadline`.

1. (no budget, big problems) the portfolio's local search with a small price per move;
2. the budgeted search; if it ends infeasible with protected customers frozen, a
   repair that may move them;
3. (budget to spare, big problems) the priced local search again;
4. pruning of moves that do not pay, and the budgeted search again on the budget freed;
5. (big problems, no tolerance) *compaction*: the budgeted search, from the start,
   for the fewest moves reaching the deviations found so far;
6. (a tolerance out of reach) on big problems with ``max_moves``, CP-SAT on the
   heaviest units of the reps beyond it (`shed_lns`);
   then a second search on the other imbalance metrics, the targeted ones held
   (`secondary`);
7. (big problems) large-neighbourhood search with CP-SAT, the budget a constraint;
8. free moves that improve the objective (no budget used).

Small problems (up to `EXACT_PAIR_LIMIT` pairs) are then finished by one exact
CP-SAT model (`exact`).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from alloc.data.model import Model
from alloc.rebalancing.exact import lns, shed_lns
from alloc.rebalancing.plan import Outcome, Snapshot, better, key_not_worse
from alloc.rebalancing.search import Search
from alloc.rebalancing.setup import Budget, Setup
from alloc.solvers.deadline import Deadline
from alloc.solvers.local_search import LocalSearch

__all__ = [
    "EXACT_PAIR_LIMIT",
    "compact",
    "is_small",
    "price_search",
    "prune_and_respend",
    "run_phases",
    "secondary",
]

#: Up to this many eligible pairs, the search is polished by an exact CP-SAT model.
EXACT_PAIR_LIMIT = 2_500


def is_small(model: Model) -> bool:
    """Small enough for the exact CP-SAT polish (the big-problem phases are skipped)."""
    return model.n_pairs <= EXACT_PAIR_LIMIT


def run_phases(
    setup: Setup,
    start: np.ndarray,
    budget: Budget,
    tol: np.ndarray | None,
    deadline: Deadline,
    seed: int,
    t0: float,
) -> Outcome:
    """The search phases (see the module docstring), each until its share of the time."""
    phases: list[tuple[str, float, float]] = []

    def note(name: str, snap: Snapshot) -> None:
        phases.append((name, time.perf_counter() - t0, snap.key[-1]))

    any_protected = bool((setup.mp > 0).any())
    search = Search(
        setup,
        start.copy(),
        budget,
        tol,
        frozen=any_protected,
        rng=np.random.default_rng(seed),
        shift_bonus=0.05 if tol is not None and math.isfinite(budget.moves) else 0.0,
    )
    big = not is_small(setup.model)  # small ones are finished by CP-SAT
    best = search.snapshot()
    if big and tol is None and not budget.finite:
        best = price_search(search, best, deadline.share(0.35), seed)
        note("priced local search", best)
    share = 0.6 if not budget.finite else 0.85
    best = search.run(deadline.share(share) if big else deadline)
    note("budgeted search", best)
    if best.key[0] > 0 and any_protected:
        search.unfreeze()
        best = search.run(deadline.share(share) if big else deadline)
        note("repair (protected may move)", best)
    spare = best.moves < budget.moves and best.value < budget.value
    if big and tol is None and budget.finite and spare:
        best = price_search(search, best, deadline.share(0.3), seed)
        note("priced local search", best)
    best = prune_and_respend(search, best, deadline.share(0.5) if big else deadline)
    note("prune", best)
    if big and tol is None and not budget.finite and best.key[0] == 0 and best.moves > 0:
        best = compact(search, start, best, deadline.share(0.5), seed)
        note("compaction", best)
    if big and tol is not None and budget.finite and best.key[0] == 0 and best.key[2] > 1e-12:
        best = shed_lns(search, best, deadline.share(0.85), seed)
        note("cp-sat lns on the heaviest units", best)
    if tol is not None and best.key[0] == 0 and best.key[2] > 1e-12:
        best = secondary(search, best, deadline.share(0.7), seed)
        note("other metrics", best)
    if big and not deadline.expired(0.3):
        best = lns(search, best, deadline, seed)
        best = search.prune(best, deadline)
        note("cp-sat lns", best)
    best = search.polish(deadline)
    note("polish", best)
    reached = None if tol is None else search.tol_gap() <= 1e-12
    return Outcome(best.chosen, best.key[0] == 0, best.key[1] > 0, reached, phases, "local search")


def prune_and_respend(search: Search, best: Snapshot, deadline: Deadline) -> Snapshot:
    """Revert moves that do not pay; spend the budget freed again while that helps."""
    for _ in range(4):
        pruned = search.prune(best, deadline)
        freed = pruned.moves < best.moves or pruned.value < best.value - 1e-9
        best = pruned
        if not freed or deadline.expired():
            break
        again = search.run(deadline)
        if not better(again, best):
            search.restore(best)
            break
        best = again
    return best


def compact(
    search: Search, start: np.ndarray, best: Snapshot, deadline: Deadline, seed: int
) -> Snapshot:
    """Fewest moves that reach the deviations of ``best``: the budgeted search in
    tolerance mode, from the start, with each imbalance row's tolerance set to the
    deviation ``best`` reached; kept only if no worse and with fewer moves."""
    search.restore(best)
    target = np.where(search.is_imb, search.max_dev() * (1 + 1e-9) + 1e-12, np.nan)
    if not np.isfinite(target).any():
        return best
    fewer = Search(
        search.setup,
        start.copy(),
        search.budget,
        target,
        frozen=search.frozen,
        rng=np.random.default_rng(seed + 11),
    )
    found = fewer.run(deadline)
    found = fewer.prune(found, deadline)
    if fewer.tol_gap() > 1e-12:
        return best
    search.set_chosen(found.chosen)
    snap = search.snapshot()
    if key_not_worse(snap.key, best.key) and (snap.moves, snap.value) < (best.moves, best.value):
        return snap
    search.restore(best)
    return best


def secondary(search: Search, best: Snapshot, deadline: Deadline, seed: int) -> Snapshot:
    """A tolerance not reached: with the targeted metrics held at the deviation reached
    (their excess weighs 1,000 times more), bring the other imbalance metrics down."""
    setup = search.setup
    assert search.tol is not None
    search.restore(best)
    targeted = search.x_weight != 0
    others = search.is_imb & ~targeted & (setup.rows.imb_weight != 0)
    if not others.any():
        return best
    tol2 = np.full(search.tol.size, np.nan)
    tol2[targeted] = np.maximum(search.tol[targeted], search.max_dev()[targeted] * (1 + 1e-9))
    tol2[others] = 0.0
    sub = Search(
        setup,
        best.chosen.copy(),
        search.budget,
        tol2,
        frozen=search.frozen,
        rng=np.random.default_rng(seed + 29),
        x_weight=np.where(targeted, 1e3, np.where(others, 1.0, 0.0)),
    )
    found = sub.run(deadline)
    search.set_chosen(found.chosen)
    snap = search.snapshot()
    if better(snap, best):
        return snap
    search.restore(best)
    return best


def price_search(search: Search, best: Snapshot, deadline: Deadline, seed: int) -> Snapshot:
    """Run `LocalSearch` with a small cost per move."""
    setup = search.setup
    model = setup.model
    scale = max(abs(best.key[-1]), 1e-9)
    price = model.cost + 1e-7 * scale * setup.mc
    if search.frozen:
        price = price + 1e3 * (scale + 1.0) * setup.mp
    priced = dataclasses.replace(model, cost=price)
    # The move prices make the costs non-zero; the smooth phase still suits a pure
    # balance objective underneath them.
    smooth = bool(setup.rows.imb_weight.any()) and not np.any(model.cost != 0)
    local = LocalSearch(priced, setup.rows, best.chosen.copy(), seed=seed, smooth=smooth)
    # The local search perturbs until its deadline; give it time in proportion to size.
    end = deadline.share(1.0, cap=0.5 + model.n_pairs / 10_000)
    chosen, _ = local.run(end)
    search.set_chosen(chosen)
    snap = search.snapshot()
    if (
        search.within_budget(snap)
        and (not search.frozen or snap.key[1] <= best.key[1])
        and better(snap, best)
    ):
        return snap
    search.restore(best)
    return best
