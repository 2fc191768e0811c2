"""alloc.solve on `families.py`'s recipes: one line per case, for before/after runs.

The quick side-by-side check behind the stop 24 figures in benchmarks/README.md: run it
on this tree and, at the same time, on another tree through `run_with_src.py`, and
compare the objectives line by line (``bench_robust.py`` adds the LP bound, the greedy
and a plain CP-SAT model, and takes far longer).

Usage::

    python benchmarks/ab_families.py medium combined,sparse 0,1,2 > after.txt &
    python benchmarks/run_with_src.py /path/to/base/src benchmarks/ab_families.py \\
        medium combined,sparse 0,1,2 > before.txt
"""

from __future__ import annotations

import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import alloc
import families

SIZES = {"small": (2_000, 20, 5.0), "medium": (20_000, 200, 30.0), "large": (100_000, 1_000, 120.0)}


def main() -> None:
    size, names, seeds = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    n, m, time_limit = SIZES[size]
    print(f"# alloc from {Path(alloc.__file__).parent}", flush=True)
    for family in names:
        for seed in (int(s) for s in seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # data warnings are not what is measured
                problem = families.build(family, n, m, seed)
                problem.model  # noqa: B018  (compiled before the clock starts)
                t = time.perf_counter()
                result = alloc.solve(problem, time_limit=time_limit, seed=0)
            wall = time.perf_counter() - t
            assert result.assignment is not None and alloc.check(problem, result.assignment) == []
            bound = result.bound if result.bound is not None else float("nan")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{size} {family} {seed} {result.status.value} objective {result.objective:.6f} "
                f"bound {bound:.6f} {wall:.1f}s peak {peak:.0f} MB",
                flush=True,
            )


if __name__ == "__main__":
    main()
