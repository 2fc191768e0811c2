"""Benchmark: exact target decomposition vs naive per-cell rounding.

A company target is spread over 2,000 reps x 12 months x 10 products (240,000 cells).
``alloc.targets.decompose`` is timed (best of 3) and every marginal is checked against
``split(total, w, unit)`` for its axis: the number of reconciliation errors must be 0.
Beside it, in the same run, the naive method rounds each cell on its own,
``round(total * w_month * w_product * w_rep / unit) * unit``, and its total error and
marginal errors are counted. Month weights are the seasonality of the bundled bike
sales; rep and product weights are random (seeded).

Run: ``PYTHONPATH=src python benchmarks/bench_targets.py`` (or after ``pip install``).
Writes ``benchmarks/results/targets.csv``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from alloc.datasets.sales import load_bike_sales
from alloc.targets import decompose, seasonality, split

N_REPS, N_MONTHS, N_PRODUCTS = 2_000, 12, 10
SCENARIOS = [  # (annual total, unit)
    (250_000_000, 1),
    (250_000_000, 100),
    (250_000_000, 1_000),
    (2_400_000, 10),
]
RESULTS = Path(__file__).resolve().parent / "results" / "targets.csv"


def make_axes(seed: int = 0) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    months = seasonality(load_bike_sales(), "order_date", "total_price")
    reps = pd.Series(rng.lognormal(0.0, 0.6, N_REPS), index=[f"R{i:04d}" for i in range(N_REPS)])
    products = pd.Series(
        rng.uniform(0.2, 2.0, N_PRODUCTS), index=[f"P{i:02d}" for i in range(N_PRODUCTS)]
    )
    return {"rep": reps, "month": months, "product": products}


def marginal_errors(
    cells: np.ndarray, expected: list[np.ndarray], total: float
) -> tuple[int, int, float, float]:
    """(groups off, groups checked, largest |error| of a group, |total error|)."""
    k = cells.ndim
    off = checked = 0
    worst = 0.0
    for a in range(k):
        got = cells.sum(axis=tuple(b for b in range(k) if b != a))
        diff = np.abs(got - expected[a])
        off += int((diff > 1e-6).sum())
        checked += diff.size
        worst = max(worst, float(diff.max()))
    return off, checked, worst, abs(float(cells.sum()) - total)


def run() -> pd.DataFrame:
    axes = make_axes()
    shape = tuple(len(w) for w in axes.values())
    shares = [w.to_numpy() / w.sum() for w in axes.values()]
    rows = []
    for total, unit in SCENARIOS:
        expected = [split(total, w, unit=unit).to_numpy() for w in axes.values()]
        times = []
        for _ in range(3):
            start = time.perf_counter()
            plan = decompose(total, axes, unit=unit)
            times.append(time.perf_counter() - start)
        cells = plan["target"].to_numpy().reshape(shape)
        off, checked, worst, total_err = marginal_errors(cells, expected, total)
        fit = np.multiply.outer(
            np.multiply.outer(expected[0], expected[1] / total), expected[2] / total
        )
        deviation = np.abs(cells - fit) / unit
        rows.append(
            {
                "method": "alloc decompose",
                "total": total,
                "unit": unit,
                "cells": cells.size,
                "seconds_best_of_3": min(times),
                "total_error": total_err,
                "marginal_groups_off": off,
                "marginal_groups_checked": checked,
                "max_marginal_error": worst,
                "negative_cells": int((cells < 0).sum()),
                "cells_beyond_one_unit": int((deviation >= 1).sum()),
            }
        )
        start = time.perf_counter()
        exact = total * np.multiply.outer(np.multiply.outer(shares[0], shares[1]), shares[2])
        naive = np.round(exact / unit) * unit
        naive_time = time.perf_counter() - start
        off, checked, worst, total_err = marginal_errors(naive, expected, total)
        rows.append(
            {
                "method": "naive per-cell rounding",
                "total": total,
                "unit": unit,
                "cells": naive.size,
                "seconds_best_of_3": naive_time,
                "total_error": total_err,
                "marginal_groups_off": off,
                "marginal_groups_checked": checked,
                "max_marginal_error": worst,
                "negative_cells": int((naive < 0).sum()),
                "cells_beyond_one_unit": int((np.abs(naive - exact) / unit >= 1).sum()),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    machine = platform.processor() or platform.machine()
    print(
        f"alloc targets benchmark — {dt.date.today()} — {machine}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"
    )
    print(f"{N_REPS:,} reps x {N_MONTHS} months x {N_PRODUCTS} products")
    table = run()
    show = table.assign(
        seconds=table["seconds_best_of_3"].map(lambda s: f"{s:.3f}"),
        marginals_off=table["marginal_groups_off"].astype(str)
        + "/"
        + table["marginal_groups_checked"].astype(str),
        total_error=table["total_error"].map(lambda v: f"{v:,.0f}"),
        max_marginal_error=table["max_marginal_error"].map(lambda v: f"{v:,.0f}"),
    )[
        [
            "method",
            "total",
            "unit",
            "seconds",
            "total_error",
            "marginals_off",
            "max_marginal_error",
            "negative_cells",
            "cells_beyond_one_unit",
        ]
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(show.to_string(index=False))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS, index=False)
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
