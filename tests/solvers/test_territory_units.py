"""The per-unit proof (issue 14): no connected territory can hold a unit, shown by CP-SAT.

Checked against brute force on small random maps (every connected set holding each
unit enumerated: with no time limit the proof must find a failing unit exactly when
one exists), and on a generated family of maps, a city whose territory needs old
people from retirement towns that lie behind young suburbs: a fractional share of the
towns meets both windows (the reach test passes), no connected set does.
"""

from __future__ import annotations

import itertools
from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.solvers import territories, territory_units
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows
from alloc.solvers.territory_reach import reach_conflicts
from alloc.solvers.territory_units import unit_conflict
from conftest import CpuShare, grid_map, territory_problem


def _connected(members: np.ndarray, adj: np.ndarray) -> bool:
    units = np.flatnonzero(members)
    seen = {int(units[0])}
    todo = [int(units[0])]
    while todo:
        u = todo.pop()
        for v in np.flatnonzero(adj[u] & members).tolist():
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return len(seen) == units.size


def _units_without_territory(problem: alloc.Problem, links: list[tuple[int, int]]) -> set[int]:
    """Brute force: units no connected set within some rep's windows can hold (every
    subset holding the unit, the rep's base and no other base), on the model's units."""
    model = problem.model
    rows = Rows.from_model(model)
    n, k = model.n_units, model.n_reps
    base = np.asarray(model.geography.base)  # type: ignore[union-attr]
    adj = np.zeros((n, n), dtype=bool)
    unit_of = model.customer_unit
    for u, v in links:
        adj[unit_of[u], unit_of[v]] = adj[unit_of[v], unit_of[u]] = True
    subsets = np.array(list(itertools.product([False, True], repeat=n)), dtype=bool)[1:]
    fits = np.zeros((len(subsets), k), dtype=bool)
    for r in range(k):
        pair = np.full(n, -1)
        mine = model.pair_rep == r
        pair[model.pair_unit[mine]] = np.flatnonzero(mine)
        hard = len(model.constraints)
        load = subsets.astype(float) @ rows.weight[pair][:, :hard]
        ok = ((load >= rows.lo[:hard, r]) & (load <= rows.hi[:hard, r])).all(axis=1)
        for s, other in enumerate(base.tolist()):
            if other >= 0:
                ok &= subsets[:, other] == (s == r)
        fits[:, r] = ok
    connected = np.array([_connected(s, adj) for s in subsets])
    held = (subsets[:, :, None] & (fits & connected[:, None])[:, None, :]).any(axis=(0, 2))
    return set(np.flatnonzero(~held).tolist())


def _random_map(rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    """A connected random graph: a random tree plus a few extra links."""
    links = {(int(rng.integers(v)), v) for v in range(1, n)}
    for _ in range(int(rng.integers(0, n))):
        u, v = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        links.add((u, v))
    return sorted(links)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), direct_cuts=st.sampled_from([0, 500]))
def test_a_unit_is_proven_without_territory_exactly_when_brute_force_finds_none(
    seed: int, direct_cuts: int
) -> None:
    # direct_cuts 0: the path cuts through one variable, the form large balls get.
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 10)), int(rng.integers(2, 4))
    links = _random_map(rng, n)
    # Lumpy decimals (exact integer rows): heavy units and zeros make reach short.
    measures = {
        "a": rng.choice([0.0, 0.5, 1.0, 2.5, 8.0], size=n) + 1,
        "b": rng.integers(0, 10, n) / 10,
    }
    tolerance = float(rng.choice([0.05, 0.2, 0.4]))
    base = [int(u) for u in rng.choice(n, size=k, replace=False)] if rng.random() < 0.3 else None
    problem = territory_problem(links, measures, k, tolerance, base=base)
    model = problem.model
    with patch.object(territory_units, "_DIRECT_CUTS", direct_cuts):
        conflict = unit_conflict(model, Rows.from_model(model), Deadline.never())
    missing = _units_without_territory(problem, links)
    # With no time limit every unit is decided: the proof is exact both ways.
    assert (conflict is not None) == bool(missing)
    if conflict is not None:
        assert conflict.unit in missing


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_a_unit_proof_on_inexact_floats_only_claims_what_brute_force_confirms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 10)), int(rng.integers(2, 4))
    links = _random_map(rng, n)
    measures = {"a": rng.lognormal(0, 1, n), "b": rng.random(n) / 3}
    tolerance = float(rng.choice([0.05, 0.2, 0.4]))
    problem = territory_problem(links, measures, k, tolerance)
    model = problem.model
    conflict = unit_conflict(model, Rows.from_model(model), Deadline.never())
    if conflict is not None:
        assert conflict.unit in _units_without_territory(problem, links)


