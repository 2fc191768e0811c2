"""Problem families for `bench_robust.py`: sales scenarios made by recipes other than
`alloc.datasets.make_problem`'s.

Every family is a function ``family(n_customers, n_reps, seed) -> alloc.Problem`` that
builds plain pandas tables (customers, reps) the way a user would and hands them to
`alloc.Problem` with ordinary rules and objective terms. Recipes are seeded
(``numpy.random.default_rng(seed)``) and scale with the size: eligibility per customer
and the shape of the organisation stay the same from 2,000 x 20 to 100,000 x 1,000.

Where they differ from ``make_problem`` (which deals skills from shuffled decks so every
industry has equal coverage, draws industries uniformly and flags the top 1.5 % as key
accounts): here industries have unequal sizes (a Zipf-like popularity), reps' skills are
drawn at random in proportion to that popularity (coverage is uneven; as a planner
would, each industry first gets half its proportional share of specialists), workload
follows potential through a gamma-distributed effort factor, and each family adds one
hard feature:

``sparse``
    5-12 eligible reps per customer: many industries (about ``R * 2.25 / 8``), two
    skills per rep and three per senior. Account limit +25 %.
    Objective potential + 0.5 x workload imbalance (max-norm).
``heavy_tails``
    Potential log-normal with sigma 1.6 (the top 1 % of customers hold about a fifth of
    the potential), whole euros; three skills per rep, about 10 eligible reps;
    workload capacity +20 %. Objective potential + 0.5 x workload imbalance (from
    20,000 customers on, the largest customer alone exceeds a fair share, which fixes
    potential's max deviation; workload's is still to be won).
``key_accounts``
    4 % of customers (drawn from the largest 20 % by potential) are key accounts that
    only seniors may serve (``KeyAccounts``); one rep in five is a senior (four skills),
    so in some industries the key accounts alone exceed their seniors' fair share. A
    current owner per customer (an eligible rep, key accounts with a senior).
    Objective potential imbalance + 2 / n x customers moved (moving 1 % of customers
    weighs 2 pt of deviation).
``rare_industries``
    Three skills per rep over about ``3 R / 8`` industries, but 15 % of industries are
    known by only one or two reps (as an extra skill); each such industry holds about
    40 % of one rep's fair share of customers. Capacity +25 %. Objective potential
    imbalance (max) + 0.01 x workload imbalance summed over reps (sum-norm).
``tight_capacity``
    Part-time reps (fte 1.0 / 0.8 / 0.5); workload capacity in proportion to fte with
    3 % slack overall; fair shares by fte. Objective potential + 0.5 x workload imbalance,
    both with ``share="fte"``.
``families``
    About 35 % of customers belong to account families (2-40 members, heavy-tailed
    sizes, one industry per family) that must go to one rep (``Together("family")``).
    Account limit +30 % (a family counts its members). Objective potential + 0.5 x
    workload imbalance.
``regional``
    Five regions of unequal size (40/25/15/12/8 % of customers); reps are placed in
    regions roughly in proportion to customers (rounded, at least one each) and one in
    six also serves a neighbouring region; reps serve only their regions
    (``Match("region", "regions")``) and their industries (three skills).
    Objective potential imbalance + a small travel term (weight chosen so that travel
    is worth about 1 pt of deviation).
``combined``
    The issue's case: about 11 eligible reps per customer (40 industries at 200 reps,
    scaled with the number of reps; two skills per rep, seniors three; one rep in five
    a senior), 2 % key accounts (from the largest 10 %) to seniors, workload capacity
    with 12 % slack, account limit +15 %. Objective potential + 0.5 x workload
    imbalance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

import alloc

__all__ = ["FAMILIES", "build"]

Recipe = Callable[[int, int, int], alloc.Problem]


# ---- shared pieces of the recipes -----------------------------------------------------
def _ids(prefix: str, n: int) -> list[str]:
    width = len(str(n - 1))
    return [f"{prefix}{i:0{width}d}" for i in range(n)]


def _popularity(n_values: int, rng: np.random.Generator, exponent: float = 0.8) -> np.ndarray:
    """Unequal sizes of industries (or regions): Zipf-like weights in random order."""
    w = 1.0 / np.arange(1, n_values + 1) ** exponent
    return rng.permutation(w / w.sum())


def _potential(rng: np.random.Generator, n: int, sigma: float, decimals: int = 2) -> np.ndarray:
    """Yearly potential in euros, log-normal around a median of about 20,000."""
    return np.round(rng.lognormal(mean=10.0, sigma=sigma, size=n), decimals)


def _workload(rng: np.random.Generator, potential: np.ndarray) -> np.ndarray:
    """Hours a month: a base visit plus effort growing with the square root of potential,
    times a gamma-distributed account difficulty (mean 1)."""
    effort = (potential / np.median(potential)) ** 0.4
    return np.round(1.5 + 3.0 * effort * rng.gamma(4.0, 0.25, potential.size), 1)


def _skills(
    rng: np.random.Generator,
    per_rep: np.ndarray,
    weights: np.ndarray,
    popularity: np.ndarray | None = None,
) -> list[set[int]]:
    """Skill sets with ``per_rep[r]`` values each, drawn in proportion to ``weights``.

    First, as a planner would, every value gets at least
    ``max(1, ceil(0.5 * popularity * slots))`` specialists (half its proportional share
    of all skill slots), so no industry is left with far fewer reps than its customers
    need; then the remaining slots are drawn at random.
    """
    n_values = weights.size
    sets: list[set[int]] = [set() for _ in range(per_rep.size)]
    pop = weights if popularity is None else popularity
    need = np.maximum(1, np.ceil(0.5 * pop * per_rep.sum())).astype(int)
    requests = rng.permutation(np.repeat(np.arange(n_values), need))
    free = np.array(per_rep, dtype=int)
    for value in requests.tolist():
        ok = np.flatnonzero(free > 0)
        ok = np.array([r for r in ok.tolist() if value not in sets[r]], dtype=int)
        if ok.size == 0:
            continue
        r = int(rng.choice(ok))
        sets[r].add(value)
        free[r] -= 1
    for r in range(per_rep.size):
        while len(sets[r]) < min(per_rep[r], n_values):
            p = weights.copy()
            p[list(sets[r])] = 0.0
            sets[r].add(int(rng.choice(n_values, p=p / p.sum())))
    return sets


def _as_text(sets: list[set[int]], prefix: str) -> list[str]:
    return [";".join(f"{prefix}{v:03d}" for v in sorted(s)) for s in sets]


def _levels_exact(n_reps: int, senior_every: int, rng: np.random.Generator) -> np.ndarray:
    n_senior = max(1, round(n_reps / senior_every))
    rest = ["mid" if i % 2 == 0 else "junior" for i in range(n_reps - n_senior)]
    return rng.permutation(np.array(["senior"] * n_senior + rest, dtype=object))


def _industry_org(
    n: int,
    m: int,
    rng: np.random.Generator,
    *,
    eligible: float,
    per_rep: int,
    per_senior: int,
    senior_every: int,
    sigma: float = 1.1,
    n_industries: int | None = None,
    skew: float = 0.8,
    follow: float = 0.7,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Customers with potential, workload and a Zipf-distributed industry; reps with a
    level and skills drawn by industry popularity. Returns (customers, reps, popularity).

    ``skew`` is the Zipf exponent of industry sizes; skills are drawn with weights
    ``popularity ** follow`` (1: specialists in proportion to customers, so eligibility
    is even across industries; below 1: big industries have fewer reps per customer).
    """
    levels = _levels_exact(m, senior_every, rng)
    per = np.where(levels == "senior", per_senior, per_rep)
    if n_industries is None:
        n_industries = max(2, round(per.sum() / eligible))
    n_industries = max(n_industries, int(per.max()))
    pop = _popularity(n_industries, rng, skew)
    skill_weight = pop**follow / (pop**follow).sum()
    skills = _skills(rng, per, skill_weight, pop)
    potential = _potential(rng, n, sigma)
    customers = pd.DataFrame(
        {
            "customer_id": _ids("K", n),
            "potential": potential,
            "workload": _workload(rng, potential),
            "industry": [f"ind{v:03d}" for v in rng.choice(n_industries, size=n, p=pop)],
        }
    )
    reps = pd.DataFrame(
        {"rep_id": _ids("S", m), "level": levels, "skills": _as_text(skills, "ind")}
    )
    return customers, reps, pop


