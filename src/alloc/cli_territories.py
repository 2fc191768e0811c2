"""``alloc demo --territories``: contiguous, balanced territories on a bundled real map.

Georgia's 159 counties (US Census 1990, bundled by `alloc.datasets.load_counties`), five
reps with offices in five cities. Today's map gives each county to the nearest office;
the demo designs territories that are connected along county borders, contain their
rep's office, hold rural population and area within +-10 % of the fair share, and are as
close to the offices as those windows allow. It prints both maps' balance, the plan's
summary and the independent checker's verdict, and writes the plan and a map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alloc._io import write_atomic
from alloc.checker import check
from alloc.data.problem import Problem
from alloc.result import Result

__all__ = ["OFFICES", "TERRITORY_MEASURES", "territory_demo_problem", "territory_table"]

#: The reps of the territory demo and the county (FIPS code) of each one's office.
OFFICES: dict[str, str] = {
    "Atlanta": "13121",
    "Savannah": "13051",
    "Augusta": "13245",
    "Columbus": "13215",
    "Albany": "13095",
}
#: The measures every territory must hold within +-TOLERANCE of its fair share.
TERRITORY_MEASURES: tuple[str, ...] = ("rural_population", "area")
TOLERANCE = 0.10


def territory_demo_problem() -> tuple[Problem, Any, pd.Series, pd.DataFrame]:
    """The demo's problem, the county shapes, today's nearest-office map and the
    distances (km) from each county to each office."""
    import alloc
    from alloc.datasets import load_counties
    from alloc.geo import adjacency, distance_matrix

    counties = load_counties("georgia")
    neighbors = adjacency(counties, kind="queen")
    reps = pd.DataFrame({"rep_id": list(OFFICES), "office": list(OFFICES.values())})
    customers = counties.drop(columns="geometry")
    xy = customers.set_index("customer_id")[["x", "y"]]
    to_office = pd.DataFrame(
        distance_matrix(xy.to_numpy(), xy.loc[reps["office"]].to_numpy()),
        index=xy.index,
        columns=reps["rep_id"],
    )
    today = to_office.idxmin(axis=1).rename("rep_id")
    customers = customers.assign(owner=customers["customer_id"].map(today))
    rules = [
        alloc.Contiguous(neighbors, base="office"),
        *(alloc.Balance(m, TOLERANCE) for m in TERRITORY_MEASURES),
    ]
    problem = Problem(customers, reps, rules=rules, objective=alloc.MinimizeDispersion("sum"))
    return problem, counties, today, to_office


def territory_table(
    problem: Problem, assignment: pd.Series, to_office: pd.DataFrame
) -> pd.DataFrame:
    """Per rep: each measure as % of its fair share, counties, and km from its counties
    to its office (summed)."""
    units = problem.customers
    rep = assignment.reindex(units.index)
    n_reps = problem.n_reps
    table = pd.DataFrame(
        {
            f"{m} %": 100 * units[m].groupby(rep).sum() / (units[m].sum() / n_reps)
            for m in TERRITORY_MEASURES
        }
    ).reindex(problem.reps.index)
    table["counties"] = rep.value_counts().reindex(table.index).fillna(0).astype(int)
    table["km to office"] = pd.Series(
        {r: to_office.loc[rep.index[rep == r], r].sum() for r in table.index}
    )
    return table.round(1)


def _worst(table: pd.DataFrame) -> str:
    parts = [f"{m} {np.abs(table[f'{m} %'] - 100).max():.1f} %" for m in TERRITORY_MEASURES]
    return "largest deviation from the fair share: " + ", ".join(parts)


def _map(path: Path, counties: Any, today: pd.Series, result: Result) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alloc.plot import territories

    fig, axes = plt.subplots(1, 2, figsize=(13, 7))
    territories(counties, today, centers=OFFICES, ax=axes[0], title="Today: nearest office")
    territories(
        counties,
        result,
        centers=OFFICES,
        ax=axes[1],
        title=f"Designed: connected, both measures within +-{TOLERANCE:.0%}",
    )
    fig.tight_layout()
    written = write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return written


def run_territory_demo(
    out: Path, time_limit: float, seed: int, solve: Any, progress: bool = True
) -> Result:
    """Design the demo's territories, print the comparison, write ``territories.csv`` and
    ``territories.png`` under ``out``; returns the Result (written only with a plan)."""
    problem, counties, today, to_office = territory_demo_problem()
    print(
        f"alloc demo --territories: Georgia, {problem.n_customers} counties, "
        f"{problem.n_reps} reps with offices in {', '.join(OFFICES)}"
    )
    print("rules:", "; ".join(map(repr, problem.rules)))
    print("objective:", " + ".join(map(repr, problem.objective)), "\n")
    before = territory_table(problem, today, to_office)
    print("Today (each county to the nearest office):")
    print(before.to_string())
    print(_worst(before), "\n")
    result = solve(problem, time_limit=time_limit, seed=seed, progress=progress)
    if not result.status.has_solution:
        return result
    after = territory_table(problem, result.assignment, to_office)
    print("Designed:")
    print(after.to_string())
    print(_worst(after))
    violations = check(problem, result.assignment)
    print(f"rule violations found by the independent checker: {len(violations)}")
    print(f"\n{result.summary()}")
    frame = result.to_frame()
    csv_path = write_atomic(out / "territories.csv", lambda tmp: frame.to_csv(tmp))
    png_path = _map(out / "territories.png", counties, today, result)
    print(f"wrote {csv_path} and {png_path}")
    return result