def _retirement_map(seed: int) -> tuple[list[tuple[int, int]], dict[str, np.ndarray]]:
    """A 9 x 9 grid, 6 reps (fair share 1 of people and of elderly): a city (0.9
    people, 0.5 elderly) ringed by 4 young suburbs (0.1, 0.01) and, behind them, 8
    retirement towns (0.05, 0.3); the other units are ordinary (some people and elderly
    at random) and 6 of them small retirement villages (0.02, 0.16).

    The city's territory needs 0.45 more elderly for 0.15 more people at most: a share
    of the towns fits (the reach test's LP passes), but each town costs a suburb on the
    way (0.15 people for 0.31 elderly at best), so no connected territory holds the city;
    without contiguity the villages would do."""
    rng = np.random.default_rng(seed)
    side = 9
    links = sorted(grid_map(side, side)[1])
    ci, cj = (int(x) for x in rng.integers(3, side - 3, size=2))
    steps = np.array([abs(i - ci) + abs(j - cj) for i in range(side) for j in range(side)])
    people, elderly = np.zeros(side * side), np.zeros(side * side)
    people[steps == 0], elderly[steps == 0] = 0.9, 0.5
    people[steps == 1], elderly[steps == 1] = 0.1, 0.01
    people[steps == 2], elderly[steps == 2] = 0.05, 0.3
    far = rng.permutation(np.flatnonzero(steps > 2))
    villages, ordinary = far[:6], far[6:]
    people[villages], elderly[villages] = 0.02, 0.16
    for values in (people, elderly):
        noise = rng.uniform(0.5, 1.5, ordinary.size)
        values[ordinary] = (6.0 - values.sum()) * noise / noise.sum()
    return links, {"people": people.round(6), "elderly": elderly.round(6)}


def test_a_city_behind_young_suburbs_is_proven_infeasible_by_the_unit_proof() -> None:
    for seed in range(2):
        links, measures = _retirement_map(seed)
        loose = alloc.solve(territory_problem(links, measures, 6, 0.05, contiguous=False), 10)
        assert loose.status.has_solution, loose.explanation
        problem = territory_problem(links, measures, 6, 0.05)
        assert problem.model.n_units > alloc.solvers.territories.EXACT_UNIT_LIMIT
        model = problem.model
        # The reach test's fractional bound passes: only the exact proof shows it.
        assert not reach_conflicts(model, Rows.from_model(model), Deadline.never())
        with CpuShare() as share:
            result = alloc.solve(problem, time_limit=10, seed=0, workers=1)
        assert not result.status.has_solution, result.explanation  # it is infeasible
        if result.status is alloc.Status.UNKNOWN and share.busy:
            continue  # a starved machine may leave the proof no time: UNKNOWN is honest
        assert result.status is alloc.Status.INFEASIBLE, result.explanation
        city = f"u{int(np.argmax(measures['people'])):03d}"
        assert f"'{city}'" in result.explanation
        assert "no connected territory can hold" in result.explanation


