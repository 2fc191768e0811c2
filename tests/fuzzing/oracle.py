"""Brute-force oracle for small allocation problems, written independently of alloc.

A problem is a :class:`Case`: the raw tables (customers, reps, optional pairs) and the
rules and objective terms as plain :class:`Spec` values (a kind such as ``"Capacity"``
and its keyword arguments). The oracle enumerates every plan over the eligible pairs
(<= 9 customers x 2-3 reps, at most 3**9 = 19,683 plans), judges every rule from its
documented mathematics and computes the objective, all with numpy over the whole plan
array (a soft Balance window adds its price to the objective; a Budget caps its term's
value). It never calls ``alloc.check``, ``alloc.objective_value`` or any alloc internals;
alloc is only used to turn a Case into an ``alloc.Problem`` (:meth:`Case.problem`).

Comparison rule for every hard row (issue 17), on the raw data::

    load <= hi + 1e-9 * max(1, |hi|)        load >= lo - 1e-9 * max(1, |lo|)

Integer rows (account counts, key accounts, spread) are compared the same way; their
loads are whole numbers, so the tolerance never matters there.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import alloc

REL_TOL = 1e-9
MAX_PLANS = 3**9

ROW_RULES = ("Capacity", "AccountLimit", "Balance", "Spread", "KeyAccounts", "Budget")
PAIR_RULES = ("Match", "KeyAccounts", "Pin", "Forbid")
RULE_KINDS = ("Capacity", "AccountLimit", "Balance", "Match", "KeyAccounts", "Pin", "Forbid")
RULE_KINDS += ("Together", "Spread", "Budget")
TERM_KINDS = (
    "MinimizeImbalance",
    "MinimizeCost",
    "MaximizeFit",
    "MinimizeDisruption",
    "MinimizeTravel",
)


@dataclass(frozen=True)
class Spec:
    """A rule or objective term as data: ``Spec("Capacity", {"metric": "work", ...})``."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_alloc(self) -> Any:
        """The alloc rule or term object this spec describes (a nested Spec, such as a
        Budget's term, becomes its alloc object too)."""
        args = {k: v.to_alloc() if isinstance(v, Spec) else v for k, v in self.args.items()}
        return getattr(alloc, self.kind)(**args)

    def code(self) -> str:
        """Python source that builds the alloc object (for reproducers)."""
        args = ", ".join(
            f"{k}={v.code() if isinstance(v, Spec) else repr(v)}" for k, v in self.args.items()
        )
        return f"alloc.{self.kind}({args})"


@dataclass
class Case:
    """One fuzz problem: raw tables plus rule and term specs."""

    name: str
    customers: pd.DataFrame
    reps: pd.DataFrame
    rules: list[Spec] = field(default_factory=list)
    objective: list[Spec] = field(default_factory=list)
    pairs: pd.DataFrame | None = None

    @property
    def size(self) -> tuple[int, int, int, int]:
        """Sort key for 'smallest': customers, reps, rules + terms, pair rows."""
        n_pairs = 0 if self.pairs is None else len(self.pairs)
        return (len(self.customers), len(self.reps), len(self.rules) + len(self.objective), n_pairs)

    def problem(self) -> alloc.Problem:
        """The alloc.Problem of this case."""
        return alloc.Problem(
            self.customers,
            self.reps,
            pairs=self.pairs,
            rules=[s.to_alloc() for s in self.rules],
            objective=[s.to_alloc() for s in self.objective],
        )

    def describe(self) -> str:
        rules = " + ".join(s.code() for s in self.rules) or "no rules"
        terms = " + ".join(s.code() for s in self.objective) or "no objective"
        n, m = len(self.customers), len(self.reps)
        return f"{n}x{m}: {rules} | {terms}"

    def code(self, time_limit: float = 1.0, seed: int = 0, workers: int = 1) -> str:
        """A paste-able Python reproducer."""
        lines = ["import pandas as pd", "import alloc", ""]
        lines.append(f"customers = pd.DataFrame({_frame_code(self.customers)})")
        lines.append(f"reps = pd.DataFrame({_frame_code(self.reps)})")
        pairs = "None" if self.pairs is None else f"pd.DataFrame({_frame_code(self.pairs)})"
        lines.append(f"pairs = {pairs}")
        rules = ",\n    ".join(s.code() for s in self.rules)
        terms = ",\n    ".join(s.code() for s in self.objective)
        lines.append(f"rules = [\n    {rules},\n]" if rules else "rules = []")
        lines.append(f"objective = [\n    {terms},\n]" if terms else "objective = []")
        lines.append("problem = alloc.Problem(")
        lines.append("    customers, reps, pairs=pairs, rules=rules, objective=objective")
        lines.append(")")
        lines.append(
            f"result = alloc.solve(problem, time_limit={time_limit}, seed={seed}, "
            f"workers={workers})"
        )
        lines.append("print(result.status, result.objective, result.bound)")
        return "\n".join(lines)


