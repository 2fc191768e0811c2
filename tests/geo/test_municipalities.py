"""alloc.datasets.load_municipalities: the bundled Tokyo map matches its source
(libpysal's ``tokyo`` example) and is fine enough for 20 territories."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely

import alloc
from alloc.errors import InvalidParameterError
from alloc.geo import adjacency


def test_the_table_has_the_documented_columns() -> None:
    table = alloc.datasets.load_municipalities("tokyo")
    assert len(table) == 262
    assert list(table.columns) == [
        "customer_id",
        "name",
        "x",
        "y",
        "deaths_25_64",
        "expected_deaths_25_64",
        "share_professional",
        "share_owned_homes",
        "share_aged_65",
        "unemployment_rate",
        "area",
        "geometry",
    ]
    assert table["customer_id"].is_unique and table["customer_id"].str.len().eq(5).all()
    assert table["customer_id"].is_monotonic_increasing
    assert shapely.is_valid(table["geometry"].to_numpy()).all()
    assert table["deaths_25_64"].dtype == np.int64
    centroids = shapely.centroid(table["geometry"].to_numpy())
    assert np.allclose(table["x"], shapely.get_x(centroids) / 1000, atol=1e-3)
    assert np.allclose(table["area"], shapely.area(table["geometry"].to_numpy()) / 1e6, atol=0.01)


def test_known_units_totals_and_one_connected_map() -> None:
    tokyo = alloc.datasets.load_municipalities().set_index("customer_id")
    assert tokyo.loc["13101", "name"] == "Chiyoda-ku"
    assert int(tokyo["deaths_25_64"].sum()) == 46_163  # the source's total
    assert tokyo["expected_deaths_25_64"].sum() == pytest.approx(48_257.455, abs=1e-6)
    # Fine units: no municipality above 1.05 / 20 of a measure (counties all are).
    for column in ("deaths_25_64", "expected_deaths_25_64", "area"):
        assert tokyo[column].max() / tokyo[column].sum() < 1.05 / 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an island or a detached part would warn
        neighbors = adjacency(tokyo.reset_index(), kind="queen")
    assert len(neighbors) == 2 * 695
    # Wards that share a border across a 1 mm gap of the source are neighbours.
    pairs = set(zip(neighbors["customer_id"], neighbors["neighbor_id"], strict=True))
    assert ("13102", "13108") in pairs  # Chuo and Koto


def test_another_region_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidParameterError, match="tokyo"):
        alloc.datasets.load_municipalities("osaka")
