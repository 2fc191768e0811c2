"""Neighbourhoods of the large-neighbourhood search, and local search's patience."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import alloc
from alloc.solvers.deadline import Deadline
from alloc.solvers.local_search import LocalSearch
from alloc.solvers.neighbourhoods import _plateau_and_partners, pick_reps
from alloc.solvers.state import Rows, score_of


def _rare_industry_problem() -> alloc.Problem:
    # 12 reps: r0-r2 alone know "rare" (and "a"), the others know "a" or "b". The rare
    # customers are heavy, so r0-r2 sit together at the top of potential.
    rng = np.random.default_rng(0)
    industry = ["rare"] * 30 + ["a"] * 120 + ["b"] * 90
    potential = np.where(np.array(industry) == "rare", 40.0, rng.uniform(5, 15, len(industry)))
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(len(industry))],
            "industry": industry,
            "potential": potential.round(2),
        }
    )
    skills = ["rare;a"] * 3 + ["a"] * 4 + ["b"] * 5
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(12)], "skills": skills})
    return alloc.Problem(
        customers,
        reps,
        rules=[alloc.Match("industry", "skills")],
        objective=alloc.MinimizeImbalance("potential"),
    )


def _plan(problem: alloc.Problem) -> np.ndarray:
    """Rare customers and the first 12 "a" customers spread over r0-r2, the other "a"
    customers over r3-r6, "b" over r7-r11: r0-r2 share the top of potential."""
    model = problem.model
    industry = problem.customers["industry"].to_numpy()
    rep = np.empty(len(industry), dtype=np.int64)
    seen = {"rare": 0, "a": 0, "b": 0}
    for i, ind in enumerate(industry):
        k = seen[ind]
        seen[ind] += 1
        if ind == "rare" or (ind == "a" and k < 12):
            rep[i] = k % 3
        elif ind == "a":
            rep[i] = 3 + k % 4
        else:
            rep[i] = 7 + k % 5
    units = model.customer_unit
    chosen = np.empty(model.n_units, dtype=np.int64)
    chosen[units] = model.pair_index(units, rep)
    assert (chosen >= 0).all()
    return chosen


def test_the_plateau_neighbourhood_holds_every_top_rep_and_only_partners_that_fit() -> None:
    problem = _rare_industry_problem()
    model = problem.model
    rows = Rows.from_model(model)
    rep_ids = list(problem.rep_ids)
    chosen = _plan(problem)
    loads = rows.loads(model, chosen)
    dev = (loads[0] - rows.share[0]) / rows.share[0]
    top = {rep_ids[r] for r in np.flatnonzero(dev >= 0.9 * dev.max())}
    assert top == {"r0", "r1", "r2"}, dev
    for seed in range(20):
        picked = _plateau_and_partners(model, chosen, dev, np.random.default_rng(seed), 2)
        names = {rep_ids[r] for r in picked}
        assert top <= names
        # Partners come from the reps eligible for the top reps' customers ("a" reps)
        # while there are enough of them; "b" reps fill only what is left.
        partners = names - top
        fitting = {f"r{j}" for j in range(7)} - top
        assert partners & fitting
        if len(partners) <= len(fitting):
            assert partners <= fitting, (names, top)


def test_a_plateau_wider_than_the_neighbourhood_is_cut_to_fit() -> None:
    # 12,000 customers over 40 reps (300 each: room for 3 reps of 1,000 customers) and
    # ten reps tied at the top: the plateau is cut to what the neighbourhood holds (it
    # once asked numpy for a negative number of partners: make_problem(100_000, 400)).
    problem = alloc.datasets.make_problem(12_000, 40, seed=0)
    model = problem.model
    chosen = model.unit_start[:-1].copy()
    dev = np.zeros(model.n_reps)
    dev[:10] = 0.05
    for seed in range(10):
        picked = _plateau_and_partners(model, chosen, dev, np.random.default_rng(seed), 2)
        assert 2 <= picked.size <= 3 and np.unique(picked).size == picked.size
        assert set(picked.tolist()) <= set(range(10))


def test_pick_reps_always_returns_distinct_valid_reps() -> None:
    problem = _rare_industry_problem()
    model = problem.model
    rows = Rows.from_model(model)
    chosen = _plan(problem)
    for seed in range(50):
        picked = pick_reps(model, rows, chosen, np.random.default_rng(seed), 4, plateau=True)
        assert picked.size >= 4 and np.unique(picked).size == picked.size
        assert picked.min() >= 0 and picked.max() < model.n_reps


def test_local_search_with_patience_stops_long_before_its_deadline_at_a_local_optimum() -> None:
    problem = alloc.datasets.make_problem(300, 8, seed=0)
    model = problem.model
    rows = Rows.from_model(model)
    first, first_score = LocalSearch(model, rows, model.unit_start[:-1].copy(), seed=0).run(
        Deadline.after(1.0)
    )
    start = time.perf_counter()
    again, score = LocalSearch(model, rows, first, seed=0).run(Deadline.after(30.0), patience=0.3)
    # A busy machine may stretch one descent; 30 s would mean the patience was ignored.
    assert time.perf_counter() - start < 15.0
    assert not first_score.better_than(score)  # never worse than its start
    recomputed = score_of(model, rows, again, rows.loads(model, again))
    assert recomputed.objective == score.objective
