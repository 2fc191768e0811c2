"""data.spatial: the geography compiled from territory rules (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc.data.spatial import pairwise_distance


def test_model_distances_agree_with_the_checker_on_lat_lon() -> None:
    # The checker computes its distances itself; both must give the same objective.
    rng = np.random.default_rng(3)
    n = 8
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "lat": rng.uniform(30, 35, n),
            "lon": rng.uniform(-85, -80, n),
        }
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeDispersion())
    g = problem.model.geography
    assert g is not None and g.distance is not None
    points = customers[["lat", "lon"]].to_numpy()
    assert np.allclose(g.distance, pairwise_distance(points, points, "haversine"))
    plan = pd.Series(["r1"] * 4 + ["r2"] * 4, index=customers["customer_id"])
    by_model = sum(
        min(g.distance[np.ix_(members, [v])].sum() for v in members)
        for members in (np.arange(4), np.arange(4, 8))
    )
    assert alloc.objective_value(problem, plan) == pytest.approx(by_model, rel=1e-9)


def test_two_dispersion_terms_are_refused() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "x": [0.0, 1.0], "y": [0.0, 0.0]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    objective = alloc.MinimizeDispersion() + alloc.MinimizeDispersion("max")
    with pytest.raises(alloc.InvalidProblemError, match="keep one"):
        alloc.Problem(customers, reps, objective=objective)


def test_chosen_centres_with_together_are_refused_with_the_fix() -> None:
    customers = pd.DataFrame(
        {"customer_id": list("abc"), "x": [0.0, 1.0, 2.0], "y": 0.0, "fam": ["f", "f", None]}
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    with pytest.raises(alloc.InvalidProblemError, match="Together"):
        alloc.Problem(
            customers,
            reps,
            rules=[alloc.Together("fam")],
            objective=alloc.MinimizeDispersion(),
        )
