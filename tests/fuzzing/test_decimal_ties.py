"""Limits that tie a plan's loads in decimals never come back INFEASIBLE (issue 17).

Random small problems with decimal work (one or two places) get capacities written as the
decimals a person would type for a hidden plan's loads (``round(1.7 + 2.2, 6)`` is 3.9),
sometimes a Balance window tied to the same plan and an objective. Whenever brute force
(tests/fuzzing/oracle.py) finds a feasible plan, ``alloc.solve`` must not say
INFEASIBLE, and any plan it returns must pass ``alloc.check``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import Case, Oracle, Spec, brute_force

import alloc


@st.composite
def decimal_ties(draw: st.DrawFn) -> Case:
    n = draw(st.integers(3, 7))
    m = draw(st.integers(2, 3))
    places = draw(st.sampled_from([1, 2]))
    step = 10**places
    work = [v / step for v in draw(st.lists(st.integers(1, 5 * step), min_size=n, max_size=n))]
    hidden = np.array(draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n)))
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "work": work})
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)]})
    loads = [0.0] * m
    for value, rep in zip(work, hidden.tolist(), strict=True):
        loads[rep] += value  # summed in customer order, as a person would
    reps["cap"] = [round(x, 6) for x in loads]
    case = Case("decimal-tie", customers, reps)
    if draw(st.booleans()):
        case.rules.append(Spec("Capacity", {"metric": "work", "limit": "cap"}))
    else:
        case.rules.append(Spec("Capacity", {"metric": "work", "limit": round(max(loads), 6)}))
    if draw(st.booleans()):
        share = Oracle(case).fair_share("work", None)
        dev = float((np.abs(np.array(loads) - share) / share).max())
        if round(dev, 6) <= 1:  # a tolerance is a fraction; a wider window is refused
            case.rules.append(Spec("Balance", {"metric": "work", "tolerance": round(dev, 6)}))
    objective = draw(st.sampled_from([None, "MinimizeImbalance", "MinimizeTravel"]))
    if objective == "MinimizeImbalance":
        case.objective.append(Spec("MinimizeImbalance", {"metric": "work"}))
    elif objective == "MinimizeTravel":
        customers["x"] = np.linspace(0.0, 9.0, n).round(1)
        customers["y"] = 0.0
        reps["x"], reps["y"] = [float(j) for j in range(m)], 0.0
        case.objective.append(Spec("MinimizeTravel"))
    return case


@settings(deadline=None)
@given(case=decimal_ties())
def test_a_feasible_decimal_tie_is_never_reported_infeasible(case: Case) -> None:
    verdict = brute_force(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", alloc.AllocWarning)
        problem = case.problem()
        result = alloc.solve(problem, time_limit=1.0, seed=0, workers=1)
    if verdict.n_feasible > 0:
        assert result.status is not alloc.Status.INFEASIBLE, case.code()
    if result.assignment is not None:
        assert alloc.check(problem, result.assignment) == [], case.code()
