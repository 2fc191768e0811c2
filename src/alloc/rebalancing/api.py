"""Rebalancing: repair an existing plan after events with few, cheap moves.

When a rep leaves, a rep joins, potentials change or new customers arrive, the plan in
force (the *incumbent*) no longer fits the new :class:`~alloc.Problem`. Re-solving from
scratch would restore balance but move most customers; :func:`rebalance` instead
starts from the incumbent and moves as few customers (and as little value) as it can:

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

:func:`tradeoff` runs the search for growing budgets, each warm-started from the
previous plan, and returns the frontier of moves against imbalance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from alloc.check import check, objective_value
from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.result import Result, SolveStats, Status
from alloc.solvers.diagnose import precheck
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["REASONS", "rebalance", "tradeoff"]

#: Reasons a customer moves, in the order the move list is sorted by.
REASONS = ("orphaned", "new", "rule", "capacity", "balance")

#: Up to this many eligible pairs, the search is polished by an exact CP-SAT model.
EXACT_PAIR_LIMIT = 2_500

_PEN_DIGITS = 9


# ---- parameter checks -------------------------------------------------------------------
def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_)
    )


def _param(name: str, value: object, owner: str, ok: bool, expected: str) -> None:
    if not ok:
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be {expected}; got {value!r}."
        )


def _number_at_least(x: object, low: float, strict: bool = False) -> bool:
    """x is a finite real number >= low (> low when strict), not a bool."""
    if not _is_number(x):
        return False
    value = float(x)  # type: ignore[arg-type]
    return math.isfinite(value) and (value > low if strict else value >= low)


def _check_common(
    owner: str,
    problem: object,
    max_moves: object,
    max_moved_value: object,
    time_limit: object,
    seed: object,
) -> None:
    is_int = isinstance(max_moves, (int, np.integer)) and not isinstance(
        max_moves, (bool, np.bool_)
    )
    checks = [
        ("problem", type(problem).__name__, isinstance(problem, Problem), "an alloc.Problem"),
        (
            "max_moves",
            max_moves,
            max_moves is None or (is_int and _number_at_least(max_moves, 0)),
            "None or a non-negative integer",
        ),
        (
            "max_moved_value",
            max_moved_value,
            max_moved_value is None or _number_at_least(max_moved_value, 0),
            "None or a non-negative finite number",
        ),
        (
            "time_limit",
            time_limit,
            _number_at_least(time_limit, 0, strict=True),
            "a positive number of seconds",
        ),
        (
            "seed",
            seed,
            isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)),
            "an integer",
        ),
    ]
    for name, value, ok, expected in checks:
        _param(name, value, owner, bool(ok), expected)


def _incumbent_series(problem: Problem, incumbent: object, owner: str) -> pd.Series:
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
    if isinstance(incumbent, pd.DataFrame):
        if {c_col, r_col} <= set(incumbent.columns):
            series = pd.Series(incumbent[r_col].to_numpy(), index=incumbent[c_col].to_numpy())
        else:
            raise InvalidParameterError(
                f"the 'incumbent' parameter of {owner} must be a Series customer_id -> rep_id "
                f"or a DataFrame with columns {c_col!r} and {r_col!r}; got a DataFrame with "
                f"columns {format_ids(map(str, incumbent.columns), 8)}."
            )
    elif isinstance(incumbent, dict):
        series = pd.Series(incumbent, dtype=object)
    elif isinstance(incumbent, pd.Series):
        series = incumbent
    else:
        raise InvalidParameterError(
            f"the 'incumbent' parameter of {owner} must be a pandas Series customer_id -> "
            f"rep_id (or a dict, or a DataFrame with the id columns); got "
            f"{type(incumbent).__name__}."
        )
    dup = series.index[series.index.duplicated()].unique()
    if len(dup):
        raise InvalidProblemError(
            f"incumbent names customers more than once: {format_ids(dup)}; give one rep per "
            f"customer."
        )
    unknown = series.index.difference(problem.customer_ids)
    if len(unknown):
        raise InvalidProblemError(
            f"incumbent names customers that are not in the problem: {format_ids(unknown)}. "
            f"Drop customers who left (incumbent.drop(ids)) or add them with "
            f"problem.with_customers(...)."
        )
    return series


def _protected_mask(problem: Problem, protect: object, owner: str) -> np.ndarray:
    n = problem.n_customers
    if protect is None:
        return np.zeros(n, dtype=bool)
    customers = problem.tables.customers
    if isinstance(protect, str):
        if protect not in customers.columns:
            raise InvalidParameterError(
                f"the 'protect' parameter of {owner} must be a customer column name or a list "
                f"of customer ids; {protect!r} is not a column (columns: "
                f"{format_ids(map(str, customers.columns), 12)})."
            )
        raw = customers[protect]
        mapping = {
            "true": True,
            "yes": True,
            "1": True,
            "false": False,
            "no": False,
            "0": False,
            "": False,
        }

        def flag(v: object) -> bool:
            if isinstance(v, str):
                return mapping.get(v.strip().lower(), True)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return False
            return bool(v)

        return np.asarray(raw.map(flag).to_numpy(), dtype=bool)
    if isinstance(protect, (pd.Series, pd.Index, np.ndarray, list, tuple, set, frozenset)):
        ids = list(
            protect.index[protect.astype(bool)]
            if isinstance(protect, pd.Series) and protect.dtype == bool
            else protect
        )
        codes = (
            problem.customer_ids.get_indexer(pd.Index(ids, dtype=object))
            if ids
            else np.zeros(0, np.int64)
        )
        missing = [i for i, c in zip(ids, codes, strict=True) if c < 0]
        if missing:
            raise InvalidProblemError(
                f"protect names customers that are not in the problem: {format_ids(missing)}."
            )
        mask = np.zeros(n, dtype=bool)
        mask[codes] = True
        return mask
    raise InvalidParameterError(
        f"the 'protect' parameter of {owner} must be None, a customer column name or a list "
        f"of customer ids; got {type(protect).__name__}."
    )


def _values(problem: Problem, value: object, owner: str) -> np.ndarray:
    if value is None:
        return np.ones(problem.n_customers)
    customers = problem.tables.customers
    ok = isinstance(value, str) and value in customers.columns
    if ok:
        series = pd.to_numeric(customers[value], errors="coerce")
        ok = bool(
            series.notna().all()
            and np.isfinite(series.to_numpy(float)).all()
            and (series >= 0).all()
        )
    _param(
        "value",
        value,
        owner,
        ok,
        "None (count customers) or a numeric, non-negative customer column",
    )
    return np.asarray(customers[value].to_numpy(dtype=float))  # type: ignore[index]


# ---- the compiled rebalancing setup -------------------------------------------------------
@dataclass(eq=False)
class _Setup:
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
    def model(self) -> Any:
        return self.problem.model


def _setup(
    problem: Problem, incumbent: pd.Series, value: np.ndarray, protected: np.ndarray
) -> _Setup:
    model = problem.model
    rows = Rows.from_model(model)
    n = problem.n_customers
    inc = incumbent.reindex(problem.customer_ids)
    given = inc.notna().to_numpy()
    labels = inc.to_numpy(dtype=object)
    codes = problem.rep_ids.get_indexer(pd.Index(labels, dtype=object))
    codes = np.where(given, codes, -1).astype(np.int64)
    reason = np.full(n, "", dtype=object)
    reason[~given] = "new"
    reason[given & (codes < 0)] = "orphaned"
    unit = model.customer_unit
    present = codes >= 0
    pair = np.full(n, -1, dtype=np.int64)
    pair[present] = model.pair_index(unit[present], codes[present])
    reason[present & (pair < 0)] = "rule"
    U, P = model.n_units, model.n_pairs
    # Account families split by the incumbent must be reunited: a forced move.
    kept = reason == ""
    key_units = unit[kept]
    home_of_member = pair[kept]
    n_homes = np.zeros(U, dtype=np.int64)
    if key_units.size:
        distinct = np.unique(np.stack([key_units, home_of_member]), axis=1)
        n_homes = np.bincount(distinct[0], minlength=U)
    split_units = np.flatnonzero(n_homes > 1)
    if split_units.size:
        split = np.isin(unit, split_units) & kept
        reason[split] = "rule"
        kept = reason == ""
    # Per pair: members not kept at the pair's rep count as moves (and value, protect).
    home = np.full(U, -1, dtype=np.int64)
    home[unit[kept]] = pair[kept]
    n_kept = np.bincount(unit[kept], minlength=U)
    v_kept = np.bincount(unit[kept], weights=value[kept], minlength=U)
    p_kept = np.bincount(unit[kept], weights=protected[kept].astype(float), minlength=U)
    pu = model.pair_unit
    at_home = np.zeros(P, dtype=bool)
    has_home = home >= 0
    at_home[home[has_home]] = True
    mc = np.where(at_home, 0, n_kept[pu]).astype(np.int64)
    mv = np.where(at_home, 0.0, v_kept[pu])
    mp = np.where(at_home, 0, np.round(p_kept[pu])).astype(np.int64)
    # Incumbent hard-row loads (kept units at home) tell capacity moves from balance ones.
    K, R = rows.n_rows, model.n_reps
    hot_from = np.zeros(P, dtype=bool)
    under_to = np.zeros(P, dtype=bool)
    hard = np.flatnonzero(rows.pen_scale > 0)
    if hard.size and has_home.any():
        hp = home[has_home]
        loads = np.zeros((K, R))
        for k in hard.tolist():
            loads[k] = np.bincount(model.pair_rep[hp], weights=rows.weight[hp, k], minlength=R)
        scale = np.maximum(1.0, np.abs(loads)) * 1e-9
        over = loads > rows.hi + scale  # (K, R)
        under = loads < rows.lo - scale
        W = rows.weight[:, hard]
        pr = model.pair_rep
        hot_from = np.asarray(((W > 0) & over[hard][:, pr].T).any(axis=1), dtype=bool)
        under_to = np.asarray(((W > 0) & under[hard][:, pr].T).any(axis=1), dtype=bool)
    return _Setup(
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


def _place_forced(setup: _Setup, seed: int) -> np.ndarray:
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
    scale = rows.pen_scale[:, None]
    imb_w = np.abs(rows.imb_weight)[:, None]
    for u in order.tolist():
        a, b = start[u], start[u + 1]
        if a == b:
            continue
        reps = model.pair_rep[a:b]
        old = loads[:, reps]
        new = old + rows.weight[a:b].T
        v_old = np.maximum(old - hi[:, reps], 0) + np.maximum(lo[:, reps] - old, 0)
        v_new = np.maximum(new - hi[:, reps], 0) + np.maximum(lo[:, reps] - new, 0)
        d_pen = ((v_new - v_old) * scale).sum(axis=0)
        sh = share[:, reps]
        d_dev = (imb_w * (((new - sh) / sh) ** 2 - ((old - sh) / sh) ** 2)).sum(axis=0)
        best = int(np.lexsort((d_dev, model.cost[a:b], np.round(d_pen, 12)))[0])
        chosen[u] = a + best
        loads[:, reps[best]] += rows.weight[a + best]
    return chosen


# ---- the budget-aware search --------------------------------------------------------------
@dataclass
class _Budget:
    moves: float = math.inf
    value: float = math.inf
    unit_moves: float = 1.0  # normalisers of budget consumption
    unit_value: float = 1.0

    @property
    def finite(self) -> bool:
        return math.isfinite(self.moves) or math.isfinite(self.value)

    def consumption(self, d_m: np.ndarray, d_v: np.ndarray) -> np.ndarray:
        return d_m / self.unit_moves + d_v / self.unit_value


@dataclass
class _Snapshot:
    chosen: np.ndarray
    key: tuple[float, ...]
    moves: int
    value: float


@dataclass
class _Search:
    """State and moves of the budget-aware local search (one chosen pair per unit).

    ``tol`` holds a target per row (NaN: none) in tolerance mode, None otherwise.
    """

    setup: _Setup
    chosen: np.ndarray
    budget: _Budget
    tol: np.ndarray | None
    frozen: bool
    rng: np.random.Generator
    deadline: float
    thresholds: np.ndarray = field(init=False)
    loads: np.ndarray = field(init=False)
    rep_of: np.ndarray = field(init=False)
    rounds: int = 0
    batch_cut: float = 0.25
    swap_limit: int = 12_000
    shift_limit: int = 50_000
    paid_share: float = 1 / 16
    max_per_round: float = math.inf
    first_step: float = 0.5
    # Weight, in the ranking of moves only, of the change in total |deviation| of the
    # reps a move touches: among moves that remove the same excess, the ones that shift
    # more (fewer moves per unit of shift) rank first. Used when moves are counted.
    shift_bonus: float = 0.0

    def __post_init__(self) -> None:
        m, rows = self.setup.model, self.setup.rows
        self.rep_of = m.pair_rep[self.chosen].copy()
        self.loads = rows.loads(m, self.chosen)
        self.is_imb = (rows.imb_weight != 0) | rows.is_max | rows.is_sum
        self.hard = np.flatnonzero(rows.pen_scale > 0)
        self.thresholds = np.zeros(rows.n_rows)
        if self.tol is not None:
            has_tol = self.is_imb & np.isfinite(self.tol)
            self.x_weight = np.where(has_tol, 1.0, 0.0)
            self.thresholds = np.where(has_tol, self.tol, 0.0)
            self.use_cost = False
        else:
            self.x_weight = np.where(self.is_imb, rows.imb_weight, 0.0)
            self.use_cost = bool(np.any(m.cost != 0))
        self.soft = np.flatnonzero(self.x_weight != 0)
        protected_units = np.zeros(m.n_units, dtype=bool)
        protected_units[m.pair_unit[self.setup.mp > 0]] = True
        self.protected_units = protected_units

    # ---- figures ----------------------------------------------------------------------
    @property
    def moves(self) -> int:
        return int(self.setup.mc[self.chosen].sum())

    @property
    def moved_value(self) -> float:
        return float(self.setup.mv[self.chosen].sum())

    @property
    def protected_moves(self) -> int:
        return int(self.setup.mp[self.chosen].sum())

    def deviations(self) -> np.ndarray:
        rows = self.setup.rows
        return np.abs(self.loads - rows.share) / rows.share

    def max_dev(self) -> np.ndarray:
        """Max |relative deviation| per row (0 for hard rows)."""
        dev = self.deviations()
        return np.where(self.is_imb, dev.max(axis=1, initial=0.0), 0.0)

    def excess(self) -> float:
        """The search's surrogate of the objective, without costs."""
        dev = self.deviations()
        exc = np.maximum(dev - self.thresholds[:, None], 0.0)
        return float((exc.sum(axis=1) * self.x_weight).sum())

    def tol_gap(self) -> float:
        """Sum over metrics with a tolerance of how far their max deviation exceeds it."""
        if self.tol is None:
            return 0.0
        rows = self.x_weight != 0
        return float(np.maximum(self.max_dev()[rows] - self.tol[rows], 0.0).sum())

    def true_score(self) -> Score:
        return score_of(self.setup.model, self.setup.rows, self.chosen, self.loads)

    def key(self) -> tuple[float, ...]:
        """Lexicographic quality of the current plan (smaller is better)."""
        s = self.true_score()
        pen = round(s.penalty, _PEN_DIGITS)
        if self.tol is not None:
            return (pen, self.protected_moves, round(self.tol_gap(), 12), s.objective)
        return (pen, self.protected_moves, s.objective)

    def prune_key(self) -> tuple[float, ...]:
        """What reverting a move must not worsen: with a tolerance, the objective may."""
        key = self.key()
        return key[:3] if self.tol is not None else key

    def snapshot(self) -> _Snapshot:
        return _Snapshot(self.chosen.copy(), self.key(), self.moves, self.moved_value)

    def restore(self, snap: _Snapshot) -> None:
        self.set_chosen(snap.chosen)

    def set_chosen(self, chosen: np.ndarray) -> None:
        m, rows = self.setup.model, self.setup.rows
        self.chosen = chosen.copy()
        self.rep_of = m.pair_rep[self.chosen].copy()
        self.loads = rows.loads(m, self.chosen)

    # ---- move evaluation --------------------------------------------------------------
    def _delta(
        self, ra: np.ndarray, rb: np.ndarray, da: np.ndarray, db: np.ndarray, dcost: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(penalty change, surrogate change) of moves changing rep ra by da and rb by db."""
        rows, L = self.setup.rows, self.loads
        d_pen = np.zeros(ra.size)
        h = self.hard
        if h.size:
            la, lb = L[h][:, ra].T, L[h][:, rb].T
            na, nb = la + da[:, h], lb + db[:, h]
            hia, hib = rows.hi[h][:, ra].T, rows.hi[h][:, rb].T
            loa, lob = rows.lo[h][:, ra].T, rows.lo[h][:, rb].T

            def viol(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
                return np.maximum(x - hi, 0.0) + np.maximum(lo - x, 0.0)

            d_pen = (
                viol(na, loa, hia) - viol(la, loa, hia) + viol(nb, lob, hib) - viol(lb, lob, hib)
            ) @ rows.pen_scale[h]
        d_x = dcost.astype(float) if self.use_cost else np.zeros(ra.size)
        k = self.soft
        if k.size:
            la, lb = L[k][:, ra].T, L[k][:, rb].T
            na, nb = la + da[:, k], lb + db[:, k]
            sa, sb = rows.share[k][:, ra].T, rows.share[k][:, rb].T
            t = self.thresholds[k]

            def exc(load: np.ndarray, share: np.ndarray) -> np.ndarray:
                return np.maximum(np.abs(load - share) / share - t, 0.0)

            d_x = d_x + (exc(na, sa) - exc(la, sa) + exc(nb, sb) - exc(lb, sb)) @ self.x_weight[k]
        return d_pen, d_x

    def _extreme_reps(self, n: int) -> np.ndarray:
        """Mask of the ``n`` reps with the largest surrogate excess (or violation)."""
        rows = self.setup.rows
        score = np.zeros(self.setup.model.n_reps)
        if self.soft.size:
            dev = self.deviations()[self.soft] - self.thresholds[self.soft][:, None]
            score += (np.maximum(dev, 0.0) * np.abs(self.x_weight[self.soft])[:, None]).sum(0)
        if self.hard.size:
            L = self.loads[self.hard]
            over = np.maximum(L - rows.hi[self.hard], 0) + np.maximum(rows.lo[self.hard] - L, 0)
            score += 1e6 * (over * rows.pen_scale[self.hard][:, None]).sum(axis=0)
        mask = np.zeros(score.size, dtype=bool)
        mask[np.argsort(-score, kind="stable")[:n]] = True
        return mask & (score > 0)

    def active_reps(self) -> np.ndarray:
        """Reps whose surrogate can improve: beyond a threshold, or breaking a hard row."""
        rows = self.setup.rows
        active = np.zeros(self.setup.model.n_reps, dtype=bool)
        if self.soft.size:
            dev = self.deviations()[self.soft]
            active |= (dev > self.thresholds[self.soft][:, None]).any(axis=0)
        if self.hard.size:
            L = self.loads[self.hard]
            active |= (
                (L > rows.hi[self.hard] + 1e-9 * np.maximum(1, np.abs(L)))
                | (L < rows.lo[self.hard] - 1e-9 * np.maximum(1, np.abs(L)))
            ).any(axis=0)
        return active

    def _candidates(self, free_only: bool, restrict: bool = True) -> dict[str, np.ndarray]:
        """Shifts and swaps touching an active rep (every rep when costs count)."""
        s, m, W = self.setup, self.setup.model, self.setup.rows.weight
        units = m.pair_unit
        ra_all = self.rep_of[units]
        every = not restrict or self.use_cost or free_only
        active = np.ones(m.n_reps, dtype=bool) if every else self.active_reps()
        q = np.flatnonzero((ra_all != m.pair_rep) & (active[ra_all] | active[m.pair_rep]))
        if q.size > self.shift_limit:
            # Large problems: every shift touching the most extreme reps, a sample of the rest.
            extreme = self._extreme_reps(8)
            near = extreme[ra_all[q]] | extreme[m.pair_rep[q]]
            rest = q[~near]
            room = max(0, self.shift_limit - int(near.sum()))
            if rest.size > room:
                rest = self.rng.choice(rest, size=room, replace=False)
            q = np.sort(np.concatenate([q[near], rest]))
        p = self.chosen[units[q]]
        cand_u, cand_v = units[q], np.full(q.size, -1, dtype=np.int64)
        cand_qu, cand_qv = q, np.full(q.size, -1, dtype=np.int64)
        tu, tv = self._swap_pairs(active, every)
        if tu.size:
            tq = m.pair_index(tu, self.rep_of[tv])
            tqv = m.pair_index(tv, self.rep_of[tu])
            ok = (tq >= 0) & (tqv >= 0)
            cand_u = np.concatenate([cand_u, tu[ok]])
            cand_v = np.concatenate([cand_v, tv[ok]])
            cand_qu = np.concatenate([cand_qu, tq[ok]])
            cand_qv = np.concatenate([cand_qv, tqv[ok]])
            p = np.concatenate([p, self.chosen[tu[ok]]])
        is_swap = cand_v >= 0
        pv = np.where(is_swap, self.chosen[np.maximum(cand_v, 0)], 0)
        qv_safe = np.maximum(cand_qv, 0)
        d_m = s.mc[cand_qu] - s.mc[p] + np.where(is_swap, s.mc[qv_safe] - s.mc[pv], 0)
        d_v = s.mv[cand_qu] - s.mv[p] + np.where(is_swap, s.mv[qv_safe] - s.mv[pv], 0.0)
        d_p = s.mp[cand_qu] - s.mp[p] + np.where(is_swap, s.mp[qv_safe] - s.mp[pv], 0)
        keep = np.ones(cand_u.size, dtype=bool)
        if self.frozen:
            keep &= d_p <= 0
        if free_only:
            keep &= (d_m <= 0) & (d_v <= 1e-12)
        if self.budget.finite:
            keep &= self.moves + d_m <= self.budget.moves
            keep &= self.moved_value + d_v <= self.budget.value * (1 + 1e-12) + 1e-9
        idx = np.flatnonzero(keep)
        cand_u, cand_v, cand_qu, cand_qv, p, pv = (
            a[idx] for a in (cand_u, cand_v, cand_qu, cand_qv, p, pv)
        )
        is_swap = is_swap[idx]
        ra = self.rep_of[cand_u]
        rb = m.pair_rep[cand_qu]
        qv_safe = np.maximum(cand_qv, 0)
        da = -W[p] + np.where(is_swap[:, None], W[qv_safe], 0.0)
        db = W[cand_qu] - np.where(is_swap[:, None], W[pv], 0.0)
        dcost = m.cost[cand_qu] - m.cost[p] + np.where(is_swap, m.cost[qv_safe] - m.cost[pv], 0.0)
        return {
            "u": cand_u,
            "v": cand_v,
            "qu": cand_qu,
            "qv": cand_qv,
            "ra": ra,
            "rb": rb,
            "da": da,
            "db": db,
            "dcost": dcost,
            "d_m": d_m[idx],
            "d_v": d_v[idx],
            "d_p": d_p[idx],
        }

    def _swap_pairs(
        self, active: np.ndarray, every: bool, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Units at active reps paired with sampled units at other reps."""
        limit = self.swap_limit if limit is None else limit
        m = self.setup.model
        movable = np.diff(m.unit_start) > 1
        if self.frozen:
            movable &= ~self.protected_units
        if every:
            # Every movable unit: a random eligible rep and a random unit there.
            base = np.flatnonzero(movable)
            if base.size == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.int64)
            draws = max(1, min(4, limit // base.size))
            u = np.repeat(base, draws)
            deg = np.diff(m.unit_start)[u]
            qu = m.unit_start[u] + (self.rng.random(u.size) * deg).astype(np.int64)
            rb = m.pair_rep[qu]
            by_rep = np.argsort(self.rep_of, kind="stable")
            rep_start = np.searchsorted(self.rep_of[by_rep], np.arange(m.n_reps + 1))
            count = rep_start[rb + 1] - rep_start[rb]
            ok = (rb != self.rep_of[u]) & (count > 0)
            u, rb, count = u[ok], rb[ok], count[ok]
            v = by_rep[rep_start[rb] + (self.rng.random(u.size) * count).astype(np.int64)]
            ok = movable[v]
            return u[ok], v[ok]
        gu, gv = self._guided_swaps(movable)
        if self.budget.finite:
            ru, rv = self._replacement_swaps(movable, limit)
            gu, gv = np.concatenate([gu, ru]), np.concatenate([gv, rv])
        at_hot = np.flatnonzero(active[self.rep_of] & movable)
        others = np.flatnonzero(movable)
        if at_hot.size == 0 or others.size == 0 or limit <= 0:
            return gu, gv
        if at_hot.size > max(1, limit // 8):
            at_hot = self.rng.choice(at_hot, size=max(1, limit // 8), replace=False)
        k = max(1, limit // at_hot.size)
        if k >= others.size:
            u, v = np.repeat(at_hot, others.size), np.tile(others, at_hot.size)
        else:
            u = np.repeat(at_hot, k)
            v = self.rng.choice(others, size=u.size, replace=True)
        ok = self.rep_of[u] != self.rep_of[v]
        return np.concatenate([gu, u[ok]]), np.concatenate([gv, v[ok]])

    def _replacement_swaps(self, movable: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Each moved unit paired with the units still at its home rep: the swap sends
        the moved unit home and another in its place, a different move for no budget."""
        m, s = self.setup.model, self.setup
        moved = np.flatnonzero((s.mc[self.chosen] > 0) & (s.home >= 0) & movable)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        if moved.size == 0:
            return empty
        home_rep = m.pair_rep[s.home[moved]]
        by_rep = np.argsort(self.rep_of, kind="stable")
        rep_start = np.searchsorted(self.rep_of[by_rep], np.arange(m.n_reps + 1))
        count = rep_start[home_rep + 1] - rep_start[home_rep]
        if count.sum() > limit:
            # Large problems: a sample of the units at each home rep.
            take = np.minimum(count, max(1, limit // moved.size))
        else:
            take = count
        u = np.repeat(moved, take)
        start = np.repeat(rep_start[home_rep], take)
        size = np.repeat(count, take)
        if take.sum() < count.sum():
            offset = (self.rng.random(u.size) * size).astype(np.int64)
        else:
            offset = np.arange(u.size) - np.repeat(np.cumsum(take) - take, take)
        v = by_rep[start + offset]
        ok = movable[v] & (s.mc[self.chosen[v]] == 0)
        return u[ok], v[ok]

    def _guided_swaps(self, movable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each unit u at a rep with excess and each other rep b it may go to, the
        units at b whose weight is closest to what would bring u's rep to its threshold."""
        m, rows = self.setup.model, self.setup.rows
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        soft = self.soft
        if soft.size == 0:
            return empty
        L, S = self.loads[soft], rows.share[soft]
        dev = (L - S) / S
        t = self.thresholds[soft][:, None]
        over, under = np.maximum(dev - t, 0.0), np.maximum(-dev - t, 0.0)
        exc = np.maximum(over, under) * np.abs(self.x_weight[soft])[:, None]
        hot = np.flatnonzero(exc.max(axis=0) > 0)
        if hot.size == 0:
            return empty
        row_of = np.zeros(m.n_reps, dtype=np.int64)
        row_of[hot] = np.argmax(exc[:, hot], axis=0)
        # Change of load each hot rep needs in its row (negative: shed).
        need = np.zeros(m.n_reps)
        j = row_of[hot]
        need[hot] = np.where(over[j, hot] > 0, -over[j, hot], under[j, hot]) * S[j, hot]
        units = np.flatnonzero(np.isin(self.rep_of, hot) & movable)
        if units.size == 0:
            return empty
        deg = np.diff(m.unit_start)[units]
        if deg.sum() > self.swap_limit:
            # Large problems: units of the most extreme reps first, then a sample.
            extreme = self._extreme_reps(4)[self.rep_of[units]]
            budget_left = self.swap_limit - int(deg[extreme].sum())
            rest = np.flatnonzero(~extreme)
            if budget_left > 0 and rest.size:
                take = min(rest.size, max(1, budget_left // max(1, int(deg[rest].mean()))))
                rest = self.rng.choice(rest, size=take, replace=False)
            else:
                rest = rest[:0]
            keep = np.sort(np.concatenate([np.flatnonzero(extreme), rest]))
            units, deg = units[keep], deg[keep]
        uu = np.repeat(units, deg)
        offsets = np.arange(uu.size) - np.repeat(np.cumsum(deg) - deg, deg)
        q = m.unit_start[uu] + offsets
        b = m.pair_rep[q]
        keep = b != self.rep_of[uu]
        uu, b = uu[keep], b[keep]
        a = self.rep_of[uu]
        cur = self.chosen
        u_out: list[np.ndarray] = []
        v_out: list[np.ndarray] = []
        for jj in np.unique(row_of[a]).tolist():
            k = int(soft[jj])
            sel = row_of[a] == jj
            su, sb, sa = uu[sel], b[sel], a[sel]
            weight = rows.weight[cur, k]
            scale = float(np.abs(weight).max()) + 1.0
            key = self.rep_of * 4.0 + weight / scale + 1.5
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            ideal = weight[su] + need[sa]
            query = sb * 4.0 + np.clip(ideal / scale, -1.0, 1.0) + 1.5
            pos = np.searchsorted(sorted_key, query)
            for shift in (-1, 0):
                idx = np.clip(pos + shift, 0, order.size - 1)
                v = order[idx]
                ok = (self.rep_of[v] == sb) & movable[v]
                u_out.append(su[ok])
                v_out.append(v[ok])
        if not u_out:
            return empty
        return np.concatenate(u_out), np.concatenate(v_out)

    def step(self, free_only: bool = False, restrict: bool = True) -> bool:
        """One round: apply the best improving moves on disjoint reps within the budget."""
        c = self._candidates(free_only, restrict)
        if c["u"].size == 0:
            return False
        d_pen, d_x = self._delta(c["ra"], c["rb"], c["da"], c["db"], c["dcost"])
        pen_q = np.round(d_pen, _PEN_DIGITS)
        d_p = c["d_p"]
        x_tol = 1e-12 * max(1.0, abs(self.excess()))
        improving = (
            (pen_q < 0) | ((pen_q == 0) & (d_p < 0)) | ((pen_q == 0) & (d_p == 0) & (d_x < -x_tol))
        )
        improving &= (d_p <= 0) | (pen_q < 0)
        good = np.flatnonzero(improving)
        if good.size == 0:
            return False
        use = self.budget.consumption(c["d_m"][good], c["d_v"][good])
        eff = np.where(use > 1e-15, use, 1e-12)
        tier = np.where(pen_q[good] < 0, 0, np.where(d_p[good] < 0, 1, 2))
        gain = np.where(tier == 0, pen_q[good], np.where(tier == 1, d_p[good], d_x[good]))
        if self.shift_bonus > 0 and self.soft.size:
            d_abs = self._abs_dev_change(c, good)
            gain = np.where(tier == 2, gain + self.shift_bonus * np.minimum(d_abs, 0.0), gain)
        ratio = gain / eff
        order = np.lexsort((c["d_v"][good], ratio, tier))
        if self.budget.finite:
            # With a finite budget, a round takes only moves nearly as good as its best,
            # so cheap-but-weak moves cannot use up the budget before strong ones.
            first = order[0]
            near = (tier != tier[first]) | (ratio <= self.batch_cut * ratio[first])
            near |= use <= 1e-15
            order = order[near[order]]
        order = good[order][: 8 * self.setup.model.n_reps + 8]
        moves, value = self.moves, self.moved_value
        # With a finite budget, few paid moves per round: after each, the next best may
        # touch the same reps; free moves (no budget used) are batched freely.
        paid_left = math.inf
        if self.budget.finite:
            spare = self.budget.moves - moves
            if not math.isfinite(spare):
                spare = (self.budget.value - value) / max(self.budget.unit_value, 1e-12) * 100
            paid_left = max(1, int(spare * self.paid_share))
        used_rep: set[int] = set()
        used_unit: set[int] = set()
        applied = 0
        for i in order.tolist():
            a, b = int(c["ra"][i]), int(c["rb"][i])
            u, v = int(c["u"][i]), int(c["v"][i])
            if a in used_rep or b in used_rep or u in used_unit or v in used_unit:
                continue
            nm, nv = moves + int(c["d_m"][i]), value + float(c["d_v"][i])
            if nm > self.budget.moves or nv > self.budget.value * (1 + 1e-12) + 1e-9:
                continue
            if applied >= self.max_per_round:
                break
            paid = c["d_m"][i] > 0 or c["d_v"][i] > 1e-12
            if paid:
                if paid_left <= 0:
                    continue
                paid_left -= 1
            self._apply(u, int(c["qu"][i]))
            if v >= 0:
                self._apply(v, int(c["qv"][i]))
            moves, value = nm, nv
            used_rep.update((a, b))
            used_unit.update((u, v) if v >= 0 else (u,))
            applied += 1
        if applied:
            self.rounds += 1
            self.loads = self.setup.rows.loads(self.setup.model, self.chosen)
        return applied > 0

    def _abs_dev_change(self, c: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        """Change of sum_r x_weight * |relative deviation| of candidates ``idx``."""
        rows, k = self.setup.rows, self.soft
        ra, rb = c["ra"][idx], c["rb"][idx]
        la, lb = self.loads[k][:, ra].T, self.loads[k][:, rb].T
        na, nb = la + c["da"][idx][:, k], lb + c["db"][idx][:, k]
        sa, sb = rows.share[k][:, ra].T, rows.share[k][:, rb].T
        d = (np.abs(na - sa) - np.abs(la - sa)) / sa + (np.abs(nb - sb) - np.abs(lb - sb)) / sb
        return np.asarray(d @ np.abs(self.x_weight[k]))

    def _apply(self, u: int, q: int) -> None:
        W = self.setup.rows.weight
        p = self.chosen[u]
        self.loads[:, self.rep_of[u]] -= W[p]
        self.chosen[u] = q
        self.rep_of[u] = self.setup.model.pair_rep[q]
        self.loads[:, self.rep_of[u]] += W[q]

    def descend(self, free_only: bool = False) -> None:
        while time.perf_counter() < self.deadline:
            if self.step(free_only):
                continue
            # Nothing improves at the active reps: try moves anywhere once.
            if free_only or self.use_cost or not self.step(free_only, restrict=False):
                break

    # ---- drivers ----------------------------------------------------------------------
    def run(self) -> _Snapshot:
        """Search until no budgeted move improves or the deadline; return the best plan.

        Max-norm rows get a threshold below their current maximum (never below their
        tolerance); a row whose target was reached tries a bolder step next time, one
        that was not a smaller one, and a round that does not improve the plan is undone.
        """
        best = self.snapshot()
        rows = self.setup.rows
        max_rows = np.flatnonzero((self.x_weight != 0) & rows.is_max)
        if self.tol is not None:
            max_rows = np.flatnonzero(self.x_weight != 0)
        if max_rows.size == 0:
            self.descend()
            snap = self.snapshot()
            return snap if _better(snap, best) else best
        target = (
            self.thresholds[max_rows].copy() if self.tol is not None else np.zeros(max_rows.size)
        )
        steps = np.full(max_rows.size, self.first_step)
        min_step = 0.004
        base = best  # the committed state each attempt starts from
        while time.perf_counter() < self.deadline:
            current = self.max_dev()[max_rows]
            open_ = (current > target + 1e-12) & (steps >= min_step)
            if not open_.any():
                break
            self.thresholds[max_rows] = np.maximum(
                target, current * (1.0 - np.where(open_, steps, 0.0))
            )
            self.descend()
            snap = self.snapshot()
            reached = self.max_dev()[max_rows] <= self.thresholds[max_rows] * (1 + 1e-9) + 1e-15
            if _better(snap, best):
                best = snap
            if bool(reached.all()) and _better(snap, base):
                base = snap  # commit: the next target starts from here
                steps = np.minimum(0.5, steps * 1.5)
            else:
                # An unreached target may have spent the budget on a partial result: keep
                # it as a candidate only, and retry a smaller step from the committed state.
                self.restore(base)
                steps = np.where(open_, steps / 2.0, steps)  # every failure shrinks a step
        self.restore(best)
        if self.tol is not None:
            self.thresholds[max_rows] = target
        return best

    def prune(self, best: _Snapshot) -> _Snapshot:
        """Revert discretionary moves that do not pay for themselves, most valuable first."""
        self.restore(best)
        s = self.setup
        key = self.prune_key()
        changed = True
        while changed and time.perf_counter() < self.deadline:
            changed = False
            units = np.flatnonzero(s.mc[self.chosen] > 0)
            if units.size == 0:
                break
            prio = s.mp[self.chosen[units]] * 1e18 + s.mv[self.chosen[units]]
            for i, u in enumerate(units[np.argsort(-prio, kind="stable")].tolist()):
                if i % 16 == 0 and time.perf_counter() >= self.deadline:
                    break
                home = int(s.home[u])
                if home < 0 or self.chosen[u] == home:
                    continue
                old = int(self.chosen[u])
                self._apply(u, home)
                new_key = self.prune_key()
                if _key_not_worse(new_key, key):
                    key = new_key
                    changed = True
                else:
                    self._apply(u, old)
        self.loads = s.rows.loads(s.model, self.chosen)
        return self.snapshot()

    def polish(self) -> _Snapshot:
        """Free moves only (no budget used): improve the true objective one move at a time."""
        best = self.snapshot()
        while time.perf_counter() < self.deadline:
            c = self._candidates(free_only=True)
            if c["u"].size == 0:
                break
            i = self._best_true(c, best.key)
            if i < 0:
                break
            self._apply(int(c["u"][i]), int(c["qu"][i]))
            if c["v"][i] >= 0:
                self._apply(int(c["v"][i]), int(c["qv"][i]))
            self.loads = self.setup.rows.loads(self.setup.model, self.chosen)
            snap = self.snapshot()
            if not _key_lt(snap.key, best.key):
                self.restore(best)
                break
            best = snap
        return best

    def _best_true(self, c: dict[str, np.ndarray], key: tuple[float, ...]) -> int:
        """Index of the candidate with the best exact key change (-1: none improves)."""
        rows, m = self.setup.rows, self.setup.model
        ra, rb = c["ra"], c["rb"]
        la, lb = self.loads[:, ra].T, self.loads[:, rb].T
        na, nb = la + c["da"], lb + c["db"]

        def viol(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            return np.maximum(x - hi, 0.0) + np.maximum(lo - x, 0.0)

        hia, hib = rows.hi[:, ra].T, rows.hi[:, rb].T
        loa, lob = rows.lo[:, ra].T, rows.lo[:, rb].T
        d_pen = np.round(
            (viol(na, loa, hia) - viol(la, loa, hia) + viol(nb, lob, hib) - viol(lb, lob, hib))
            @ rows.pen_scale,
            _PEN_DIGITS,
        )
        dev = self.deviations()
        # Max over reps other than a and b, from the top three deviations of each row.
        k3 = min(3, m.n_reps)
        top_idx = np.argsort(-dev, axis=1)[:, :k3]
        top_val = np.take_along_axis(dev, top_idx, axis=1)
        sa, sb = rows.share[:, ra].T, rows.share[:, rb].T
        ea, eb = np.abs(na - sa) / sa, np.abs(nb - sb) / sb
        oa, ob = np.abs(la - sa) / sa, np.abs(lb - sb) / sb
        d_obj = c["dcost"].astype(float)
        new_max = np.zeros((ra.size, rows.n_rows))
        for k in range(rows.n_rows):
            if not self.is_imb[k]:
                continue
            free = (top_idx[k][None, :] != ra[:, None]) & (top_idx[k][None, :] != rb[:, None])
            first = np.argmax(free, axis=1)
            other = np.where(free.any(axis=1), top_val[k][first], 0.0)
            new_max[:, k] = np.maximum(other, np.maximum(ea[:, k], eb[:, k]))
            w = rows.imb_weight[k]
            if rows.is_max[k]:
                d_obj = d_obj + w * (new_max[:, k] - top_val[k][0])
            elif rows.is_sum[k]:
                d_obj = d_obj + w * (ea[:, k] - oa[:, k] + eb[:, k] - ob[:, k])
        d_tol = np.zeros(ra.size)
        if self.tol is not None:
            tol_rows = np.flatnonzero(self.x_weight != 0)
            old_gap = np.maximum(top_val[tol_rows, 0] - self.tol[tol_rows], 0.0).sum()
            new_gap = np.maximum(new_max[:, tol_rows] - self.tol[tol_rows], 0.0).sum(axis=1)
            d_tol = np.round(new_gap - old_gap, 12)
        d_p = c["d_p"]
        obj_tol = 1e-12 * max(1.0, abs(key[-1]))
        d_obj_q = np.where(np.abs(d_obj) <= obj_tol, 0.0, d_obj)
        ok = (d_pen <= 0) & (d_p <= 0) & (d_tol <= 0)
        better = ok & ((d_pen < 0) | (d_p < 0) | (d_tol < 0) | (d_obj_q < 0))
        if not better.any():
            return -1
        cand = np.flatnonzero(better)
        j = cand[np.lexsort((d_obj_q[cand], d_tol[cand], d_p[cand], d_pen[cand]))[0]]
        return int(j)


def _better(a: _Snapshot, b: _Snapshot) -> bool:
    """a is a strictly better plan than b: better key, or equal key and fewer moves."""
    if _key_lt(a.key, b.key):
        return True
    if _key_lt(b.key, a.key):
        return False
    return (a.moves, a.value) < (b.moves, b.value)


def _key_lt(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    for x, y in zip(a, b, strict=True):
        tol = 1e-12 * max(1.0, abs(x), abs(y))
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False


def _key_not_worse(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return not _key_lt(b, a)


# ---- orchestration ----------------------------------------------------------------------
@dataclass
class _Outcome:
    chosen: np.ndarray
    feasible: bool
    protected_forced: bool  # protected customers had to move for feasibility
    tolerance_reached: bool | None
    phases: list[tuple[str, float, float]]
    found_by: str
    proven: bool = False
    bound: float = -math.inf
    notes: list[str] = field(default_factory=list)


def _budget(setup: _Setup, max_moves: int | None, max_moved_value: float | None) -> _Budget:
    kept = setup.forced_reason == ""
    n_kept = max(1, int(kept.sum()))
    total_value = float(setup.value[kept].sum())
    return _Budget(
        moves=math.inf if max_moves is None else float(max_moves),
        value=math.inf if max_moved_value is None else float(max_moved_value),
        unit_moves=float(max(1, max_moves)) if max_moves is not None else float(n_kept),
        unit_value=(float(max_moved_value) if max_moved_value else max(total_value, 1e-12)),
    )


def _tolerance_rows(setup: _Setup, tolerance: object, owner: str) -> np.ndarray | None:
    """Target max deviation per model row (NaN: none), or None without a tolerance."""
    if tolerance is None:
        return None
    if not isinstance(tolerance, Mapping):
        _param(
            "tolerance",
            tolerance,
            owner,
            _number_at_least(tolerance, 0),
            "None, a number >= 0 (0.01 = 1 %) or a dict {metric: number}",
        )
    model, rows = setup.model, setup.rows
    metrics = [t.metric for t in model.imbalances]
    if not metrics:
        raise InvalidParameterError(
            f"the 'tolerance' parameter of {owner} must be None for a problem without "
            f"imbalance terms (add alloc.MinimizeImbalance(...) to the objective); "
            f"got {tolerance!r}."
        )
    if isinstance(tolerance, Mapping):
        unknown = [m for m in tolerance if m not in metrics]
        _param(
            "tolerance",
            tolerance,
            owner,
            not unknown and all(_number_at_least(v, 0) for v in tolerance.values()),
            f"a number >= 0 or a dict from imbalance metrics ({format_ids(metrics)}) "
            f"to numbers >= 0",
        )
        per_metric = {str(k): float(v) for k, v in tolerance.items()}
    else:
        per_metric = dict.fromkeys(metrics, float(tolerance))  # type: ignore[arg-type]
    tol = np.full(rows.n_rows, np.nan)
    base = len(model.constraints)
    for j, term in enumerate(model.imbalances):
        if term.metric in per_metric:
            tol[base + j] = per_metric[term.metric]
    return tol


def _search(
    setup: _Setup,
    start: np.ndarray,
    budget: _Budget,
    tol: np.ndarray | None,
    deadline: float,
    seed: int,
    t0: float,
) -> _Outcome:
    """The search phases, each until its share of the time.

    1. (no budget, big problems) the portfolio's local search with a small price per move;
    2. the budgeted search; if it ends infeasible with protected customers frozen, a
       repair that may move them;
    3. (budget to spare, big problems) the priced local search again;
    4. pruning of moves that do not pay, and the budgeted search again on the budget freed;
    5. (big problems, no tolerance) *compaction*: the budgeted search, from the start,
       for the fewest moves reaching the deviations found so far;
    6. (a tolerance out of reach) on big problems with ``max_moves``, CP-SAT on the
       heaviest units of the reps beyond it (:func:`_shed_lns`); then a second search
       on the other imbalance metrics, the targeted ones held (:func:`_secondary`);
    7. (big problems) large-neighbourhood search with CP-SAT, the budget a constraint;
    8. free moves that improve the objective (no budget used).
    """
    rng = np.random.default_rng(seed)
    phases: list[tuple[str, float, float]] = []

    def note(name: str, snap: _Snapshot) -> None:
        phases.append((name, time.perf_counter() - t0, snap.key[-1]))

    def until(share: float) -> float:
        return time.perf_counter() + share * max(0.0, deadline - time.perf_counter())

    any_protected = bool((setup.mp > 0).any())
    search = _Search(setup, start.copy(), budget, tol, any_protected, rng, deadline)
    if tol is not None and math.isfinite(budget.moves):
        search.shift_bonus = 0.05
    big = setup.model.n_pairs > EXACT_PAIR_LIMIT  # small ones are finished by CP-SAT
    best = search.snapshot()
    if big and tol is None and not budget.finite:
        best = _price_search(search, best, until(0.35), seed)
        note("priced local search", best)
    share = 0.6 if not budget.finite else 0.85
    search.deadline = until(share) if big else deadline
    best = search.run()
    note("budgeted search", best)
    if best.key[0] > 0 and any_protected:
        search.frozen = False
        search.deadline = until(share) if big else deadline
        best = search.run()
        note("repair (protected may move)", best)
    search.deadline = deadline
    if (
        big
        and tol is None
        and budget.finite
        and best.moves < budget.moves
        and best.value < budget.value
    ):
        best = _price_search(search, best, until(0.3), seed)
        note("priced local search", best)
    best = _prune_and_respend(search, best, until(0.5) if big else deadline)
    note("prune", best)
    if big and tol is None and not budget.finite and best.key[0] == 0 and best.moves > 0:
        best = _compact(search, start, best, until(0.5), seed)
        note("compaction", best)
    if big and tol is not None and budget.finite and best.key[0] == 0 and best.key[2] > 1e-12:
        best = _shed_lns(search, best, until(0.85), seed)
        note("cp-sat lns on the heaviest units", best)
    if tol is not None and best.key[0] == 0 and best.key[2] > 1e-12:
        best = _secondary(search, best, until(0.7), seed)
        note("other metrics", best)
    if big and time.perf_counter() < deadline - 0.3:
        best = _lns(search, best, deadline, seed)
        best = search.prune(best)
        note("cp-sat lns", best)
    search.deadline = deadline
    best = search.polish()
    note("polish", best)
    reached = None if tol is None else search.tol_gap() <= 1e-12
    return _Outcome(best.chosen, best.key[0] == 0, best.key[1] > 0, reached, phases, "local search")


def _prune_and_respend(search: _Search, best: _Snapshot, deadline: float) -> _Snapshot:
    """Revert moves that do not pay; spend the budget freed again while that helps."""
    old_deadline = search.deadline
    search.deadline = deadline
    for _ in range(4):
        pruned = search.prune(best)
        freed = pruned.moves < best.moves or pruned.value < best.value - 1e-9
        best = pruned
        if not freed or time.perf_counter() >= deadline:
            break
        again = search.run()
        if not _better(again, best):
            search.restore(best)
            break
        best = again
    search.deadline = old_deadline
    return best


def _compact(
    search: _Search, start: np.ndarray, best: _Snapshot, deadline: float, seed: int
) -> _Snapshot:
    """Fewest moves that reach the deviations of ``best``: the budgeted search in
    tolerance mode, from the start, with each imbalance row's tolerance set to the
    deviation ``best`` reached; kept only if no worse and with fewer moves."""
    setup = search.setup
    rows = setup.rows
    search.restore(best)
    target = np.where(search.is_imb, search.max_dev() * (1 + 1e-9) + 1e-12, np.nan)
    if not np.isfinite(target).any():
        return best
    compact = _Search(
        setup,
        start.copy(),
        search.budget,
        target,
        search.frozen,
        np.random.default_rng(seed + 11),
        deadline,
    )
    found = compact.run()
    found = compact.prune(found)
    del rows
    if compact.tol_gap() > 1e-12:
        return best
    search.set_chosen(found.chosen)
    snap = search.snapshot()
    if _key_not_worse(snap.key, best.key) and (snap.moves, snap.value) < (best.moves, best.value):
        return snap
    search.restore(best)
    return best


def _secondary(search: _Search, best: _Snapshot, deadline: float, seed: int) -> _Snapshot:
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
    sub = _Search(
        setup,
        best.chosen.copy(),
        search.budget,
        tol2,
        search.frozen,
        np.random.default_rng(seed + 29),
        deadline,
    )
    sub.x_weight = np.where(targeted, 1e3, np.where(others, 1.0, 0.0))
    found = sub.run()
    search.set_chosen(found.chosen)
    snap = search.snapshot()
    if _better(snap, best):
        return snap
    search.restore(best)
    return best


def _price_search(search: _Search, best: _Snapshot, deadline: float, seed: int) -> _Snapshot:
    """Run :class:`~alloc.solvers.local_search.LocalSearch` with a small cost per move."""
    import dataclasses

    from alloc.solvers.local_search import LocalSearch

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
    end = min(deadline, time.perf_counter() + 0.5 + model.n_pairs / 10_000)
    chosen, _ = local.run(end)
    search.set_chosen(chosen)
    snap = search.snapshot()
    within = (
        snap.moves <= search.budget.moves and snap.value <= search.budget.value * (1 + 1e-12) + 1e-9
    )
    if within and (not search.frozen or snap.key[1] <= best.key[1]) and _better(snap, best):
        return snap
    search.restore(best)
    return best


def _prepare(
    owner: str, problem: Problem, incumbent: object, value: object, protect: object
) -> _Setup:
    values = _values(problem, value, owner)
    series = _incumbent_series(problem, incumbent, owner)
    protected = _protected_mask(problem, protect, owner)
    return _setup(problem, series, values, protected)


def rebalance(
    problem: Problem,
    incumbent: pd.Series | Mapping[Any, Any] | pd.DataFrame,
    max_moves: int | None = None,
    max_moved_value: float | None = None,
    tolerance: float | Mapping[str, float] | None = None,
    protect: str | Sequence[Any] | None = None,
    time_limit: float = 10.0,
    seed: int = 0,
    value: str | None = "potential",
) -> Result:
    """Repair an incumbent plan for a changed problem with few, cheap moves.

    Parameters
    ----------
    problem : Problem
        The problem as it is *now* (after ``without_reps``, ``with_reps``,
        ``with_customers`` or ``replace``).
    incumbent : pandas.Series
        The plan in force, customer_id -> rep_id (a dict or a DataFrame with the id
        columns also works). It may name reps that are no longer in the problem (their
        customers are *orphaned*) and may lack customers (they are *new*); it may not
        name customers that are not in the problem.
    max_moves : int, optional
        Most discretionary moves: customers moved away from an incumbent rep that may
        still serve them (reasons ``"capacity"`` and ``"balance"``). Forced moves
        (``"orphaned"``, ``"new"``, ``"rule"``) are always made and never counted.
    max_moved_value : float, optional
        Most total ``value`` of the customers moved by discretionary moves.
    tolerance : float or dict, optional
        Target maximum relative deviation of the imbalance metrics of the objective
        (``0.01`` = 1 %), or a dict ``{metric: tolerance}`` for some of them. Moves stop
        once every targeted metric is within its tolerance, and moves not needed to stay
        within it are reverted (fewest moves). Without it, the problem's objective is
        improved as far as the budgets allow.
    protect : str or list of ids, optional
        A customer flag column (e.g. ``"key_account"``) or a list of customer ids.
        Protected customers move only when no plan within the budgets satisfies the
        rules otherwise; the explanation and the move list (``protected``) say so.
    time_limit : float
        Seconds; the call returns within it (plus a small constant).
    seed : int
        Random seed; results are reproducible for a seed.
    value : str or None
        Customer column that measures a move (default ``"potential"``); None counts
        customers.

    Returns
    -------
    Result
        ``assignment`` (every customer; it passes :func:`alloc.check`), ``objective``,
        and ``moves``: one row per customer that changes rep, with ``customer_id``,
        ``from_rep`` (None for new customers), ``to_rep``, ``value``, ``reason`` (one of
        :data:`REASONS`) and ``protected``. Status is ``OPTIMAL`` when CP-SAT proved the
        plan best within the budgets, ``FEASIBLE`` otherwise, ``UNKNOWN`` (no
        assignment) when no plan satisfying the rules was found within the budgets, and
        ``INFEASIBLE`` when the new problem has no plan at all.

    Raises
    ------
    InvalidProblemError
        If the incumbent names unknown or duplicate customers, or ``protect`` names
        unknown customers.
    InvalidParameterError
        For a bad budget, tolerance, time limit, seed, value column or protect spec.

    Notes
    -----
    Reasons: ``"orphaned"`` (the incumbent rep left), ``"new"`` (not in the incumbent),
    ``"rule"`` (a rule no longer allows the incumbent rep, or an account family split by
    the incumbent is reunited), ``"capacity"`` (in the incumbent plan, the customer's rep
    breaks a hard limit the customer contributes to, or its new rep is below a hard
    minimum the customer feeds) and ``"balance"`` otherwise.

    The search minimises, in this order: hard-rule violation, protected customers moved,
    the distance to the tolerance (with ``tolerance``), the problem's objective; among
    equal plans it prefers fewer, then less valuable moves.

    Examples
    --------
    >>> import alloc
    >>> from alloc.rebalance import rebalance
    >>> problem = alloc.datasets.make_problem(120, 6, seed=1)
    >>> plan = alloc.solve(problem, time_limit=1).assignment
    >>> smaller = problem.without_reps(["R1"])
    >>> result = rebalance(smaller, plan, max_moves=5, time_limit=2)
    >>> alloc.check(smaller, result.assignment)
    []
    >>> int(result.moves["reason"].isin(["balance", "capacity"]).sum()) <= 5
    True
    >>> bool((plan == "R1").sum() == (result.moves["reason"] == "orphaned").sum())
    True
    """
    t0 = time.perf_counter()
    owner = "rebalance"
    _check_common(owner, problem, max_moves, max_moved_value, time_limit, seed)
    setup = _prepare(owner, problem, incumbent, value, protect)
    tol = _tolerance_rows(setup, tolerance, owner)
    deadline = t0 + float(time_limit) - min(0.25, 0.1 * float(time_limit))
    budget = _budget(setup, max_moves, max_moved_value)
    reasons = precheck(problem, setup.rows)
    if reasons:
        stats = SolveStats(
            time=time.perf_counter() - t0,
            found_by="precheck",
            seed=int(seed),
            time_limit=float(time_limit),
        )
        return Result(
            problem,
            Status.INFEASIBLE,
            None,
            math.inf,
            math.inf,
            "Infeasible: " + " ".join(reasons),
            stats,
        )
    start = _place_forced(setup, int(seed))
    start_max = _max_devs(setup, start)
    outcome = _search(setup, start, budget, tol, deadline, int(seed), t0)
    if problem.model.n_pairs <= EXACT_PAIR_LIMIT and time.perf_counter() < deadline - 0.05:
        outcome = _exact(setup, outcome, budget, tol, deadline, int(seed), t0)
    return _result(
        setup,
        outcome,
        tol,
        start_max,
        t0,
        float(time_limit),
        int(seed),
        _budget_words(max_moves, max_moved_value),
    )


def tradeoff(
    problem: Problem,
    incumbent: pd.Series | Mapping[Any, Any] | pd.DataFrame,
    budgets: Iterable[int] = (0, 5, 10, 20, 40, 80, 160),
    *,
    time_limit_per_budget: float = 2.0,
    seed: int = 0,
    value: str | None = "potential",
    protect: str | Sequence[Any] | None = None,
) -> pd.DataFrame:
    """The frontier of discretionary moves against the objective and imbalance.

    Each budget of discretionary moves is searched as in :func:`rebalance`, starting
    from the plan found for the previous (smaller) budget, which is kept unless a better
    one is found; the objective therefore never increases as the budget grows.

    Parameters
    ----------
    problem, incumbent
        As for :func:`rebalance`.
    budgets : iterable of int
        Budgets of discretionary moves (``max_moves``); sorted and de-duplicated.
    time_limit_per_budget : float
        Seconds per budget.
    seed, value, protect
        As for :func:`rebalance`.

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``budget``, ``moves`` (discretionary moves used),
        ``moved_value``, ``forced`` (orphaned, new and rule moves), ``objective``,
        ``feasible``, ``<metric>_max_dev`` for every imbalance metric of the objective,
        and ``time``. Infeasible budgets show NaN figures.

    Examples
    --------
    >>> import alloc
    >>> from alloc.rebalance import tradeoff
    >>> problem = alloc.datasets.make_problem(120, 6, seed=1)
    >>> plan = alloc.solve(problem, time_limit=1).assignment
    >>> frontier = tradeoff(problem.without_reps(["R1"]), plan, budgets=[0, 4, 8],
    ...                     time_limit_per_budget=0.5)
    >>> list(frontier["budget"])
    [0, 4, 8]
    >>> bool(frontier["objective"].is_monotonic_decreasing)
    True
    """
    owner = "tradeoff"
    _check_common(owner, problem, None, None, time_limit_per_budget, seed)
    if isinstance(budgets, (str, bytes)) or not isinstance(budgets, Iterable):
        raise InvalidParameterError(
            f"the 'budgets' parameter of {owner} must be an iterable of non-negative "
            f"integers; got {budgets!r}."
        )
    items = list(budgets)
    _param(
        "budgets",
        items,
        owner,
        bool(items)
        and all(
            isinstance(b, (int, np.integer)) and not isinstance(b, (bool, np.bool_)) and b >= 0
            for b in items
        ),
        "a non-empty iterable of non-negative integers",
    )
    setup = _prepare(owner, problem, incumbent, value, protect)
    reasons = precheck(problem, setup.rows)
    if reasons:
        raise InvalidProblemError(
            "tradeoff: the problem has no feasible plan: " + " ".join(reasons)
        )
    metrics = _imbalance_metrics(setup)
    plan = _place_forced(setup, int(seed))
    prev_key: tuple[float, ...] | None = None
    records = []
    for b in sorted({int(x) for x in items}):
        t0 = time.perf_counter()
        deadline = t0 + float(time_limit_per_budget)
        budget = _budget(setup, b, None)
        outcome = _search(setup, plan, budget, None, deadline, int(seed), t0)
        probe = _Search(setup, outcome.chosen, budget, None, False, np.random.default_rng(0), 0)
        key = probe.key()
        if prev_key is None or _key_not_worse(key, prev_key):
            plan, prev_key = outcome.chosen, key
        probe.set_chosen(plan)
        feasible = prev_key[0] == 0
        record: dict[str, Any] = {
            "budget": b,
            "moves": probe.moves,
            "moved_value": probe.moved_value,
            "forced": setup.n_forced,
            "objective": math.nan,
            "feasible": feasible,
        }
        devs = probe.max_dev()
        for k, metric in metrics:
            record[f"{metric}_max_dev"] = float(devs[k]) if feasible else math.nan
        if feasible:
            record["objective"] = objective_value(problem, _to_assignment(problem, plan))
        record["time"] = time.perf_counter() - t0
        records.append(record)
    return pd.DataFrame.from_records(records)


def _max_devs(setup: _Setup, chosen: np.ndarray) -> np.ndarray:
    probe = _Search(setup, chosen, _Budget(), None, False, np.random.default_rng(0), 0.0)
    return probe.max_dev()


def _imbalance_metrics(setup: _Setup) -> list[tuple[int, str]]:
    """(row index, metric name) of the imbalance rows, first row per metric."""
    model = setup.model
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for j, term in enumerate(model.imbalances):
        if term.metric not in seen:
            seen.add(term.metric)
            out.append((len(model.constraints) + j, term.metric))
    return out


def _to_assignment(problem: Problem, chosen: np.ndarray) -> pd.Series:
    model = problem.model
    rep_codes = model.pair_rep[chosen][model.customer_unit]
    return pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],
        index=problem.customer_ids.copy(),
        name=problem.id_columns["rep"],
    )


def _moves_frame(setup: _Setup, chosen: np.ndarray) -> pd.DataFrame:
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


def _budget_words(max_moves: int | None, max_moved_value: float | None) -> str:
    parts = []
    if max_moves is not None:
        parts.append(f"max_moves={max_moves}")
    if max_moved_value is not None:
        parts.append(f"max_moved_value={max_moved_value:,.6g}")
    return " and ".join(parts) if parts else "no budget"


def _result(
    setup: _Setup,
    outcome: _Outcome,
    tol: np.ndarray | None,
    start_max: np.ndarray,
    t0: float,
    time_limit: float,
    seed: int,
    budget_words: str,
) -> Result:
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
        if outcome.proven:
            status, expl = (
                Status.INFEASIBLE,
                (
                    f"Infeasible within {budget_words}: CP-SAT proved that no plan within the "
                    f"budgets satisfies every rule (after placing the {setup.n_forced:,} "
                    f"orphaned, new or re-ruled customers). Raise the budgets or relax the rules."
                ),
            )
        else:
            status, expl = (
                Status.UNKNOWN,
                (
                    f"No plan satisfying every rule was found within {budget_words}: after "
                    f"placing the {setup.n_forced:,} orphaned, new or re-ruled customers, the "
                    f"moves allowed still leave a hard rule broken. Raise the budgets, give more "
                    f"time, or relax the rules."
                ),
            )
        stats = SolveStats(time=time.perf_counter() - t0, **stats_kw)
        return Result(problem, status, None, math.inf, -math.inf, expl, stats)
    assignment = _to_assignment(problem, outcome.chosen)
    violations = check(problem, assignment)
    if violations:  # pragma: no cover - the model and the checker disagree
        expl = "The search ended with a plan the independent checker rejects: " + "; ".join(
            map(str, violations[:3])
        )
        stats = SolveStats(time=time.perf_counter() - t0, **stats_kw)
        return Result(problem, Status.UNKNOWN, None, math.inf, -math.inf, expl, stats)
    objective = objective_value(problem, assignment)
    moves = _moves_frame(setup, outcome.chosen)
    discretionary = moves["reason"].isin(["capacity", "balance"])
    disc, forced = moves[discretionary], moves[~discretionary]
    counts = forced["reason"].value_counts()
    parts = []
    if len(forced):
        parts.append(
            "forced moves: "
            + ", ".join(f"{int(counts[r])} {r}" for r in REASONS if r in counts.index)
        )
    parts.append(
        f"{len(disc)} discretionary moves (value {disc['value'].sum():,.6g}; {budget_words})"
    )
    lines = ["Rebalanced with " + "; ".join(parts) + "."]
    end_max = _max_devs(setup, outcome.chosen)
    for k, metric in _imbalance_metrics(setup):
        lines.append(
            f"{metric}: max deviation {_pct(start_max[k])} after the forced moves, "
            f"{_pct(end_max[k])} after rebalancing."
        )
    if tol is not None:
        targets = ", ".join(
            f"{metric} {_pct(tol[k])}"
            for k, metric in _imbalance_metrics(setup)
            if np.isfinite(tol[k])
        )
        if outcome.tolerance_reached:
            lines.append(f"Within the tolerance ({targets}).")
        else:
            lines.append(
                f"The tolerance ({targets}) was not reached within the budgets "
                f"and time; this is the closest plan found."
            )
    prot = disc[disc["protected"]]
    if len(prot):
        lines.append(
            f"{len(prot)} protected customers had to move (no plan within the "
            f"budgets satisfies the rules without moving them): "
            f"{format_ids(prot['customer_id'])}."
        )
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
    stats = SolveStats(time=time.perf_counter() - t0, **stats_kw)
    return Result(
        problem, status, assignment, objective, bound, " ".join(lines), stats, moves=moves
    )


@dataclass
class _CpOut:
    status: str
    chosen: np.ndarray | None  # complete assignment (units outside the sub-model unchanged)
    proven: bool  # optimal for the model solved, with exact data and objective


def _cp_solve(
    setup: _Setup,
    scaled: Any,
    current: np.ndarray,
    budget: _Budget,
    tol: np.ndarray | None,
    units: np.ndarray,
    rep_mask: np.ndarray,
    time_limit: float,
    seed: int,
    frozen: bool,
    lexicographic: bool,
    gap: bool = False,
) -> _CpOut:
    """CP-SAT on the units ``units`` and the reps in ``rep_mask``, the rest fixed.

    Model (``x[p]`` one per unit, hard rows as in :mod:`alloc.solvers.cpsat`, ``base``
    the loads of the fixed units)::

        sum_p mc[p] x[p] <= max_moves - fixed moves     (and the same for moved value)
        minimise objective                                    (no tolerance), or
        |base + load[k, r] - share[k, r]| <= tol[k] * share[k, r], minimise moves (tolerance)

    With ``lexicographic``, a second solve keeps every imbalance term at its optimum and
    minimises moves, then moved value. With ``gap`` (a tolerance not yet reached), the
    objective is the sum over targeted metrics of how far their maximum deviation exceeds
    the tolerance, with no tolerance constraint.
    """
    from ortools.sat.python import cp_model

    model, rows = setup.model, setup.rows
    R, K = model.n_reps, rows.n_rows
    start = model.unit_start
    in_sub = np.zeros(model.n_units, dtype=bool)
    in_sub[units] = True
    pairs = np.concatenate([np.arange(start[u], start[u + 1]) for u in units.tolist()])
    keep = rep_mask[model.pair_rep[pairs]]
    if frozen:
        keep &= setup.mp[pairs] == 0
    keep |= np.isin(pairs, current[units])  # the current pair always stays available
    pairs = pairs[keep]
    fixed = current[~in_sub]
    base = np.zeros((K, R), dtype=np.int64)
    cur_load = np.zeros((K, R), dtype=np.int64)  # loads of the current plan, for hints
    for k in range(K):
        base[k] = np.bincount(
            model.pair_rep[fixed], weights=scaled.weight[fixed, k], minlength=R
        ).astype(np.int64)
        cur_load[k] = np.bincount(
            model.pair_rep[current], weights=scaled.weight[current, k], minlength=R
        ).astype(np.int64)
    aux_hints: list[tuple[Any, int]] = []  # auxiliary variables at the current plan
    cp = cp_model.CpModel()
    x = [cp.new_bool_var(f"x{p}") for p in pairs.tolist()]
    owner = model.pair_unit[pairs]
    order = np.argsort(owner, kind="stable")
    lo_i = np.searchsorted(owner[order], units)
    hi_i = np.searchsorted(owner[order], units, side="right")
    for a, b in zip(lo_i.tolist(), hi_i.tolist(), strict=True):
        cp.add_exactly_one([x[i] for i in order[a:b].tolist()])
    pair_rep = model.pair_rep[pairs]
    active = np.flatnonzero(rep_mask)
    by_rep = {int(r): np.flatnonzero(pair_rep == r) for r in active.tolist()}

    def load(k: int, r: int) -> Any:
        idx = by_rep[r]
        w = scaled.weight[pairs[idx], k]
        nz = w != 0
        return cp_model.LinearExpr.weighted_sum(
            [x[i] for i in idx[nz].tolist()], w[nz].tolist()
        ) + int(base[k, r])

    for k in np.flatnonzero(rows.pen_scale > 0).tolist():
        for r in active.tolist():
            expr = load(k, r)
            if scaled.hi[k, r] < 2**49:
                cp.add(expr <= int(scaled.hi[k, r]))
            if scaled.lo[k, r] > -(2**49):
                cp.add(expr >= int(scaled.lo[k, r]))
    mv_factor = 1e6 / float(setup.mv.max()) if setup.mv.max(initial=0.0) > 0 else 1.0
    mv_int = np.ceil(setup.mv * mv_factor - 1e-9).astype(np.int64)
    moves_expr = cp_model.LinearExpr.weighted_sum(x, setup.mc[pairs].tolist())
    value_expr = cp_model.LinearExpr.weighted_sum(x, mv_int[pairs].tolist())
    if math.isfinite(budget.moves):
        cp.add(moves_expr <= int(budget.moves) - int(setup.mc[fixed].sum()))
    if math.isfinite(budget.value):
        # Values rounded up, the budget down: a CP-SAT plan is within the true budget.
        cp.add(
            value_expr
            <= int(math.floor(budget.value * mv_factor + 1e-9)) - int(mv_int[fixed].sum())
        )
    tie = moves_expr * (int(mv_int[pairs].sum()) + 1) + value_expr
    exact = scaled.error == 0
    integral = exact and not np.any(model.cost[pairs] != 0)
    zvars: list[Any] = []
    terms: list[Any] = []
    imb_rows = np.flatnonzero((rows.imb_weight != 0) | rows.is_max | rows.is_sum)
    if tol is not None and not gap:
        for k in imb_rows.tolist():
            if not np.isfinite(tol[k]):
                continue
            share = rows.share[k] * scaled.factor[k]
            for r in active.tolist():
                expr = load(k, r)
                cp.add(expr <= int(math.floor((1 + tol[k]) * share[r] + 1e-9)))
                cp.add(expr >= int(math.ceil((1 - tol[k]) * share[r] - 1e-9)))
        cp.minimize(tie)
        integral = True
    else:
        outside = ~rep_mask
        for k in imb_rows.tolist():
            T = int(scaled.total[k])
            w = float(rows.imb_weight[k])
            if gap:  # distance of the targeted metrics to their tolerance only
                assert tol is not None
                w = 1.0 if np.isfinite(tol[k]) else 0.0
            if T <= 0 or w == 0:
                continue
            share = rows.share[k] * scaled.factor[k]
            if (rows.is_max[k] or gap) and scaled.equal_share[k]:
                other = int(np.abs(R * base[k, outside] - T).max(initial=0))
                z = cp.new_int_var(other, R * T + T, f"z{k}")
                for r in active.tolist():
                    expr = load(k, r)
                    cp.add(z >= R * expr - T)
                    cp.add(z >= T - R * expr)
                z_now = max(other, int(np.abs(R * cur_load[k, active] - T).max(initial=0)))
                aux_hints.append((z, z_now))
                if gap:
                    assert tol is not None
                    g = cp.new_int_var(0, R * T + T, f"g{k}")
                    cp.add(g >= z - int(math.floor(float(tol[k]) * T)))
                    aux_hints.append((g, max(0, z_now - int(math.floor(float(tol[k]) * T)))))
                    terms.append(g * (w / T))
                    integral = False
                    continue
                terms.append(z * (w / T))
                zvars.append(z)
                continue
            integral = False
            if rows.is_max[k] or gap:
                Q = 1_000_000
                dev_out = np.abs(base[k, outside] - share[outside]) / np.maximum(share[outside], 1)
                z_lo = int(math.ceil(float(dev_out.max(initial=0.0)) * Q - 1e-9))
                z = cp.new_int_var(z_lo, 100 * Q, f"z{k}")
                s_now = np.maximum(1, np.round(share[active])).astype(np.int64)
                dev_now = np.abs(cur_load[k, active] - s_now) * Q / s_now
                z_now = min(100 * Q, max(z_lo, int(np.ceil(dev_now.max(initial=0.0)))))
                aux_hints.append((z, z_now))
                if gap:
                    assert tol is not None
                    g = cp.new_int_var(0, 100 * Q, f"g{k}")
                    cp.add(g >= z - int(math.floor(float(tol[k]) * Q)))
                    aux_hints.append((g, max(0, z_now - int(math.floor(float(tol[k]) * Q)))))
                    terms.append(g * (w / Q))
                else:
                    terms.append(z * (w / Q))
            for r in active.tolist():
                s_r = max(1, int(round(share[r])))
                expr = load(k, r)
                if rows.is_max[k] or gap:
                    cp.add(Q * (expr - s_r) <= s_r * z)
                    cp.add(Q * (s_r - expr) <= s_r * z)
                else:
                    d = cp.new_int_var(0, 2 * T + 2 * s_r, f"d{k}_{r}")
                    cp.add(d >= expr - s_r)
                    cp.add(d >= s_r - expr)
                    aux_hints.append((d, min(2 * T + 2 * s_r, abs(int(cur_load[k, r]) - s_r))))
                    terms.append(d * (w / s_r))
        cost = model.cost[pairs] if not gap else np.zeros(pairs.size)
        terms.extend(x[i] * float(cost[i]) for i in np.flatnonzero(cost != 0).tolist())
        if terms:
            cp.minimize(sum(terms))
        else:
            cp.minimize(tie)
    hint = set(current[units].tolist())
    for i, p in enumerate(pairs.tolist()):
        cp.add_hint(x[i], p in hint)
    for var, value in aux_hints:
        cp.add_hint(var, value)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.symmetry_level = 0
    solver.parameters.absolute_gap_limit = 0.0
    solver.parameters.relative_gap_limit = 0.0
    t_end = time.perf_counter() + time_limit
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    code = solver.solve(cp)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _CpOut(solver.status_name(code), None, False)

    def read() -> np.ndarray:
        out = current.copy()
        values = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        sel = pairs[values]
        out[model.pair_unit[sel]] = sel
        return out

    chosen = read()
    proven = code == cp_model.OPTIMAL and integral
    if lexicographic and terms and proven and zvars:
        # Second solve: no imbalance term worse than its optimum, fewest moves, least value.
        for z in zvars:
            cp.add(z <= int(solver.value(z)))
        cp.minimize(tie)
        cp.clear_hints()
        now = set(chosen[units].tolist())
        for i, p in enumerate(pairs.tolist()):
            cp.add_hint(x[i], p in now)
        solver.parameters.max_time_in_seconds = max(0.05, t_end - time.perf_counter())
        code = solver.solve(cp)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = read()
        proven = code == cp_model.OPTIMAL
    return _CpOut(solver.status_name(code), chosen, proven)


def _exact(
    setup: _Setup,
    outcome: _Outcome,
    budget: _Budget,
    tol: np.ndarray | None,
    deadline: float,
    seed: int,
    t0: float,
) -> _Outcome:
    """Polish a small problem with one CP-SAT model of every unit and rep; when the search
    found no feasible plan, look for one (protected customers frozen first) or prove that
    none exists within the budgets."""
    from alloc.solvers.cpsat import Scaled

    model = setup.model
    scaled = Scaled.from_rows(model, setup.rows)
    if not outcome.feasible:
        every = np.arange(model.n_units)
        all_reps = np.ones(model.n_reps, dtype=bool)
        protected = bool((setup.mp > 0).any())
        for frozen in (True, False) if protected else (False,):
            res = _cp_solve(
                setup,
                scaled,
                outcome.chosen,
                budget,
                tol,
                every,
                all_reps,
                deadline - time.perf_counter(),
                seed,
                frozen=frozen,
                lexicographic=False,
            )
            phases = [*outcome.phases, ("cp-sat", time.perf_counter() - t0, math.nan)]
            if res.chosen is not None:
                probe = _Search(
                    setup, res.chosen, budget, tol, False, np.random.default_rng(0), 0.0
                )
                snap = probe.snapshot()
                if snap.key[0] == 0:
                    found = _Outcome(
                        snap.chosen,
                        True,
                        snap.key[1] > 0,
                        None if tol is None else probe.tol_gap() <= 1e-12,
                        phases,
                        "cp-sat",
                        notes=outcome.notes,
                    )
                    if found.protected_forced or time.perf_counter() >= deadline - 0.05:
                        return found
                    return _exact(setup, found, budget, tol, deadline, seed, t0)
            if res.status != "INFEASIBLE":
                return outcome  # out of time: nothing proven
            if not frozen:
                return _Outcome(
                    outcome.chosen,
                    False,
                    False,
                    None,
                    phases,
                    "cp-sat",
                    proven=True,
                    notes=outcome.notes,
                )
        return outcome
    if outcome.protected_forced:
        return outcome
    res = _cp_solve(
        setup,
        scaled,
        outcome.chosen,
        budget,
        tol,
        np.arange(model.n_units),
        np.ones(model.n_reps, dtype=bool),
        deadline - time.perf_counter(),
        seed,
        frozen=bool((setup.mp > 0).any()),
        lexicographic=True,
        gap=tol is not None and outcome.tolerance_reached is False,
    )
    phases = [*outcome.phases, ("cp-sat", time.perf_counter() - t0, math.nan)]
    if res.chosen is None:
        return replace(outcome, feasible=True, protected_forced=False, phases=phases, proven=False)
    probe = _Search(setup, outcome.chosen, budget, tol, False, np.random.default_rng(0), 0.0)
    old = probe.snapshot()
    probe.set_chosen(res.chosen)
    new = probe.snapshot()
    within = new.moves <= budget.moves and new.value <= budget.value * (1 + 1e-12) + 1e-9
    if not within or new.key[0] > 0 or not _key_not_worse(new.key, old.key):
        return replace(outcome, feasible=True, protected_forced=False, phases=phases, proven=False)
    take = _better(new, old) or res.proven
    snap = new if take else old
    probe.set_chosen(snap.chosen)
    reached = None if tol is None else probe.tol_gap() <= 1e-12
    return _Outcome(
        snap.chosen,
        True,
        False,
        reached,
        phases,
        "cp-sat" if take else outcome.found_by,
        res.proven,
        snap.key[-1] if res.proven else outcome.bound,
        outcome.notes,
    )


def _lns(
    search: _Search, best: _Snapshot, deadline: float, seed: int, patience: int = 12
) -> _Snapshot:
    """Large-neighbourhood search: re-optimise the customers of a few reps with CP-SAT,
    the budget as a constraint; stop after ``patience`` rounds without improvement."""
    from alloc.solvers.cpsat import Scaled

    setup = search.setup
    model, rows = setup.model, setup.rows
    R = model.n_reps
    scaled = Scaled.from_rows(model, rows)
    rng = np.random.default_rng(seed + 7)
    per_rep = max(1.0, model.n_units / R)
    k = int(np.clip(round(300 / per_rep), 2, min(R, 6)))
    search.restore(best)
    idle = 0
    while idle < patience and time.perf_counter() < deadline - 0.1:
        dev = (search.loads - rows.share) / rows.share
        picked: set[int] = set()
        soft = search.soft if search.soft.size else np.flatnonzero(search.is_imb)
        if soft.size and rng.random() < 0.8:
            kk = int(soft[rng.integers(soft.size)])
            picked.update((int(np.argmax(dev[kk])), int(np.argmin(dev[kk]))))
        while len(picked) < k:
            picked.add(int(rng.integers(R)))
        mask = np.zeros(R, dtype=bool)
        mask[list(picked)] = True
        units = np.flatnonzero(mask[search.rep_of])
        if units.size == 0:
            idle += 1
            continue
        limit = min(1.5, deadline - time.perf_counter() - 0.05)
        if limit < 0.05:
            break
        res = _cp_solve(
            setup,
            scaled,
            search.chosen,
            search.budget,
            search.tol,
            units,
            mask,
            limit,
            int(rng.integers(1 << 30)),
            search.frozen,
            lexicographic=False,
            gap=search.tol is not None and search.tol_gap() > 1e-12,
        )
        if res.chosen is None:
            idle += 1
            continue
        kept = _keep_if_better(search, best, res.chosen)
        best, idle = (kept, 0) if kept is not None else (best, idle + 1)
    search.restore(best)
    return best


def _shed_lns(search: _Search, best: _Snapshot, deadline: float, seed: int) -> _Snapshot:
    """Large-neighbourhood search for a tolerance out of reach within a move budget.

    The reps beyond the tolerance can usually only get there by shedding, one move per
    customer, so the neighbourhood is what decides how: the heaviest units (in a
    targeted row) of each such rep, a random number of them between a quarter of and
    the whole move budget, every unit moved so far and every forced unit, free to go to any rep.
    CP-SAT minimises how far the targeted metrics exceed their tolerance, the budgets
    as constraints; a round is kept only if the plan improves."""
    from alloc.solvers.cpsat import Scaled

    setup = search.setup
    model, rows = setup.model, setup.rows
    assert search.tol is not None
    targeted = np.flatnonzero(search.x_weight != 0)
    scaled = Scaled.from_rows(model, rows)
    rng = np.random.default_rng(seed + 17)
    movable = np.diff(model.unit_start) > 1
    every_rep = np.ones(model.n_reps, dtype=bool)
    span = max(2.0, search.budget.moves if math.isfinite(search.budget.moves) else 20.0)
    search.restore(best)
    idle = 0
    while idle < 4 and time.perf_counter() < deadline - 0.2 and search.tol_gap() > 1e-12:
        dev = np.abs(search.loads[targeted] - rows.share[targeted]) / rows.share[targeted]
        beyond = (dev > search.tol[targeted][:, None] + 1e-12).any(axis=0)
        free = (setup.mc[search.chosen] > 0) | (setup.home < 0)
        size = np.abs(rows.weight[search.chosen][:, targeted]).max(axis=1)
        n_heavy = int(rng.uniform(0.25, 1.0) * span)
        for r in np.flatnonzero(beyond).tolist():
            at = np.flatnonzero((search.rep_of == r) & movable)
            free[at[np.argsort(-size[at], kind="stable")[:n_heavy]]] = True
        units = np.flatnonzero(free & movable)
        limit = min(6.0, deadline - time.perf_counter() - 0.1)
        if units.size == 0 or limit < 0.2:
            break
        res = _cp_solve(
            setup,
            scaled,
            search.chosen,
            search.budget,
            search.tol,
            units,
            every_rep,
            limit,
            int(rng.integers(1 << 30)),
            search.frozen,
            lexicographic=False,
            gap=True,
        )
        if res.chosen is None:
            idle += 1
            continue
        kept = _keep_if_better(search, best, res.chosen)
        best, idle = (kept, 0) if kept is not None else (best, idle + 1)
    search.restore(best)
    return best


def _keep_if_better(search: _Search, best: _Snapshot, chosen: np.ndarray) -> _Snapshot | None:
    """Move the search to ``chosen``; return its snapshot if it is within the budgets and
    better than ``best``, else restore ``best`` and return None."""
    search.set_chosen(chosen)
    snap = search.snapshot()
    within = (
        snap.moves <= search.budget.moves and snap.value <= search.budget.value * (1 + 1e-12) + 1e-9
    )
    if within and _better(snap, best):
        return snap
    search.restore(best)
    return None
