"""The reach test (issue 14): a proof that no connected territory can hold some unit.

Checked against brute force on tiny grids (a conflict is only ever reported where no
plan exists) and on a generated family of maps, a city ringed by busy suburbs, where
the problem is feasible without contiguity (so the relaxation proves nothing) but the
city's territory cannot gather the area its window asks for before its population
runs over: the reach test proves it in one LP per unit.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows
from alloc.solvers.territory_reach import reach_conflicts
from conftest import grid_map, territory_problem


def _grid_links(rows: int, cols: int) -> list[tuple[int, int]]:
    """The rook links of a rows x cols grid, in a fixed order."""
    return sorted(grid_map(rows, cols)[1])


def _has_plan(
    links: list[tuple[int, int]],
    measures: dict[str, np.ndarray],
    k: int,
    tolerance: float,
    base: list[int] | None,
) -> bool:
    """Brute force: any assignment with connected territories inside every window."""
    n = len(next(iter(measures.values())))
    plans = np.array(list(itertools.product(range(k), repeat=n)), dtype=np.int64)
    ok = np.ones(len(plans), dtype=bool)
    for w in measures.values():
        share = w.sum() / k
        for r in range(k):
            load = (plans == r) @ w
            ok &= (load >= (1 - tolerance) * share - 1e-9) & (
                load <= (1 + tolerance) * share + 1e-9
            )
    if base is not None:
        for r, u in enumerate(base):
            ok &= plans[:, u] == r
    adj = np.zeros((n, n), dtype=np.int64)
    for u, v in links:
        adj[u, v] = adj[v, u] = 1
    for r in range(k):
        plans = plans[ok]
        member = plans == r
        reach = np.zeros_like(member)
        reach[np.arange(len(plans)), np.argmax(member, axis=1)] = member.any(axis=1)
        for _ in range(n):
            reach = member & (reach | (reach.astype(np.int64) @ adj > 0))
        ok = (reach == member).all(axis=1)
    return bool(ok.any())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_a_reach_conflict_is_only_reported_where_brute_force_finds_no_plan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = [(2, 3), (2, 4), (3, 3)][int(rng.integers(3))]
    n, k = rows * cols, int(rng.integers(2, 4))
    links = _grid_links(rows, cols)
    # Lumpy weights (a few heavy units, zeros) so that reach is often short.
    measures = {
        "a": rng.choice([0, 1, 2, 8, 20], size=n).astype(float) + 1,
        "b": rng.integers(0, 10, n).astype(float),
    }
    tolerance = float(rng.choice([0.05, 0.2, 0.4, 0.8]))
    base = [int(u) for u in rng.choice(n, size=k, replace=False)] if rng.random() < 0.3 else None
    problem = territory_problem(links, measures, k, tolerance, base=base)
    conflicts = reach_conflicts(problem.model, Rows.from_model(problem.model), Deadline.never())
    if conflicts:
        assert not _has_plan(links, measures, k, tolerance, base)


def _city_map(seed: int) -> tuple[list[tuple[int, int]], dict[str, np.ndarray]]:
    """A 9 x 9 grid, 6 reps: a city of 0.8 of a fair share of people, its 4 neighbours
    0.15 each and the 8 units two steps away 0.145 each; the other units alternate at
    random between nearly empty and busy. Every unit has area 1."""
    rng = np.random.default_rng(seed)
    side = 9
    links = _grid_links(side, side)
    ci, cj = (int(x) for x in rng.integers(3, side - 3, size=2))
    steps = np.array(
        [abs(i - ci) + abs(j - cj) for i in range(side) for j in range(side)], dtype=int
    )
    people = np.zeros(side * side)
    people[steps == 0], people[steps == 1], people[steps == 2] = 0.8, 0.15, 0.145
    far = np.flatnonzero(steps > 2)
    busy = rng.random(far.size) < 0.5
    people[far[~busy]] = 0.006
    people[far[busy]] = (6.0 - people[steps <= 2].sum() - 0.006 * (~busy).sum()) / busy.sum()
    return links, {"people": people, "area": np.ones(side * side)}


def test_a_city_ringed_by_busy_suburbs_is_proven_infeasible_on_generated_maps() -> None:
    for seed in range(3):
        links, measures = _city_map(seed)
        # Without contiguity the windows can be met: nothing but contiguity proves it.
        loose_problem = territory_problem(links, measures, 6, 0.1, contiguous=False)
        loose = alloc.solve(loose_problem, time_limit=10)
        assert loose.status.has_solution, loose.explanation
        problem = territory_problem(links, measures, 6, 0.1)
        assert problem.model.n_units > alloc.solvers.territories.EXACT_UNIT_LIMIT
        result = alloc.solve(problem, time_limit=20, seed=0, workers=1)
        assert result.status is alloc.Status.INFEASIBLE, result.explanation
        city = f"u{int(np.argmax(measures['people'])):03d}"
        assert city in result.explanation


def _unit_without_rep(last: bool) -> alloc.Problem:
    """A 3 x 3 grid whose first or last unit no rep may serve (a Match no rep has)."""
    n = 9
    industry = ["a"] * n
    industry[n - 1 if last else 0] = "zinc"
    problem = territory_problem(sorted(grid_map(3, 3)[1]), {"m": np.arange(1.0, n + 1)}, 2, 0.5)
    customers = problem.customers.assign(industry=industry)
    reps = problem.reps.assign(skills="a")
    return alloc.Problem(customers, reps, rules=[*problem.rules, alloc.Match("industry", "skills")])


def test_a_unit_no_rep_may_serve_is_no_index_error_but_a_conflict() -> None:
    # Units without pairs made the per-unit minimum read past the end (reduceat with a
    # start equal to the number of pairs: IndexError) when the last unit had none.
    from alloc.solvers.territory_reach import ReachBalls
    from alloc.solvers.territory_units import unit_conflict

    for last in (True, False):
        problem = _unit_without_rep(last)
        model = problem.model
        rows = Rows.from_model(model)
        unit = model.customer_unit[8 if last else 0]
        found = reach_conflicts(model, rows, Deadline.never())
        assert [c.unit for c in found] == [unit]
        assert ReachBalls(model, rows).balls(np.array([unit]))[0] == {}
        conflict = unit_conflict(model, rows, Deadline.never())
        assert conflict is not None and conflict.unit == unit
