"""Problem recipes for `bench_unseen.py`: sales scenarios alloc was not tuned on.

Every recipe is a function ``recipe(n_customers, n_reps, seed) -> alloc.Problem`` that
builds plain pandas tables the way a user would and hands them to `alloc.Problem`.
Recipes are seeded (``numpy.random.default_rng([seed, k])``) and keep their shape from
300 x 8 to 2,000 x 20 (eligibility per customer and the organisation scale with it).

They differ from the generators already in the repository: `families.py` (eight
families, every one an imbalance objective with at most Match / KeyAccounts / Capacity /
AccountLimit / Together, no hard Balance, no pair table, no Pin / Forbid / Spread),
`bench_midsize.py` (20-150 customers, at most two windows, no pair table),
`tests/fuzzing` (3-9 customers) and `alloc.datasets.make_problem` (standard rules,
imbalance objective). Here the hard part is what the objective does *not* say:

``windows``
    Three hard ``Balance`` windows at once (potential, workload hours and the number of
    accounts; tolerances 3-6 % each) plus ``Capacity`` on a second effort measure
    (visits, 8-15 % slack); customers in 4-9 towns on a 300 x 300 km map, reps' offices
    in the towns. Objective ``MinimizeTravel()`` (km, Euclidean on x/y), so the windows
    fight the geography.
``fit_gap``
    A GAP with business structure: a pair table with a fit score (industry experience,
    seniority, past relationship; 0-100) and a cost (km x 0.4 EUR); rep-dependent
    workload (juniors take 1.3x longer on the same account) under ``Capacity`` with
    4-10 % slack; ``AccountLimit`` at +10 %; industries Zipf-sized with ``Match``;
    3 % key accounts for seniors. Objective ``MinimizeCost("cost") + 5 x MaximizeFit("fit")``
    (a linear objective: no imbalance term at all).
``rep_leaves``
    Rebalancing after one rep leaves: books were made for ``m + 1`` reps (owners biased
    so books are uneven, fte 0.6-1.0), the leaver is removed and his customers lose their
    owner (missing: a move costs nothing). ``Match`` on three skills,
    ``AccountLimit(max=)`` at +35 % of the fte share. Objective
    ``MinimizeImbalance("potential", norm="sum", share="fte") + (4 / n) x moves``.
``pinned``
    Hand-made exceptions: 5-10 % of customers pinned to an eligible rep (``Pin``),
    another 5-10 % with 1-3 reps forbidden (``Forbid``), about 20 % in account families
    of 2-8 (``Together``; members share an industry; no pinned member), a hard potential
    window of 6-10 % and ``Match`` on industry. Objective workload imbalance (max) +
    0.2 x account-count imbalance (sum-norm).
``spread_geo``
    A country on latitude / longitude (47.5-54.5 N, 6.5-14.5 E; customers around 12-30
    cities of Zipf sizes, offices drawn in proportion to them); each customer may go to
    the offices within 350 km and at least its 5 nearest (a pair table with the
    haversine distance in km: regional eligibility, no ``Match``); A-class customers
    (the top 10 % by potential) spread evenly over reps (``Spread``: each rep
    ``floor``/``ceil`` of its share), plus ``Capacity`` on hours at +15 %. Objective
    ``MinimizeTravel(distance="km", weight=1 / (60 n))`` + potential imbalance (max).
``unequal_fte``
    Very unequal reps (fte 0.2-1.0 in steps of 0.1) and Pareto potential (alpha
    1.3, whole euros, the largest customer often a big part of a small rep's share); a
    hard potential window of 12-20 % by fte, ``Match`` on two skills over few
    industries. Objective workload imbalance by fte (max) + 0.1 x accounts by fte
    (sum-norm). Some seeds may have no plan at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

import alloc
from families import _as_text, _ids, _popularity, _skills, _workload

__all__ = ["RECIPES", "build"]

Recipe = Callable[[int, int, int], alloc.Problem]


# ---- shared pieces ----------------------------------------------------------------------
def _industries(
    rng: np.random.Generator, n: int, m: int, per_rep: int, eligible: float
) -> tuple[np.ndarray, list[set[int]]]:
    """Industry per customer (Zipf sizes) and ``per_rep`` skills per rep, about
    ``eligible`` reps knowing each customer's industry."""
    n_ind = max(per_rep + 1, round(m * per_rep / eligible))
    pop = _popularity(n_ind, rng, 0.7)
    weights = pop**0.8 / (pop**0.8).sum()
    skills = _skills(rng, np.full(m, per_rep), weights, pop)
    return rng.choice(n_ind, size=n, p=pop), skills


