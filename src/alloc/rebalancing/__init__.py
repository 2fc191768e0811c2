"""Rebalancing: repair an existing plan after events with few, cheap moves.

When a rep leaves, a rep joins, potentials change or new customers arrive, the plan in
force (the *incumbent*) no longer fits the new [`Problem`][alloc.Problem]. Re-solving from
scratch would restore balance but move most customers; [`rebalance`][alloc.rebalancing.rebalance]
instead starts from the incumbent and moves as few customers (and as little value) as it can:

* **Forced moves** are always made and never count against a budget: *orphaned*
  customers (their incumbent rep is no longer in the problem), *new* customers (not in
  the incumbent) and customers whose incumbent rep a *rule* no longer allows (a skill,
  level, pin or forbid changed, or an account family that must be reunited).
* **Discretionary moves** (reasons ``"capacity"`` and ``"balance"``) are counted
  against ``max_moves`` and ``max_moved_value``.

The search works on the compiled model; the moves and moved value of a plan are sums
over its chosen pairs. It keeps a *surrogate* of the objective that is separable by
rep: hard-row violation first, then the weighted excess of each rep's relative
deviation over a threshold ``t`` (``sum_r max(0, |dev_r| - t)``), plus linear costs.
With ``tolerance`` the threshold falls to the tolerance and the search stops once the
excess is zero; otherwise the threshold is lowered step by step below the current
maximum deviation (a bisection on the reachable maximum), and plans are kept by the
problem's true objective. Each round ranks shifts and (sampled and guided) swaps by
improvement per unit of budget consumed, budget-freeing moves first, and applies the
best ones on disjoint reps. Moves that do not pay for themselves are then reverted and
the budget freed is spent again. Large problems add the portfolio's local search with
a price per move, a compaction to fewer moves and a CP-SAT large-neighbourhood search
with the budgets as constraints; small ones are polished by one exact CP-SAT model
(proven optimal when it can).

[`tradeoff`][alloc.rebalancing.tradeoff] runs the search for growing budgets, each warm-started from
the previous plan, and returns the frontier of moves against imbalance.

Modules, one job each: `params` (parameter checks), `setup` (the compiled incumbent,
budgets, forced placement), `plan` (a plan's figures and key), `search` (the budget-aware
search), `phases` (the schedule), `exact` (CP-SAT polish and LNS), `report` (move list and
explanation) and `api` (the public functions).
"""

from alloc.rebalancing.api import rebalance, tradeoff
from alloc.rebalancing.setup import REASONS

__all__ = ["REASONS", "rebalance", "tradeoff"]
