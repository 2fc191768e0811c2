"""Benchmark: lead routing by expected value against same-run baselines and hindsight.

For each generated stream (``alloc.leads.make_leads``: 90 days, 50 reps, 20,000 leads,
known true win probabilities; one stream per scenario seed) every router routes the
whole stream with ``alloc.leads.simulate`` (same seed, so the same won/lost draws), and
``alloc.leads.hindsight(method="lp")`` gives the LP relaxation of the offline optimum
with the same caps and the same +-10 % window: a valid upper bound on any routing that
keeps the window, so the gap reported is an over-estimate of the gap to the true
hindsight optimum (the MIP on 195,000 pairs finds no plan in minutes).

Targets (issue 15): ExpectedValue gains >= 10 % expected value over weighted round
robin, keeps every rep within +-10 % of its weighted share of leads, breaks no cap, is
within 5 % of hindsight, and routes >= 10,000 leads per second. The speed is the
routing wall time of ``simulate`` (building each period's batch, the price LP, routing,
the fairness repair; the input checks before it are excluded), on this machine, whose
load is printed beside it.

With ``--dask N``, the five routers also run with N seeds (won/lost draws and tie
order) on the first stream through ``alloc.compare`` (which hands lead streams to
``alloc.leads.compare_routers``) on a
``dask.distributed.LocalCluster`` (one single-threaded worker per core); the table
gives the mean and spread per router.

Run: ``PYTHONPATH=src python benchmarks/bench_leads.py [--seeds 0 1 2] [--dask 20]``.
Writes ``benchmarks/results/leads.txt``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import alloc
import alloc.leads as al
from _common import commit

RESULTS = Path(__file__).resolve().parent / "results" / "leads.txt"
FAIRNESS = 0.1
TOL = 1e-9


def routers() -> list[al.BaseRouter]:
    return [
        al.RoundRobin(name="RoundRobin (weighted)"),
        al.LeastLoaded(),
        al.BestFit(),
        al.ExpectedValue(fairness=FAIRNESS),
        al.ExpectedValue(
            fairness=FAIRNESS, forecast_size=None, name="ExpectedValue (full forecast)"
        ),
    ]


def run_scenario(seed: int, lines: list[str]) -> list[dict[str, object]]:
    s = al.make_leads(n_leads=20_000, n_reps=50, n_days=90, seed=seed)
    bound = al.hindsight(
        s.leads, s.reps, s.win_prob, fairness=FAIRNESS, method="lp", time_limit=600
    )
    rows = []
    for router in routers():
        sim = al.simulate(s.leads, s.reps, router, s.win_prob, seed=seed)
        summary = sim.summary
        gaps = sim.by_rep["share_gap"].abs()
        summary["reps_outside_window"] = int((gaps > FAIRNESS + TOL).sum())
        summary["scenario"] = seed
        rows.append(summary)
    table = pd.DataFrame(rows)
    rr = table.loc[table["router"].str.startswith("RoundRobin"), "expected_value"].iloc[0]
    table["gain_vs_rr"] = table["expected_value"] / rr - 1
    table["gap_to_hindsight_lp"] = (
        1 - table["expected_value"] / bound.bound if bound.bound else float("nan")
    )
    lines.append(
        f"scenario seed {seed}: {len(s.leads)} leads, {len(s.reps)} reps, "
        f"{s.leads['arrival'].nunique()} days, "
        f"{len(s.win_prob)} eligible pairs; hindsight LP bound {bound.bound:,.0f} "
        f"({bound.status}, {bound.seconds:.1f} s)"
    )
    shown = table[
        [
            "router",
            "expected_value",
            "gain_vs_rr",
            "gap_to_hindsight_lp",
            "max_share_gap",
            "reps_outside_window",
            "cap_breaches",
            "fallback",
            "leads_per_second",
        ]
    ]
    lines.append(
        shown.to_string(
            index=False,
            formatters={
                "expected_value": "{:,.0f}".format,
                "gain_vs_rr": "{:+.1%}".format,
                "gap_to_hindsight_lp": "{:.2%}".format,
                "max_share_gap": "{:.3f}".format,
                "leads_per_second": "{:,.0f}".format,
            },
        )
    )
    lines.append("")
    return table.to_dict("records")


def verdicts(table: pd.DataFrame) -> list[str]:
    ev = table[table["router"] == "ExpectedValue"]
    checks = [
        (
            "ExpectedValue gains >= 10 % over weighted round robin",
            ev["gain_vs_rr"].min() >= 0.10,
            f"min {ev['gain_vs_rr'].min():+.1%}",
        ),
        (
            "every rep within +-10 % of its weighted share",
            (ev["reps_outside_window"] == 0).all(),
            f"worst gap {ev['max_share_gap'].max():.3f}",
        ),
        (
            "no cap breaks",
            (ev["cap_breaches"] == 0).all(),
            f"{int(ev['cap_breaches'].sum())} breaches",
        ),
        (
            "within 5 % of hindsight (LP bound)",
            ev["gap_to_hindsight_lp"].max() <= 0.05,
            f"max gap {ev['gap_to_hindsight_lp'].max():.2%}",
        ),
        (
            "routing >= 10,000 leads/s",
            ev["leads_per_second"].min() >= 10_000,
            f"min {ev['leads_per_second'].min():,.0f} leads/s",
        ),
    ]
    return [f"{'MET    ' if ok else 'NOT MET'} {name}: {detail}" for name, ok, detail in checks]


def run_dask(seed: int, n_seeds: int, lines: list[str]) -> None:
    from dask.distributed import Client, LocalCluster

    stream = al.make_leads(n_leads=20_000, n_reps=50, n_days=90, seed=seed)
    cores = os.cpu_count() or 1
    with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True) as cluster:
        with Client(cluster) as client:
            t0 = time.perf_counter()
            table = alloc.compare(
                {f"seed{seed}": stream},
                routers(),
                seeds=range(n_seeds),
                executor=client.get_executor(),
            )
            wall = time.perf_counter() - t0
    stats = table.groupby("router", sort=False).agg(
        runs=("seed", "size"),
        expected_value=("expected_value", "mean"),
        ev_std=("expected_value", "std"),
        won_value=("won_value", "mean"),
        won_std=("won_value", "std"),
        worst_share_gap=("max_share_gap", "max"),
        cap_breaches=("cap_breaches", "sum"),
    )
    lines.append(
        f"alloc.compare on a Dask LocalCluster ({cores} workers): 5 routers x {n_seeds} seeds "
        f"on stream seed {seed}, {len(table)} simulations in {wall:.1f} s"
    )
    lines.append(
        stats.to_string(float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}")
    )
    lines.append("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="scenario seeds")
    parser.add_argument("--dask", type=int, default=0, help="seeds per router on a Dask cluster")
    args = parser.parse_args()
    lines = [
        f"bench_leads  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  commit {commit()}  "
        f"python {platform.python_version()}  cores {os.cpu_count()}  "
        f"load {os.getloadavg()[0]:.1f}",
        "",
    ]
    rows: list[dict[str, object]] = []
    for seed in args.seeds:
        rows += run_scenario(seed, lines)
        print("\n".join(lines[-4:]), flush=True)
    if args.dask:
        run_dask(args.seeds[0], args.dask, lines)
    lines += [
        "targets for ExpectedValue(fairness=0.1), over every scenario:",
        *verdicts(pd.DataFrame(rows)),
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
