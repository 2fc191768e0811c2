"""Build the bundled county maps of `alloc.datasets.load_counties`.

Two sources: libpysal's examples (Georgia, North Carolina, Virginia) and the US Census
TIGER/Line 2009 counties shipped by ``bokeh_sampledata`` with the BLS 2009 labour force
and GeoNames' towns of 5,000 people or more (Iowa, Kentucky, Texas).

Run once, from the repository root, with the ``bench`` extra installed (geopandas,
libpysal, bokeh_sampledata)::

    python benchmarks/build_counties.py            # writes src/alloc/datasets/data/
    python benchmarks/build_counties.py --check    # only compares, writes nothing

For each state it reads libpysal's bundled shapefile, projects North Carolina (degrees)
to UTM zone 17N, rounds the shapes to whole metres, derives additive counts from the
source's percentages, and writes ``counties_<state>.csv.gz`` (one row per county, shape
as WKT). It then reads the written file back and checks that queen and rook adjacency of
the bundled shapes equal adjacency of the original shapefile, and that the measures
add up to the source's totals; any difference stops the build. The TIGER/Line states are
projected to UTM (NAD83) and simplified as a coverage (``shapely.coverage_simplify``,
250 m: shared borders stay shared) to keep the files small; their adjacency is checked
against the unsimplified shapes. It also prints which
measures can be balanced for k = 5, 10, 20 reps within +-5 % (no county above
``1.05 x total / k``), the table in docs/territories.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from alloc.datasets.counties import COUNTY_FILE, MEASURES  # noqa: E402
from alloc.geo import adjacency  # noqa: E402

OUT = ROOT / "src" / "alloc" / "datasets" / "data"


@dataclass(frozen=True)
class Source:
    """One libpysal example and how to read it."""

    path: str
    crs: str  # the CRS of the source's coordinates (the shapefiles have none or EPSG:32617)
    bundled_crs: str  # the CRS of the bundled shapes


SOURCES = {
    "georgia": Source("georgia/G_utm.shp", "EPSG:26916", "EPSG:26916"),
    "north_carolina": Source("sids2/sids2.shp", "EPSG:4269", "EPSG:26917"),
    "virginia": Source("virginia/vautm17n.shp", "EPSG:32617", "EPSG:32617"),
}


@dataclass(frozen=True)
class TigerSource:
    """A state of the TIGER/Line 2009 counties in bokeh_sampledata."""

    postal: str
    bundled_crs: str  # NAD83 / UTM zone of the bundled shapes


TIGER_SOURCES = {
    "iowa": TigerSource("IA", "EPSG:26915"),
    "kentucky": TigerSource("KY", "EPSG:26916"),
    "texas": TigerSource("TX", "EPSG:26914"),
}
#: Tolerance (m) of the coverage simplification of the TIGER/Line shapes.
SIMPLIFY_METRES = 250.0


def _examples() -> Path:
    import libpysal

    return Path(libpysal.__file__).parent / "examples"


def read_source(state: str):  # -> GeoDataFrame
    import geopandas as gpd

    source = SOURCES[state]
    frame = gpd.read_file(_examples() / source.path)
    return frame.set_crs(source.crs, allow_override=True)


def _measures(state: str, frame: pd.DataFrame) -> pd.DataFrame:
    if state == "georgia":
        pop = frame["TotPop90"].astype(np.int64)
        return pd.DataFrame(
            {
                "population": pop,
                # Counts from the source's percentages (2 decimals): exact to about 1 person
                # per 10,000 inhabitants.
                "rural_population": np.rint(pop * frame["PctRural"] / 100).astype(np.int64),
                "elderly_population": np.rint(pop * frame["PctEld"] / 100).astype(np.int64),
            }
        )
    if state == "north_carolina":
        return pd.DataFrame(
            {
                "births_1974_78": frame["BIR74"].astype(np.int64),
                "births_1979_84": frame["BIR79"].astype(np.int64),
                "nonwhite_births_1974_78": frame["NWBIR74"].astype(np.int64),
                "nonwhite_births_1979_84": frame["NWBIR79"].astype(np.int64),
            }
        )
    return pd.DataFrame(index=frame.index)


def _ids_and_names(state: str, frame: pd.DataFrame) -> pd.DataFrame:
    if state == "georgia":  # the source has FIPS codes but no county names
        return pd.DataFrame({"customer_id": frame["AreaKey"].astype(str), "name": ""})
    return pd.DataFrame({"customer_id": frame["FIPS"].astype(str), "name": frame["NAME"]})


def read_tiger(state: str):  # -> GeoDataFrame, projected, unsimplified
    import geopandas as gpd
    from bokeh_sampledata import us_counties

    source = TIGER_SOURCES[state]
    records = us_counties.records(state=source.postal)
    frame = gpd.GeoDataFrame(
        {
            "customer_id": [r["fips"] for r in records],
            "name": [r["name"] for r in records],
        },
        geometry=[r["geometry"] for r in records],
        crs="EPSG:4269",  # NAD83 degrees, as the Census publishes them
    )
    return frame.to_crs(source.bundled_crs)


def _labour_force() -> pd.DataFrame:
    """BLS LAUS 2009 by county FIPS: labour force, employed, unemployed (people)."""
    from bokeh_sampledata import package_path

    columns = ["laus", "state", "county", "title", "year", "labour_force", "employed"]
    table = pd.read_csv(
        package_path("unemployment09.csv.gz"),
        header=None,
        names=[*columns, "unemployed", "rate"],
        dtype=str,
    )
    counts = ["labour_force", "employed", "unemployed"]
    table[counts] = (
        table[counts].apply(lambda c: c.str.replace(",", "").str.strip()).astype(np.int64)
    )
    table.index = table["state"].str.zfill(2) + table["county"].str.zfill(3)
    return table[counts]


def _towns(shapes: np.ndarray, crs: str) -> np.ndarray:
    """How many GeoNames places of 5,000 people or more lie in each shape."""
    import geopandas as gpd
    from bokeh_sampledata import us_cities

    points = gpd.GeoSeries(
        gpd.points_from_xy(us_cities.data["lon"], us_cities.data["lat"]), crs="EPSG:4326"
    ).to_crs(crs)
    _, shape_index = shapely.STRtree(shapes).query(points.to_numpy(), predicate="within")
    return np.bincount(shape_index, minlength=len(shapes)).astype(np.int64)


def _tiger_measures(frame) -> pd.DataFrame:  # frame: the projected, unsimplified counties
    labour = _labour_force().reindex(frame["customer_id"])
    missing = frame["customer_id"][labour.isna().any(axis=1).to_numpy()]
    if len(missing):
        raise SystemExit(f"no BLS 2009 labour force for counties {list(missing)}")
    measures = labour.reset_index(drop=True)
    measures.insert(0, "towns", _towns(frame.geometry.to_numpy(), frame.crs))
    return measures


def build_tiger(state: str) -> pd.DataFrame:
    """The bundled table of a TIGER/Line state: as `build`, shapes simplified."""
    frame = read_tiger(state)
    shapes = shapely.coverage_simplify(
        shapely.set_precision(frame.geometry.to_numpy(), 1.0), SIMPLIFY_METRES
    )
    shapes = shapely.set_precision(shapes, 1.0)
    return _table(frame[["customer_id", "name"]], shapes, _tiger_measures(frame), state)


def build(state: str) -> pd.DataFrame:
    """The bundled table of one state: ids, names, x/y (km), measures, area, WKT."""
    if state in TIGER_SOURCES:
        return build_tiger(state)
    source = SOURCES[state]
    frame = read_source(state).to_crs(source.bundled_crs)
    shapes = shapely.set_precision(frame.geometry.to_numpy(), 1.0)  # whole metres
    return _table(_ids_and_names(state, frame), shapes, _measures(state, frame), state)


def _table(names: pd.DataFrame, shapes: np.ndarray, measures: pd.DataFrame, state: str):
    centroids = shapely.centroid(shapes)
    table = pd.concat(
        [
            names.reset_index(drop=True),
            pd.DataFrame(
                {
                    "x": np.round(shapely.get_x(centroids) / 1000, 3),
                    "y": np.round(shapely.get_y(centroids) / 1000, 3),
                }
            ),
            measures.reset_index(drop=True),
            pd.DataFrame({"area": np.round(shapely.area(shapes) / 1e6, 2)}),
            pd.DataFrame({"wkt": shapely.to_wkt(shapes, rounding_precision=0)}),
        ],
        axis=1,
    )
    assert list(table.columns[4:-2]) == list(MEASURES[state]), table.columns
    return table.sort_values("customer_id", ignore_index=True)


def check(state: str) -> None:
    """Stop unless the bundled file has the source's adjacency and totals."""
    from alloc.datasets import load_counties

    bundled = load_counties(state)
    if state in TIGER_SOURCES:
        source = read_tiger(state)
        source_ids = source["customer_id"].to_numpy()
        totals = _tiger_measures(source).sum()
    else:
        source = read_source(state)
        source_ids = _ids_and_names(state, source)["customer_id"].to_numpy()
        totals = _measures(state, source).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Virginia's Eastern Shore: compared below
        for kind in ("queen", "rook"):
            mine = adjacency(bundled, kind=kind)
            theirs = adjacency(source.geometry, ids=source_ids, kind=kind)
            if not mine.equals(theirs) or _parts(mine) != _parts(theirs):
                raise SystemExit(f"{state}: {kind} adjacency of the bundled file differs")
            print(
                f"  {state}: {kind} adjacency equal to the shapefile's ({len(mine) // 2} pairs, "
                f"islands {mine.attrs['islands']}, detached {mine.attrs['detached']})"
            )
    if not (bundled[totals.index].sum() == totals).all():
        raise SystemExit(f"{state}: measure totals differ from the source")
    area = shapely.area(shapely.from_wkt(build(state)["wkt"].to_numpy())).sum() / 1e6
    print(f"  {state}: {len(bundled)} counties, area {area:,.0f} km2, totals {totals.to_dict()}")


