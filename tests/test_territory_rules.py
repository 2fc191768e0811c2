"""Territory rules (issue 14): Contiguous, Balance windows, MinimizeDispersion.

Bad input is refused before any work with the ids and the fix named; the compiled
geography is over units; Balance(min, max) equals the tolerance form when symmetric.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alloc
from alloc.errors import InvalidParameterError, InvalidProblemError


def _line(n: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers on a line a-b-c-d with x/y and a workload, and their neighbour table."""
    ids = [chr(ord("a") + i) for i in range(n)]
    customers = pd.DataFrame(
        {"customer_id": ids, "x": np.arange(n, dtype=float), "y": 0.0, "w": [1, 2, 3, 4][:n]}
    )
    links = pd.DataFrame({"customer_id": ids[:-1], "neighbor_id": ids[1:]})
    return customers, links


def _reps(**columns: object) -> pd.DataFrame:
    return pd.DataFrame({"rep_id": ["r1", "r2"], **columns})


# ---- Contiguous: bad input ------------------------------------------------------------
def test_neighbours_naming_unknown_ids_are_refused_with_the_ids() -> None:
    customers, links = _line()
    links.loc[len(links)] = ["d", "zz"]
    with pytest.raises(InvalidProblemError, match="'zz'"):
        alloc.Problem(customers, _reps(), rules=[alloc.Contiguous(links)])


def test_islands_are_refused_by_default_and_named_with_the_fix() -> None:
    customers, links = _line()
    links = links.iloc[:2]  # d loses its only link
    with pytest.raises(InvalidProblemError, match=r"'d'.*islands='allow'"):
        alloc.Problem(customers, _reps(), rules=[alloc.Contiguous(links)])
    problem = alloc.Problem(customers, _reps(), rules=[alloc.Contiguous(links, islands="allow")])
    assert problem.model.geography is not None and problem.model.geography.contiguous


def test_isolated_nodes_of_a_graph_count_as_islands() -> None:
    customers, links = _line()
    graph = nx.Graph()
    graph.add_edges_from(links.itertuples(index=False))
    graph.add_node("zz")
    with pytest.raises(InvalidProblemError, match="'zz'"):
        alloc.Problem(customers, _reps(), rules=[alloc.Contiguous(graph)])


def test_a_base_unit_that_is_not_a_customer_is_refused() -> None:
    customers, links = _line()
    with pytest.raises(InvalidProblemError, match=r"r2->nowhere"):
        alloc.Problem(
            customers, _reps(home=["a", "nowhere"]), rules=[alloc.Contiguous(links, base="home")]
        )


def test_two_reps_with_one_base_are_refused() -> None:
    customers, links = _line()
    with pytest.raises(InvalidProblemError, match="share a base unit"):
        alloc.Problem(
            customers, _reps(home=["b", "b"]), rules=[alloc.Contiguous(links, base="home")]
        )


def test_a_base_unit_not_eligible_for_its_rep_is_refused() -> None:
    customers, links = _line()
    with pytest.raises(InvalidProblemError, match=r"r1->a"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alloc.Problem(
            customers,
            _reps(home=["a", "d"]),
            rules=[alloc.Contiguous(links, base="home"), alloc.Forbid([("a", "r1")])],
        )


def test_neighbors_of_the_wrong_type_and_bad_options_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match="networkx Graph"):
        alloc.Contiguous([("a", "b")])
    _, links = _line()
    with pytest.raises(InvalidParameterError, match="islands"):
        alloc.Contiguous(links, islands="maybe")


def test_base_units_are_pins_and_the_graph_is_over_units() -> None:
    customers, links = _line()
    customers["family"] = ["f", "f", None, None]  # a and b are one unit
    problem = alloc.Problem(
        customers,
        _reps(home=["a", "d"]),
        rules=[alloc.Contiguous(links, base="home"), alloc.Together("family")],
    )
    model = problem.model
    g = model.geography
    assert g is not None and g.n_units == model.n_units == 3
    assert g.base.tolist() == [0, 2]  # unit of a (with b), unit of d
    assert sorted(g.neighbours(1).tolist()) == [0, 2]  # c touches {a, b} and d
    assert model.degree.tolist() == [1, 2, 1]  # the bases go to their own reps only


