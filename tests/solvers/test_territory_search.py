"""Territory search on grids and random planar maps, checked independently with networkx."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from scipy.spatial import Delaunay

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.data.tolerance import lower_limit, upper_limit
from alloc.solvers.deadline import Deadline
from alloc.solvers.territory_search import TerritoryPlan, dispersion_value, search
from conftest import balanced_model, grid_map, neighbour_csr


# ---- instances built directly as Model + Geography ---------------------------------------
def _delaunay_edges(points: np.ndarray) -> set[tuple[int, int]]:
    edges = set()
    for tri in Delaunay(points).simplices:
        for i in range(3):
            a, b = int(tri[i]), int(tri[(i + 1) % 3])
            edges.add((min(a, b), max(a, b)))
    return edges


def _instance(
    points: np.ndarray,
    edges: set[tuple[int, int]],
    measures: list[np.ndarray],
    n_reps: int,
    tol: float,
    *,
    kind: str | None = "sum",
    fixed: np.ndarray | None = None,
    base: np.ndarray | None = None,
    eligible: np.ndarray | None = None,
    contiguous: bool = True,
) -> tuple[Model, Geography, nx.Graph]:
    """Model with one balance window (share +- tol) per measure, and its geography."""
    n, R = points.shape[0], n_reps
    model = balanced_model(n, measures, R, tol, eligible)
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    indptr, indices = neighbour_csr(n, edges)
    geo = Geography(
        indptr,
        indices,
        contiguous,
        np.full(R, -1) if base is None else base,
        kind,
        1.0 if kind else 0.0,
        fixed,
        None if fixed is not None or kind is None else dist,
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    return model, geo, graph


def _random_map(n: int, n_reps: int, seed: int, tol: float = 0.1, **kw: object):
    rng = np.random.default_rng(seed)
    points = rng.random((n, 2)) * 100
    measures = [rng.integers(10, 100, n).astype(float), rng.lognormal(2.0, 0.5, n)]
    return _instance(points, _delaunay_edges(points), measures, n_reps, tol, **kw)  # type: ignore[arg-type]


# ---- independent checks ------------------------------------------------------------------
def _reps(model: Model, plan: TerritoryPlan) -> np.ndarray:
    assert (plan.chosen >= 0).all()
    assert np.array_equal(model.pair_unit[plan.chosen], np.arange(model.n_units))
    return model.pair_rep[plan.chosen]


def _connected(graph: nx.Graph, reps: np.ndarray, n_reps: int) -> bool:
    for r in range(n_reps):
        members = np.flatnonzero(reps == r).tolist()
        if members and not nx.is_connected(graph.subgraph(members)):
            return False
    return True


def _rows_hold(model: Model, chosen: np.ndarray) -> bool:
    for con in model.constraints:
        load = model.loads(con.weight, chosen)
        if np.any(load > upper_limit(con.hi)) or np.any(load < lower_limit(con.lo)):
            return False
    return True


def _brute_dispersion(dist: np.ndarray, reps: np.ndarray, n_reps: int, kind: str) -> float:
    total, worst = 0.0, 0.0
    for r in range(n_reps):
        members = np.flatnonzero(reps == r)
        if members.size == 0:
            continue
        best = None
        for c in members:
            d = dist[members, c]
            value = d.max() if kind == "max" else d.sum()
            best = value if best is None else min(best, value)
        assert best is not None
        total += best
        worst = max(worst, best)
    return worst if kind == "max" else total


# ---- tests -------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "n_reps", "seed"), [(120, 4, 0), (300, 8, 1)])
def test_random_map_plans_are_connected_balanced_and_priced(n: int, n_reps: int, seed: int):
    model, geo, graph = _random_map(n, n_reps, seed)
    plan = search(model, geo, Deadline.after(10), seed=seed)
    reps = _reps(model, plan)
    assert plan.feasible
    assert _connected(graph, reps, n_reps)
    assert _rows_hold(model, plan.chosen)
    assert geo.distance is not None
    assert np.all(reps[plan.centres] == np.arange(n_reps))
    brute = _brute_dispersion(np.asarray(geo.distance), reps, n_reps, "sum")
    assert plan.objective == pytest.approx(brute)
    assert dispersion_value(model, geo, plan.chosen) == pytest.approx(brute)


def test_p_centre_dispersion_is_the_largest_distance_to_a_centre():
    model, geo, graph = _random_map(100, 4, 3, kind="max")
    plan = search(model, geo, Deadline.after(10), seed=0)
    reps = _reps(model, plan)
    assert plan.feasible and _connected(graph, reps, 4)
    dist = np.asarray(geo.distance)
    assert plan.objective >= _brute_dispersion(dist, reps, 4, "max") - 1e-9
    at_centres = dist[np.arange(100), plan.centres[reps]].max()
    assert plan.objective == pytest.approx(at_centres)


def test_base_units_stay_with_their_reps_on_a_grid():
    points, edges = grid_map(8, 8)
    rng = np.random.default_rng(4)
    base = np.array([0, 7, 56, 63])
    model, geo, graph = _instance(
        points, edges, [rng.integers(1, 10, 64).astype(float)], 4, 0.1, base=base
    )
    plan = search(model, geo, Deadline.after(10), seed=2)
    reps = _reps(model, plan)
    assert plan.feasible
    assert np.array_equal(reps[base], np.arange(4))
    assert _connected(graph, reps, 4)
    assert _rows_hold(model, plan.chosen)


def test_fixed_centres_and_eligibility_are_respected():
    rng = np.random.default_rng(5)
    points = rng.random((90, 2)) * 10
    homes = np.array([[1.0, 1.0], [9.0, 1.0], [5.0, 9.0]])
    fixed = np.sqrt(((points[:, None, :] - homes[None, :, :]) ** 2).sum(-1))
    eligible = np.ones((90, 3), bool)
    eligible[points[:, 0] < 3, 1] = False  # the east rep does not serve the far west
    measures = [rng.integers(1, 20, 90).astype(float)]
    model, geo, graph = _instance(
        points, _delaunay_edges(points), measures, 3, 0.15, fixed=fixed, eligible=eligible
    )
    plan = search(model, geo, Deadline.after(10), seed=0)
    reps = _reps(model, plan)
    assert plan.feasible and _connected(graph, reps, 3)
    assert eligible[np.arange(90), reps].all()
    assert np.all(plan.centres == -1)
    assert plan.objective == pytest.approx(fixed[np.arange(90), reps].sum())


def test_same_seed_gives_the_same_plan():
    model, geo, _ = _random_map(40, 3, 6)  # small: the search ends by convergence
    first = search(model, geo, Deadline.after(60), seed=11)
    second = search(model, geo, Deadline.after(60), seed=11)
    assert np.array_equal(first.chosen, second.chosen)
    assert first.objective == second.objective


def test_a_cut_start_is_regrown_into_connected_territories():
    model, geo, graph = _random_map(100, 4, 7)
    rng = np.random.default_rng(0)
    start = model.pair_index(np.arange(100), rng.integers(0, 4, 100))  # scattered
    plan = search(model, geo, Deadline.after(10), seed=0, start=start)
    reps = _reps(model, plan)
    assert plan.feasible and _connected(graph, reps, 4)


def test_without_contiguity_only_rows_and_dispersion_count():
    model, geo, _ = _random_map(60, 3, 8, contiguous=False)
    plan = search(model, geo, Deadline.after(10), seed=0)
    assert plan.feasible and _rows_hold(model, plan.chosen)
    assert plan.objective == pytest.approx(dispersion_value(model, geo, plan.chosen))


@pytest.mark.parametrize("kind", ["sum", "max"])
def test_dispersion_value_matches_brute_force(kind: str):
    rng = np.random.default_rng(9)
    for trial in range(5):
        model, geo, _ = _random_map(12, 3, 20 + trial, kind=kind)
        chosen = model.pair_index(np.arange(12), rng.integers(0, 3, 12))
        reps = model.pair_rep[chosen]
        brute = _brute_dispersion(np.asarray(geo.distance), reps, 3, kind)
        assert dispersion_value(model, geo, chosen) == pytest.approx(brute)


def _optimum(model: Model, geo: Geography, graph: nx.Graph, kind: str) -> float:
    """Smallest dispersion over every connected plan within the windows (brute force)."""
    best = np.inf
    n, R = model.n_units, model.n_reps
    dist = np.asarray(geo.distance)
    for combo in itertools.product(range(R), repeat=n):
        reps = np.array(combo)
        chosen = model.pair_index(np.arange(n), reps)
        if not _rows_hold(model, chosen) or not _connected(graph, reps, R):
            continue
        best = min(best, _brute_dispersion(dist, reps, R, kind))
    return best


@pytest.mark.parametrize(("kind", "seed"), [("sum", 0), ("sum", 1), ("max", 2)])
def test_tiny_maps_against_brute_force(kind: str, seed: int):
    rng = np.random.default_rng(seed)
    points, edges = grid_map(3, 3)
    points = points + rng.normal(0, 0.2, points.shape)
    measures = [rng.integers(1, 6, 9).astype(float)]
    model, geo, graph = _instance(points, edges, measures, 3, 0.35, kind=kind)
    optimum = _optimum(model, geo, graph, kind)
    plan = search(model, geo, Deadline.after(10), seed=0)
    if not np.isfinite(optimum):
        assert not plan.feasible
        return
    reps = _reps(model, plan)
    assert plan.feasible and _connected(graph, reps, 3) and _rows_hold(model, plan.chosen)
    assert plan.objective >= optimum - 1e-9
    print(f"{kind} seed {seed}: heuristic {plan.objective:.4f}, optimum {optimum:.4f}")


def test_imbalance_terms_and_costs_are_the_objective_without_dispersion():
    from alloc.data.model import Imbalance
    from alloc.solvers.state import Rows, score_of

    rng = np.random.default_rng(10)
    points = rng.random((70, 2))
    model0, geo0, graph = _instance(points, _delaunay_edges(points), [], 3, 0.0, kind=None)
    work = rng.integers(1, 9, 70).astype(float)
    share = np.full(3, work.sum() / 3)
    term = Imbalance("work", "work", work[model0.pair_unit], share, 2.0, "max")
    model = Model(
        70,
        3,
        model0.unit_start,
        model0.pair_unit,
        model0.pair_rep,
        0.001 * rng.random(model0.n_pairs),  # small next to the imbalance term
        (),
        (term,),
        np.arange(70),
        np.ones(70, dtype=np.int64),
    )
    plan = search(model, geo0, Deadline.after(10), seed=0)
    reps = _reps(model, plan)
    assert plan.feasible and _connected(graph, reps, 3)
    rows = Rows.from_model(model)
    expected = score_of(model, rows, plan.chosen, rows.loads(model, plan.chosen)).objective
    assert plan.objective == pytest.approx(expected)
    # Balance dominates the small costs: no rep is left far from its share.
    dev = np.abs(np.bincount(reps, weights=work, minlength=3) / share - 1).max()
    assert dev < 0.05


def test_an_island_makes_the_plan_infeasible_but_complete():
    points, edges = grid_map(4, 4)
    points = np.vstack([points, [[10.0, 10.0]]])  # unit 16 touches nothing
    model, geo, _ = _instance(points, edges, [np.ones(17)], 2, 0.5)
    plan = search(model, geo, Deadline.after(3), seed=0)  # never feasible: runs to the end
    _reps(model, plan)
    assert not plan.feasible


def test_a_base_unit_its_rep_may_not_serve_is_refused():
    points, edges = grid_map(3, 3)
    eligible = np.ones((9, 2), bool)
    eligible[0, 0] = False
    model, geo, _ = _instance(
        points, edges, [np.ones(9)], 2, 0.5, base=np.array([0, 8]), eligible=eligible
    )
    with pytest.raises(ValueError, match="reps \\[0\\]"):
        search(model, geo, Deadline.after(5))
