"""alloc.geo.units: a map's units as the customers table of a Problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely import box

import alloc
from alloc.errors import DataWarning, InvalidParameterError, InvalidProblemError
from alloc.geo import units


def squares() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "geometry": [box(0, 0, 2000, 2000), box(2000, 0, 4000, 2000)],
            "pop": [5, 7],
            "kind": ["urban", "rural"],
        },
        index=pd.Index(["a", "b"], name="county"),
    )


def test_centroids_become_x_y_and_other_columns_measures() -> None:
    table = units(squares())
    assert list(table.columns) == ["customer_id", "x", "y", "pop", "kind"]
    assert table["customer_id"].tolist() == ["a", "b"]
    assert np.allclose(table[["x", "y"]], [[1000, 1000], [3000, 1000]])


def test_scale_turns_metres_into_km_and_measures_can_be_chosen() -> None:
    table = units(squares(), measures=["pop"], scale=0.001)
    assert list(table.columns) == ["customer_id", "x", "y", "pop"]
    assert np.allclose(table["x"], [1.0, 3.0])


def test_id_column_is_read() -> None:
    frame = squares().reset_index()
    assert units(frame, id="county")["customer_id"].tolist() == ["a", "b"]
    assert "county" not in units(frame, id="county").columns


def test_the_table_builds_a_problem() -> None:
    reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    problem = alloc.Problem(
        customers=units(squares(), measures=["pop"]),
        reps=reps,
        rules=[alloc.Balance("pop", tolerance=0.5)],
    )
    assert list(problem.customer_ids) == ["a", "b"]


def test_geographic_crs_gives_lat_lon() -> None:
    gpd = pytest.importorskip("geopandas")
    frame = gpd.GeoDataFrame(
        {"pop": [1, 2]}, geometry=[box(-84, 33, -83, 34), box(-83, 33, -82, 34)], crs="EPSG:4326"
    )
    table = units(frame)
    assert list(table.columns) == ["customer_id", "lat", "lon", "pop"]
    assert np.allclose(table[["lat", "lon"]], [[33.5, -83.5], [33.5, -82.5]])


def test_projected_crs_gives_x_y_and_no_crs_in_degrees_warns() -> None:
    gpd = pytest.importorskip("geopandas")
    shapes = [box(-84, 33, -83, 34), box(-83, 33, -82, 34)]
    projected = gpd.GeoDataFrame(geometry=shapes, crs="EPSG:4326").to_crs("EPSG:32617")
    assert list(units(projected).columns[:3]) == ["customer_id", "x", "y"]
    with pytest.warns(DataWarning, match="set_crs"):
        table = units(gpd.GeoDataFrame(geometry=shapes))
    assert "x" in table.columns


def test_plain_coordinates_pass_through() -> None:
    frame = pd.DataFrame(
        {"customer_id": ["a", "b"], "lat": [40.0, 41.0], "lon": [-3.0, -3.5], "w": [1, 2]}
    )
    table = units(frame)
    assert list(table.columns) == ["customer_id", "lat", "lon", "w"]
    xy = pd.DataFrame({"x": [1.0, 2.0], "y": ["3", "4"]})
    assert units(xy)["y"].tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (pd.DataFrame({"w": [1]}), {}, "neither shapes"),
        (pd.DataFrame({"x": [1.0, None], "y": [1.0, 2.0]}), {}, "missing or non-numeric"),
        (pd.DataFrame({"lat": [95.0], "lon": [0.0]}), {}, r"\[-90, 90\]"),
        (pd.DataFrame({"x": [1, 2], "y": [1, 2]}, index=["a", "a"]), {}, "repeated unit ids 'a'"),
        (pd.DataFrame({"x": [1], "y": [1]}), {"id": "code"}, "no id column 'code'"),
        (pd.DataFrame({"x": [1], "y": [1], "k": ["a"]}), {"measures": ["k"]}, "not numeric"),
        (pd.DataFrame({"x": [1], "y": [1]}), {"measures": ["pop"]}, "no measure columns 'pop'"),
    ],
)
def test_bad_frames_are_refused(frame: pd.DataFrame, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidProblemError, match=match):
        units(frame, **kwargs)  # type: ignore[arg-type]


def test_bad_scale_and_non_frames_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="scale"):
        units(squares(), scale=0)
    with pytest.raises(InvalidProblemError, match="GeoDataFrame or DataFrame"):
        units([box(0, 0, 1, 1)])  # type: ignore[arg-type]
