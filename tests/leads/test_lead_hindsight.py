"""hindsight: the offline optimum, checked against enumeration and against the routers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import alloc.leads as al
from alloc.errors import InvalidParameterError
from alloc.leads.offline import HINDSIGHT_LEFT_OUT


def _brute_force(
    leads: pd.DataFrame, reps: pd.DataFrame, win_prob: pd.DataFrame, fairness: float
) -> float:
    """Best expected value over every routing (each lead to an eligible rep or nobody)."""
    share = (
        (reps["weight"] / reps["weight"].sum()).to_numpy()
        if "weight" in reps
        else np.full(len(reps), 1 / len(reps))
    )
    rep_pos = {r: j for j, r in enumerate(reps["rep_id"])}
    options = []
    for lead in leads.itertuples():
        rows = win_prob[win_prob["lead_id"] == lead.lead_id]
        options.append(
            [None]
            + [
                (rep_pos[r], p * lead.value)
                for r, p in zip(rows["rep_id"], rows["p_win"], strict=True)
            ]
        )
    best = 0.0
    periods = leads["arrival"].to_numpy()
    for choice in itertools.product(*options):
        counts = np.zeros(len(reps))
        per = {}
        value = 0.0
        for t, c in zip(periods, choice, strict=True):
            if c is None:
                continue
            counts[c[0]] += 1
            per[t, c[0]] = per.get((t, c[0]), 0) + 1
            value += c[1]
        if any(n > reps["daily_cap"].iloc[j] for (_, j), n in per.items()):
            continue
        total = counts.sum()
        if (
            (counts > (1 + fairness) * share * total + 1e-9)
            | (counts < (1 - fairness) * share * total - 1e-9)
        ).any():
            continue
        best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_hindsight_matches_enumeration_on_tiny_streams(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 6
    leads = pd.DataFrame(
        {
            "lead_id": range(n),
            "arrival": rng.integers(0, 2, n),
            "value": rng.integers(1, 20, n).astype(float),
        }
    )
    reps = pd.DataFrame(
        {"rep_id": ["a", "b", "c"], "daily_cap": rng.integers(0, 3, 3), "weight": [1.0, 2.0, 1.0]}
    )
    pairs = [
        (i, r, float(rng.uniform(0.05, 0.95)))
        for i in range(n)
        for r in "abc"
        if rng.random() < 0.6
    ]
    win_prob = pd.DataFrame(pairs, columns=["lead_id", "rep_id", "p_win"])
    fairness = 0.5
    best = al.hindsight(leads, reps, win_prob, fairness=fairness)
    assert best.status == "OPTIMAL"
    assert best.expected_value == pytest.approx(
        _brute_force(leads, reps, win_prob, fairness), rel=1e-6, abs=1e-9
    )
    assert best.bound is not None and best.bound >= best.expected_value - 1e-9
    assert best.by_rep is not None and best.by_rep["cap_breaches"].sum() == 0


def test_lp_bound_caps_the_mip_plan_and_every_fair_router() -> None:
    s = al.make_leads(n_leads=600, n_reps=10, n_days=10, seed=3)
    lp = al.hindsight(s.leads, s.reps, s.win_prob, method="lp")
    mip = al.hindsight(s.leads, s.reps, s.win_prob, time_limit=60)
    assert lp.status == "BOUND" and lp.routes is None and lp.bound is not None
    assert mip.status in ("OPTIMAL", "FEASIBLE") and mip.expected_value is not None
    assert mip.expected_value <= lp.bound * (1 + 1e-7)
    assert mip.by_rep is not None and mip.by_rep["share_gap"].abs().max() <= 0.1 + 1e-9
    ev = al.simulate(s.leads, s.reps, al.ExpectedValue(fairness=0.1), s.win_prob)
    assert ev.by_rep["share_gap"].abs().max() <= 0.1 + 1e-9
    assert ev.summary["expected_value"] <= lp.bound * (1 + 1e-7)
    if mip.status == "OPTIMAL":
        assert ev.summary["expected_value"] <= mip.expected_value * (1 + 1e-6)


def test_hindsight_parameters_are_checked() -> None:
    s = al.make_leads(n_leads=50, n_reps=5, n_days=3, seed=0)
    with pytest.raises(InvalidParameterError, match="method"):
        al.hindsight(s.leads, s.reps, s.win_prob, method="exact")
    with pytest.raises(ValueError, match="time_limit"):
        al.hindsight(s.leads, s.reps, s.win_prob, time_limit=0)
    with pytest.raises(ValueError, match="fairness"):
        al.hindsight(s.leads, s.reps, s.win_prob, fairness=20)


def test_hindsight_says_why_each_lead_is_left_out() -> None:
    leads = pd.DataFrame(
        {"lead_id": [1, 2, 3, 4], "arrival": [0, 0, 5, 5], "value": [1.0, 2.0, 3.0, 4.0]}
    )
    # Rep b has no room and no weight: its window is empty, which lets a take leads.
    reps = pd.DataFrame({"rep_id": ["a", "b"], "daily_cap": [1, 0], "weight": [1.0, 0.0]})
    win_prob = pd.DataFrame(
        {
            "lead_id": [1, 1, 2, 2, 3],
            "rep_id": ["a", "b", "a", "b", "b"],
            "p_win": [0.5, 0.6, 0.2, 0.9, 0.4],
        }
    )
    best = al.hindsight(leads, reps, win_prob, fairness=0.5)
    assert best.status == "OPTIMAL" and best.routes is not None
    assert best.routes["reason"].tolist() == [
        "hindsight optimum",
        al.FALLBACK_AT_CAP,
        al.FALLBACK_AT_CAP,
        al.FALLBACK_NO_REP,
    ]
    # A window that the value would break makes the optimum leave a lead out by choice.
    reps2 = pd.DataFrame({"rep_id": ["a", "b"], "daily_cap": [5, 5]})
    win2 = pd.DataFrame({"lead_id": [1, 2, 3], "rep_id": ["a", "a", "b"], "p_win": [0.9, 0.9, 0.1]})
    fair = al.hindsight(leads.iloc[:3], reps2, win2, fairness=0.1)
    assert fair.routes is not None
    assert sorted(fair.routes["reason"]) == sorted(["hindsight optimum"] * 2 + [HINDSIGHT_LEFT_OUT])
