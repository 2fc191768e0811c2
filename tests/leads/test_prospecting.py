"""plan_prospecting: exact against enumeration, free hours never exceeded, bad input named."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import alloc.leads as al
from alloc.errors import InvalidParameterError, InvalidProblemError


def _instance(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 6
    prospects = pd.DataFrame(
        {
            "prospect_id": [f"p{i}" for i in range(n)],
            "rep_id": rng.choice(["a", "b"], size=n),
            "potential": rng.integers(10, 100, n).astype(float),
            "p_convert": rng.uniform(0.05, 0.9, n),
            "effort_hours": rng.integers(2, 12, n).astype(float),
        }
    )
    capacity = pd.DataFrame(
        {
            "rep_id": ["a", "a", "b", "b"],
            "period": [1, 2, 1, 2],
            "hours": [20.0, 20.0, 15.0, 15.0],
            "book_hours": rng.integers(5, 15, 4).astype(float),
        }
    )
    return prospects, capacity


def _brute_force(prospects: pd.DataFrame, capacity: pd.DataFrame, discount: float) -> float:
    free = {
        (r, t): h - b
        for r, t, h, b in capacity[["rep_id", "period", "hours", "book_hours"]].itertuples(
            index=False
        )
    }
    periods = sorted(capacity["period"].unique())
    best = 0.0
    rows = list(prospects.itertuples(index=False))
    for choice in itertools.product([None, *periods], repeat=len(rows)):
        used: dict[tuple[str, int], float] = {}
        value = 0.0
        for row, t in zip(rows, choice, strict=True):
            if t is None:
                continue
            used[row.rep_id, t] = used.get((row.rep_id, t), 0.0) + row.effort_hours
            value += (1 - discount) ** periods.index(t) * row.p_convert * row.potential
        if all(h <= free[cell] + 1e-9 for cell, h in used.items()):
            best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("discount", [0.0, 0.2])
def test_plan_is_optimal_against_enumeration(seed: int, discount: float) -> None:
    prospects, capacity = _instance(seed)
    plan = al.plan_prospecting(prospects, capacity, discount=discount)
    assert plan.status == "OPTIMAL"
    steps = plan.plan["period"].map({1: 0, 2: 1}).to_numpy()
    discounted = float(np.sum((1 - discount) ** steps * plan.plan["expected_potential"].to_numpy()))
    assert discounted == pytest.approx(_brute_force(prospects, capacity, discount), rel=1e-6)
    table = plan.by_rep_period
    assert (table["planned_hours"] <= table["free_hours"] + 1e-9).all()
    assert not plan.plan["prospect_id"].duplicated().any()


def test_bad_prospecting_input_is_named() -> None:
    prospects, capacity = _instance(0)
    with pytest.raises(InvalidProblemError, match="'p0'"):
        al.plan_prospecting(prospects.assign(p_convert=[1.5] + [0.1] * 5), capacity)
    with pytest.raises(InvalidProblemError, match="'zz'"):
        al.plan_prospecting(prospects.assign(rep_id="zz"), capacity)
    with pytest.raises(InvalidProblemError, match=r"\('a', 1\)"):
        al.plan_prospecting(prospects, capacity.assign(book_hours=[30.0, 1.0, 1.0, 1.0]))
    with pytest.raises(InvalidProblemError, match="free_hours"):
        al.plan_prospecting(prospects, capacity.drop(columns="book_hours"))
    with pytest.raises(InvalidParameterError, match="discount"):
        al.plan_prospecting(prospects, capacity, discount=1.0)


def test_a_prospect_too_big_for_every_period_is_left_out() -> None:
    prospects = pd.DataFrame(
        {
            "prospect_id": ["big", "ok"],
            "rep_id": "a",
            "potential": [1e6, 10.0],
            "p_convert": 0.5,
            "effort_hours": [50.0, 5.0],
        }
    )
    capacity = pd.DataFrame({"rep_id": "a", "period": [1, 2], "free_hours": [10.0, 10.0]})
    plan = al.plan_prospecting(prospects, capacity)
    assert plan.plan["prospect_id"].tolist() == ["ok"] and plan.expected_potential == 5.0


def test_plots_draw_on_given_axes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = al.make_leads(n_leads=200, n_reps=10, n_days=5, seed=0)
    sims = {
        r.name: al.simulate(s.leads, s.reps, r, s.win_prob) for r in (al.RoundRobin(), al.BestFit())
    }
    fig, axes = plt.subplots(1, 3)
    assert al.plotting.cumulative_value(sims, bound=1.0, ax=axes[0]) is axes[0]
    assert len(axes[0].lines) == 3
    assert al.plotting.share_by_rep(sims["BestFit"], ax=axes[1]) is axes[1]
    assert len(axes[1].containers[0]) == 10
    prospects, capacity = _instance(1)
    ax = al.plotting.prospecting_hours(al.plan_prospecting(prospects, capacity), ax=axes[2])
    assert [len(c) for c in ax.containers] == [2, 2]
    plt.close(fig)
    with pytest.raises(InvalidParameterError):
        al.plotting.share_by_rep("not a simulation")  # type: ignore[arg-type]
