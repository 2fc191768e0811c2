"""Time to prove infeasibility: this checkout against a baseline checkout, in one run.

Cases, all typed in code (tests/conftest.py ``hand_typed_tables``): customers with an
industry and round-money potential, 8 reps with skills, one skill misspelt
("healtcare"); rules ``Match("industry", "skills")`` and ``Balance("potential",
tolerance=0.05)``. The 5 % window is impossible for REP2 and REP4 together although
every customer keeps an eligible rep. Sizes 300 (the case of issue 12) and 3,000
customers; and the same tables with the skill spelt right (feasible), to show that the
early feasibility run does not slow a feasible solve down.

Each solve runs in a fresh subprocess (``--worker``) with ``time_limit=10``, ``seed=0``,
``workers=1`` (the time of the call only, after ``import alloc`` and the lazy import of
its solvers): once with this checkout's ``src`` and once with the baseline's (default
/work/wt/old/src, the code before the early proof), on the same machine, interleaved.
The table prints the status, wall time and the start of the explanation of each.

Usage: python benchmarks/bench_infeasible.py [--baseline PATH/src] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

CASES = {
    "300 x 8, misspelt skill": {"n_customers": 300, "fixed_spelling": False},
    "3,000 x 8, misspelt skill": {"n_customers": 3000, "fixed_spelling": False},
    "300 x 8, spelt right": {"n_customers": 300, "fixed_spelling": True},
}


def _worker(tables_path: str, time_limit: float) -> None:
    """Solve the pickled tables and print status, seconds and explanation as JSON."""
    import warnings

    import alloc

    customers, reps = pd.read_pickle(tables_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem = alloc.Problem(
            customers,
            reps,
            rules=[alloc.Match("industry", "skills"), alloc.Balance("potential", tolerance=0.05)],
        )
        solve = alloc.solve  # imports the solvers (lazily loaded): not part of the solve
        t0 = time.perf_counter()
        result = solve(problem, time_limit=time_limit, seed=0, workers=1)
        seconds = time.perf_counter() - t0
    ok = result.assignment is None or alloc.check(problem, result.assignment) == []
    print(
        json.dumps(
            {
                "status": result.status.value,
                "seconds": seconds,
                "checked": ok,
                "explanation": result.explanation,
            }
        )
    )


def _solve_in(src: str, tables_path: str, time_limit: float) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", tables_path, "--time-limit", str(time_limit)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="/work/wt/old/src")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.time_limit)
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import hand_typed_tables

    sources = {"this checkout": str(ROOT / "src"), "baseline": args.baseline}
    lines = [
        f"# bench_infeasible.py  python {platform.python_version()}  "
        f"{os.cpu_count()} cores  time_limit={args.time_limit:g}  repeat={args.repeat}",
        f"# baseline: {args.baseline}",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for case, kwargs in CASES.items():
            path = str(Path(tmp) / "tables.pkl")
            pd.to_pickle(hand_typed_tables(**kwargs), path)
            for label, src in sources.items():
                runs = [_solve_in(src, path, args.time_limit) for _ in range(args.repeat)]
                times = sorted(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
                first = runs[0]
                statuses = sorted({str(r["status"]) for r in runs})
                line = (
                    f"{case:<28} {label:<14} status {'/'.join(statuses):<10} "
                    f"median {times[len(times) // 2]:6.2f} s  max {times[-1]:6.2f} s  "
                    f"checked {all(r['checked'] for r in runs)}"
                )
                lines.append(line)
                lines.append(f"    {str(first['explanation'])[:400]}")
                print(line, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "infeasible.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[2:]))


if __name__ == "__main__":
    main()