def _parts(neighbors: pd.DataFrame) -> set[frozenset[str]]:
    parts = [*neighbors.attrs["detached"], *([unit] for unit in neighbors.attrs["islands"])]
    return {frozenset(part) for part in parts}


def balance_table(tolerance: float = 0.05, ks: tuple[int, ...] = (5, 10, 20)) -> pd.DataFrame:
    """Per state and measure: the largest county's share and whether k reps can balance it.

    A necessary condition only: with a county above ``(1 + tolerance) * total / k``, the
    rep holding it is over its window whatever the plan.
    """
    from alloc.datasets import load_counties

    rows = []
    for state in (*SOURCES, *TIGER_SOURCES):
        table = load_counties(state)
        for measure in (*MEASURES[state], "area"):
            share = table[measure].max() / table[measure].sum()
            row = {"state": state, "measure": measure, "largest county": f"{share:.1%}"}
            row |= {f"k={k}": "yes" if share <= (1 + tolerance) / k else "no" for k in ks}
            row["largest k"] = int(np.floor((1 + tolerance) / share))
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args()
    if not args.check:
        for state in (*SOURCES, *TIGER_SOURCES):
            build(state).to_csv(
                OUT / COUNTY_FILE.format(state=state),
                index=False,
                compression={"method": "gzip", "mtime": 0},  # same bytes on every build
            )
        shutil.copyfile(_licence(), OUT / "LICENSE-libpysal.txt")
    for state in (*SOURCES, *TIGER_SOURCES):
        check(state)
    print(_markdown(balance_table()))


def _markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def _licence() -> Path:
    from importlib import metadata

    files = metadata.files("libpysal") or []
    for file in files:
        if file.name.upper().startswith("LICENSE"):
            return Path(str(file.locate()))
    raise SystemExit("libpysal's licence file was not found; copy it by hand")


if __name__ == "__main__":
    main()
