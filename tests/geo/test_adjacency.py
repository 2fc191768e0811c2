"""alloc.geo.adjacency: queen and rook neighbours of hand-made maps, islands, parts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely import Polygon, box

from alloc.errors import DataWarning, InvalidParameterError
from alloc.geo import adjacency


def grid(rows: int, cols: int, size: float = 1.0) -> list[Polygon]:
    return [
        box(c * size, r * size, (c + 1) * size, (r + 1) * size)
        for r in range(rows)
        for c in range(cols)
    ]


def pairs(frame: pd.DataFrame) -> set[tuple[object, object]]:
    return set(zip(frame["customer_id"], frame["neighbor_id"], strict=True))


def test_queen_and_rook_counts_on_a_3x3_grid() -> None:
    # Rook: 12 shared edges; queen adds the 8 diagonal corners; both directions listed.
    rook = adjacency(grid(3, 3), kind="rook")
    queen = adjacency(grid(3, 3), kind="queen")
    assert len(rook) == 2 * 12
    assert len(queen) == 2 * (12 + 8)
    centre = 4
    assert (rook["customer_id"] == centre).sum() == 4
    assert (queen["customer_id"] == centre).sum() == 8
    assert (queen["customer_id"] == 0).sum() == 3  # a corner cell
    assert pairs(rook) < pairs(queen)


def test_table_is_symmetric_sorted_and_without_self_pairs() -> None:
    frame = adjacency(grid(3, 4), ids=[f"u{i:02d}" for i in range(12)], kind="queen")
    assert list(frame.columns) == ["customer_id", "neighbor_id"]
    found = pairs(frame)
    assert all((b, a) in found for a, b in found)
    assert not (frame["customer_id"] == frame["neighbor_id"]).any()
    assert frame.equals(frame.sort_values(["customer_id", "neighbor_id"], ignore_index=True))
    assert not frame.duplicated().any()
    assert frame.attrs["islands"] == []
    assert frame.attrs["detached"] == []


def test_ids_come_from_a_series_index() -> None:
    shapes = pd.Series(grid(1, 3), index=["a", "b", "c"])
    assert pairs(adjacency(shapes, kind="rook")) == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")}


def test_a_dataframe_gives_its_customer_id_column() -> None:
    frame = pd.DataFrame({"customer_id": ["x", "y"], "geometry": grid(1, 2)}, index=[7, 8])
    assert pairs(adjacency(frame)) == {("x", "y"), ("y", "x")}


def test_wkt_strings_are_read() -> None:
    wkt = [shape.wkt for shape in grid(2, 2)]
    assert adjacency(wkt, kind="rook").equals(adjacency(grid(2, 2), kind="rook"))


def test_geoseries_is_read_like_a_list() -> None:
    gpd = pytest.importorskip("geopandas")
    series = gpd.GeoSeries(grid(2, 3), index=list("abcdef"))
    assert adjacency(series.values, ids=list("abcdef")).equals(adjacency(series))
    assert adjacency(gpd.GeoDataFrame(geometry=series)).equals(adjacency(series))


def test_islands_are_listed_and_named_in_a_warning() -> None:
    shapes = [*grid(1, 2), box(10, 10, 11, 11)]
    with pytest.warns(DataWarning, match=r"islands\): 'far'"):
        frame = adjacency(shapes, ids=["a", "b", "far"])
    assert frame.attrs["islands"] == ["far"]
    assert frame.attrs["detached"] == []
    assert "far" not in set(frame["customer_id"])


def test_detached_groups_are_named_in_a_warning() -> None:
    shapes = [*grid(1, 3), box(10, 0, 11, 1), box(11, 0, 12, 1)]
    with pytest.warns(DataWarning, match="'d', 'e'"):
        frame = adjacency(shapes, ids=list("abcde"))
    assert frame.attrs["islands"] == []
    assert frame.attrs["detached"] == [["d", "e"]]


def test_a_connected_map_warns_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adjacency(grid(4, 4))


def test_tolerance_closes_gaps_for_rook_but_not_corners() -> None:
    # Cells shrunk by a 0.01 gap: no neighbours at tolerance 0, rook edges at 0.05, and
    # the diagonals (corners 0.014 apart) stay out of rook but join queen.
    cells = [box(c + 0.005, r + 0.005, c + 0.995, r + 0.995) for r in range(3) for c in range(3)]
    with pytest.warns(DataWarning):
        assert adjacency(cells, kind="rook").empty
    assert len(adjacency(cells, kind="rook", tolerance=0.05)) == 2 * 12
    assert len(adjacency(cells, kind="queen", tolerance=0.05)) == 2 * 20


def test_rook_needs_a_shared_edge_of_positive_length() -> None:
    # Two triangles meeting at a single vertex, and two squares sharing a full edge.
    tip = [Polygon([(0, 0), (1, 0), (1, 1)]), Polygon([(1, 1), (2, 1), (2, 2)])]
    with pytest.warns(DataWarning):
        assert adjacency(tip, kind="rook").empty
    assert len(adjacency(tip, kind="queen")) == 2


def test_multipolygon_parts_each_count() -> None:
    from shapely import MultiPolygon

    split = MultiPolygon([box(0, 0, 1, 1), box(5, 0, 6, 1)])
    shapes = [split, box(1, 0, 2, 1), box(6, 0, 7, 1)]
    assert pairs(adjacency(shapes, kind="rook")) == {(0, 1), (1, 0), (0, 2), (2, 0)}


def test_holes_touching_their_enclave_are_neighbours() -> None:
    outer = Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], holes=[[(1, 1), (2, 1), (2, 2), (1, 2)]])
    enclave = box(1, 1, 2, 2)
    assert len(adjacency([outer, enclave], kind="rook")) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "bishop"}, "kind"),
        ({"tolerance": -1.0}, "tolerance"),
        ({"tolerance": np.nan}, "tolerance"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        adjacency(grid(2, 2), **kwargs)  # type: ignore[arg-type]


@given(
    cells=st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=2, max_size=20),
    kind=st.sampled_from(["queen", "rook"]),
)
def test_grid_cells_match_integer_neighbourhoods(cells: set[tuple[int, int]], kind: str) -> None:
    # Any subset of a unit grid: rook neighbours differ by 1 in one coordinate, queen
    # neighbours by at most 1 in both; the order of the shapes does not matter.
    order = sorted(cells)
    shapes = [box(c, r, c + 1, r + 1) for c, r in order]
    ids = [f"{c}:{r}" for c, r in order]
    expected = {
        (f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}")
        for a in order
        for b in order
        if a != b
        and (
            abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
            if kind == "rook"
            else max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 1
        )
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        frame = adjacency(shapes, ids=ids, kind=kind)
        reversed_frame = adjacency(shapes[::-1], ids=ids[::-1], kind=kind)
    assert pairs(frame) == expected
    assert pairs(reversed_frame) == expected
    touched = {a for a, _ in expected}
    assert sorted(frame.attrs["islands"]) == sorted(set(ids) - touched)
    assert all(len(part) > 1 and set(part) <= touched for part in frame.attrs["detached"])