def _key_flags(
    rng: np.random.Generator, potential: np.ndarray, share: float, among_top: float
) -> np.ndarray:
    """``share`` of customers flagged, drawn at random among the largest ``among_top``."""
    n = potential.size
    top = np.argsort(-potential)[: max(1, math.ceil(among_top * n))]
    picked = rng.choice(top, size=min(top.size, max(1, round(share * n))), replace=False)
    flags = np.zeros(n, dtype=bool)
    flags[picked] = True
    return flags


def _senior_cover(customers: pd.DataFrame, reps: pd.DataFrame, rng: np.random.Generator) -> None:
    """Give a senior the skill of any industry with key accounts but no senior (in place):
    a key account must have someone who may serve it."""
    seniors = np.flatnonzero(reps["level"].to_numpy() == "senior")
    senior_skills = set(";".join(reps["skills"].to_numpy()[seniors]).split(";"))
    needed = set(customers.loc[customers["key_account"], "industry"]) - senior_skills
    for ind in sorted(needed):
        r = int(rng.choice(seniors))
        reps.loc[reps.index[r], "skills"] = reps["skills"].iloc[r] + ";" + ind


def _current_owner(
    customers: pd.DataFrame, reps: pd.DataFrame, rng: np.random.Generator
) -> np.ndarray:
    """An eligible current owner per customer (a senior for key accounts), biased so
    that today's books are uneven."""
    bias = rng.uniform(0.3, 1.7, len(reps))
    skill_sets = [set(s.split(";")) for s in reps["skills"]]
    senior = reps["level"].to_numpy() == "senior"
    key = customers["key_account"].to_numpy()
    owners = np.empty(len(customers), dtype=object)
    for ind, rows in customers.groupby("industry").indices.items():
        able = np.array([ind in s for s in skill_sets])
        for flag in (False, True):
            idx = rows[key[rows] == flag]
            ok = np.flatnonzero(able & senior) if flag else np.flatnonzero(able)
            if idx.size and ok.size:
                p = bias[ok] / bias[ok].sum()
                owners[idx] = reps["rep_id"].to_numpy()[rng.choice(ok, size=idx.size, p=p)]
    return owners


