"""Seeded random small allocation problems for fuzzing, plus the issue 17 reproducers.

Each random case has 3-9 customers and 2-3 reps. A hidden plan is drawn first and the
rules are planted around it so that many cases are feasible with few plans: pair rules
(Match, KeyAccounts, Pin, Forbid, Together) never exclude the hidden plan, and limits
sit exactly at the hidden plan's loads written in decimals (``round(1.7 + 2.2, 6)`` is
3.9 while the float sum is 3.9000000000000004), at a rounded-up value, with slack, or a
little below (then the case may be infeasible). Balance tolerances tie the hidden plan's
largest deviation (at most 1, a fraction), so their windows often admit only a handful of
plans; some are written as ``min=``/``max=`` windows (one side sometimes open) and some
are soft (priced in the objective). A ``Budget`` caps a disruption, travel or cost term
at, above or below the hidden plan's value. Objectives are 0-3 weighted terms, or none.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from oracle import Case, Oracle, Spec

WEIGHTS = (1.0, 1.0, 0.5, 2.0, 0.1, 3.0)
INDUSTRIES = ("a", "b", "c")


def reproducer_balance_disruption() -> Case:
    """Issue 17: UNKNOWN on a feasible 6 x 2 problem ({c0, c1, c4} = 36 fits [35.04, 37.96])."""
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(6)],
            "work": [11, 20, 13, 9, 5, 15],
            "owner": ["r1", "r0", "r0", "r1", "r1", "r0"],
        }
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    return Case(
        "issue17-balance-disruption",
        customers,
        reps,
        rules=[Spec("Balance", {"metric": "work", "tolerance": 0.04})],
        objective=[Spec("MinimizeDisruption", {"owner_col": "owner"})],
    )


def reproducer_decimal_capacity() -> Case:
    """Issue 17: INFEASIBLE although {c0, c3} = 1.7 + 2.2 = 3.9000000000000004 fits 3.9."""
    customers = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(4)], "work": [1.7, 2.24, 0.2, 2.2]}
    )
    reps = pd.DataFrame({"rep_id": ["r0", "r1"]})
    return Case(
        "issue17-decimal-capacity",
        customers,
        reps,
        rules=[Spec("Capacity", {"metric": "work", "limit": 3.9})],
    )


def issue_cases() -> list[Case]:
    return [reproducer_balance_disruption(), reproducer_decimal_capacity()]


def campaign(seed: int, n: int) -> Iterator[Case]:
    """The issue's two reproducers, then random cases ``random_case(seed, i)``."""
    fixed = issue_cases()
    for i in range(n):
        yield fixed[i] if i < len(fixed) else random_case(seed, i)


# ---- random cases -------------------------------------------------------------------------
def _amounts(rng: np.random.Generator, n: int) -> list[float]:
    style = rng.integers(3)
    if style == 0:
        return [float(v) for v in rng.integers(1, 21, n)]
    decimals = 1 if style == 1 else 2
    return [round(float(v), decimals) for v in rng.uniform(0.1, 5.0, n)]


def _decimal(value: float) -> float:
    """A float sum written as the decimal a person would type (3.9000000000000004 -> 3.9)."""
    return round(value, 6)


def random_case(seed: int, index: int) -> Case:
    """Random case number ``index`` of campaign ``seed`` (deterministic)."""
    rng = np.random.default_rng([seed, index])
    n, m = int(rng.integers(3, 10)), int(rng.integers(2, 4))
    hidden = rng.integers(0, m, n)
    cids, rids = [f"c{i}" for i in range(n)], [f"r{j}" for j in range(m)]
    customers = pd.DataFrame(
        {
            "customer_id": cids,
            "work": _amounts(rng, n),
            "pot": _amounts(rng, n),
            "owner": [rids[j] if rng.random() < 0.8 else None for j in rng.integers(0, m, n)],
            "industry": [INDUSTRIES[k] for k in rng.integers(0, 3, n)],
            "cls": [("A", "B", "C")[k] for k in rng.integers(0, 3, n)],
            "x": np.round(rng.uniform(0, 10, n), 1),
            "y": np.round(rng.uniform(0, 10, n), 1),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": rids,
            "fte": [float(v) for v in rng.choice([0.5, 0.8, 1.0, 1.0, 1.5], m)],
            "x": np.round(rng.uniform(0, 10, m), 1),
            "y": np.round(rng.uniform(0, 10, m), 1),
        }
    )
    pairs = _pairs(rng, customers, hidden, rids) if rng.random() < 0.35 else None
    case = Case(f"seed{seed}-{index}", customers, reps, pairs=pairs)
    _plant_pair_rules(rng, case, hidden)
    _plant_row_rules(rng, case, hidden)
    case.objective = _objective(rng, case)
    case.name += f"-{n}x{m}"
    return case