# ---- Balance windows --------------------------------------------------------------------
def test_balance_needs_exactly_one_of_tolerance_or_a_window() -> None:
    with pytest.raises(InvalidParameterError, match="exactly one"):
        alloc.Balance("w")
    with pytest.raises(InvalidParameterError, match="exactly one"):
        alloc.Balance("w", 0.1, min=0.9)
    with pytest.raises(InvalidParameterError, match="at most max"):
        alloc.Balance("w", min=1.2, max=0.8)
    with pytest.raises(InvalidParameterError, match="min"):
        alloc.Balance("w", min=-0.1)


def test_balance_window_words_name_the_window() -> None:
    assert alloc.Balance("w", 0.05).window == (0.95, 1.05)
    assert alloc.Balance("w", min=0.8, max=1.2).window_text() == "[0.8, 1.2] x share"
    assert alloc.Balance("w", max=1.1).window == (None, 1.1)
    customers, _ = _line()
    problem = alloc.Problem(customers, _reps(), rules=[alloc.Balance("w", min=0.8, max=1.2)])
    broken = alloc.check(problem, pd.Series({"a": "r1", "b": "r1", "c": "r2", "d": "r2"}))
    assert len(broken) == 1 and "[0.8, 1.2] x share" in broken[0].message


@given(
    weights=st.lists(st.integers(1, 9), min_size=3, max_size=7),
    tolerance=st.sampled_from([0.0, 0.1, 0.25, 0.5]),
)
def test_a_symmetric_window_equals_the_tolerance_form(weights: list[int], tolerance: float) -> None:
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(weights))], "w": weights})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    objective = alloc.MinimizeImbalance("w")
    by_tol = alloc.Problem(
        customers, reps, rules=[alloc.Balance("w", tolerance)], objective=objective
    )
    window = alloc.Balance("w", min=1 - tolerance, max=1 + tolerance)
    by_window = alloc.Problem(customers, reps, rules=[window], objective=objective)
    (a,), (b,) = by_tol.model.constraints, by_window.model.constraints
    assert np.allclose(a.lo, b.lo) and np.allclose(a.hi, b.hi)
    first = alloc.solve(by_tol, time_limit=5, seed=0, workers=1)
    second = alloc.solve(by_window, time_limit=5, seed=0, workers=1)
    assert first.status is second.status
    if first.status.has_solution:
        assert first.objective == pytest.approx(second.objective, abs=1e-9)


def test_a_one_sided_window_bounds_one_side_only() -> None:
    customers, _ = _line()
    problem = alloc.Problem(customers, _reps(), rules=[alloc.Balance("w", min=0.8)])
    (row,) = problem.model.constraints
    assert np.allclose(row.lo, 0.8 * 5.0) and np.isinf(row.hi).all()


# ---- MinimizeDispersion -------------------------------------------------------------------
def test_dispersion_without_coordinates_is_refused() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "w": [1, 2]})
    with pytest.raises(InvalidProblemError, match=r"\['x', 'y'\]"):
        alloc.Problem(customers, _reps(), objective=alloc.MinimizeDispersion())
    with pytest.raises(InvalidParameterError, match="kind"):
        alloc.MinimizeDispersion(kind="mean")


def test_dispersion_centres_are_rep_locations_then_bases_then_chosen() -> None:
    customers, links = _line()
    at_reps = alloc.Problem(
        customers, _reps(x=[0.0, 3.0], y=[0.0, 0.0]), objective=alloc.MinimizeDispersion()
    )
    assert at_reps.model.geography is None  # a plain cost
    assert at_reps.model.cost.max() == pytest.approx(3.0)
    at_bases = alloc.Problem(
        customers,
        _reps(home=["a", "d"]),
        rules=[alloc.Contiguous(links, base="home")],
        objective=alloc.MinimizeDispersion("max"),
    )
    g = at_bases.model.geography
    assert g is not None and g.fixed_distance is not None and g.centre_kind == "max"
    chosen = alloc.Problem(customers, _reps(), objective=alloc.MinimizeDispersion())
    g = chosen.model.geography
    assert g is not None and g.chooses_centres and not g.contiguous
    assert g.distance is not None and g.distance.shape == (4, 4)


def test_latlon_distances_are_great_circle_kilometres() -> None:
    customers = pd.DataFrame(
        {"customer_id": ["paris", "london"], "lat": [48.8566, 51.5074], "lon": [2.3522, -0.1278]}
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "lat": [48.8566, 0.0], "lon": [2.3522, 0.0]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeDispersion())
    value = alloc.objective_value(problem, pd.Series({"paris": "r1", "london": "r1"}))
    assert value == pytest.approx(343.5, abs=1.0)