def _frame_code(frame: pd.DataFrame) -> str:
    cols = {}
    for col in frame.columns:
        values = [None if _missing(v) else v for v in frame[col].astype(object).tolist()]
        cols[str(col)] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return repr(cols)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# ---- the comparison rule ----------------------------------------------------------------
def at_most(load: np.ndarray, hi: np.ndarray | float) -> np.ndarray:
    """``load <= hi`` under the documented tolerance (elementwise)."""
    hi = np.asarray(hi, dtype=float)
    return load <= hi + REL_TOL * np.maximum(1.0, np.abs(hi))


def at_least(load: np.ndarray, lo: np.ndarray | float) -> np.ndarray:
    """``load >= lo`` under the documented tolerance (elementwise)."""
    lo = np.asarray(lo, dtype=float)
    return load >= lo - REL_TOL * np.maximum(1.0, np.abs(lo))


# ---- outcome ------------------------------------------------------------------------------
@dataclass
class Verdict:
    """What brute force knows about a case."""

    n_plans: int  # plans over the pair table (before rules)
    n_feasible: int
    optimum: float  # inf when infeasible
    plan: dict[Any, Any] | None  # one optimal plan customer_id -> rep_id
    n_optimal: int = 0


class Oracle:
    """Judge and score plans of one Case; plans are integer arrays (P, n) of rep codes."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.customers = case.customers.reset_index(drop=True)
        self.reps = case.reps.reset_index(drop=True)
        self.cid = self.customers["customer_id"].tolist()
        self.rid = self.reps["rep_id"].tolist()
        self.n, self.m = len(self.cid), len(self.rid)
        self.in_pairs = self._pair_table_mask()

    # ---- data access ------------------------------------------------------------------
    def _pair_table_mask(self) -> np.ndarray:
        pairs = self.case.pairs
        if pairs is None:
            return np.ones((self.n, self.m), dtype=bool)
        mask = np.zeros((self.n, self.m), dtype=bool)
        for c, r in zip(pairs["customer_id"], pairs["rep_id"], strict=True):
            mask[self.cid.index(c), self.rid.index(r)] = True
        return mask

    def _pair_values(self, col: str) -> np.ndarray | None:
        pairs = self.case.pairs
        if pairs is None or col not in pairs.columns:
            return None
        out = np.full((self.n, self.m), np.nan)
        for c, r, v in zip(pairs["customer_id"], pairs["rep_id"], pairs[col], strict=True):
            out[self.cid.index(c), self.rid.index(r)] = float(v)
        return out

    def values(self, col: str, pair_first: bool = True) -> np.ndarray:
        """(n, m) value of ``col`` per customer and rep: pair column, else customer column."""
        if pair_first:
            pair = self._pair_values(col)
            if pair is not None:
                return pair
        cust = self.customers[col].astype(float).to_numpy()
        return np.repeat(cust[:, None], self.m, axis=1)

    def per_rep(self, spec: Any) -> np.ndarray:
        """A limit per rep: a number or a rep column."""
        if isinstance(spec, str):
            return self.reps[spec].astype(float).to_numpy()
        return np.full(self.m, float(spec))

    def weights(self, share: str | None) -> np.ndarray:
        if share is None:
            return np.ones(self.m)
        return self.reps[share].astype(float).to_numpy()

    def fair_share(self, metric: str, share: str | None) -> np.ndarray:
        total = float(self.customers[metric].astype(float).sum())
        w = self.weights(share)
        return total * w / w.sum()

    @staticmethod
    def loads(plans: np.ndarray, values: np.ndarray, m: int) -> np.ndarray:
        """(P, m) sum of values[c, plan[c]] over the customers of each rep."""
        per = values[np.arange(values.shape[0])[None, :], plans]
        return np.stack([np.where(plans == r, per, 0.0).sum(axis=1) for r in range(m)], axis=1)

    # ---- eligibility (rules that restrict who may serve whom) -------------------------
    def pair_ok(self, spec: Spec) -> np.ndarray | None:
        """(n, m) mask of pairs a pair rule allows, None for other rules."""
        a = spec.args
        if spec.kind == "Match":
            want = self.customers[a["customer_col"]].tolist()
            have = [_as_set(v) for v in self.reps[a["rep_col"]].tolist()]
            missing_any = a.get("missing", "none") == "any"
            return np.array(
                [
                    [missing_any if _missing(w) else str(w) in have[r] for r in range(self.m)]
                    for w in want
                ]
            )
        if spec.kind == "KeyAccounts":
            key = np.array([_truthy(v) for v in self.customers[a["flag_col"]]])
            levels = tuple(a.get("levels", ("senior",)))
            levels = (levels,) if isinstance(levels, str) else levels
            senior = self.reps[a.get("level_col", "level")].astype(str).isin(levels).to_numpy()
            return ~key[:, None] | senior[None, :]
        if spec.kind == "Pin":
            mask = np.ones((self.n, self.m), dtype=bool)
            for c, r in a["mapping"].items():
                mask[self.cid.index(c), :] = False
                mask[self.cid.index(c), self.rid.index(r)] = True
            return mask
        if spec.kind == "Forbid":
            mask = np.ones((self.n, self.m), dtype=bool)
            for c, r in a["pairs"]:
                mask[self.cid.index(c), self.rid.index(r)] = False
            return mask
        return None

    def eligible(self) -> np.ndarray:
        mask = self.in_pairs.copy()
        for spec in self.case.rules:
            ok = self.pair_ok(spec)
            if ok is not None:
                mask &= ok
        return mask

    # ---- judging ----------------------------------------------------------------------
    def judge(self, plans: np.ndarray) -> dict[str, np.ndarray]:
        """Per rule label (and "pairs" for the pair table): bool (P,) True where it holds."""
        idx = np.arange(self.n)[None, :]
        out = {"pairs": self.in_pairs[idx, plans].all(axis=1)}
        for k, spec in enumerate(self.case.rules):
            out[f"{k}:{spec.kind}"] = self._holds(spec, plans)
        return out

    def _holds(self, spec: Spec, plans: np.ndarray) -> np.ndarray:
        a = spec.args
        ok = np.ones(plans.shape[0], dtype=bool)
        mask = self.pair_ok(spec)
        if mask is not None:
            ok &= mask[np.arange(self.n)[None, :], plans].all(axis=1)
        if spec.kind == "Capacity":
            load = self.loads(plans, self.values(a["metric"]), self.m)
            ok &= at_most(load, self.per_rep(a["limit"])).all(axis=1)
        elif spec.kind == "AccountLimit":
            load = self.loads(plans, np.ones((self.n, self.m)), self.m)
            if a.get("min") is not None:
                ok &= at_least(load, self.per_rep(a["min"])).all(axis=1)
            if a.get("max") is not None:
                ok &= at_most(load, self.per_rep(a["max"])).all(axis=1)
        elif spec.kind == "Balance" and not a.get("soft", False):
            share = self.fair_share(a["metric"], a.get("share"))
            load = self.loads(plans, self.values(a["metric"], pair_first=False), self.m)
            low, high = self.window(a)
            if low is not None:
                ok &= at_least(load, share * low).all(axis=1)
            if high is not None:
                ok &= at_most(load, share * high).all(axis=1)
        elif spec.kind == "Budget":
            ok &= at_most(self._term(a["term"], plans), float(a["max"]))
        elif spec.kind == "KeyAccounts" and a.get("max_per_rep") is not None:
            key = np.array([float(_truthy(v)) for v in self.customers[a["flag_col"]]])
            load = self.loads(plans, np.repeat(key[:, None], self.m, axis=1), self.m)
            ok &= at_most(load, self.per_rep(a["max_per_rep"])).all(axis=1)
        elif spec.kind == "Spread":
            ok &= self._spread(a, plans)
        elif spec.kind == "Together":
            for members in self._families(a["group_col"]):
                ok &= (plans[:, members] == plans[:, members[:1]]).all(axis=1)
        return ok

    @staticmethod
    def window(a: dict[str, Any]) -> tuple[float | None, float | None]:
        """A Balance's window as multiples of the share (None: that side is open)."""
        if a.get("tolerance") is not None:
            return 1.0 - float(a["tolerance"]), 1.0 + float(a["tolerance"])
        low, high = a.get("min"), a.get("max")
        return (None if low is None else float(low)), (None if high is None else float(high))

    def _soft_price(self, a: dict[str, Any], plans: np.ndarray) -> np.ndarray:
        """``penalty * sum_r excess_r / share_r`` of a soft Balance, from its docstring."""
        share = self.fair_share(a["metric"], a.get("share"))
        load = self.loads(plans, self.values(a["metric"], pair_first=False), self.m)
        low, high = self.window(a)
        excess = np.zeros_like(load)
        if low is not None:
            excess += np.maximum(0.0, share * low - load)
        if high is not None:
            excess += np.maximum(0.0, load - share * high)
        return float(a["penalty"]) * (excess / share).sum(axis=1)

    def _spread(self, a: dict[str, Any], plans: np.ndarray) -> np.ndarray:
        col = self.customers[a["flag_col"]]
        value = a.get("value")
        member = (col == value).to_numpy() if value is not None else col.map(_truthy).to_numpy()
        member = member.astype(float)
        w = self.weights(a.get("share"))
        target = member.sum() * w / w.sum()
        count = self.loads(plans, np.repeat(member[:, None], self.m, axis=1), self.m)
        lo, hi = np.floor(target + 1e-9), np.ceil(target - 1e-9)
        return (at_least(count, lo) & at_most(count, hi)).all(axis=1)

    def _families(self, col: str) -> list[np.ndarray]:
        groups: dict[Any, list[int]] = {}
        for i, g in enumerate(self.customers[col].tolist()):
            if not _missing(g):
                groups.setdefault(g, []).append(i)
        return [np.array(v) for v in groups.values() if len(v) > 1]

    def feasible(self, plans: np.ndarray) -> np.ndarray:
        ok = np.ones(plans.shape[0], dtype=bool)
        for holds in self.judge(plans).values():
            ok &= holds
        return ok

    # ---- objective --------------------------------------------------------------------
    def objective(self, plans: np.ndarray) -> np.ndarray:
        """(P,) weighted objective of each plan (0 without terms), with the price of
        every soft Balance window among the rules."""
        total = np.zeros(plans.shape[0])
        for spec in self.case.objective:
            total = total + self._term(spec, plans)
        for spec in self.case.rules:
            if spec.kind == "Balance" and spec.args.get("soft", False):
                total = total + self._soft_price(spec.args, plans)
        return total

    def _term(self, spec: Spec, plans: np.ndarray) -> np.ndarray:
        a = spec.args
        weight = float(a.get("weight", 1.0))
        idx = np.arange(self.n)[None, :]
        if spec.kind == "MinimizeImbalance":
            share = self.fair_share(a["metric"], a.get("share"))
            load = self.loads(plans, self.values(a["metric"], pair_first=False), self.m)
            dev = np.abs(load - share) / share
            norm = a.get("norm", "max")
            return weight * (dev.max(axis=1) if norm == "max" else dev.sum(axis=1))
        if spec.kind in ("MinimizeCost", "MaximizeFit"):
            sign = -1.0 if spec.kind == "MaximizeFit" else 1.0
            return sign * weight * self.values(a["pair_col"])[idx, plans].sum(axis=1)
        if spec.kind == "MinimizeDisruption":
            owners = self.customers[a.get("owner_col", "owner")].tolist()
            owner = np.array([-1 if _missing(o) else self.rid.index(o) for o in owners])
            value_col = a.get("value")
            value = (
                np.ones(self.n)
                if value_col is None
                else self.customers[value_col].astype(float).to_numpy()
            )
            moved = (owner[None, :] >= 0) & (plans != owner[None, :])
            return weight * (moved * value[None, :]).sum(axis=1)
        if spec.kind == "MinimizeTravel":
            if a.get("distance") is not None:
                dist = self.values(a["distance"])
            else:
                x, y = a.get("xy", ("x", "y"))
                cx, cy = (self.customers[k].astype(float).to_numpy() for k in (x, y))
                rx, ry = (self.reps[k].astype(float).to_numpy() for k in (x, y))
                dist = np.hypot(cx[:, None] - rx[None, :], cy[:, None] - ry[None, :])
            return weight * dist[idx, plans].sum(axis=1)
        raise ValueError(f"oracle does not know term {spec.kind}")

    # ---- whole-problem answers --------------------------------------------------------
    def plans(self) -> np.ndarray:
        """Every plan over the eligible pairs, as a (P, n) array of rep codes."""
        options = [np.flatnonzero(row) for row in self.eligible()]
        count = math.prod(len(o) for o in options)
        if count > MAX_PLANS:
            raise ValueError(f"{count} plans: too many for brute force")
        if count == 0:
            return np.zeros((0, self.n), dtype=np.int64)
        return np.array(list(itertools.product(*options)), dtype=np.int64).reshape(count, self.n)

    def solve(self) -> Verdict:
        plans = self.plans()
        ok = self.feasible(plans)
        good = plans[ok]
        if good.shape[0] == 0:
            return Verdict(plans.shape[0], 0, math.inf, None)
        values = self.objective(good)
        best = int(np.argmin(values))
        optimum = float(values[best])
        n_optimal = int((values <= optimum + objective_tolerance(optimum)).sum())
        return Verdict(plans.shape[0], good.shape[0], optimum, self.as_dict(good[best]), n_optimal)

    # ---- one plan given by ids --------------------------------------------------------
    def encode(self, assignment: Any) -> np.ndarray | None:
        """Rep codes of an assignment (Series or dict customer_id -> rep_id); None if it
        does not assign every customer to a known rep."""
        mapping = dict(assignment.items())
        if set(mapping) != set(self.cid) or not set(mapping.values()) <= set(self.rid):
            return None
        return np.array([[self.rid.index(mapping[c]) for c in self.cid]], dtype=np.int64)

    def as_dict(self, plan: np.ndarray) -> dict[Any, Any]:
        return {c: self.rid[int(r)] for c, r in zip(self.cid, plan, strict=True)}

    def broken_rules(self, assignment: Any) -> list[str]:
        """Labels of the rules an assignment breaks (["assignment"] if incomplete)."""
        plan = self.encode(assignment)
        if plan is None:
            return ["assignment"]
        return [label for label, holds in self.judge(plan).items() if not holds[0]]

    def objective_of(self, assignment: Any) -> float:
        plan = self.encode(assignment)
        return math.nan if plan is None else float(self.objective(plan)[0])


def objective_tolerance(value: float) -> float:
    """Absolute tolerance when comparing objective values (relative 1e-6, floor 1e-6)."""
    return 1e-6 * max(1.0, abs(value)) if math.isfinite(value) else 0.0


def brute_force(case: Case) -> Verdict:
    """Feasible plan count, optimum and one optimal plan of a case, by enumeration."""
    return Oracle(case).solve()


def _as_set(value: object) -> set[str]:
    if _missing(value):
        return set()
    if isinstance(value, str):
        return {v.strip() for v in value.split(";") if v.strip()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v) for v in value}
    return {str(value)}


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value) and not _missing(value)
