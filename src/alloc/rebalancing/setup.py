"""The compiled rebalancing setup: everything that depends on the problem, the incumbent,
the value column and the protected customers only, plus the budgets and the greedy
placement of forced customers that every search starts from."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.data.model import Model
from alloc.data.problem import Problem
from alloc.objectives import MinimizeDisruption
from alloc.rebalancing.params import incumbent_series, protected_mask, values
from alloc.rules import Balance
from alloc.solvers.state import Rows, violation

__all__ = [
    "REASONS",
    "Budget",
    "Setup",
    "disruption_against",
    "make_budget",
    "place_forced",
    "prepare",
]

#: Reasons a customer moves, in the order the move list is sorted by.
REASONS = ("orphaned", "new", "rule", "capacity", "balance")


@dataclass(eq=False)
class Setup:
    """Everything that depends on (problem, incumbent, value, protect) only."""

    problem: Problem
    rows: Rows
    inc_code: np.ndarray  # per customer: incumbent rep code, -1 when new or departed
    inc_label: np.ndarray  # per customer: incumbent rep id as given (None when new)
    forced_reason: np.ndarray  # per customer: "orphaned"/"new"/"rule" or ""
    value: np.ndarray  # per customer
    protected: np.ndarray  # per customer (bool)
    mc: np.ndarray  # per pair: discretionary moves if the unit goes there
    mv: np.ndarray  # per pair: discretionary moved value
    mp: np.ndarray  # per pair: protected customers moved
    home: np.ndarray  # per unit: pair with no discretionary move, -1 if fully forced
    hot_from: np.ndarray  # per pair (of a home): hard rows violated at home in incumbent
    under_to: np.ndarray  # per pair: rep below a hard minimum it feeds, in the incumbent
    n_forced: int

    @property
    def model(self) -> Model:
        return self.problem.model


@dataclass
class Budget:
    """The discretionary budgets and the normalisers of how much of them a move uses."""

    moves: float = math.inf
    value: float = math.inf
    unit_moves: float = 1.0
    unit_value: float = 1.0

    @property
    def finite(self) -> bool:
        return math.isfinite(self.moves) or math.isfinite(self.value)

    def consumption(self, d_m: np.ndarray, d_v: np.ndarray) -> np.ndarray:
        return d_m / self.unit_moves + d_v / self.unit_value

    def allows(self, moves: float, value: float) -> bool:
        """A plan with these discretionary moves and moved value is within the budgets."""
        return moves <= self.moves and value <= self.value * (1 + 1e-12) + 1e-9


def make_budget(setup: Setup, max_moves: int | None, max_moved_value: float | None) -> Budget:
    kept = setup.forced_reason == ""
    n_kept = max(1, int(kept.sum()))
    total_value = float(setup.value[kept].sum())
    return Budget(
        moves=math.inf if max_moves is None else float(max_moves),
        value=math.inf if max_moved_value is None else float(max_moved_value),
        unit_moves=float(max(1, max_moves)) if max_moves is not None else float(n_kept),
        unit_value=(float(max_moved_value) if max_moved_value else max(total_value, 1e-12)),
    )


def disruption_against(problem: Problem, incumbent: object, disruption: str, owner: str) -> Problem:
    """The problem whose ``MinimizeDisruption`` terms count moves away from the incumbent.

    With ``disruption="owner"``, or without such a term, ``problem`` itself. Otherwise a
    new problem with one more customer column (``"incumbent"``, or ``"incumbent_1"``... if
    taken) holding each customer's incumbent rep, missing for new customers and for those
    whose incumbent rep left (they cost nothing wherever they go, as their moves are
    forced), and every ``MinimizeDisruption`` term reading it instead of its owner column.
    Its rules and other terms are unchanged.
    """
    terms = problem.objective
    if disruption == "owner" or not any(isinstance(t, MinimizeDisruption) for t in terms):
        return problem
    series = incumbent_series(problem, incumbent, owner)
    customers = problem.customers.reset_index()
    column, n = "incumbent", 0
    while column in customers.columns:
        n += 1
        column = f"incumbent_{n}"
    inc = series.reindex(problem.customer_ids)
    inc = inc.where(inc.isin(problem.rep_ids))
    customers[column] = inc.to_numpy(dtype=object)
    objective = [
        dataclasses.replace(t, owner_col=column) if isinstance(t, MinimizeDisruption) else t
        for t in terms
    ]
    return problem.replace(customers=customers, objective=objective)


def prepare(
    owner: str, problem: Problem, incumbent: object, value: object, protect: object
) -> Setup:
    """Check the incumbent, value and protect parameters and compile the setup."""
    value_of = values(problem, value, owner)
    series = incumbent_series(problem, incumbent, owner)
    protected = protected_mask(problem, protect, owner)
    return build_setup(problem, series, value_of, protected)


def _incumbent_pairs(
    problem: Problem, incumbent: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: incumbent rep code, label, pair and forced reason (before families)."""
    model = problem.model
    inc = incumbent.reindex(problem.customer_ids)
    given = inc.notna().to_numpy()
    labels = inc.to_numpy(dtype=object)
    codes = problem.rep_ids.get_indexer(pd.Index(labels, dtype=object))
    codes = np.where(given, codes, -1).astype(np.int64)
    reason = np.full(problem.n_customers, "", dtype=object)
    reason[~given] = "new"
    reason[given & (codes < 0)] = "orphaned"
    unit = model.customer_unit
    present = codes >= 0
    pair = np.full(problem.n_customers, -1, dtype=np.int64)
    pair[present] = model.pair_index(unit[present], codes[present])
    reason[present & (pair < 0)] = "rule"
    # Account families split by the incumbent must be reunited: a forced move.
    kept = reason == ""
    n_homes = np.zeros(model.n_units, dtype=np.int64)
    if kept.any():
        distinct = np.unique(np.stack([unit[kept], pair[kept]]), axis=1)
        n_homes = np.bincount(distinct[0], minlength=model.n_units)
    split_units = np.flatnonzero(n_homes > 1)
    if split_units.size:
        reason[np.isin(unit, split_units) & kept] = "rule"
    return codes, labels, pair, reason


