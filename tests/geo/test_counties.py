"""alloc.datasets.load_counties: the bundled maps match their sources (libpysal's
examples; the TIGER/Line, BLS and GeoNames data of bokeh_sampledata)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import alloc
from alloc.datasets.counties import MEASURES
from alloc.errors import InvalidParameterError
from alloc.geo import adjacency

SIZES = {
    "georgia": 159,
    "north_carolina": 100,
    "virginia": 136,
    "iowa": 99,
    "kentucky": 120,
    "texas": 254,
}
TIGER = {"iowa": "IA", "kentucky": "KY", "texas": "TX"}
SOURCE = {
    "georgia": ("georgia/G_utm.shp", "AreaKey"),
    "north_carolina": ("sids2/sids2.shp", "FIPS"),
    "virginia": ("virginia/vautm17n.shp", "FIPS"),
}


@pytest.mark.parametrize("state", sorted(SIZES))
def test_tables_have_the_documented_columns(state: str) -> None:
    table = alloc.datasets.load_counties(state)
    assert len(table) == SIZES[state]
    expected = ["customer_id", "name", "x", "y", *MEASURES[state], "area", "geometry"]
    assert list(table.columns) == expected
    assert table["customer_id"].is_unique and table["customer_id"].str.len().eq(5).all()
    assert all(isinstance(g, shapely.Geometry) for g in table["geometry"])
    assert shapely.is_valid(table["geometry"].to_numpy()).all()
    for measure in MEASURES[state]:
        assert (table[measure] >= 0).all() and table[measure].dtype == np.int64
    # x/y are the shapes' centroids, in km; area is the shapes', in km2.
    centroids = shapely.centroid(table["geometry"].to_numpy())
    assert np.allclose(table["x"], shapely.get_x(centroids) / 1000, atol=1e-3)
    assert np.allclose(table["area"], shapely.area(table["geometry"].to_numpy()) / 1e6, atol=0.01)


def test_known_counties_and_totals() -> None:
    georgia = alloc.datasets.load_counties("georgia").set_index("customer_id")
    assert int(georgia["population"].sum()) == 6_478_216  # 1990 census
    assert georgia["population"].idxmax() == "13121"  # Fulton
    nc = alloc.datasets.load_counties("north_carolina").set_index("customer_id")
    assert nc.loc["37119", "name"] == "Mecklenburg"
    assert int(nc["births_1974_78"].sum()) == 329_962


def test_tiger_states_known_counties_and_totals() -> None:
    iowa = alloc.datasets.load_counties("iowa").set_index("customer_id")
    assert iowa.loc["19153", "name"] == "Polk"  # Des Moines: the most workers and towns
    assert iowa["labour_force"].idxmax() == "19153"
    assert int(iowa["labour_force"].sum()) == 1_691_794  # BLS LAUS 2009
    kentucky = alloc.datasets.load_counties("kentucky").set_index("customer_id")
    assert kentucky.loc["21111", "name"] == "Jefferson"  # Louisville
    assert (kentucky["employed"] + kentucky["unemployed"] == kentucky["labour_force"]).all()
    texas = alloc.datasets.load_counties("texas")
    assert int(texas["towns"].sum()) == 2_220 and (texas["towns"] >= 0).all()


@pytest.mark.parametrize("state", sorted(TIGER))
@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_simplified_tiger_shapes_keep_the_adjacency_of_the_originals(state: str, kind: str) -> None:
    pytest.importorskip("geopandas")
    us_counties = pytest.importorskip("bokeh_sampledata.us_counties")
    import geopandas as gpd

    bundled = alloc.datasets.load_counties(state)
    records = us_counties.records(state=TIGER[state])
    original = gpd.GeoSeries([r["geometry"] for r in records], crs="EPSG:4269")
    ids = [r["fips"] for r in records]
    assert sorted(ids) == bundled["customer_id"].tolist()
    theirs = adjacency(original, ids=ids, kind=kind)  # degrees: adjacency needs no CRS
    mine = adjacency(bundled, kind=kind)
    assert mine.equals(theirs)
    assert mine.attrs["islands"] == [] and mine.attrs["detached"] == []


def test_unknown_state_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="north_carolina"):
        alloc.datasets.load_counties("North Carolina")


@pytest.mark.filterwarnings("ignore:the map falls into 2 separate parts")  # Virginia
@pytest.mark.parametrize("state", sorted(SOURCE))
@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_adjacency_equals_the_original_shapefile_and_libpysal(state: str, kind: str) -> None:
    gpd = pytest.importorskip("geopandas")
    libpysal = pytest.importorskip("libpysal")
    from pathlib import Path

    path, id_column = SOURCE[state]
    source = gpd.read_file(Path(libpysal.__file__).parent / "examples" / path)
    ids = source[id_column].astype(str).to_numpy()
    bundled = adjacency(alloc.datasets.load_counties(state), kind=kind)
    original = adjacency(source.geometry, ids=ids, kind=kind)
    assert bundled.equals(original)
    graph = libpysal.graph.Graph.build_contiguity(source, rook=kind == "rook")
    theirs = {
        (ids[i], ids[j])
        for i, j in zip(
            graph.adjacency.index.get_level_values(0),
            graph.adjacency.index.get_level_values(1),
            strict=True,
        )
        if i != j
    }
    assert set(zip(bundled["customer_id"], bundled["neighbor_id"], strict=True)) == theirs


def test_virginia_eastern_shore_is_a_detached_part() -> None:
    with pytest.warns(alloc.DataWarning, match="'51001', '51131'"):
        frame = adjacency(alloc.datasets.load_counties("virginia"))
    assert frame.attrs["detached"] == [["51001", "51131"]]
    assert frame.attrs["islands"] == []


def test_largest_county_shares_match_the_documented_balance_table() -> None:
    # docs/territories.md: a measure is balanceable for k reps within +-5 % only if no
    # county holds more than 1.05 / k of it.
    largest = {
        state: (table := alloc.datasets.load_counties(state))[[*MEASURES[state], "area"]].max()
        / table[[*MEASURES[state], "area"]].sum()
        for state in SIZES
    }
    assert pd.Series(largest["georgia"])["population"] > 1.05 / 20  # Fulton: 10.0 %
    assert pd.Series(largest["georgia"])["population"] < 1.05 / 10
    assert pd.Series(largest["georgia"])["rural_population"] < 1.05 / 20
    assert (pd.Series(largest["north_carolina"]).drop("area") > 1.05 / 20).all()
    # Iowa's and Kentucky's towns are spread enough for 20 reps; workers are not.
    for state in ("iowa", "kentucky"):
        assert pd.Series(largest[state])["towns"] < 1.05 / 20
        assert pd.Series(largest[state])["labour_force"] > 1.05 / 10
    assert all(pd.Series(shares)["area"] < 1.05 / 20 for shares in largest.values())