def test_partial_bases_with_dispersion_are_refused() -> None:
    customers, links = _line()
    with pytest.raises(InvalidProblemError, match="'r2'"):
        alloc.Problem(
            customers,
            _reps(home=["a", None]),
            rules=[alloc.Contiguous(links, base="home")],
            objective=alloc.MinimizeDispersion(),
        )


# ---- the checker ----------------------------------------------------------------------------
def test_the_checker_names_disconnected_customers_and_their_rep() -> None:
    customers, links = _line()
    problem = alloc.Problem(
        customers, _reps(home=["a", "d"]), rules=[alloc.Contiguous(links, "home")]
    )
    assert alloc.check(problem, pd.Series({"a": "r1", "b": "r1", "c": "r2", "d": "r2"})) == []
    broken = alloc.check(problem, pd.Series({"a": "r1", "b": "r2", "c": "r1", "d": "r2"}))
    words = " ".join(v.message for v in broken)
    assert "rep 'r1'" in words and "'c'" in words  # c is cut off from r1's base a
    assert "rep 'r2'" in words and "'b'" in words
    away = alloc.check(problem, pd.Series({"a": "r2", "b": "r2", "c": "r2", "d": "r2"}))
    assert any("base units 'a'" in v.message for v in away)


def test_the_checker_recomputes_chosen_centres_by_brute_force() -> None:
    customers, links = _line()
    problem = alloc.Problem(
        customers,
        _reps(),
        rules=[alloc.Contiguous(links)],
        objective=alloc.MinimizeDispersion(),
    )
    plan = pd.Series({"a": "r1", "b": "r1", "c": "r1", "d": "r2"})
    # r1: centre b, distances 1 + 0 + 1; r2: d alone.
    assert alloc.objective_value(problem, plan) == pytest.approx(2.0)
    centres, _ = alloc.checker.territory_centres(problem, plan, problem.objective[0])
    assert centres == {"r1": "b", "r2": "d"}


def test_rebalance_refuses_territory_problems_it_cannot_keep_connected() -> None:
    customers, links = _line()
    problem = alloc.Problem(customers, _reps(), rules=[alloc.Contiguous(links)])
    plan = pd.Series({"a": "r1", "b": "r1", "c": "r2", "d": "r2"})
    with pytest.raises(InvalidProblemError, match=r"alloc\.solve"):
        alloc.rebalance(problem, plan, max_moves=1, time_limit=1)


def test_a_distance_table_must_cover_every_customer_with_finite_values() -> None:
    customers, _ = _line()
    ids = customers["customer_id"].tolist()
    table = pd.DataFrame(1.0, index=ids[:3], columns=ids)
    with pytest.raises(InvalidProblemError, match="'d'"):
        alloc.Problem(customers, _reps(), objective=alloc.MinimizeDispersion(distances=table))
    table = pd.DataFrame(1.0, index=ids, columns=ids)
    table.loc["b", "c"] = -1.0
    with pytest.raises(InvalidProblemError, match="'b'"):
        alloc.Problem(customers, _reps(), objective=alloc.MinimizeDispersion(distances=table))
    with pytest.raises(InvalidParameterError, match="distances"):
        alloc.MinimizeDispersion(distances=[[0.0]])


@given(
    weights=st.lists(st.integers(1, 9), min_size=3, max_size=6),
    window=st.sampled_from([(0.5, 1.5), (0.8, 1.3), (0.9, None), (None, 1.2), (0.6, 1.0)]),
    m=st.integers(2, 3),
)
def test_asymmetric_windows_solve_to_the_brute_force_optimum(
    weights: list[int],
    window: tuple[float | None, float | None],
    m: int,
    brute: Callable[[alloc.Problem], float | None],
) -> None:
    # The window compiles to the rows' lo/hi, which every solver already reads.
    n = len(weights)
    customers = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(n)], "w": weights, "p": weights[::-1]}
    )
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)]})
    problem = alloc.Problem(
        customers,
        reps,
        rules=[alloc.Balance("w", min=window[0], max=window[1])],
        objective=alloc.MinimizeImbalance("p"),
    )
    result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    optimum = brute(problem)
    if optimum is None:
        assert result.status is alloc.Status.INFEASIBLE
    else:
        assert result.status is alloc.Status.OPTIMAL
        assert result.objective == pytest.approx(optimum, abs=1e-9)