def _balance(metric: str = "potential", workload: float = 0.5, **kw: object) -> alloc.Objective:
    return alloc.MinimizeImbalance(metric, **kw) + workload * alloc.MinimizeImbalance(
        "workload", **kw
    )


# ---- the families -----------------------------------------------------------------------
def sparse(n: int, m: int, seed: int) -> alloc.Problem:
    """5-12 eligible reps per customer: many industries, 2 skills per rep, seniors 3."""
    rng = np.random.default_rng([seed, 1])
    customers, reps, _ = _industry_org(
        n, m, rng, eligible=8.0, per_rep=2, per_senior=3, senior_every=4, skew=0.4, follow=1.0
    )
    reps["max_accounts"] = math.ceil(1.25 * n / m)
    rules = [alloc.Match("industry", "skills"), alloc.AccountLimit(max="max_accounts")]
    return alloc.Problem(customers, reps, rules=rules, objective=_balance())


def heavy_tails(n: int, m: int, seed: int) -> alloc.Problem:
    """Log-normal potential with sigma 1.6 in whole euros; capacity +20 %."""
    rng = np.random.default_rng([seed, 2])
    customers, reps, _ = _industry_org(
        n, m, rng, eligible=10.0, per_rep=3, per_senior=3, senior_every=4, sigma=1.6
    )
    customers["potential"] = np.round(customers["potential"])
    reps["capacity"] = np.round(1.2 * customers["workload"].sum() / m, 1)
    rules = [alloc.Match("industry", "skills"), alloc.Capacity("workload", limit="capacity")]
    # At 20,000 customers and more the largest customer alone exceeds a fair share of
    # potential, so potential's max deviation is fixed by it; workload keeps the search
    # honest there.
    return alloc.Problem(customers, reps, rules=rules, objective=_balance())


