"""Load the bundled municipality map of the Tokyo metropolitan area (finer units).

Provenance: built once by ``benchmarks/build_municipalities.py`` (ten self-crossing
source rings repaired with ``shapely.make_valid``, shapes rounded to whole metres; queen
adjacency checked equal to the repaired source shapes') from libpysal 4.14's
``tokyo`` example (https://github.com/pysal/libpysal, BSD 3-clause licence, text in
``data/LICENSE-libpysal.txt``): the GWR4 sample data of Nakaya, Fotheringham, Brunsdon
and Charlton, "Geographically weighted Poisson regression for disease association
mapping", *Statistics in Medicine* 24 (2005), from the Vital Statistics and the
Population Census of Japan, 1990. ``data/README-counties.md`` says more.
"""

from __future__ import annotations

import pandas as pd

from alloc.datasets.counties import read_bundled_map
from alloc.validation import check_param

__all__ = ["MUNICIPALITY_FILE", "MUNICIPALITY_MEASURES", "load_municipalities"]

#: File name of a region's bundled table, in ``alloc/datasets/data``.
MUNICIPALITY_FILE = "municipalities_{region}.csv.gz"

#: Additive measures of each region, besides ``area`` (km2).
MUNICIPALITY_MEASURES: dict[str, tuple[str, ...]] = {
    "tokyo": ("deaths_25_64", "expected_deaths_25_64"),
}


def load_municipalities(region: str = "tokyo") -> pd.DataFrame:
    """Return one region's municipalities: ids, names, locations, measures and shapes.

    The bundled counties of `load_counties` are too coarse for many territories (on every
    bundled state some county holds more than a twentieth of a measure, so 20 territories
    cannot all be within +-5 %); these 262 units are finer: none holds more than 2.6 % of
    the working-age deaths or 3.3 % of the land.

    Parameters
    ----------
    region : {"tokyo"}
        The Tokyo metropolitan area: the 262 cities, wards, towns and villages within
        about 70 km of central Tokyo (parts of Tokyo, Kanagawa, Saitama, Chiba, Ibaraki
        and Gunma prefectures), 1990.

    Returns
    -------
    pandas.DataFrame
        One row per municipality, sorted by ``customer_id``, with columns:

        - ``customer_id`` (str): the 5-digit municipality code, e.g. ``"13101"``
          (Chiyoda ward);
        - ``name`` (str): the municipality's romanised name, e.g. ``"Chiyoda-ku"``;
        - ``x``, ``y`` (float, km): the centroid in the Japan plane rectangular
          coordinate system VI (Tokyo datum, EPSG:30166), so Euclidean distances are in km;
        - ``deaths_25_64`` (int): deaths of people aged 25-64, 1990;
        - ``expected_deaths_25_64`` (float): the deaths expected from the municipality's
          population by age and sex at national rates, i.e. a measure of its working-age
          population (the ratio of the two is the source's mortality ratio);
        - ``share_professional``, ``share_owned_homes``, ``share_aged_65``,
          ``unemployment_rate`` (float): proportions (the last in %), not additive;
        - ``area`` (float, km2);
        - ``geometry``: the shapely polygon or multipolygon, in metres.

    Raises
    ------
    InvalidParameterError
        Another ``region``.

    Examples
    --------
    >>> from alloc.datasets import load_municipalities
    >>> tokyo = load_municipalities("tokyo")
    >>> len(tokyo), int(tokyo["deaths_25_64"].sum())
    (262, 46163)
    >>> tokyo.set_index("customer_id").loc["13101", "name"]
    'Chiyoda-ku'
    """
    check_param(
        "region",
        region,
        "load_municipalities",
        region in MUNICIPALITY_MEASURES,
        f"one of {sorted(MUNICIPALITY_MEASURES)}",
    )
    return read_bundled_map(MUNICIPALITY_FILE.format(region=region))
