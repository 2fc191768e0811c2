"""Draw the bundled county maps for the docs (docs/images/counties.png).

Each state is split into 5 connected territories grown from 5 seed counties (spread out
by farthest-point sampling) along the queen neighbour graph: every county joins the seed
it reaches first, through the county it was reached from, so each territory is connected.
The territories are not balanced: the picture shows the map, the neighbour graph and the
drawing, not a plan (docs/territories.md shows plans)::

    python benchmarks/map_counties.py [--out docs/images/counties.png]
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import alloc  # noqa: E402
from alloc.geo import adjacency, distance_matrix  # noqa: E402

STATES = ("georgia", "north_carolina", "virginia")


def spread_seeds(table: pd.DataFrame, k: int) -> list[int]:
    """``k`` row positions far apart: start west-most, then add the farthest each time."""
    distance = distance_matrix(table[["x", "y"]].to_numpy())
    seeds = [int(np.argmin(table["x"].to_numpy()))]
    while len(seeds) < k:
        seeds.append(int(np.argmax(distance[:, seeds].min(axis=1))))
    return seeds


def grow(table: pd.DataFrame, neighbours: pd.DataFrame, seeds: list[int]) -> pd.Series:
    """Breadth-first growth from the seeds at once: connected territories covering the map."""
    position = pd.Series(np.arange(len(table)), index=table["customer_id"])
    first = position[neighbours["customer_id"]].to_numpy()
    second = position[neighbours["neighbor_id"]].to_numpy()
    adjacent: list[list[int]] = [[] for _ in range(len(table))]
    for u, v in zip(first, second, strict=True):
        adjacent[u].append(int(v))
    owner = np.full(len(table), -1)
    queue = deque()
    for territory, seed in enumerate(seeds):
        owner[seed] = territory
        queue.append(seed)
    while queue:
        unit = queue.popleft()
        for other in adjacent[unit]:
            if owner[other] < 0:
                owner[other] = owner[unit]
                queue.append(other)
    return pd.Series([f"T{t + 1}" for t in owner], index=table["customer_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "counties.png"))
    args = parser.parse_args()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 5.2))
    for ax, state in zip(axes, STATES, strict=True):
        table = alloc.datasets.load_counties(state)
        seeds = spread_seeds(table, 5)
        plan = grow(table, adjacency(table, kind="queen"), seeds)
        centres = {f"T{t + 1}": table["customer_id"].iloc[s] for t, s in enumerate(seeds)}
        alloc.plot.territories(table, plan, centers=centres, ax=ax, title=state)
        ax.set_title(f"{state.replace('_', ' ').title()}: {len(table)} counties")
    figure.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