def test_float32_measures_never_make_a_feasible_map_infeasible() -> None:
    # The review's counterexample: measures stored as float32 (2.6 reads 2.5999999), a
    # checked plan exists, yet 2.5999999 was scaled as the decimal 2.6 against a limit
    # rounded down to 25: the unit proof and alloc.solve said INFEASIBLE.
    import pandas as pd

    m0 = np.array([0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 2.6, 1.7], dtype=np.float32).astype(float)
    ids = [f"c{i}" for i in range(8)]
    links = [(0, 1), (0, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 5), (4, 6), (5, 7), (6, 7)]
    neighbors = pd.DataFrame(
        {
            "customer_id": [ids[u] for u, v in links] + [ids[v] for u, v in links],
            "neighbor_id": [ids[v] for u, v in links] + [ids[u] for u, v in links],
        }
    )
    problem = alloc.Problem(
        pd.DataFrame({"customer_id": ids, "m0": m0}),
        pd.DataFrame({"rep_id": ["r0", "r1", "r2", "r3"]}),
        rules=[alloc.Contiguous(neighbors), alloc.Balance("m0", max=2.0)],
    )
    plan = pd.Series(["r0"] * 6 + ["r1", "r2"], index=problem.customer_ids.copy())
    assert alloc.check(problem, plan) == []
    model = problem.model
    assert unit_conflict(model, Rows.from_model(model), Deadline.never()) is None
    result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    assert result.status is not alloc.Status.INFEASIBLE, result.explanation


def test_units_whose_reach_is_too_large_to_model_are_dropped_not_retried() -> None:
    # 60 x 60 cells, 2 reps: every unit's reach ball holds more units than the proof
    # models, so no unit can be decided; with no deadline the loop spun for ever.
    _, edges = grid_map(60, 60)
    rng = np.random.default_rng(0)
    measures = {"a": rng.integers(1, 9, 3600).astype(float)}
    problem = territory_problem(sorted(edges), measures, 2, 0.05)
    model = problem.model
    assert unit_conflict(model, Rows.from_model(model), Deadline.never()) is None


def test_the_quick_sweep_proves_the_city_behind_young_suburbs_and_claims_nothing_else() -> None:
    # The sweep the territory solver runs before its search: the most constrained units,
    # balls shrunk by the Lagrangian reach, CP-SAT only on the balls it halved. The city
    # is among the first units; on the same map without the retirement towns' pull (a
    # wider elderly window) nothing may be claimed.
    links, measures = _retirement_map(0)
    problem = territory_problem(links, measures, 6, 0.05)
    model = problem.model
    conflict = unit_conflict(model, Rows.from_model(model), Deadline.never(), sweep=16)
    assert conflict is not None
    assert conflict.unit == model.customer_unit[int(np.argmax(measures["people"]))]
    loose = territory_problem(links, measures, 6, 0.6)
    model = loose.model
    assert unit_conflict(model, Rows.from_model(model), Deadline.never(), sweep=16) is None


def test_the_full_unit_proof_beside_the_search_stops_it_and_names_the_unit() -> None:
    # Without the quick sweep, the proof runs in a thread beside the search's second
    # half (the search cannot find a plan: there is none); its proof ends the solve.
    links, measures = _retirement_map(0)
    problem = territory_problem(links, measures, 6, 0.05)
    with patch.object(territories, "_EARLY_UNITS", 0), CpuShare() as share:
        result = alloc.solve(problem, time_limit=10, seed=0, workers=1)
    assert not result.status.has_solution, result.explanation
    if result.status is alloc.Status.UNKNOWN and share.busy:
        return  # a starved machine may leave the proof no time: UNKNOWN is honest
    assert result.status is alloc.Status.INFEASIBLE, result.explanation
    assert f"'u{int(np.argmax(measures['people'])):03d}'" in result.explanation
    # The proof stopped the search: the solve ended before its time limit.
    assert share.wall < 10, share.wall
