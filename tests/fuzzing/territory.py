"""A second fuzz recipe: tiny territory-design problems with several tight windows.

Different from generate.py's recipe on purpose (a benchmark only one generator passes
proves little): geographic units with x/y, reps at fixed x/y, two or three activity
measures each balanced within 5-30 % of the fair share (integers, one-decimal and
two-decimal values), sometimes a workload capacity, and a travel, imbalance, mixed or
empty objective. No hidden plan is planted: many cases admit only a handful of plans
and some none, as with issue 12's published 10-unit territory instances.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from oracle import Case, Spec


def territory_case(seed: int, index: int) -> Case:
    """One tiny territory problem (8-9 units x 2-3 reps), reproducible from its seeds."""
    rng = np.random.default_rng([seed, index, 12])
    m = int(rng.integers(2, 4))
    n = int(rng.integers(8, 10)) if m == 2 else 8
    units = pd.DataFrame(
        {
            "customer_id": [f"u{i}" for i in range(n)],
            "x": rng.uniform(0, 10, n).round(2),
            "y": rng.uniform(0, 10, n).round(2),
            "a": rng.integers(5, 50, n),
            "b": rng.uniform(1, 20, n).round(1),
            "c": rng.uniform(0.5, 9, n).round(2),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{j}" for j in range(m)],
            "x": rng.uniform(0, 10, m).round(1),
            "y": rng.uniform(0, 10, m).round(1),
        }
    )
    n_measures = 2 if rng.random() < 0.6 else 3
    measures = list(rng.choice(["a", "b", "c"], size=n_measures, replace=False))
    rules = [
        Spec("Balance", {"metric": str(k), "tolerance": float(rng.choice([0.05, 0.1, 0.2, 0.3]))})
        for k in measures
    ]
    if rng.random() < 0.3:
        limit = round(float(units["b"].sum()) / m * float(rng.uniform(1.0, 1.15)), 1)
        rules.append(Spec("Capacity", {"metric": "b", "limit": limit}))
    kind = str(rng.choice(["travel", "imbalance", "mixed", "none"], p=[0.45, 0.2, 0.2, 0.15]))
    objective: list[Spec] = []
    if kind in ("travel", "mixed"):
        objective.append(Spec("MinimizeTravel", {}))
    if kind in ("imbalance", "mixed"):
        metric = str(rng.choice(["a", "b", "c"]))
        weight = 1.0 if kind == "imbalance" else float(rng.choice([5.0, 20.0]))
        objective.append(Spec("MinimizeImbalance", {"metric": metric, "weight": weight}))
    return Case(f"territory{seed}-{index}-{n}x{m}", units, reps, rules, objective)


def territory_campaign(seed: int, n: int) -> Iterator[Case]:
    for i in range(n):
        yield territory_case(seed, i)
