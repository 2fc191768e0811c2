"""Which US states can be split into k connected territories with two measures within +-5 %?

Screens every state of the county data installed with the ``bench`` extra (nothing is
downloaded): the TIGER/Line 2009 counties of ``bokeh_sampledata`` (states with at least
40 counties) with GeoNames places (``towns``), the BLS 2009 labour force and the area,
built as `benchmarks/build_counties.py` builds the bundled Iowa, Kentucky and Texas (but
unsimplified and not written anywhere), and the bundled Georgia and North Carolina
(libpysal, 1990 census and births). For each pair of measures and k = 5, 10, 20 two
necessary conditions of a plan, both proofs when they fail:

- *count*: no county holds more than ``1.05 / k`` of either measure;
- *reach* (`alloc.solvers.territory_reach`): every county has a connected territory
  within its reach whose fractional share meets both windows.

Usage: python benchmarks/screen_states.py [--k 5 10 20] [--output results/state_screen.txt]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import alloc  # noqa: E402
import build_counties  # noqa: E402
from alloc.solvers.deadline import Deadline  # noqa: E402
from alloc.solvers.state import Rows  # noqa: E402
from alloc.solvers.territory_reach import reach_conflicts  # noqa: E402

BOKEH_MEASURES = ("towns", "labour_force", "area")
BUNDLED = {
    "georgia": ("population", "rural_population", "elderly_population", "area"),
    "north_carolina": (
        "births_1974_78",
        "births_1979_84",
        "nonwhite_births_1974_78",
        "nonwhite_births_1979_84",
        "area",
    ),
}


def tiger_state(postal: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers (measures, x/y in km) and queen neighbours of one TIGER/Line state."""
    import geopandas as gpd
    from bokeh_sampledata import us_counties

    records = us_counties.records(state=postal)
    frame = gpd.GeoDataFrame(
        {"customer_id": [r["fips"] for r in records]},
        geometry=[r["geometry"] for r in records],
        crs="EPSG:4269",
    )
    lon = frame.geometry.union_all().centroid.x
    frame = frame.to_crs(f"EPSG:{26900 + int((lon + 180) // 6) + 1}")  # NAD83 / UTM
    table = pd.concat(
        [frame[["customer_id"]].reset_index(drop=True), build_counties._tiger_measures(frame)],
        axis=1,
    )
    table["area"] = frame.geometry.area.to_numpy() / 1e6
    centres = frame.geometry.centroid
    table["x"], table["y"] = centres.x.to_numpy() / 1000, centres.y.to_numpy() / 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        neighbors = alloc.geo.adjacency(frame.set_index("customer_id").geometry, kind="queen")
    return table, neighbors


def bundled_state(state: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = alloc.datasets.load_counties(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        neighbors = alloc.geo.adjacency(table, kind="queen")
    return table.drop(columns="geometry"), neighbors


def screen(
    name: str, table: pd.DataFrame, neighbors: pd.DataFrame, measures: tuple[str, ...], ks
) -> list[str]:
    lines = []
    empty = [m for m in measures if not table[m].sum() > 0]
    if empty:  # Puerto Rico: no GeoNames places in bokeh's extract
        return [f"{name:<16} {len(table):>4} counties  no {', '.join(empty)}: not screened"]
    parts = len(neighbors.attrs["islands"]) + len(neighbors.attrs["detached"])
    shares = {m: float(table[m].max() / table[m].sum()) for m in measures}
    lines.append(
        f"{name:<16} {len(table):>4} counties  largest county: "
        + ", ".join(f"{m} {100 * s:.1f} %" for m, s in shares.items())
        + (f"  ({parts} detached parts: not screened)" if parts else "")
    )
    if parts:
        return lines
    for pair in itertools.combinations(measures, 2):
        verdicts = []
        for k in ks:
            over = [m for m in pair if shares[m] > 1.05 / k]
            if over:
                verdicts.append(f"k={k} count fails ({', '.join(over)})")
                continue
            reps = pd.DataFrame({"rep_id": [f"R{i:02d}" for i in range(k)]})
            problem = alloc.Problem(
                table,
                reps,
                rules=[alloc.Contiguous(neighbors)] + [alloc.Balance(m, 0.05) for m in pair],
            )
            found = reach_conflicts(
                problem.model, Rows.from_model(problem.model), Deadline.after(60)
            )
            units = problem.customer_ids[
                np.isin(problem.model.customer_unit, [c.unit for c in found])
            ].tolist()
            verdicts.append(
                f"k={k} reach fails ({len(units)}: {', '.join(units[:3])}"
                f"{'...' if len(units) > 3 else ''})"
                if units
                else f"k={k} passes"
            )
        lines.append(f"  {' + '.join(pair):<44} " + "; ".join(verdicts))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", nargs="+", type=int, default=[5, 10, 20])
    parser.add_argument("--output", default=str(ROOT / "benchmarks/results/state_screen.txt"))
    args = parser.parse_args()
    from bokeh_sampledata import us_counties

    counts = pd.Series([v["state"] for v in us_counties.data.values()]).value_counts()
    out: list[str] = [
        "# screen_states: count and reach tests, two measures within +-5 %, "
        f"k = {', '.join(map(str, args.k))}"
    ]
    for state, measures in BUNDLED.items():
        out += screen(state, *bundled_state(state), measures, args.k)
        print("\n".join(out[-1 - len(measures) * (len(measures) - 1) // 2 :]), flush=True)
    for postal in sorted(counts[counts >= 40].index):
        table, neighbors = tiger_state(postal)
        lines = screen(postal.upper() + " (TIGER)", table, neighbors, BOKEH_MEASURES, args.k)
        print("\n".join(lines), flush=True)
        out += lines
    passing = [line for line in out if line.count("passes") == len(args.k)]
    out.append(f"\npairs passing both tests at every k: {len(passing)}")
    out += passing
    print("\n".join(out[-len(passing) - 1 :]))
    Path(args.output).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