def _pairs(
    rng: np.random.Generator, customers: pd.DataFrame, hidden: np.ndarray, rids: list[str]
) -> pd.DataFrame:
    rows = []
    for i, (cid, work) in enumerate(zip(customers["customer_id"], customers["work"], strict=True)):
        for j, rid in enumerate(rids):
            if j != hidden[i] and rng.random() < 0.15:
                continue  # not an eligible pair
            rows.append(
                {
                    "customer_id": cid,
                    "rep_id": rid,
                    "cost": float(rng.integers(1, 10)) if rng.random() < 0.5 else 0.1 * (i + j),
                    "fit": round(float(rng.uniform(0, 1)), 2),
                    "dist": round(float(rng.uniform(0, 20)), 1),
                    "pwork": round(float(work) * float(rng.choice([0.8, 1.0, 1.1])), 2),
                }
            )
    return pd.DataFrame(rows)


def _plant_pair_rules(rng: np.random.Generator, case: Case, hidden: np.ndarray) -> None:
    cust, reps = case.customers, case.reps
    n, m = len(cust), len(reps)
    cids, rids = cust["customer_id"].tolist(), reps["rep_id"].tolist()
    if rng.random() < 0.3:
        skills = []
        for j in range(m):
            mine = {cust["industry"][i] for i in range(n) if hidden[i] == j}
            mine |= {k for k in INDUSTRIES if rng.random() < 0.3}
            skills.append(";".join(sorted(mine)) or "z")
        reps["skills"] = skills
        case.rules.append(Spec("Match", {"customer_col": "industry", "rep_col": "skills"}))
    if rng.random() < 0.3:
        levels = ["senior" if rng.random() < 0.5 else "junior" for _ in range(m)]
        levels[int(rng.integers(m))] = "senior"
        reps["level"] = levels
        key = [bool(rng.random() < 0.4 and levels[hidden[i]] == "senior") for i in range(n)]
        cust["key"] = key
        args: dict[str, Any] = {"flag_col": "key", "levels": ["senior"]}
        if rng.random() < 0.5:
            per_rep = [sum(key[i] for i in range(n) if hidden[i] == j) for j in range(m)]
            args["max_per_rep"] = max(per_rep)
        case.rules.append(Spec("KeyAccounts", args))
    if rng.random() < 0.2:
        chosen = rng.choice(n, size=int(rng.integers(1, 3)), replace=False)
        case.rules.append(Spec("Pin", {"mapping": {cids[i]: rids[hidden[i]] for i in chosen}}))
    if rng.random() < 0.2:
        chosen = rng.choice(n, size=int(rng.integers(1, 4)), replace=False)
        forbid = [(cids[i], rids[(hidden[i] + 1 + int(rng.integers(m - 1))) % m]) for i in chosen]
        case.rules.append(Spec("Forbid", {"pairs": forbid}))
    if rng.random() < 0.15:
        cust["family"] = [f"f{hidden[i]}" if rng.random() < 0.4 else None for i in range(n)]
        case.rules.append(Spec("Together", {"group_col": "family"}))


