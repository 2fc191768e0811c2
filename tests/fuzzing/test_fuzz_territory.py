"""Tiny territory problems (the second fuzz recipe) against brute force.

Statuses never lie and optima are proven: no wrong answer of any class, and no
FEASIBLE result on a plan brute force shows to be optimal (issues 12 and 17).
"""

from __future__ import annotations

import pytest
from classify import WRONG, Outcome, classify
from territory import territory_case

N_CASES = 60
TIME_LIMIT = 2.0


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return [
        classify(territory_case(7, index), time_limit=TIME_LIMIT, seed=0, workers=1)
        for index in range(N_CASES)
    ]


def test_territory_cases_mix_feasible_and_infeasible(outcomes: list[Outcome]) -> None:
    feasible = sum(1 for o in outcomes if o.verdict is not None and o.verdict.n_feasible > 0)
    assert 0 < feasible < N_CASES


@pytest.mark.parametrize("name", [*WRONG, "feasible_but_optimal"])
def test_territory_cases_have_no_wrong_or_unproven_answer(
    outcomes: list[Outcome], name: str
) -> None:
    assert [o.case.describe() for o in outcomes if name in o.classes] == []
