"""HiGHS on a core of pairs (alloc.solvers.mip) and its turn in the core search."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from hypothesis import given

import alloc
from alloc.solvers import cores, mip
from alloc.solvers.deadline import Deadline
from alloc.solvers.state import Rows, score_of
from conftest import gap_instances, gap_problem


@given(instance=gap_instances())
def test_mip_on_every_pair_finds_the_brute_force_optimum(
    instance: tuple[np.ndarray, np.ndarray, np.ndarray],
    brute: Callable[[alloc.Problem], float | None],
) -> None:
    problem = gap_problem(*instance)
    model = problem.model
    rows = Rows.from_model(model)
    every = np.ones(model.n_pairs, dtype=bool)
    found = mip.solve_mip(model, rows, pair_mask=every, deadline=Deadline.after(5))
    expected = brute(problem)
    if expected is None:
        assert found.status == "INFEASIBLE" and found.chosen is None
        return
    assert found.status == "OPTIMAL" and found.chosen is not None
    assert np.array_equal(model.pair_unit[found.chosen], np.arange(model.n_units))
    assert score_of(model, rows, found.chosen, rows.loads(model, found.chosen)).penalty == 0
    assert float(model.cost[found.chosen].sum()) == expected


def test_mip_keeps_to_the_core() -> None:
    # c0 is cheapest on r0, c1 on r0 too; capacity 1 each. Without (c1, r1) in the core
    # the only plan is c0 -> r1, c1 -> r0 (cost 5 + 2 = 7), though the optimum overall
    # is c0 -> r0, c1 -> r1 (1 + 3 = 4).
    cost = np.array([[1, 5], [2, 3]])
    problem = gap_problem(cost, np.ones((2, 2), dtype=int), np.array([1, 1]))
    model = problem.model
    rows = Rows.from_model(model)
    mask = np.ones(model.n_pairs, dtype=bool)
    c1_r1 = int(np.flatnonzero((model.pair_unit == 1) & (model.pair_rep == 1))[0])
    mask[c1_r1] = False
    found = mip.solve_mip(model, rows, pair_mask=mask, deadline=Deadline.after(5))
    assert found.chosen is not None and float(model.cost[found.chosen].sum()) == 7
    whole = mip.solve_mip(model, rows, pair_mask=np.ones_like(mask), deadline=Deadline.after(5))
    assert whole.chosen is not None and float(model.cost[whole.chosen].sum()) == 4


def test_a_core_missing_a_customer_is_infeasible_without_a_solve() -> None:
    problem = gap_problem(np.array([[1, 5], [2, 3]]), np.ones((2, 2), dtype=int), np.array([2, 2]))
    model = problem.model
    mask = model.pair_unit != 1
    found = mip.solve_mip(model, Rows.from_model(model), pair_mask=mask, deadline=Deadline.after(5))
    assert found.status == "INFEASIBLE" and found.chosen is None


def _record(monkeypatch, name: str) -> list[object]:  # type: ignore[no-untyped-def]
    """Wrap ``cores.<name>`` so that every value it returns is appended to a list."""
    calls: list[object] = []
    original = getattr(cores, name)

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        value = original(*args, **kwargs)
        calls.append(value)
        return value

    monkeypatch.setattr(cores, name, recording)
    return calls


def test_long_core_searches_give_highs_a_turn(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = _record(monkeypatch, "solve_mip")
    monkeypatch.setattr(cores, "MIP_MIN_SECONDS", 0.0)
    monkeypatch.setattr(cores, "MIP_BESIDE_MAX_PAIRS", 0)  # the core turns, not beside
    # Type E: a narrow second core, and not proven on the first core in this time.
    problem = alloc.datasets.make_gap(10, 100, kind="e", seed=3)
    result = alloc.solve(problem, time_limit=4, seed=0, workers=2)
    assert result.status.has_solution
    assert alloc.check(problem, result.assignment) == []
    assert len(calls) == 1
    assert result.objective >= result.bound


def test_a_start_plan_is_kept_when_time_is_too_short_to_improve_it() -> None:
    problem = alloc.datasets.make_gap(5, 30, kind="c", seed=2)
    model = problem.model
    rows = Rows.from_model(model)
    every = np.ones(model.n_pairs, dtype=bool)
    optimum = mip.solve_mip(model, rows, pair_mask=every, deadline=Deadline.after(30))
    assert optimum.status == "OPTIMAL" and optimum.chosen is not None
    started = mip.solve_mip(
        model, rows, pair_mask=every, deadline=Deadline.after(0.1), start=optimum.chosen
    )
    assert started.chosen is not None
    assert float(model.cost[started.chosen].sum()) == float(model.cost[optimum.chosen].sum())


def test_a_background_search_stops_on_request_with_a_valid_bound() -> None:
    problem = alloc.datasets.make_gap(40, 400, kind="e", seed=1)
    model = problem.model
    rows = Rows.from_model(model)
    search = mip.MipSearch(
        model, rows, pair_mask=np.ones(model.n_pairs, dtype=bool), deadline=Deadline.after(60)
    ).start()
    assert search.running()
    started = time.perf_counter()
    time.sleep(1.0)
    found = search.finish()
    assert time.perf_counter() - started < 10  # stopped, not run to its time limit
    assert not search.running()
    assert found.status in ("FEASIBLE", "UNKNOWN")
    if found.chosen is not None:
        assert score_of(model, rows, found.chosen, rows.loads(model, found.chosen)).penalty == 0
        assert found.bound <= float(model.cost[found.chosen].sum())


def test_small_models_get_highs_beside_cp_sat_and_an_optimal_plan(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    started = _record(monkeypatch, "MipSearch")
    monkeypatch.setattr(cores, "MIP_MIN_SECONDS", 0.0)
    problem = alloc.datasets.make_gap(5, 40, kind="c", seed=4)
    model = problem.model
    result = alloc.solve(problem, time_limit=10, seed=0, workers=2)
    assert len(started) == 1
    assert alloc.check(problem, result.assignment) == []
    assert result.status == alloc.Status.OPTIMAL
    rows = Rows.from_model(model)
    every = np.ones(model.n_pairs, dtype=bool)
    optimum = mip.solve_mip(model, rows, pair_mask=every, deadline=Deadline.after(30))
    assert optimum.status == "OPTIMAL" and optimum.chosen is not None
    assert result.objective == float(model.cost[optimum.chosen].sum()) == result.bound


def test_one_worker_keeps_highs_out_of_the_way(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    started: list[object] = []
    monkeypatch.setattr(cores, "MipSearch", lambda *a, **k: started.append(a))
    monkeypatch.setattr(cores, "MIP_MIN_SECONDS", 0.0)
    problem = alloc.datasets.make_gap(5, 40, kind="c", seed=4)
    result = alloc.solve(problem, time_limit=3, seed=0, workers=1)
    assert started == [] and alloc.check(problem, result.assignment) == []


def test_cp_sat_stops_when_told() -> None:
    # The portfolio sets the event when HiGHS, beside CP-SAT, has proven its plan
    # optimal; CP-SAT must then end long before its own time limit.
    from alloc.solvers.cpsat import solve_cpsat
    from alloc.solvers.scaling import Scaled

    problem = alloc.datasets.make_gap(20, 200, kind="d", seed=1)
    model = problem.model
    rows = Rows.from_model(model)
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    found = solve_cpsat(
        model,
        rows,
        Scaled.from_rows(model, rows),
        deadline=Deadline.after(120),
        workers=1,
        stop=stop,
    )
    timer.join()
    assert found.wall_time < 30
    assert found.status in ("FEASIBLE", "UNKNOWN")
