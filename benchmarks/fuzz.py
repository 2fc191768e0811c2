"""Fuzz campaign: alloc.solve against a brute-force oracle on small random problems.

Each problem (3-9 customers, 2-3 reps, random rules and objectives, decimals, limits
planted at a hidden plan's loads; the first two are issue 17's reproducers) is solved
once by brute force (tests/fuzzing/oracle.py) and once by ``alloc.solve``; the outcome is
put into the classes of tests/fuzzing/classify.py. A CSV row per problem is written as
the campaign goes (the whole file rewritten to a temporary file and moved into place, so
an interrupted campaign leaves a valid CSV). At the end a table of classes is printed
(count and % of problems; a problem can fall into several classes) and, per class, the
smallest reproducer as Python code.

Usage: python benchmarks/fuzz.py [--n 10000] [--time-limit 2] [--seed 0] [--workers 1]
                                 [--output benchmarks/results/fuzz.csv] [--quiet]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fuzzing"))

from classify import CLASSES, WRONG, Outcome, classify
from generate import campaign
from oracle import brute_force
from territory import territory_campaign


def write_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """Write every row to ``path`` atomically (temporary file, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def table(outcomes: list[Outcome]) -> str:
    """Class table: count and share of problems, and of feasible problems."""
    n = len(outcomes)
    feasible = sum(1 for o in outcomes if o.verdict is not None and o.verdict.n_feasible > 0)
    lines = [
        f"{n} problems, {feasible} feasible by brute force",
        f"{'class':<22}{'count':>8}{'% all':>9}{'% feasible':>12}",
    ]
    for name in CLASSES:
        hit = [o for o in outcomes if (name in o.classes) or (name == "ok" and not o.classes)]
        on_feasible = sum(1 for o in hit if o.verdict is not None and o.verdict.n_feasible > 0)
        share_feasible = f"{100 * on_feasible / feasible:.1f}" if feasible else "-"
        mark = " *" if name in WRONG and hit else ""
        lines.append(
            f"{name:<22}{len(hit):>8}{100 * len(hit) / max(n, 1):>8.1f}%{share_feasible:>11}%{mark}"
        )
    right = sum(1 for o in outcomes if not set(o.classes) & set(WRONG))
    lines.append(f"{'no wrong answer':<22}{right:>8}{100 * right / max(n, 1):>8.1f}%")
    lines.append("(* a wrong answer; a problem can fall into several classes)")
    return "\n".join(lines)


def reproducers(outcomes: list[Outcome], time_limit: float, seed: int, workers: int) -> str:
    """Per class, the smallest case in it, as paste-able Python."""
    parts = []
    for name in CLASSES:
        if name == "ok":
            continue
        hit = [o for o in outcomes if name in o.classes]
        if not hit:
            continue
        small = min(hit, key=lambda o: o.case.size)
        v = small.verdict
        facts = (
            f"# {name}: {len(hit)} problems; smallest is {small.case.name}\n"
            f"# alloc: status {small.status}, objective {small.objective}, bound {small.bound}"
            f", {small.wall:.2f} s {small.error}\n"
        )
        if v is not None:
            facts += (
                f"# brute force: {v.n_feasible} feasible of {v.n_plans} plans, optimum "
                f"{v.optimum}, e.g. {v.plan}\n"
            )
        if small.broken:
            facts += f"# broken rules (oracle): {small.broken}; alloc.check: {small.checker}\n"
        parts.append(facts + small.case.code(time_limit, seed, workers))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="number of problems")
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (problems and solve)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/fuzz.csv"))
    parser.add_argument("--quiet", action="store_true", help="no line per problem")
    parser.add_argument(
        "--recipe",
        choices=["planted", "territory"],
        default="planted",
        help="planted: random rules with limits planted at a hidden plan's loads "
        "(tests/fuzzing/generate.py); territory: tiny territories with two or three tight "
        "windows and travel (tests/fuzzing/territory.py)",
    )
    args = parser.parse_args(argv)
    cases = (
        campaign(args.seed, args.n)
        if args.recipe == "planted"
        else territory_campaign(args.seed, args.n)
    )

    outcomes: list[Outcome] = []
    rows: list[dict[str, object]] = []
    t0 = time.perf_counter()
    for i, case in enumerate(cases):
        verdict = brute_force(case)
        out = classify(case, args.time_limit, args.seed, args.workers, verdict=verdict)
        outcomes.append(out)
        rows.append({"index": i, "seed": args.seed, "time_limit": args.time_limit, **out.row()})
        write_rows(args.output, rows)
        if not args.quiet:
            print(
                f"{i:>6} {case.name:<28} {out.status:<10} {out.primary:<20} {out.wall:6.2f} s",
                flush=True,
            )
    print(f"\n{len(outcomes)} problems in {time.perf_counter() - t0:.0f} s; rows in {args.output}")
    print(table(outcomes))
    text = reproducers(outcomes, args.time_limit, args.seed, args.workers)
    if text:
        print("\nSmallest reproducer per class:\n")
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
