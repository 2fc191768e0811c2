"""alloc.geo.read_shapes: the input checks every geography function shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, Polygon, box

from alloc.errors import InvalidProblemError
from alloc.geo import adjacency, read_shapes

BOWTIE = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # self-intersecting: invalid


def test_ids_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match="ids has 3 entries but geometry has 2 shapes"):
        adjacency([box(0, 0, 1, 1), box(1, 0, 2, 1)], ids=["a", "b", "c"])


def test_duplicate_ids_are_named() -> None:
    with pytest.raises(InvalidProblemError, match="repeat: 'a'"):
        adjacency(pd.Series([box(0, 0, 1, 1), box(1, 0, 2, 1)], index=["a", "a"]))


def test_missing_ids_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match="missing for 1"):
        read_shapes([box(0, 0, 1, 1), box(1, 0, 2, 1)], ids=["a", None])


def test_invalid_shapes_are_named_with_the_reason() -> None:
    with pytest.raises(InvalidProblemError, match=r"'bad' \(Self-intersection.*make_valid"):
        adjacency([box(0, 0, 1, 1), BOWTIE], ids=["ok", "bad"])


def test_points_and_lines_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match=r"'p' \(Point\), 'l' \(LineString\)"):
        read_shapes(
            [Point(0, 0), LineString([(0, 0), (1, 1)]), box(0, 0, 1, 1)], ids=["p", "l", "s"]
        )


def test_empty_and_missing_shapes_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match="empty"):
        read_shapes([Polygon(), box(0, 0, 1, 1)])
    with pytest.raises(InvalidProblemError, match="no shape for the ids 'b'"):
        read_shapes([box(0, 0, 1, 1), None], ids=["a", "b"])


def test_text_that_is_not_wkt_is_named() -> None:
    with pytest.raises(InvalidProblemError, match="not WKT for the ids 1"):
        read_shapes(["POLYGON ((0 0, 1 0, 1 1, 0 0))", "square"])


def test_a_single_geometry_or_other_objects_are_refused() -> None:
    with pytest.raises(InvalidProblemError, match="single shapely geometry"):
        read_shapes(box(0, 0, 1, 1))
    with pytest.raises(InvalidProblemError, match="sequence of shapely geometries"):
        read_shapes(42)
    with pytest.raises(InvalidProblemError, match="no shapes"):
        read_shapes([])
    with pytest.raises(InvalidProblemError, match="no 'geometry' column"):
        read_shapes(pd.DataFrame({"wkt": ["POLYGON ((0 0, 1 0, 1 1, 0 0))"]}))


def test_inputs_are_not_mutated() -> None:
    wkt = np.array(
        ["POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))", "POLYGON ((1 0, 2 0, 2 1, 1 1, 1 0))"], dtype=object
    )
    before = wkt.copy()
    shapes = read_shapes(wkt)
    assert (wkt == before).all()
    assert [g.geom_type for g in shapes.geometries] == ["Polygon", "Polygon"]