def key_accounts(n: int, m: int, seed: int) -> alloc.Problem:
    """4 % key accounts (from the largest 20 %) that only the few seniors may serve."""
    rng = np.random.default_rng([seed, 3])
    customers, reps, _ = _industry_org(
        n, m, rng, eligible=8.0, per_rep=2, per_senior=4, senior_every=5
    )
    customers["key_account"] = _key_flags(rng, customers["potential"].to_numpy(), 0.04, 0.20)
    _senior_cover(customers, reps, rng)
    customers["owner"] = _current_owner(customers, reps, rng)
    rules = [alloc.Match("industry", "skills"), alloc.KeyAccounts("key_account", levels="senior")]
    # A move costs 2 / n: moving 1 % of customers weighs as much as 2 pt of deviation.
    objective = alloc.MinimizeImbalance("potential") + (2.0 / n) * alloc.MinimizeDisruption("owner")
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def rare_industries(n: int, m: int, seed: int) -> alloc.Problem:
    """15 % of industries known by only one or two reps (each such industry about 40 %
    of one rep's fair share of customers)."""
    rng = np.random.default_rng([seed, 4])
    n_ind = max(4, round(m * 3 / 8))
    n_rare = max(1, round(0.15 * n_ind))
    rare = rng.choice(n_ind, size=n_rare, replace=False)
    common = np.setdiff1d(np.arange(n_ind), rare)
    pop = np.zeros(n_ind)
    pop[rare] = 0.4 / m
    pop[common] = _popularity(common.size, rng) * (1.0 - pop[rare].sum())
    per = np.full(m, 3)
    weights = pop[common] ** 0.7
    dealt = _skills(rng, per, weights / weights.sum(), pop[common] / pop[common].sum())
    skills = [{int(common[v]) for v in s} for s in dealt]
    # Each rare industry goes to one or two reps, as an extra skill.
    for ind in rare:
        for r in rng.choice(m, size=int(rng.integers(1, 3)), replace=False):
            skills[int(r)].add(int(ind))
    potential = _potential(rng, n, 1.1)
    customers = pd.DataFrame(
        {
            "customer_id": _ids("K", n),
            "potential": potential,
            "workload": _workload(rng, potential),
            "industry": [f"ind{v:03d}" for v in rng.choice(n_ind, size=n, p=pop)],
        }
    )
    work = customers["workload"].sum()
    reps = pd.DataFrame(
        {
            "rep_id": _ids("S", m),
            "skills": _as_text(skills, "ind"),
            "capacity": np.round(1.25 * work / m, 1),
        }
    )
    rules = [alloc.Match("industry", "skills"), alloc.Capacity("workload", limit="capacity")]
    objective = alloc.MinimizeImbalance("potential") + 0.01 * alloc.MinimizeImbalance(
        "workload", norm="sum"
    )
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def tight_capacity(n: int, m: int, seed: int) -> alloc.Problem:
    """Part-timers; workload capacity by fte with 3 % slack overall; shares by fte."""
    rng = np.random.default_rng([seed, 5])
    customers, reps, _ = _industry_org(
        n, m, rng, eligible=10.0, per_rep=3, per_senior=4, senior_every=5
    )
    reps["fte"] = rng.choice([1.0, 0.8, 0.5], size=m, p=[0.7, 0.2, 0.1])
    work = customers["workload"].sum()
    reps["capacity"] = np.round(1.03 * work * reps["fte"] / reps["fte"].sum(), 1)
    rules = [alloc.Match("industry", "skills"), alloc.Capacity("workload", limit="capacity")]
    return alloc.Problem(customers, reps, rules=rules, objective=_balance(share="fte"))


def families(n: int, m: int, seed: int) -> alloc.Problem:
    """35 % of customers in account families of 2-40 members that stay with one rep."""
    rng = np.random.default_rng([seed, 6])
    customers, reps, _ = _industry_org(
        n, m, rng, eligible=10.0, per_rep=3, per_senior=3, senior_every=4
    )
    family = np.full(n, None, dtype=object)
    industry = customers["industry"].to_numpy().copy()
    order = rng.permutation(n)
    pos, k, target = 0, 0, int(0.35 * n)
    while pos < target:
        size = int(min(40, 2 + rng.zipf(1.8) - 1))
        members = order[pos : pos + size]
        family[members] = f"F{k:05d}"
        industry[members] = industry[members[0]]  # subsidiaries of one group share a sector
        pos, k = pos + size, k + 1
    customers["family"] = family
    customers["industry"] = industry
    reps["max_accounts"] = math.ceil(1.3 * n / m)
    rules = [
        alloc.Match("industry", "skills"),
        alloc.Together("family"),
        alloc.AccountLimit(max="max_accounts"),
    ]
    return alloc.Problem(customers, reps, rules=rules, objective=_balance())


REGION_SHARES = (0.40, 0.25, 0.15, 0.12, 0.08)


