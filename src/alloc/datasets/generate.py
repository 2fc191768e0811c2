"""Realistic synthetic sales organisations for examples, tests and benchmarks.

Customers have heavy-tailed potential (log-normal), workload that grows with potential,
an industry, a size class, a region, x/y coordinates, a key-account flag (the top few
per cent by potential) and a current owner; reps have a level (junior/mid/senior),
industry skills, hours of capacity, an account limit, a region and a team. Skills are
dealt from shuffled decks of industries, so every industry has the same senior and
non-senior coverage and about ``eligible`` reps can serve each customer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alloc.data.problem import Problem
from alloc.objectives import MinimizeImbalance
from alloc.rules import AccountLimit, Capacity, KeyAccounts, Match
from alloc.validation import Param, check_params, is_int

__all__ = ["make_problem", "make_tables", "standard_rules"]

REGIONS = ("north", "south", "east", "west")
_POSITIVE_INT = Param(lambda v: is_int(v) and v >= 1, "a positive integer")


def _deal_skills(
    n_reps: int, per_rep: int, n_industries: int, rng: np.random.Generator
) -> list[str]:
    """Skill sets dealt from shuffled rounds of all industries: every industry is known by
    the same number of reps (within one), and overlaps are random, so skills connect the
    whole organisation instead of forming chains or leaving an industry to one rep."""
    rounds = -(-n_reps * per_rep // n_industries) + 1
    deck = np.concatenate([rng.permutation(n_industries) for _ in range(rounds)])
    out = []
    pos = 0
    for _ in range(n_reps):
        hand: list[int] = []
        while len(hand) < per_rep:
            if pos == deck.size:
                deck = np.concatenate([deck, rng.permutation(n_industries)])
            card = int(deck[pos])
            pos += 1
            if card not in hand:
                hand.append(card)
        out.append(";".join(f"ind{j:02d}" for j in sorted(hand)))
    return out


def make_tables(
    n_customers: int,
    n_reps: int,
    seed: int = 0,
    *,
    eligible: int = 10,
    key_share: float = 0.015,
    sigma: float = 1.2,
    capacity_slack: float = 1.3,
    account_slack: float = 1.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer and rep tables of a synthetic sales organisation.

    Parameters
    ----------
    n_customers, n_reps : int
    seed : int
    eligible : int
        Target number of reps whose skills match a customer's industry.
    key_share : float
        Fraction of customers (the largest by potential) flagged as key accounts.
    sigma : float
        Log-normal shape of potential (1.2 gives a Pareto-like 20/60 split).
    capacity_slack, account_slack : float
        Capacity hours and account limits relative to an equal share.

    Examples
    --------
    >>> customers, reps = make_tables(100, 5, seed=1)
    >>> len(customers), len(reps), sorted(reps["level"].unique())
    (100, 5, ['junior', 'mid', 'senior'])
    """
    check_params(
        "make_tables",
        {name: _POSITIVE_INT for name in ("n_customers", "n_reps", "eligible")},
        {"n_customers": n_customers, "n_reps": n_reps, "eligible": eligible},
    )
    rng = np.random.default_rng(seed)
    per_rep = 3 if n_reps < 100 else 2
    n_ind = max(per_rep, round(n_reps * per_rep / min(eligible, n_reps)))
    levels = np.array(
        [
            "senior" if i % 4 == 0 else ("mid" if i % 4 in (1, 2) else "junior")
            for i in range(n_reps)
        ]
    )
    senior = np.flatnonzero(levels == "senior")
    other = np.flatnonzero(levels != "senior")
    skills = np.empty(n_reps, dtype=object)
    # Seniors cover twice as many industries: key accounts of every industry need them.
    skills[senior] = _deal_skills(senior.size, min(n_ind, 2 * per_rep), n_ind, rng)
    skills[other] = _deal_skills(other.size, per_rep, n_ind, rng)
    rep_ids = [f"R{i:0{len(str(n_reps))}d}" for i in range(n_reps)]
    cust_ids = [f"C{i:0{len(str(n_customers))}d}" for i in range(n_customers)]

    potential = np.round(rng.lognormal(mean=10.0, sigma=sigma, size=n_customers), 2)
    workload = np.round(
        4 + 6 * (potential / np.median(potential)) ** 0.5 * rng.uniform(0.7, 1.3, n_customers), 1
    )
    industry = np.array([f"ind{i:02d}" for i in rng.integers(0, n_ind, n_customers)])
    n_key = int(round(key_share * n_customers))
    key = np.zeros(n_customers, dtype=bool)
    key[np.argsort(-potential)[:n_key]] = True
    size = np.where(
        potential > np.quantile(potential, 0.9),
        "large",
        np.where(potential > np.quantile(potential, 0.5), "medium", "small"),
    )
    region = np.array(REGIONS)[rng.integers(0, len(REGIONS), n_customers)]
    history = np.round(potential * rng.uniform(0.4, 0.9, n_customers), 2)
    customers = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "potential": potential,
            "workload": workload,
            "industry": industry,
            "size": size,
            "region": region,
            "key_account": key,
            "history": history,
            "x": np.round(rng.uniform(0, 100, n_customers), 2),
            "y": np.round(rng.uniform(0, 100, n_customers), 2),
        }
    )
    total_work = workload.sum()
    reps = pd.DataFrame(
        {
            "rep_id": rep_ids,
            "level": levels,
            "skills": skills,
            "capacity": np.round(np.full(n_reps, capacity_slack * total_work / n_reps), 1),
            "max_accounts": np.full(n_reps, math.ceil(account_slack * n_customers / n_reps)),
            "region": np.array(REGIONS)[np.arange(n_reps) % len(REGIONS)],
            "team": [f"T{i // 8}" for i in range(n_reps)],
            "fte": np.ones(n_reps),
            "x": np.round(rng.uniform(0, 100, n_reps), 2),
            "y": np.round(rng.uniform(0, 100, n_reps), 2),
        }
    )
    # Current owners: an eligible rep chosen with a bias, as history leaves books uneven.
    customers["owner"] = _current_owners(customers, reps, rng)
    return customers, reps


