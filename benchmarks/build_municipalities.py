"""Build the bundled municipality map of `alloc.datasets.load_municipalities`.

Finer units than the bundled counties: the 262 municipalities (cities, wards, towns and
villages) of the Tokyo metropolitan area, 1990, from libpysal's ``tokyo`` example (the
GWR4 sample data of Nakaya et al. 2005: ``tokyomet262.shp`` and ``Tokyomortality.csv``).
Many reps can be balanced on them: no municipality holds more than 2.6 % of the area's
working-age deaths or 3.3 % of its land, where no bundled state's counties allow 20
territories within +-5 % (docs/territories.md).

Run once, from the repository root, with the ``bench`` extra installed (geopandas,
libpysal)::

    python benchmarks/build_municipalities.py            # writes src/alloc/datasets/data/
    python benchmarks/build_municipalities.py --check    # only compares, writes nothing

The build repairs the ten source rings that cross themselves (``shapely.make_valid``),
rounds the shapes to whole metres, writes ``municipalities_tokyo.csv.gz`` (one row per
municipality, shape as WKT), reads the file back and stops unless queen adjacency
equals that of the repaired source shapes (rook: up to corners) and the measures add up to the
source's totals. The source leaves gaps of about 1 mm along 27 shared borders (Chuo and
Koto wards, Minato and Shinjuku wards, ...), which the rounding closes: the check reads
the source with a 1 m tolerance (``alloc.geo.adjacency(..., tolerance=1.0)``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from alloc.datasets.municipalities import MUNICIPALITY_FILE  # noqa: E402
from alloc.geo import adjacency  # noqa: E402

OUT = ROOT / "src" / "alloc" / "datasets" / "data"
#: Gap (m) between source shapes still read as a shared border in the check.
TOLERANCE_M = 1.0


def _examples() -> Path:
    import libpysal

    return Path(libpysal.__file__).parent / "examples"


def read_source() -> tuple[pd.DataFrame, np.ndarray]:
    """The source's attributes (one row per municipality, in shapefile order) and its
    repaired shapes (metres, Tokyo datum / Japan plane rectangular CS VI, EPSG:30166)."""
    import geopandas as gpd

    shapes = gpd.read_file(_examples() / "tokyo" / "tokyomet262.shp")
    table = pd.read_csv(_examples() / "tokyo" / "Tokyomortality.csv")
    if not (table["IDnum0"].to_numpy() == shapes["AreaID"].to_numpy()).all():
        raise SystemExit("tokyo: the attribute table and the shapefile are not in one order")
    frame = pd.DataFrame(
        {
            "customer_id": shapes["GEOCODE"].astype(str),  # the 5-digit municipality code
            "name": shapes["AREANAME"].astype(str),
            "deaths_25_64": table["db2564"].astype(np.int64),
            "expected_deaths_25_64": table["eb2564"].astype(float),
            "share_professional": table["OCC_TEC"].astype(float),
            "share_owned_homes": table["OWNH"].astype(float),
            "share_aged_65": table["POP65"].astype(float),
            "unemployment_rate": table["UNEMP"].astype(float),
        }
    )
    return frame, shapely.make_valid(shapes.geometry.to_numpy())


def build() -> pd.DataFrame:
    """The bundled table: ids, names, x/y (km), measures, area, WKT."""
    frame, shapes = read_source()
    shapes = shapely.set_precision(shapes, 1.0)  # whole metres
    centroids = shapely.centroid(shapes)
    table = pd.concat(
        [
            frame[["customer_id", "name"]],
            pd.DataFrame(
                {
                    "x": np.round(shapely.get_x(centroids) / 1000, 3),
                    "y": np.round(shapely.get_y(centroids) / 1000, 3),
                }
            ),
            frame.drop(columns=["customer_id", "name"]),
            pd.DataFrame({"area": np.round(shapely.area(shapes) / 1e6, 2)}),
            pd.DataFrame({"wkt": shapely.to_wkt(shapes, rounding_precision=0)}),
        ],
        axis=1,
    )
    return table.sort_values("customer_id", ignore_index=True)


def check() -> None:
    """Stop unless the bundled file has the source's adjacency and totals."""
    from alloc.datasets import load_municipalities

    bundled = load_municipalities("tokyo")
    frame, shapes = read_source()
    ids = frame["customer_id"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The source's neighbours leave gaps of about 1 mm between 27 pairs of
        # municipalities that share a border (Chuo and Koto wards, say), closed by the
        # rounding to whole metres: compared with a 1 m tolerance (the same pairs from
        # 0.5 m to 5 m).
        mine = adjacency(bundled, kind="queen")
        theirs = adjacency(shapes, ids=ids, kind="queen", tolerance=TOLERANCE_M)
        if not mine.equals(theirs):
            raise SystemExit("tokyo: queen adjacency of the bundled file differs")
        print(
            f"  tokyo: queen adjacency equal to the repaired shapefile's ({len(mine) // 2} "
            f"pairs, islands {mine.attrs['islands']}, detached {mine.attrs['detached']})"
        )
        # Rook: with the tolerance, a corner of the source may read as a short border;
        # every pair that differs must still touch at a corner in the bundled file.
        rook = _pairs(adjacency(bundled, kind="rook"))
        source_rook = _pairs(adjacency(shapes, ids=ids, kind="rook", tolerance=TOLERANCE_M))
        if not (rook ^ source_rook) <= _pairs(mine):
            raise SystemExit("tokyo: rook adjacency of the bundled file differs")
        print(
            f"  tokyo: rook adjacency: {len(rook) // 2} pairs; "
            f"{len(rook ^ source_rook) // 2} more read as a border in the source "
            "(corners in the bundled file)"
        )
    for column in ("deaths_25_64", "expected_deaths_25_64"):
        if not np.isclose(bundled[column].sum(), frame[column].sum(), rtol=0, atol=1e-6):
            raise SystemExit(f"tokyo: the total of {column} differs from the source")
    print(
        f"  tokyo: {len(bundled)} municipalities, area {bundled['area'].sum():,.0f} km2, "
        f"deaths_25_64 {bundled['deaths_25_64'].sum():,}, "
        f"expected {bundled['expected_deaths_25_64'].sum():,.3f}"
    )
    for column in ("deaths_25_64", "expected_deaths_25_64", "area"):
        share = bundled[column].max() / bundled[column].sum()
        print(f"  largest {column}: {share:.2%} (k reps within +-5 %: k <= {int(1.05 / share)})")


def _pairs(neighbors: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(neighbors.iloc[:, 0], neighbors.iloc[:, 1], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args()
    if not args.check:
        build().to_csv(
            OUT / MUNICIPALITY_FILE.format(region="tokyo"),
            index=False,
            compression={"method": "gzip", "mtime": 0},  # same bytes on every build
        )
    check()


if __name__ == "__main__":
    main()
