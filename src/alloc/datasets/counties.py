"""Load the bundled county maps of six US states (US Census units).

Provenance: built once by ``benchmarks/build_counties.py`` (shapes rounded to whole
metres; queen and rook adjacency checked equal to the original shapes');
``data/README-counties.md`` says more. Georgia, North Carolina and Virginia come from the
example data bundled with libpysal 4.14 (https://github.com/pysal/libpysal, BSD 3-clause
licence, text in ``data/LICENSE-libpysal.txt``); Iowa, Kentucky and Texas from the US
Census TIGER/Line 2009 counties (public domain), the BLS 2009 labour force (public
domain) and GeoNames' populated places (CC BY 3.0, text in
``data/LICENSE-geonames-CC-BY-3.0.txt``), as shipped by bokeh_sampledata.

- Georgia: 159 counties, 1990 US Census (``G_utm.shp``; Fotheringham, Brunsdon and
  Charlton, *Geographically Weighted Regression*, 2002), UTM zone 16N.
- North Carolina: 100 counties, births 1974-78 and 1979-84 (``sids2.shp``; Cressie,
  *Statistics for Spatial Data*, 1993, from the NC State Center for Health Statistics),
  projected from degrees to UTM zone 17N.
- Virginia: 136 counties and independent cities (``vautm17n.shp``), UTM zone 17N.
- Iowa (99 counties, UTM zone 15N), Kentucky (120, zone 16N), Texas (254, zone 14N):
  TIGER/Line 2009 shapes simplified as a coverage (250 m), with ``towns``,
  ``labour_force``, ``employed`` and ``unemployed``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from alloc.validation import check_param

__all__ = ["COUNTY_FILE", "MEASURES", "load_counties", "read_bundled_map"]

#: File name of a state's bundled table, in ``alloc/datasets/data``.
COUNTY_FILE = "counties_{state}.csv.gz"

#: Additive count measures of each state, besides ``area`` (km2) which every state has.
MEASURES: dict[str, tuple[str, ...]] = {
    "georgia": ("population", "rural_population", "elderly_population"),
    "north_carolina": (
        "births_1974_78",
        "births_1979_84",
        "nonwhite_births_1974_78",
        "nonwhite_births_1979_84",
    ),
    "virginia": (),
    "iowa": ("towns", "labour_force", "employed", "unemployed"),
    "kentucky": ("towns", "labour_force", "employed", "unemployed"),
    "texas": ("towns", "labour_force", "employed", "unemployed"),
}


def load_counties(state: str) -> pd.DataFrame:
    """Return one state's counties: ids, names, locations, measures and shapes.

    Parameters
    ----------
    state : {"georgia", "north_carolina", "virginia", "iowa", "kentucky", "texas"}

    Returns
    -------
    pandas.DataFrame
        One row per county, sorted by ``customer_id``, with columns:

        - ``customer_id`` (str): the 5-digit FIPS code, e.g. ``"13001"``;
        - ``name`` (str): the county's name (empty for Georgia, whose source has none);
        - ``x``, ``y`` (float, km): the centroid in the state's UTM zone (16N for Georgia
          and Kentucky, 15N for Iowa, 14N for Texas, 17N for the others), so Euclidean
          distances are in km;
        - the state's measures (int), listed in `MEASURES`: Georgia ``population``,
          ``rural_population``, ``elderly_population`` (aged 65+; rural and elderly
          derived from the source's percentages), 1990; North Carolina ``births_1974_78``,
          ``births_1979_84``, ``nonwhite_births_1974_78``, ``nonwhite_births_1979_84``;
          Iowa, Kentucky and Texas ``towns`` (GeoNames populated places in the county;
          see the data README), ``labour_force``, ``employed``, ``unemployed`` (people, 2009,
          BLS);
        - ``area`` (float, km2);
        - ``geometry``: the shapely polygon or multipolygon, in metres in the same UTM zone.

        The frame is a customers table for `alloc.Problem` and a map for
        `alloc.geo.adjacency` and `alloc.plot.territories`.

    Raises
    ------
    InvalidParameterError
        Another ``state``.

    Notes
    -----
    Some measures cannot be balanced for many reps: on Georgia, Fulton county alone holds
    10.0 % of the population, so no plan of more than 10 reps keeps every rep within +-5 %
    of a fair share of population. docs/territories.md lists, for each measure, the largest
    number of reps for which no county exceeds ``1.05 x`` a fair share.

    Examples
    --------
    >>> from alloc.datasets import load_counties
    >>> georgia = load_counties("georgia")
    >>> len(georgia), int(georgia["population"].sum())
    (159, 6478216)
    >>> load_counties("north_carolina").set_index("customer_id").loc["37119", "name"]
    'Mecklenburg'
    """
    check_param("state", state, "load_counties", state in MEASURES, f"one of {sorted(MEASURES)}")
    return read_bundled_map(COUNTY_FILE.format(state=state))


def read_bundled_map(file_name: str) -> pd.DataFrame:
    """A bundled map file of ``alloc/datasets/data`` (gzipped CSV, shapes as WKT) as a
    frame with a ``geometry`` column of shapely shapes."""
    import shapely

    source = resources.files("alloc.datasets") / "data" / file_name
    with source.open("rb") as handle:
        table = pd.read_csv(
            handle,
            compression="gzip",
            dtype={"customer_id": str, "name": str},
            keep_default_na=False,
        )
    table["geometry"] = list(shapely.from_wkt(table.pop("wkt").to_numpy()))
    return table
