"""alloc.plot.territories: one patch per unit, one colour per rep, borders, centres, labels."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from shapely import MultiPolygon, Polygon, box

import alloc
from alloc.errors import InvalidParameterError, InvalidProblemError

matplotlib.use("Agg")


def artist(ax: object, gid: str) -> object:
    found = [c for c in ax.collections if c.get_gid() == gid]  # type: ignore[attr-defined]
    assert len(found) == 1, gid
    return found[0]


@pytest.fixture
def grid() -> pd.Series:
    return pd.Series(
        [box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)],
        index=[f"u{i}" for i in range(9)],
    )


@pytest.fixture
def plan() -> pd.Series:
    reps = ["A", "A", "B", "A", "B", "B", "C", "C", "C"]
    return pd.Series(reps, index=[f"u{i}" for i in range(9)])


def test_one_patch_per_unit_and_one_colour_per_rep(grid: pd.Series, plan: pd.Series) -> None:
    ax = alloc.plot.territories(grid, plan)
    units = artist(ax, "territory-units")
    assert len(units.get_paths()) == 9
    colours = [tuple(c) for c in units.get_facecolors()]
    by_rep = pd.Series(colours, index=grid.index).groupby(plan).unique()
    assert all(len(c) == 1 for c in by_rep)  # one colour within a territory
    assert len({c[0] for c in by_rep}) == 3  # a different colour per territory
    assert sorted(t.get_text() for t in ax.texts) == ["A", "B", "C"]
    matplotlib.pyplot.close(ax.figure)


def test_borders_follow_territories_not_units(grid: pd.Series, plan: pd.Series) -> None:
    ax = alloc.plot.territories(grid, plan, labels=False)
    segments = artist(ax, "territory-borders").get_segments()
    length = sum(np.linalg.norm(np.diff(s, axis=0), axis=1).sum() for s in segments)
    # Each territory's outline once: A and B are L-shaped triples (perimeter 8), C a row of
    # 3 (8); the unit borders inside a territory (e.g. u0|u1) are not drawn thick.
    assert length == pytest.approx(8 + 8 + 8)
    assert len(ax.texts) == 0
    matplotlib.pyplot.close(ax.figure)


def test_units_without_rep_are_grey_and_palette_is_used(grid: pd.Series, plan: pd.Series) -> None:
    palette = {"A": "red", "B": "green", "C": "blue"}
    ax = alloc.plot.territories(grid, plan.drop(["u0"]), palette=palette)
    colours = artist(ax, "territory-units").get_facecolors()
    assert tuple(colours[0]) == to_rgba("#d9d9d9")
    assert tuple(colours[1]) == to_rgba("red")
    assert tuple(colours[8]) == to_rgba("blue")
    matplotlib.pyplot.close(ax.figure)


def test_centres_are_marked_on_their_units(grid: pd.Series, plan: pd.Series) -> None:
    ax = alloc.plot.territories(grid, plan, centers={"A": "u0", "B": "u5", "C": "u7"})
    offsets = artist(ax, "territory-centers").get_offsets()
    assert np.allclose(offsets, [[0.5, 0.5], [2.5, 1.5], [1.5, 2.5]])
    matplotlib.pyplot.close(ax.figure)


def test_a_result_gives_its_assignment() -> None:
    cells = [box(c, 0, c + 1, 1) for c in range(6)]
    customers = pd.DataFrame({"customer_id": range(6), "w": [1.0] * 6})
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(
        customers=customers, reps=reps, rules=[alloc.Balance("w", tolerance=0.0)]
    )
    result = alloc.solve(problem, time_limit=5, seed=0, workers=1)
    ax = alloc.plot.territories(cells, result)
    colours = artist(ax, "territory-units").get_facecolors()
    assert len({tuple(c) for c in colours}) == 2
    matplotlib.pyplot.close(ax.figure)


def test_holes_and_multipolygons_draw_as_one_patch_each() -> None:
    ring = Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], holes=[[(1, 1), (2, 1), (2, 2), (1, 2)]])
    islands = MultiPolygon([box(4, 0, 5, 1), box(6, 0, 7, 1)])
    ax = alloc.plot.territories([ring, box(1, 1, 2, 2), islands], pd.Series(["a", "b", "a"]))
    paths = artist(ax, "territory-units").get_paths()
    assert len(paths) == 3
    assert len(paths[0].vertices) == 10  # exterior (5) and hole (5)
    assert len(paths[2].vertices) == 10  # two parts
    matplotlib.pyplot.close(ax.figure)


def test_many_reps_get_distinct_colours_up_to_sixty() -> None:
    cells = [box(c, 0, c + 1, 1) for c in range(60)]
    ax = alloc.plot.territories(cells, pd.Series(range(60)), labels=False)
    assert len({tuple(c) for c in artist(ax, "territory-units").get_facecolors()}) == 60
    matplotlib.pyplot.close(ax.figure)


def test_counties_map_draws_every_county() -> None:
    table = alloc.datasets.load_counties("north_carolina")
    plan = pd.Series(
        np.where(table["x"] < table["x"].median(), "west", "east"), index=table["customer_id"]
    )
    ax = alloc.plot.territories(table, plan)
    assert len(artist(ax, "territory-units").get_paths()) == 100
    matplotlib.pyplot.close(ax.figure)


def test_bad_input_is_refused(grid: pd.Series, plan: pd.Series) -> None:
    with pytest.raises(InvalidProblemError, match="no shape: 'zz'"):
        alloc.plot.territories(grid, pd.concat([plan, pd.Series({"zz": "A"})]))
    with pytest.raises(InvalidProblemError, match="centers names units that have no shape"):
        alloc.plot.territories(grid, plan, centers={"A": "nowhere"})
    with pytest.raises(InvalidParameterError, match="assignment must be a pandas Series"):
        alloc.plot.territories(grid, {"u0": "A"})
    with pytest.raises(InvalidParameterError, match="no colour for the reps 'C'"):
        alloc.plot.territories(grid, plan, palette={"A": "red", "B": "blue"})
