"""Hypothesis draws tiny tight problems from both fuzz recipes; alloc must match brute force.

The planted recipe (tests/fuzzing/generate.py) mixes capacity, account limits, several
Balance windows, pins, families and pair rules around a hidden feasible plan (or none);
the territory recipe (tests/fuzzing/territory.py) draws 8-9 units with two or three
Balance windows of 5-30 % and travel, imbalance or mixed objectives. For every example
alloc's status and objective must equal what brute force finds: no wrong answer of any
class, a feasible problem is never UNKNOWN, and an optimal plan is proven OPTIMAL.
"""

from __future__ import annotations

from classify import WRONG, classify
from generate import random_case
from hypothesis import given, settings
from hypothesis import strategies as st
from territory import territory_case

TIME_LIMIT = 3.0


@settings(deadline=None)
@given(recipe=st.sampled_from(["planted", "territory"]), seed=st.integers(0, 10**6))
def test_tiny_tight_problems_match_brute_force(recipe: str, seed: int) -> None:
    case = random_case(seed, 0) if recipe == "planted" else territory_case(seed, 0)
    outcome = classify(case, time_limit=TIME_LIMIT, seed=0, workers=1)
    wrong = [name for name in outcome.classes if name in WRONG]
    assert wrong == [], f"{case.describe()}: {outcome.classes} {outcome.error}"
    assert "feasible_but_optimal" not in outcome.classes, case.describe()
    if outcome.verdict is not None and outcome.verdict.n_feasible > 0:
        assert outcome.status in ("OPTIMAL", "FEASIBLE"), case.describe()
