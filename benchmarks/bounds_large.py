"""Bounds where the full LP is out of reach: the class LP and the group LPs, one model.

Prints, for one family of `families.py` at 100,000 x 1,000 (or ``--n``/``--m``), the
class LP's bound on the full model at mix steps 0 (classes by eligible reps only), 2
(alloc's default) and 4 per octave, and `group_bound` with ``--group-seconds``; each with
its time on one thread. The figures of benchmarks/README.md, stop 27 (combined seed 0:
-3.05 / 2.91 % / 2.97 %, group 0.93 %; seed 2: 6.13 % / 7.83 % at steps 2 / 4, group
8.98 % in 10 s) came from these calls.

Usage: python benchmarks/bounds_large.py [--family combined] [--seed 0] [--group-seconds 10]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import families  # noqa: E402
from alloc.solvers import lp_classes  # noqa: E402
from alloc.solvers.deadline import Deadline  # noqa: E402
from alloc.solvers.group_bound import group_bound  # noqa: E402
from alloc.solvers.lp import LpSearch  # noqa: E402
from alloc.solvers.state import Rows  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="combined")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--m", type=int, default=1_000)
    parser.add_argument("--group-seconds", type=float, default=10.0)
    parser.add_argument("--lp-seconds", type=float, default=200.0)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem = families.FAMILIES[args.family](args.n, args.m, args.seed)
    model = problem.model
    rows = Rows.from_model(model)
    print(f"{args.family} {args.n:,} x {args.m:,} seed {args.seed}: {model.n_pairs:,} pairs")
    t = time.perf_counter()
    value = group_bound(model, rows, Deadline.after(args.group_seconds))
    took = time.perf_counter() - t
    print(f"group LPs ({args.group_seconds:g} s): bound {value:.6g} in {took:.1f} s")
    default = lp_classes._MIX_STEPS
    try:
        for steps in (0, 2, 4):
            lp_classes._MIX_STEPS = steps
            t = time.perf_counter()
            deadline = Deadline.after(args.lp_seconds)
            search = LpSearch(model, rows, deadline, by_class=True, interruptible=False)
            result = search.start().finish()
            print(
                f"class LP, mix steps {steps}: {search.n_units:,} classes, bound "
                f"{result.bound:.6g} ({result.status}) in {time.perf_counter() - t:.1f} s"
            )
    finally:
        lp_classes._MIX_STEPS = default


if __name__ == "__main__":
    main()