def regional(n: int, m: int, seed: int) -> alloc.Problem:
    """Five regions of unequal size; reps serve their region (one in six also a
    neighbour) and three industries; potential imbalance + a small travel term."""
    rng = np.random.default_rng([seed, 7])
    customers, reps, _ = _industry_org(
        n, m, rng, eligible=10.0, per_rep=3, per_senior=3, senior_every=4, n_industries=None
    )
    # Fewer industries than the other families: region and skill both cut eligibility.
    n_ind = max(3, round(m * 3 / 10 / len(REGION_SHARES) * 2))
    pop = _popularity(n_ind, rng)
    customers["industry"] = [f"ind{v:03d}" for v in rng.choice(n_ind, size=n, p=pop)]
    region_of = rng.choice(len(REGION_SHARES), size=n, p=REGION_SHARES)
    # Reps per region: roughly proportional, rounded, at least one each.
    raw = np.array(REGION_SHARES) * m * rng.uniform(0.85, 1.15, len(REGION_SHARES))
    counts = np.maximum(1, np.floor(raw).astype(int))
    while counts.sum() < m:
        counts[int(np.argmax(raw - counts))] += 1
    while counts.sum() > m:
        counts[int(np.argmax(counts))] -= 1
    home = rng.permutation(np.repeat(np.arange(len(REGION_SHARES)), counts))
    per = np.full(m, 3)
    skills: list[set[int]] = [set() for _ in range(m)]
    w = pop**0.7 / (pop**0.7).sum()
    for g in range(len(REGION_SHARES)):
        members = np.flatnonzero(home == g)
        # Every industry has a specialist in every region (a planner would make sure).
        dealt = _skills(rng, per[members], w, pop)
        for r, s in zip(members, dealt, strict=True):
            skills[int(r)] = s
    regions = [{int(h)} for h in home]
    for r in rng.choice(m, size=m // 6, replace=False):
        regions[int(r)].add(int((home[r] + rng.choice([-1, 1])) % len(REGION_SHARES)))
    centre = rng.uniform(0, 400, size=(len(REGION_SHARES), 2))
    cx = centre[region_of] + rng.normal(0, 40, size=(n, 2))
    rx = centre[home] + rng.normal(0, 25, size=(m, 2))
    customers["region"] = [f"reg{g}" for g in region_of]
    customers["x"], customers["y"] = np.round(cx[:, 0], 2), np.round(cx[:, 1], 2)
    reps["skills"] = _as_text(skills, "ind")
    reps["regions"] = [";".join(f"reg{g}" for g in sorted(s)) for s in regions]
    reps["x"], reps["y"] = np.round(rx[:, 0], 2), np.round(rx[:, 1], 2)
    rules = [alloc.Match("industry", "skills"), alloc.Match("region", "regions")]
    # Travel of about 60 km per customer is then worth about 1 pt of deviation.
    travel = 0.01 / (60.0 * n)
    objective = alloc.MinimizeImbalance("potential") + alloc.MinimizeTravel(weight=travel)
    return alloc.Problem(customers, reps, rules=rules, objective=objective)


def combined(n: int, m: int, seed: int) -> alloc.Problem:
    """The issue's 20,000 x 200 case, scaled: ~11 eligible, 2 % key accounts to seniors,
    12 % capacity slack, account limit +15 %, potential + 0.5 x workload."""
    rng = np.random.default_rng([seed, 8])
    n_ind = max(3, round(40 * m / 200))
    customers, reps, _ = _industry_org(
        n,
        m,
        rng,
        eligible=11.0,
        per_rep=2,
        per_senior=3,
        senior_every=5,
        n_industries=n_ind,
        skew=0.3,
        follow=1.0,
    )
    customers["key_account"] = _key_flags(rng, customers["potential"].to_numpy(), 0.02, 0.10)
    _senior_cover(customers, reps, rng)
    reps["capacity"] = np.round(1.12 * customers["workload"].sum() / m, 1)
    reps["max_accounts"] = math.ceil(1.15 * n / m)
    rules = [
        alloc.Match("industry", "skills"),
        alloc.KeyAccounts("key_account", levels="senior"),
        alloc.Capacity("workload", limit="capacity"),
        alloc.AccountLimit(max="max_accounts"),
    ]
    return alloc.Problem(customers, reps, rules=rules, objective=_balance())


FAMILIES: dict[str, Recipe] = {
    "sparse": sparse,
    "heavy_tails": heavy_tails,
    "key_accounts": key_accounts,
    "rare_industries": rare_industries,
    "tight_capacity": tight_capacity,
    "families": families,
    "regional": regional,
    "combined": combined,
}


def build(family: str, n_customers: int, n_reps: int, seed: int) -> alloc.Problem:
    """The problem of one family at one size and seed."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {', '.join(FAMILIES)}")
    return FAMILIES[family](n_customers, n_reps, seed)