def _current_owners(
    customers: pd.DataFrame, reps: pd.DataFrame, rng: np.random.Generator
) -> np.ndarray:
    skill_sets = reps["skills"].str.split(";")
    bias = rng.uniform(0.3, 1.7, len(reps))
    owners = np.empty(len(customers), dtype=object)
    for ind, positions in customers.groupby("industry").indices.items():
        idx = np.asarray(positions)
        able = np.flatnonzero(skill_sets.map(lambda s, ind=ind: ind in s).to_numpy())
        key = customers["key_account"].to_numpy()[idx]
        senior_able = able[reps["level"].to_numpy()[able] == "senior"]
        p = bias[able] / bias[able].sum()
        owners[idx] = reps["rep_id"].to_numpy()[rng.choice(able, size=idx.size, p=p)]
        if senior_able.size:
            ks = idx[key]
            owners[ks] = reps["rep_id"].to_numpy()[rng.choice(senior_able, size=ks.size)]
    return owners


def standard_rules() -> list[Any]:
    """Match on industry, key accounts to seniors, workload capacity, account limit."""
    return [
        Match("industry", "skills"),
        KeyAccounts("key_account", levels=["senior"]),
        Capacity("workload", limit="capacity"),
        AccountLimit(max="max_accounts"),
    ]


def make_problem(
    n_customers: int,
    n_reps: int,
    seed: int = 0,
    *,
    rules: Sequence[Any] | None = None,
    objective: Any = None,
    **table_options: Any,
) -> Problem:
    """A synthetic [`Problem`][alloc.Problem] with the standard rules and a balance objective.

    Defaults: [`standard_rules`][alloc.datasets.standard_rules] and
    ``MinimizeImbalance("potential") + 0.5 * MinimizeImbalance("workload")``.
    Other keyword arguments go to [`make_tables`][alloc.datasets.make_tables].

    Examples
    --------
    >>> make_problem(200, 8, seed=3)
    Problem(200 customers, 8 reps, ...)
    """
    customers, reps = make_tables(n_customers, n_reps, seed, **table_options)
    if rules is None:
        rules = standard_rules()
    if objective is None:
        objective = MinimizeImbalance("potential") + 0.5 * MinimizeImbalance("workload")
    return Problem(customers, reps, rules=rules, objective=objective)