def _hard_hot_and_under(
    model: Model, rows: Rows, home: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: its unit's home rep breaks a hard maximum it feeds (hot_from), and its
    rep is below a hard minimum it feeds (under_to), in the incumbent plan.

    Only limits such as capacities and account limits count: a move that repairs a
    ``Balance`` window is a ``"balance"`` move, not a ``"capacity"`` one."""
    K, R, P = rows.n_rows, model.n_reps, model.n_pairs
    hot_from = np.zeros(P, dtype=bool)
    under_to = np.zeros(P, dtype=bool)
    windows = [isinstance(c.source, Balance) for c in model.constraints]
    hard = np.array(
        [k for k in np.flatnonzero(rows.pen_scale > 0).tolist() if not windows[k]], dtype=np.int64
    )
    has_home = home >= 0
    if not (hard.size and has_home.any()):
        return hot_from, under_to
    hp = home[has_home]
    loads = np.zeros((K, R))
    for k in hard.tolist():
        loads[k] = np.bincount(model.pair_rep[hp], weights=rows.weight[hp, k], minlength=R)
    # rows.lo / rows.hi are the allowed limits (the tolerance is in them).
    over = loads > rows.hi  # (K, R)
    under = loads < rows.lo
    W = rows.weight[:, hard]
    pr = model.pair_rep
    hot_from = np.asarray(((W > 0) & over[hard][:, pr].T).any(axis=1), dtype=bool)
    under_to = np.asarray(((W > 0) & under[hard][:, pr].T).any(axis=1), dtype=bool)
    return hot_from, under_to


def build_setup(
    problem: Problem, incumbent: pd.Series, value: np.ndarray, protected: np.ndarray
) -> Setup:
    """Compile the incumbent against the problem: forced reasons, homes, move figures."""
    model = problem.model
    rows = Rows.from_model(model)
    codes, labels, pair, reason = _incumbent_pairs(problem, incumbent)
    unit = model.customer_unit
    U, P = model.n_units, model.n_pairs
    kept = reason == ""
    # Per pair: members not kept at the pair's rep count as moves (and value, protect).
    home = np.full(U, -1, dtype=np.int64)
    home[unit[kept]] = pair[kept]
    n_kept = np.bincount(unit[kept], minlength=U)
    v_kept = np.bincount(unit[kept], weights=value[kept], minlength=U)
    p_kept = np.bincount(unit[kept], weights=protected[kept].astype(float), minlength=U)
    pu = model.pair_unit
    at_home = np.zeros(P, dtype=bool)
    at_home[home[home >= 0]] = True
    mc = np.where(at_home, 0, n_kept[pu]).astype(np.int64)
    mv = np.where(at_home, 0.0, v_kept[pu])
    mp = np.where(at_home, 0, np.round(p_kept[pu])).astype(np.int64)
    # Incumbent hard-row loads (kept units at home) tell capacity moves from balance ones.
    hot_from, under_to = _hard_hot_and_under(model, rows, home)
    return Setup(
        problem=problem,
        rows=rows,
        inc_code=codes,
        inc_label=labels,
        forced_reason=reason,
        value=value,
        protected=protected,
        mc=mc,
        mv=mv,
        mp=mp,
        home=home,
        hot_from=hot_from,
        under_to=under_to,
        n_forced=int((reason != "").sum()),
    )


def place_forced(setup: Setup, seed: int) -> np.ndarray:
    """Incumbent for kept units; units with only forced customers placed greedily.

    Forced units go, largest first, to the eligible rep that adds the least hard-row
    violation, then the least cost, then the least squared deviation from fair shares.
    """
    model, rows = setup.model, setup.rows
    chosen = setup.home.copy()
    todo = np.flatnonzero(chosen < 0)
    if todo.size == 0:
        return chosen
    rng = np.random.default_rng(seed)
    R, K = model.n_reps, rows.n_rows
    placed = chosen[chosen >= 0]
    loads = np.zeros((K, R))
    for k in range(K):
        loads[k] = np.bincount(model.pair_rep[placed], weights=rows.weight[placed, k], minlength=R)
    start = model.unit_start
    degree = np.diff(start)[todo]
    per_rep = np.abs(rows.weight).sum(axis=0) / max(R, 1)
    rel = np.abs(rows.weight) / np.where(per_rep > 0, per_rep, 1.0)
    pair_size = rel.max(axis=1) if K else np.zeros(model.n_pairs)
    size = np.array(
        [
            pair_size[start[u] : start[u + 1]].max() if degree[i] else 0.0
            for i, u in enumerate(todo.tolist())
        ]
    )
    order = todo[np.lexsort((rng.random(todo.size), -size, degree != 1))]
    hi, lo, share = rows.hi, rows.lo, rows.share
    raw_hi, raw_lo = rows.raw_hi, rows.raw_lo
    scale = rows.pen_scale[:, None]
    imb_w = np.abs(rows.imb_weight)[:, None]
    for u in order.tolist():
        a, b = start[u], start[u + 1]
        if a == b:
            continue
        reps = model.pair_rep[a:b]
        old = loads[:, reps]
        new = old + rows.weight[a:b].T
        limits = (lo[:, reps], hi[:, reps], raw_lo[:, reps], raw_hi[:, reps])
        v_old = violation(old, *limits)
        v_new = violation(new, *limits)
        d_pen = ((v_new - v_old) * scale).sum(axis=0)
        sh = share[:, reps]
        d_dev = (imb_w * (((new - sh) / sh) ** 2 - ((old - sh) / sh) ** 2)).sum(axis=0)
        best = int(np.lexsort((d_dev, model.cost[a:b], np.round(d_pen, 12)))[0])
        chosen[u] = a + best
        loads[:, reps[best]] += rows.weight[a + best]
    return chosen
