"""Router conformance: every router obeys the same contract on the same streams."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import alloc
import alloc.leads as al
from alloc.leads.batching import repair_window, route_by_score

ROUTERS = [
    al.RoundRobin(),
    al.RoundRobin(weights={"R01": 3.0, "R02": 1.0}, name="RR-weighted"),
    al.LeastLoaded(),
    al.BestFit(),
    al.ExpectedValue(fairness=0.1),
    al.ExpectedValue(fairness=0.2, forecast_size=None, name="EV-full-forecast"),
]


def _tight_stream() -> al.LeadScenario:
    """A generated stream with caps cut to a third (they bind) and one lead no rep may take."""
    s = al.make_leads(n_leads=500, n_reps=12, n_days=8, seed=5)
    reps = s.reps.assign(daily_cap=np.maximum(0, s.reps["daily_cap"] // 3))
    win_prob = s.win_prob[s.win_prob["lead_id"] != s.leads["lead_id"].iloc[7]]
    return al.LeadScenario(s.leads, reps, win_prob, s.skill)


STREAMS = {
    "generated": al.make_leads(n_leads=800, n_reps=12, n_days=12, seed=2),
    "tight": _tight_stream(),
}


def _check_contract(sim: al.Simulation, s: al.LeadScenario) -> None:
    routes = sim.routes
    assert list(routes["lead_id"]) == list(s.leads["lead_id"])
    # Caps, recounted from the routes.
    per = routes.dropna(subset=["rep_id"]).groupby(["period", "rep_id"]).size()
    caps = s.reps.set_index("rep_id")["daily_cap"]
    assert (per.to_numpy() <= caps.reindex(per.index.get_level_values("rep_id")).to_numpy()).all()
    assert sim.by_rep["cap_breaches"].sum() == 0
    # Only eligible pairs, with their expected value.
    table = s.win_prob.set_index(["lead_id", "rep_id"])["p_win"]
    routed = routes.dropna(subset=["rep_id"])
    p = table.reindex(pd.MultiIndex.from_frame(routed[["lead_id", "rep_id"]])).to_numpy()
    assert not np.isnan(p).any()
    values = s.leads.set_index("lead_id")["value"].reindex(routed["lead_id"]).to_numpy()
    np.testing.assert_allclose(routed["expected_value"].to_numpy(), p * values)
    # Every unrouted lead has a reason that is true.
    fallback = routes[routes["rep_id"].isna()]
    has_pair = set(s.win_prob["lead_id"])
    for row in fallback.itertuples():
        if row.lead_id in has_pair:
            assert row.reason == al.FALLBACK_AT_CAP
            eligible = s.win_prob.loc[s.win_prob["lead_id"] == row.lead_id, "rep_id"]
            for rep in eligible:
                assert per.get((row.period, rep), 0) == caps[rep]
        else:
            assert row.reason == al.FALLBACK_NO_REP
    assert routes.loc[routes["rep_id"].notna(), "reason"].str.startswith("fallback").sum() == 0


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: r.name)
@pytest.mark.parametrize("stream", list(STREAMS), ids=str)
def test_router_obeys_caps_eligibility_and_fallback_reasons(
    router: al.BaseRouter, stream: str
) -> None:
    s = STREAMS[stream]
    sim = al.simulate(s.leads, s.reps, router, s.win_prob, seed=3)
    _check_contract(sim, s)


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: r.name)
def test_router_is_deterministic_for_a_seed(router: al.BaseRouter) -> None:
    s = STREAMS["tight"]
    first = al.simulate(s.leads, s.reps, router, s.win_prob, seed=4)
    again = al.simulate(s.leads, s.reps, router, s.win_prob, seed=4)
    pd.testing.assert_frame_equal(first.routes, again.routes)
    pd.testing.assert_frame_equal(first.by_rep, again.by_rep)


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: r.name)
def test_router_sends_a_lead_no_rep_may_take_to_the_fallback_queue(router: al.BaseRouter) -> None:
    s = STREAMS["tight"]
    sim = al.simulate(s.leads, s.reps, router, s.win_prob)
    row = sim.routes.iloc[7]
    assert pd.isna(row["rep_id"]) and row["reason"] == al.FALLBACK_NO_REP
    assert row["expected_value"] == 0 and not row["won"]


def test_expected_value_keeps_every_rep_in_its_window_and_beats_round_robin() -> None:
    s = al.make_leads(n_leads=2_000, n_reps=20, n_days=20, seed=11)
    ev = al.simulate(s.leads, s.reps, al.ExpectedValue(fairness=0.1), s.win_prob)
    rr = al.simulate(s.leads, s.reps, al.RoundRobin(), s.win_prob)
    assert ev.by_rep["share_gap"].abs().max() <= 0.1 + 1e-9
    assert ev.summary["expected_value"] > rr.summary["expected_value"]
    assert ev.summary["fallback"] == 0


def test_weighted_round_robin_follows_the_weights_when_nothing_binds() -> None:
    leads = pd.DataFrame({"lead_id": range(40), "arrival": 0, "value": 1.0})
    reps = pd.DataFrame({"rep_id": ["a", "b"], "daily_cap": [100, 100], "weight": [3.0, 1.0]})
    win_prob = pd.DataFrame(
        [(i, r, 0.5) for i in range(40) for r in ("a", "b")], columns=["lead_id", "rep_id", "p_win"]
    )
    sim = al.simulate(leads, reps, al.RoundRobin(), win_prob)
    assert sim.by_rep["leads"].tolist() == [30, 10]
    sim = al.simulate(leads, reps, al.RoundRobin(weights={"a": 1, "b": 1}), win_prob)
    assert sim.by_rep["leads"].tolist() == [20, 20]


def test_won_draws_are_shared_across_routers_for_a_seed() -> None:
    s = STREAMS["generated"]
    a = al.simulate(s.leads, s.reps, al.BestFit(), s.win_prob, seed=9).routes
    b = al.simulate(s.leads, s.reps, al.BestFit(), s.win_prob, seed=10).routes
    assert a["won"].sum() != b["won"].sum() or not a["won"].equals(b["won"])
    # A sure pair is always won and an impossible one never.
    win = s.win_prob.assign(p_win=1.0)
    assert (
        al.simulate(s.leads, s.reps, al.BestFit(), win)
        .routes.dropna(subset=["rep_id"])["won"]
        .all()
    )


def test_route_by_score_fills_caps_in_arrival_order_and_leaves_only_full_reps() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        n, r = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        score = rng.normal(size=(n, r))
        score[rng.random((n, r)) < 0.3] = -np.inf
        room = rng.integers(0, 6, size=r)
        assign = route_by_score(score, room)
        counts = np.bincount(assign[assign >= 0], minlength=r)
        assert (counts <= room).all()
        for i in np.flatnonzero(assign < 0):
            assert (counts[np.isfinite(score[i])] == room[np.isfinite(score[i])]).all()
        for i in np.flatnonzero(assign >= 0):
            assert np.isfinite(score[i, assign[i]])


def test_route_by_score_matches_lead_by_lead_greedy_when_caps_do_not_bind() -> None:
    rng = np.random.default_rng(1)
    score = rng.normal(size=(25, 4))
    assign = route_by_score(score, np.full(4, 25))
    assert assign.tolist() == score.argmax(axis=1).tolist()


def test_repair_window_reaches_a_feasible_window_without_breaking_caps() -> None:
    score = np.array([[5.0, 1.0, 0.0]] * 6)
    assign = np.zeros(6, dtype=np.int64)
    room = np.array([6, 3, 3])
    new, moved = repair_window(score, assign, room, np.array([2, 2, 2]), np.array([2, 2, 2]))
    assert np.bincount(new, minlength=3).tolist() == [2, 2, 2]
    assert moved.sum() == 4
    # The cheapest moves: leads go to rep 1 (loss 4) before rep 2 is needed.
    assert np.bincount(new, minlength=3)[1] == 2


def test_leads_is_a_lazy_attribute_of_alloc() -> None:
    assert alloc.leads.simulate is al.simulate
    assert "leads" in dir(alloc)


def test_router_parameters_are_checked_at_construction() -> None:
    with pytest.raises(alloc.InvalidParameterError, match="fairness"):
        al.ExpectedValue(fairness=5)
    with pytest.raises(alloc.InvalidParameterError, match="forecast_size"):
        al.ExpectedValue(forecast_size=0)
    with pytest.raises(alloc.InvalidParameterError, match="weights"):
        al.RoundRobin(weights={"a": -1})
    with pytest.raises(alloc.InvalidParameterError, match="router"):
        al.simulate(
            *(lambda s: (s.leads, s.reps))(STREAMS["tight"]), object(), STREAMS["tight"].win_prob
        )


def test_every_pair_combination_of_tiny_caps_is_handled() -> None:
    """All caps from 0 to 2 on three reps: no router breaks one or raises."""
    leads = pd.DataFrame(
        {"lead_id": range(6), "arrival": [0, 0, 0, 1, 1, 1], "value": [1.0, 2, 3, 4, 5, 6]}
    )
    win_prob = pd.DataFrame(
        [(i, r, 0.1 + 0.1 * ((i + r) % 5)) for i in range(6) for r in range(3) if (i + r) % 4],
        columns=["lead_id", "rep_id", "p_win"],
    )
    for caps in itertools.product(range(3), repeat=3):
        reps = pd.DataFrame({"rep_id": range(3), "daily_cap": caps})
        for router in ROUTERS[2:]:
            sim = al.simulate(leads, reps, router, win_prob)
            assert sim.by_rep["cap_breaches"].sum() == 0
            assert sim.routes["reason"].notna().all()


@pytest.mark.parametrize(
    "router",
    [al.RoundRobin(), al.LeastLoaded(), al.BestFit(), al.ExpectedValue()],
    ids=lambda r: r.name,
)
def test_exact_ties_go_to_the_first_rep_in_the_seed_rotated_order(router: al.BaseRouter) -> None:
    leads = pd.DataFrame({"lead_id": [0], "arrival": [0], "value": [1000.0]})
    reps = pd.DataFrame({"rep_id": ["a", "b", "c"], "daily_cap": [5, 5, 5]})
    win_prob = pd.DataFrame(
        {"lead_id": [0, 0, 0], "rep_id": ["a", "b", "c"], "p_win": [0.3, 0.3, 0.3]}
    )
    chosen = [
        al.simulate(leads, reps, router, win_prob, seed=s).routes["rep_id"].iloc[0]
        for s in range(3)
    ]
    assert chosen == ["a", "b", "c"]