def _hidden_loads(case: Case, hidden: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-rep loads of the hidden plan, summed in customer order as a person would."""
    loads = [0.0] * len(case.reps)
    for i, j in enumerate(hidden):
        loads[j] += float(values[i, j])
    return np.array(loads)


def _limit(rng: np.random.Generator, load: float) -> float:
    """A limit at (tie), above (rounded up, slack) or below the load (maybe infeasible)."""
    mode = rng.choice(["tie", "tie", "up", "slack", "below"])
    if mode == "tie":
        return _decimal(load)
    if mode == "up":
        return math.ceil(load * 10) / 10
    if mode == "slack":
        return round(load * float(rng.uniform(1.0, 1.3)), 2)
    return round(load * 0.95, 2)


def _plant_row_rules(rng: np.random.Generator, case: Case, hidden: np.ndarray) -> None:
    oracle = Oracle(case)
    reps = case.reps
    if rng.random() < 0.5:
        metric = "pwork" if case.pairs is not None and rng.random() < 0.5 else "work"
        loads = _hidden_loads(case, hidden, oracle.values(metric))
        if rng.random() < 0.5:
            limit: Any = _limit(rng, float(loads.max()))
        else:
            reps["cap"] = [_limit(rng, float(v)) for v in loads]
            limit = "cap"
        case.rules.append(Spec("Capacity", {"metric": metric, "limit": limit}))
    if rng.random() < 0.3:
        counts = np.bincount(hidden, minlength=len(reps))
        args: dict[str, Any] = {}
        if rng.random() < 0.6:
            args["max"] = int(counts.max()) if rng.random() < 0.5 else "maxacc"
            reps["maxacc"] = counts.tolist()
        if not args or rng.random() < 0.4:
            args["min"] = int(counts.min())
        case.rules.append(Spec("AccountLimit", args))
    for _ in range(int(rng.choice([0, 0, 1, 1, 2]))):
        case.rules.append(_balance(rng, case, oracle, hidden))
    if rng.random() < 0.15:
        case.rules.append(_budget(rng, case, hidden))
    if rng.random() < 0.15:
        spec = Spec("Spread", {"flag_col": "cls", "value": "A"})
        holds = Oracle(Case("", case.customers, reps, [spec]))._holds(spec, hidden[None, :])
        if holds[0] or rng.random() < 0.3:
            case.rules.append(spec)


def _balance(rng: np.random.Generator, case: Case, oracle: Oracle, hidden: np.ndarray) -> Spec:
    metric = str(rng.choice(["work", "pot"]))
    share_col = "fte" if rng.random() < 0.3 else None
    share = oracle.fair_share(metric, share_col)
    loads = _hidden_loads(case, hidden, oracle.values(metric, pair_first=False))
    dev = float((np.abs(loads - share) / share).max())
    mode = rng.choice(["tie", "round", "loose", "below"])
    if mode == "tie":
        tol = dev
    elif mode == "round":
        tol = math.ceil(dev * 100) / 100
    elif mode == "loose":
        tol = round(dev + float(rng.uniform(0.02, 0.2)), 2)
    else:
        tol = round(dev * 0.8, 3)
    # A Balance tolerance is a fraction (alloc refuses more than 1): a hidden plan more
    # than 100 % above a share gets the widest window, which it breaks (maybe infeasible).
    args: dict[str, Any] = {"metric": metric, "tolerance": min(tol, 1.0)}
    if rng.random() < 0.35:
        args = {"metric": metric, **_window(rng, loads, share)}
    if share_col:
        args["share"] = share_col
    if rng.random() < 0.2:  # a soft window: priced in the objective, never infeasible
        args["soft"], args["penalty"] = True, float(rng.choice([0.5, 1.0, 4.0]))
    return Spec("Balance", args)


def _window(rng: np.random.Generator, loads: np.ndarray, share: np.ndarray) -> dict[str, Any]:
    """``min=``/``max=`` around the hidden plan's lowest and highest relative loads, one
    side sometimes open, each at the load, rounded outward, loose or just inside it."""
    relative = loads / share
    mode = rng.choice(["tie", "round", "loose", "below"])
    low, high = float(relative.min()), float(relative.max())
    if mode == "round":
        low, high = math.floor(low * 100) / 100, math.ceil(high * 100) / 100
    elif mode == "loose":
        low, high = round(low - float(rng.uniform(0.02, 0.2)), 2), round(high + 0.1, 2)
    elif mode == "below":
        low, high = round(low + 0.3 * (1 - low), 3), round(high - 0.3 * (high - 1), 3)
    window: dict[str, Any] = {"min": max(low, 0.0), "max": max(high, max(low, 0.0))}
    side = rng.choice(["both", "both", "min", "max"])
    if side != "both":
        del window["max" if side == "min" else "min"]
    return window


def _budget(rng: np.random.Generator, case: Case, hidden: np.ndarray) -> Spec:
    """A Budget on a linear term at, above or below the hidden plan's value of it."""
    kinds = ["disruption", "travel"] + (["cost"] if case.pairs is not None else [])
    kind = rng.choice(kinds)
    if kind == "disruption":
        args: dict[str, Any] = {"owner_col": "owner"}
        if rng.random() < 0.5:
            args["value"] = "pot"
        term = Spec("MinimizeDisruption", args)
    elif kind == "travel":
        term = Spec("MinimizeTravel", {"distance": "dist"} if case.pairs is not None else {})
    else:
        term = Spec("MinimizeCost", {"pair_col": "cost"})
    value = float(Oracle(case)._term(term, hidden[None, :])[0])
    cap = {"tie": value, "up": value * 1.15, "below": value * 0.85}[
        rng.choice(["tie", "up", "below"])
    ]
    return Spec("Budget", {"term": term, "max": _decimal(cap)})


def _objective(rng: np.random.Generator, case: Case) -> list[Spec]:
    terms = []
    kinds = ["MinimizeImbalance", "MinimizeDisruption", "MinimizeTravel"]
    if case.pairs is not None:
        kinds += ["MinimizeCost", "MaximizeFit"]
    for _ in range(int(rng.choice([0, 1, 1, 1, 2, 3]))):
        kind = str(rng.choice(kinds))
        args: dict[str, Any] = {}
        if kind == "MinimizeImbalance":
            args = {"metric": str(rng.choice(["work", "pot"]))}
            if rng.random() < 0.3:
                args["share"] = "fte"
            args["norm"] = str(rng.choice(["max", "sum"]))
        elif kind == "MinimizeDisruption":
            args = {"owner_col": "owner"}
            if rng.random() < 0.5:
                args["value"] = "pot"
        elif kind == "MinimizeTravel" and case.pairs is not None:
            args = {"distance": "dist"}
        elif kind == "MinimizeCost":
            args = {"pair_col": "cost"}
        elif kind == "MaximizeFit":
            args = {"pair_col": "fit"}
        weight = float(rng.choice(WEIGHTS))
        if weight != 1.0 or rng.random() < 0.2:
            args["weight"] = weight
        terms.append(Spec(kind, args))
    return terms
