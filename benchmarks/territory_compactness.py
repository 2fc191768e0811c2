"""Compactness alone: alloc's contiguous p-median against spopt's regions, no balance.

bench_territories.py compares plans that keep two measures within +-5 % (alloc) with
spopt's regions, which balance nothing and so are free to be more compact. This script
separates the two effects: alloc is given the same freedom (``Contiguous`` and
``MinimizeDispersion("sum")`` with centres chosen, no ``Balance``), and both are scored
by ``spopt_baseline.score`` (sum of km from each county to its region's best centre
county; connectedness checked with networkx). spopt's randomised methods keep their most
compact restart. Same units, queen graph, k and time for every method, in one run.

Usage: python benchmarks/territory_compactness.py [--seconds 20] [--k 5 10]
       [--state georgia north_carolina iowa kentucky] [--output FILE]  (``bench`` extra)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import alloc  # noqa: E402
from spopt_baseline import run_baselines, score  # noqa: E402


def compare(state: str, k: int, seconds: float) -> list[dict[str, object]]:
    """alloc and spopt on one state and k; one row per method."""
    table = alloc.datasets.load_counties(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        neighbors = alloc.geo.adjacency(table, kind="queen")
    reps = pd.DataFrame({"rep_id": [f"R{i + 1:02d}" for i in range(k)]})
    problem = alloc.Problem(
        table.drop(columns="geometry"),
        reps,
        rules=[alloc.Contiguous(neighbors)],
        objective=alloc.MinimizeDispersion("sum"),
    )
    start = time.perf_counter()
    result = alloc.solve(problem, time_limit=seconds, seed=0)
    took = time.perf_counter() - start
    rows: list[dict[str, object]] = []
    base = {"state": state, "k": k}
    if result.assignment is None:
        rows.append(base | {"method": "alloc", "status": result.status.value, "s": took})
    else:
        assert alloc.check(problem, result.assignment) == []
        scores = score(result.assignment, table, [], neighbors, k)
        rows.append(
            base
            | {"method": "alloc", "status": result.status.value, "s": took}
            | {"dispersion": scores["dispersion"], "disconnected": scores["disconnected"]}
            | {"bound": result.bound}
        )
    for run in run_baselines(table, [], k, seconds, neighbors=neighbors, rank_by="dispersion"):
        rows.append(
            base
            | {"method": f"spopt {run.method}", "status": "-", "s": run.seconds}
            | {"dispersion": run.scores["dispersion"], "disconnected": run.scores["disconnected"]}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--k", nargs="+", type=int, default=[5, 10])
    parser.add_argument(
        "--state", nargs="+", default=["georgia", "north_carolina", "iowa", "kentucky"]
    )
    parser.add_argument("--output", default=str(ROOT / "benchmarks/results/compactness.txt"))
    args = parser.parse_args()
    rows = [row for s in args.state for k in args.k for row in compare(s, k, args.seconds)]
    frame = pd.DataFrame(rows)
    best_spopt = frame[frame["method"] != "alloc"].groupby(["state", "k"])["dispersion"].min()
    alloc_rows = frame[frame["method"] == "alloc"].set_index(["state", "k"])["dispersion"]
    ratio = (alloc_rows / best_spopt - 1).rename("alloc vs best spopt")
    header = (
        f"# territory_compactness  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, {args.seconds:g} s each"
    )
    with pd.option_context("display.width", 160, "display.float_format", "{:.1f}".format):
        text = "\n".join(
            [header, frame.to_string(index=False), "", (100 * ratio).round(1).to_string()]
        )
    print(text)
    Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
