"""The ``alloc`` command line: ``alloc demo``, ``alloc solve``, ``alloc bench``.

Exit codes of ``alloc solve``: 0 a feasible plan was written; 2 bad input (the error
is printed); 3 proven infeasible (the explanation is printed); 4 no plan found in the
time limit and infeasibility not proven.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from alloc import rules as rules_module
from alloc._io import write_atomic
from alloc.data.problem import Problem
from alloc.errors import AllocError, InvalidProblemError
from alloc.metrics import evaluate
from alloc.result import Status
from alloc.solvers.portfolio import solve

__all__ = ["build_from_config", "main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_UNKNOWN = 0, 2, 3, 4

_RULES = {
    name: getattr(rules_module, name)
    for name in (
        "Match",
        "KeyAccounts",
        "Capacity",
        "AccountLimit",
        "Balance",
        "Spread",
        "Pin",
        "Forbid",
        "Together",
    )
}
_TERMS = {
    name: getattr(rules_module, name)
    for name in (
        "MinimizeImbalance",
        "MaximizeFit",
        "MinimizeCost",
        "MinimizeDisruption",
        "MinimizeTravel",
    )
}


def _make(kind: str, spec: dict[str, Any], known: dict[str, Any], where: str) -> Any:
    spec = dict(spec)
    name = spec.pop("type", None)
    if name not in known:
        raise InvalidProblemError(
            f"{where}: each [[{kind}]] entry needs type = one of {sorted(known)}; got {name!r}."
        )
    try:
        return known[name](**spec)
    except TypeError as exc:
        raise InvalidProblemError(f"{where}: [[{kind}]] {name}: {exc}") from exc


def build_from_config(
    config: dict[str, Any],
    customers: pd.DataFrame,
    reps: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    where: str = "config",
) -> Problem:
    """A Problem from a parsed TOML config with ``[[rules]]`` and ``[[objective]]`` tables.

    Examples
    --------
    >>> import tomllib, alloc
    >>> config = tomllib.loads('''
    ... [[rules]]
    ... type = "Capacity"
    ... metric = "workload"
    ... limit = "capacity"
    ... [[objective]]
    ... type = "MinimizeImbalance"
    ... metric = "potential"
    ... ''')
    >>> customers, reps = alloc.datasets.load_sample()
    >>> build_from_config(config, customers, reps)
    Problem(400 customers, 12 reps, 4,800 eligible pairs, 1 rules, 1 objective terms)
    """
    unknown = set(config) - {"rules", "objective", "solve", "id_columns"}
    if unknown:
        raise InvalidProblemError(
            f"{where}: unknown sections {sorted(unknown)}; use [[rules]], [[objective]], "
            f"[solve] and [id_columns]."
        )
    rules = [_make("rules", r, _RULES, where) for r in config.get("rules", [])]
    terms = [_make("objective", t, _TERMS, where) for t in config.get("objective", [])]
    return Problem(
        customers,
        reps,
        pairs=pairs,
        rules=rules,
        objective=terms,
        id_columns=config.get("id_columns"),
    )


def _read_csv(path: str, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidProblemError(f"cannot read the {what} file {path!r}: {exc}") from exc


def _cmd_solve(args: argparse.Namespace) -> int:
    try:
        customers = _read_csv(args.customers, "customers")
        reps = _read_csv(args.reps, "reps")
        pairs = _read_csv(args.pairs, "pairs") if args.pairs else None
        config: dict[str, Any] = {}
        if args.config:
            try:
                config = tomllib.loads(Path(args.config).read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise InvalidProblemError(f"cannot read the config {args.config!r}: {exc}") from exc
        problem = build_from_config(config, customers, reps, pairs, where=args.config or "config")
        options = config.get("solve", {})
        time_limit = (
            args.time_limit if args.time_limit is not None else options.get("time_limit", 10.0)
        )
        result = solve(problem, time_limit=time_limit, seed=args.seed, progress=not args.quiet)
    except AllocError as exc:
        print(f"alloc: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not result.status.has_solution:
        print(f"alloc: {result.status.value}: {result.explanation}", file=sys.stderr)
        return EXIT_INFEASIBLE if result.status is Status.INFEASIBLE else EXIT_UNKNOWN
    assert result.assignment is not None
    frame = result.assignment.rename_axis(problem.id_columns["customer"]).reset_index()
    write_atomic(args.output, lambda tmp: frame.to_csv(tmp, index=False))
    if not args.quiet:
        print(result.summary())
        print(f"wrote {args.output}")
    return EXIT_OK


def _fairness_row(metrics: dict[str, Any], metric: str) -> str:
    return (
        f"{100 * metrics[f'{metric}_max_dev']:9.3f} % {100 * metrics[f'{metric}_cv']:9.3f} % "
        f"{metrics[f'{metric}_gini']:8.4f}"
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from alloc.datasets import sample_problem

    problem = sample_problem()
    customers = problem.customers
    print(f"alloc demo: bundled sample, {problem.n_customers} customers, {problem.n_reps} reps")
    print("rules:", "; ".join(map(repr, problem.rules)))
    print("objective:", " + ".join(map(repr, problem.objective)), "\n")
    current = customers["owner"]
    before = evaluate(problem, current)
    result = solve(problem, time_limit=args.time_limit, seed=args.seed, progress=not args.quiet)
    result.raise_for_status()
    after = result.metrics
    from alloc.metrics import loads_table

    loads_now = loads_table(problem, current)
    loads = result.loads
    table = pd.DataFrame(
        {
            "level": problem.reps["level"],
            "accounts": loads["count"],
            "potential": loads["potential"].round(0),
            "potential dev %": (100 * loads["potential_dev"]).round(3),
            "workload h": loads["workload"].round(1),
            "workload dev %": (100 * loads["workload_dev"]).round(3),
            "current potential dev %": (100 * loads_now["potential_dev"]).round(1),
        }
    )
    print(table.to_string())
    print("\nfairness            max deviation         CV     Gini")
    for metric in ("potential", "workload"):
        print(f"  {metric:<9} current {_fairness_row(before, metric)}")
        print(f"  {metric:<9} plan    {_fairness_row(after, metric)}")
    print(f"  rule violations: current {before['violations']}, plan {after['violations']}")
    print(f"  customers moved from their current owner: {after.get('moves', 0)}")
    print(f"\n{result.summary()}")
    out = Path(args.output_dir)
    frame = result.to_frame()
    csv_path = write_atomic(out / "assignment.csv", lambda tmp: frame.to_csv(tmp))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alloc.plot import deviations

    fig, axes = plt.subplots(2, 1, figsize=(8, 7))
    for ax, metric in zip(axes, ("potential", "workload"), strict=True):
        frames = {
            f"current owners (max {before[f'{metric}_max_dev']:.1%})": loads_now,
            f"alloc plan (max {after[f'{metric}_max_dev']:.2%})": loads,
        }
        deviations(frames, metric, ax=ax)
    fig.tight_layout()
    png_path = write_atomic(out / "loads.png", lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
    print(f"wrote {csv_path} and {png_path}")
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from alloc.comparison import compare
    from alloc.datasets import make_problem, sample_problem
    from alloc.policies import Greedy, Optimized, RandomPolicy, RoundRobin, StatusQuo

    problems = {"sample": sample_problem()}
    for n, m in ((500, 10), (2000, 20))[: args.sizes]:
        problems[f"generated-{n}x{m}"] = make_problem(n, m, seed=args.seed)
    policies = [
        RoundRobin(),
        RandomPolicy(),
        Greedy(),
        StatusQuo(),
        Optimized(time_limit=args.time_limit),
    ]
    frame = compare(problems, policies, seeds=tuple(range(args.seeds)), executor="serial")
    columns = [
        c
        for c in (
            "problem",
            "policy",
            "seed",
            "feasible",
            "objective",
            "potential_max_dev",
            "workload_max_dev",
            "moves",
            "time",
        )
        if c in frame.columns
    ]
    summary = frame[columns].groupby(["problem", "policy"], sort=False).mean(numeric_only=True)
    with pd.option_context(
        "display.width", 160, "display.max_columns", None, "display.float_format", "{:.4g}".format
    ):
        print(summary)
    if args.output:
        write_atomic(args.output, lambda tmp: frame.to_csv(tmp, index=False))
        print(f"wrote {args.output}")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alloc", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="solve the bundled sample and compare with current owners")
    demo.add_argument("--output-dir", default="demo_output")
    demo.add_argument("--time-limit", type=float, default=5.0)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true")
    s = sub.add_parser("solve", help="solve a problem given as CSV files and a TOML config")
    s.add_argument("--customers", required=True)
    s.add_argument("--reps", required=True)
    s.add_argument("--pairs")
    s.add_argument("--config", help="TOML with [[rules]], [[objective]] and [solve]")
    s.add_argument("-o", "--output", required=True, help="assignment CSV to write")
    s.add_argument("--time-limit", type=float)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--quiet", action="store_true", help="no progress or summary")
    b = sub.add_parser("bench", help="compare allocation policies on bundled and generated data")
    b.add_argument("--time-limit", type=float, default=2.0)
    b.add_argument("--seeds", type=int, default=2)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--sizes", type=int, default=1, help="how many generated sizes (0-2)")
    b.add_argument("-o", "--output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``alloc`` command."""
    args = _parser().parse_args(argv)
    handler = {"demo": _cmd_demo, "solve": _cmd_solve, "bench": _cmd_bench}[args.command]
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
