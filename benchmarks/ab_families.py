"""alloc alone on the recipes of `families.py` and `families_unseen.py`: one JSON line per
case (family, seed, status, objective, bound, seconds, checked), for quick before/after
pairs in one session (no baselines: `bench_robust.py` and `bench_unseen.py` have them).

    python benchmarks/run_with_src.py /work/wt/base/src benchmarks/ab_families.py \
        --size small --seconds 5 --seeds 2 > base.jsonl
    python benchmarks/ab_families.py --size small --seconds 5 --seeds 2 > new.jsonl
    python benchmarks/ab_families.py --compare base.jsonl new.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import alloc  # noqa: E402
import families  # noqa: E402
import families_unseen  # noqa: E402

SIZES = {"small": (2_000, 20), "medium": (20_000, 200), "large": (100_000, 1_000)}


def _recipe(name: str):  # type: ignore[no-untyped-def]
    for module in (families, families_unseen):
        if hasattr(module, name):
            return getattr(module, name)
    raise SystemExit(f"unknown family {name!r}")


def run(size: str, seconds: float, seeds: int, names: list[str]) -> None:
    n, m = SIZES[size]
    for name in names:
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem = _recipe(name)(n, m, seed)
                start = time.perf_counter()
                result = alloc.solve(problem, time_limit=seconds, seed=0)
                took = time.perf_counter() - start
            checked = result.status.has_solution and not alloc.check(problem, result.assignment)
            line = {
                "family": name,
                "seed": seed,
                "status": result.status.name,
                "objective": result.objective,
                "bound": result.bound,
                "seconds": round(took, 2),
                "checked": checked,
            }
            print(json.dumps(line), flush=True)


def compare(before: Path, after: Path) -> None:
    def load(path: Path) -> dict[tuple[str, int], dict]:  # type: ignore[type-arg]
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return {(r["family"], r["seed"]): r for r in rows}

    a, b = load(before), load(after)
    print(
        f"{'family':<16} seed {'before':>12} {'after':>12} {'after-before (pt)':>18} "
        f"{'(%)':>9}  statuses"
    )
    for key in a:
        if key not in b:
            continue
        x, y = a[key], b[key]
        feasible = "INFEASIBLE" not in (x["status"], y["status"])
        change = y["objective"] - x["objective"] if feasible else 0.0
        relative = 100 * change / max(abs(x["objective"]), 1e-12) if feasible else 0.0
        print(
            f"{key[0]:<16} {key[1]:>4} {x['objective']:>12.6g} {y['objective']:>12.6g} "
            f"{100 * change:>18.4f} {relative:>9.3f}  {x['status']}/{y['status']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--families",
        default=",".join([*families.FAMILIES, *families_unseen.RECIPES]),
    )
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
    else:
        run(args.size, args.seconds, args.seeds, args.families.split(","))


if __name__ == "__main__":
    main()