def _towns(
    rng: np.random.Generator, n: int, m: int, n_towns: int, side: float, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Customer and office coordinates (km) around ``n_towns`` towns of Zipf sizes; every
    town with at least 8 % of the customers gets an office first."""
    towns = rng.uniform(0.1 * side, 0.9 * side, size=(n_towns, 2))
    pop = _popularity(n_towns, rng, 1.0)
    home = rng.choice(n_towns, size=n, p=pop)
    cxy = towns[home] + rng.normal(0, spread, size=(n, 2))
    big = np.flatnonzero(pop >= 0.08)
    office = np.concatenate([big, rng.choice(n_towns, size=max(0, m - big.size), p=pop)])[:m]
    rxy = towns[office] + rng.normal(0, spread / 4, size=(m, 2))
    return np.round(cxy, 1), np.round(rxy, 1)


def _haversine(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


# ---- the recipes ------------------------------------------------------------------------
def windows(n: int, m: int, seed: int) -> alloc.Problem:
    """Three hard windows (potential, hours, accounts; 3-6 %) + capacity; travel."""
    rng = np.random.default_rng([seed, 101])
    cxy, rxy = _towns(rng, n, m, int(rng.integers(4, 10)), 300.0, 18.0)
    potential = np.round(rng.gamma(2.0, 12_000, n), -2)
    customers = pd.DataFrame(
        {
            "customer_id": _ids("W", n),
            "potential": potential,
            "hours": _workload(rng, potential),
            "visits": rng.integers(2, 25, n),
            "accounts": 1,
            "x": cxy[:, 0],
            "y": cxy[:, 1],
        }
    )
    reps = pd.DataFrame({"rep_id": _ids("R", m), "x": rxy[:, 0], "y": rxy[:, 1]})
    reps["visit_cap"] = math.floor(rng.uniform(1.08, 1.15) * customers["visits"].sum() / m)
    tol = np.round(rng.uniform(0.03, 0.06, 3), 3)
    rules = [
        alloc.Balance("potential", float(tol[0])),
        alloc.Balance("hours", float(tol[1])),
        alloc.Balance("accounts", float(tol[2])),
        alloc.Capacity("visits", limit="visit_cap"),
    ]
    return alloc.Problem(customers, reps, rules=rules, objective=alloc.MinimizeTravel())


def fit_gap(n: int, m: int, seed: int) -> alloc.Problem:
    """GAP-like: pair fit and cost, rep-dependent hours under capacity, account limits."""
    rng = np.random.default_rng([seed, 102])
    industry, skills = _industries(rng, n, m, per_rep=3, eligible=6.0)
    cxy, rxy = _towns(rng, n, m, int(rng.integers(3, 8)), 250.0, 25.0)
    potential = np.round(rng.lognormal(10.0, 1.0, n), -1)
    key = np.zeros(n, dtype=bool)
    key[np.argsort(-potential)[: max(1, round(0.03 * n))]] = True
    n_senior = max(2, m // 4)
    level = rng.permutation(
        np.array(["senior"] * n_senior + ["junior"] * (m - n_senior), dtype=object)
    )
    # Every industry with key accounts needs a senior who knows it.
    seniors = np.flatnonzero(level == "senior")
    for ind in np.unique(industry[key]):
        if not any(int(ind) in skills[r] for r in seniors):
            skills[int(rng.choice(seniors))].add(int(ind))
    customers = pd.DataFrame(
        {
            "customer_id": _ids("G", n),
            "industry": [f"ind{v:03d}" for v in industry],
            "potential": potential,
            "key_account": np.where(key, "yes", "no"),
        }
    )
    base_hours = _workload(rng, potential)
    reps = pd.DataFrame({"rep_id": _ids("R", m), "level": level, "skills": _as_text(skills, "ind")})
    # The pair table lists every combination; Match and KeyAccounts prune it.
    cu, rp = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    km = np.hypot(*(cxy[cu] - rxy[rp]).T)
    years = rng.integers(0, 6, cu.size)  # past relationship with the account
    senior = level[rp] == "senior"
    fit = np.clip(
        40 + 8 * years + np.where(senior, 15, 0) + rng.normal(0, 10, cu.size) - km / 10, 0, 100
    ).round(1)
    hours = np.round(base_hours[cu] * np.where(senior, 1.0, 1.3), 1)
    pairs = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[cu],
            "rep_id": reps["rep_id"].to_numpy()[rp],
            "fit": fit,
            "cost": np.round(0.4 * km, 2),
            "hours": hours,
        }
    )
    # Capacity: the slack over the hours of the team's mix (juniors 1.3 x, seniors 1 x).
    mix = float(np.mean(np.where(level == "senior", 1.0, 1.3)))
    reps["capacity"] = np.round(rng.uniform(1.04, 1.10) * mix * base_hours.sum() / m, 1)
    reps["max_accounts"] = math.ceil(1.10 * n / m)
    rules = [
        alloc.Match("industry", "skills"),
        alloc.KeyAccounts("key_account", levels="senior"),
        alloc.Capacity("hours", limit="capacity"),
        alloc.AccountLimit(max="max_accounts"),
    ]
    objective = alloc.MinimizeCost("cost") + 5.0 * alloc.MaximizeFit("fit")
    return alloc.Problem(customers, reps, pairs=pairs, rules=rules, objective=objective)


def rep_leaves(n: int, m: int, seed: int) -> alloc.Problem:
    """One rep of m + 1 leaves; disruption + sum-norm potential imbalance by fte."""
    rng = np.random.default_rng([seed, 103])
    industry, skills = _industries(rng, n, m + 1, per_rep=3, eligible=7.0)
    potential = np.round(rng.lognormal(10.0, 1.2, n), 2)
    fte = rng.choice([0.6, 0.8, 1.0], size=m + 1, p=[0.15, 0.25, 0.6])
    bias = rng.uniform(0.4, 1.6, m + 1) * fte
    owner = np.empty(n, dtype=object)
    for ind in np.unique(industry):
        able = np.array([int(ind) in s for s in skills])
        rows = np.flatnonzero(industry == ind)
        ok = np.flatnonzero(able)
        owner[rows] = rng.choice(ok, size=rows.size, p=bias[ok] / bias[ok].sum())
    leaver = int(rng.integers(m + 1))
    # The leaver's industries must stay covered: each one he alone knew goes to a
    # remaining rep as an extra skill (what a manager would do on the day).
    stay = [r for r in range(m + 1) if r != leaver]
    for ind in skills[leaver]:
        if not any(ind in skills[r] for r in stay):
            skills[int(rng.choice(stay))].add(ind)
    rep_ids = _ids("R", m + 1)
    owner_ids = [None if o == leaver else rep_ids[o] for o in owner]
    customers = pd.DataFrame(
        {
            "customer_id": _ids("B", n),
            "industry": [f"ind{v:03d}" for v in industry],
            "potential": potential,
            "owner": owner_ids,
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [rep_ids[r] for r in stay],
            "fte": fte[stay],
            "skills": _as_text([skills[r] for r in stay], "ind"),
        }
    )
    share = n * reps["fte"] / reps["fte"].sum()
    reps["max_accounts"] = np.ceil(1.35 * share).astype(int)
    rules = [alloc.Match("industry", "skills"), alloc.AccountLimit(max="max_accounts")]
    objective = alloc.MinimizeImbalance("potential", norm="sum", share="fte") + (
        4.0 / n
    ) * alloc.MinimizeDisruption("owner")
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def pinned(n: int, m: int, seed: int) -> alloc.Problem:
    """Pins and forbids on 5-10 % of customers each, families, a potential window."""
    rng = np.random.default_rng([seed, 104])
    industry, skills = _industries(rng, n, m, per_rep=3, eligible=6.0)
    potential = np.round(rng.lognormal(10.0, 0.9, n), 2)
    family = np.full(n, None, dtype=object)
    order = rng.permutation(n)
    pos, k = 0, 0
    while pos < int(0.2 * n):
        size = int(rng.integers(2, 9))
        members = order[pos : pos + size]
        family[members] = f"FAM{k:04d}"
        industry[members] = industry[members[0]]
        pos, k = pos + size, k + 1
    customers = pd.DataFrame(
        {
            "customer_id": _ids("P", n),
            "industry": [f"ind{v:03d}" for v in industry],
            "potential": potential,
            "workload": _workload(rng, potential),
            "accounts": 1,
            "family": family,
        }
    )
    reps = pd.DataFrame({"rep_id": _ids("R", m), "skills": _as_text(skills, "ind")})
    able = [[r for r in range(m) if int(ind) in skills[r]] for ind in industry]
    loners = order[pos:]  # customers outside families
    n_pin = int(rng.uniform(0.05, 0.10) * n)
    pin_rows = loners[:n_pin]
    pins = {
        customers["customer_id"].iat[c]: reps["rep_id"].iat[int(rng.choice(able[c]))]
        for c in pin_rows
    }
    n_forbid = int(rng.uniform(0.05, 0.10) * n)
    forbid: list[tuple[str, str]] = []
    for c in rng.choice(np.setdiff1d(np.arange(n), pin_rows), size=n_forbid, replace=False):
        # Forbid up to 3 of the customer's eligible reps, always leaving two.
        k_out = min(int(rng.integers(1, 4)), len(able[c]) - 2)
        for r in rng.choice(able[c], size=max(0, k_out), replace=False):
            forbid.append((customers["customer_id"].iat[c], reps["rep_id"].iat[int(r)]))
    tol = round(float(rng.uniform(0.06, 0.10)), 3)
    rules = [
        alloc.Match("industry", "skills"),
        alloc.Pin(pins),
        alloc.Forbid(forbid),
        alloc.Together("family"),
        alloc.Balance("potential", tol),
    ]
    objective = alloc.MinimizeImbalance("workload") + 0.2 * alloc.MinimizeImbalance(
        "accounts", norm="sum"
    )
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def spread_geo(n: int, m: int, seed: int) -> alloc.Problem:
    """Lat/lon, 5 nearest offices per customer, A-class spread evenly, capacity."""
    rng = np.random.default_rng([seed, 105])
    n_city = int(rng.integers(12, 31))
    city = np.column_stack([rng.uniform(47.5, 54.5, n_city), rng.uniform(6.5, 14.5, n_city)])
    pop = _popularity(n_city, rng, 1.1)
    home = rng.choice(n_city, size=n, p=pop)
    lat = np.round(city[home, 0] + rng.normal(0, 0.25, n), 4)
    lon = np.round(city[home, 1] + rng.normal(0, 0.35, n), 4)
    office = rng.choice(n_city, size=m, p=pop)
    rlat = np.round(city[office, 0] + rng.normal(0, 0.05, m), 4)
    rlon = np.round(city[office, 1] + rng.normal(0, 0.07, m), 4)
    potential = np.round(rng.lognormal(10.0, 1.1, n), -1)
    top = potential >= np.quantile(potential, 0.9)
    customers = pd.DataFrame(
        {
            "customer_id": _ids("D", n),
            "lat": lat,
            "lon": lon,
            "potential": potential,
            "hours": _workload(rng, potential),
            "abc": np.where(top, "A", "B"),
        }
    )
    reps = pd.DataFrame({"rep_id": _ids("R", m), "lat": rlat, "lon": rlon})
    reps["capacity"] = np.round(1.15 * customers["hours"].sum() / m, 1)
    km = _haversine(lat[:, None], lon[:, None], rlat[None, :], rlon[None, :])
    # Eligible: the offices within 350 km, and at least the 5 nearest.
    rank = np.argsort(np.argsort(km, axis=1, kind="stable"), axis=1)
    cu, rp = np.nonzero((km <= 350.0) | (rank < 5))
    pairs = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[cu],
            "rep_id": reps["rep_id"].to_numpy()[rp],
            "km": np.round(km[cu, rp], 1),
        }
    )
    rules = [alloc.Spread("abc", value="A"), alloc.Capacity("hours", limit="capacity")]
    objective = alloc.MinimizeTravel(distance="km", weight=1.0 / (60.0 * n)) + (
        alloc.MinimizeImbalance("potential")
    )
    return alloc.Problem(customers, reps, pairs=pairs, rules=rules, objective=objective)


def unequal_fte(n: int, m: int, seed: int) -> alloc.Problem:
    """fte 0.2-1.0, Pareto potential, a hard potential window by fte."""
    rng = np.random.default_rng([seed, 106])
    industry, skills = _industries(rng, n, m, per_rep=2, eligible=m / 2)
    potential = np.round(5_000 * (1 + rng.pareto(1.3, n)))
    customers = pd.DataFrame(
        {
            "customer_id": _ids("F", n),
            "industry": [f"ind{v:03d}" for v in industry],
            "potential": potential,
            "workload": _workload(rng, potential),
            "accounts": 1,
        }
    )
    fte = np.round(rng.uniform(0.2, 1.0, m), 1)
    fte[rng.integers(m)] = 0.2  # at least one small part-timer
    reps = pd.DataFrame({"rep_id": _ids("R", m), "fte": fte, "skills": _as_text(skills, "ind")})
    tol = round(float(rng.uniform(0.12, 0.20)), 3)
    rules = [alloc.Match("industry", "skills"), alloc.Balance("potential", tol, share="fte")]
    objective = alloc.MinimizeImbalance("workload", share="fte") + 0.1 * alloc.MinimizeImbalance(
        "accounts", share="fte", norm="sum"
    )
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


RECIPES: dict[str, Recipe] = {
    "windows": windows,
    "fit_gap": fit_gap,
    "rep_leaves": rep_leaves,
    "pinned": pinned,
    "spread_geo": spread_geo,
    "unequal_fte": unequal_fte,
}


def build(recipe: str, n_customers: int, n_reps: int, seed: int) -> alloc.Problem:
    """The problem of one recipe at one size and seed."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[recipe](n_customers, n_reps, seed)
