"""Classes of the class LP (alloc.solvers.lp_classes): units of one class share their
eligible reps and their mix of the imbalance terms."""

from __future__ import annotations

import pandas as pd

import alloc
from alloc.solvers.lp_classes import classes_of
from alloc.solvers.state import Rows


def _problem(workload: list[float], workload_weight: float = 0.5) -> alloc.Problem:
    n = len(workload)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "potential": [10.0] * n,
            "workload": workload,
        }
    )
    reps = pd.DataFrame({"rep_id": ["R0", "R1", "R2"]})
    objective = alloc.MinimizeImbalance("potential")
    if workload_weight:
        objective = objective + workload_weight * alloc.MinimizeImbalance("workload")
    return alloc.Problem(customers, reps, objective=objective)


def test_units_of_another_mix_form_classes_of_their_own() -> None:
    # Workload per potential 1.0, 1.2 (same half-octave), 4.0 and 0.0 (none).
    model = _problem([10.0, 12.0, 40.0, 0.0]).model
    classes = classes_of(model, Rows.from_model(model))
    unit_class = classes.unit_class.tolist()
    assert unit_class[0] == unit_class[1]
    assert len({unit_class[0], unit_class[2], unit_class[3]}) == 3
    assert classes.n_classes == 3


def test_one_imbalance_term_keeps_one_class_per_eligible_set() -> None:
    model = _problem([10.0, 12.0, 40.0, 0.0], workload_weight=0.0).model
    assert classes_of(model, Rows.from_model(model)).n_classes == 1
