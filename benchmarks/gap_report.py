"""Markdown summary of a ``bench_gap.py`` results CSV, for ``benchmarks/README.md``.

Prints the per-family table, the issue-3 goal figures (A/B/C and D/E with n <= 200,
Yagiura C/D/E means, share of instances where alloc is no worse than each baseline)
and a per-instance table. It only reads the CSV; nothing is re-solved.

Usage::

    python benchmarks/gap_report.py benchmarks/results/gap.csv
    python benchmarks/gap_report.py benchmarks/results/gap_60s.csv
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

BASELINES = {"cpsat": "plain CP-SAT", "highs": "HiGHS"}


def _fmt(x: float, digits: int = 3) -> str:
    return (
        "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"
    )


def report(frame: pd.DataFrame) -> str:
    d = frame.copy()
    d["type"] = d["family"].str[-1]
    baselines = [
        b for b in BASELINES if f"{b}_objective" in d and d[f"{b}_objective"].notna().any()
    ]
    out: list[str] = []
    head = "| family | instances | alloc mean gap % | alloc at BKS |"
    head += "".join(f" {BASELINES[b]} mean gap % |" for b in baselines)
    out += [head, "|---" * (4 + len(baselines)) + "|"]
    for family, f in d.groupby("family", sort=False):
        line = f"| {family} | {len(f)} | {_fmt(f.alloc_gap_pct.mean())} | "
        line += f"{int((f.alloc_gap_pct <= 1e-9).sum())} |"
        line += "".join(f" {_fmt(f[f'{b}_gap_pct'].mean())} |" for b in baselines)
        out.append(line)
    line = f"| all | {len(d)} | {_fmt(d.alloc_gap_pct.mean())} | "
    line += f"{int((d.alloc_gap_pct <= 1e-9).sum())} |"
    line += "".join(f" {_fmt(d[f'{b}_gap_pct'].mean())} |" for b in baselines)
    out += [line, ""]

    small = d[d.n <= 200]
    abc = small[small.type.isin(list("abc"))]
    if len(abc):
        worst = abc.loc[abc.alloc_gap_pct.idxmax()]
        out.append(
            f"- A/B/C with n <= 200: {int((abc.alloc_gap_pct <= 0.1).sum())} of {len(abc)} "
            f"within 0.1 % (worst {worst.alloc_gap_pct:.3f} %, {worst.instance})"
        )
    de = small[small.type.isin(list("de"))]
    if len(de):
        out.append(f"- D/E with n <= 200: mean gap {de.alloc_gap_pct.mean():.3f} % ({len(de)})")
    for family in ("yagiura/c", "yagiura/d", "yagiura/e"):
        f = d[d.family == family]
        if len(f):
            out.append(f"- {family}: mean gap {f.alloc_gap_pct.mean():.3f} % ({len(f)})")
    for b in baselines:
        ran = d[d[f"{b}_status"].notna()]  # rows of a run that included this baseline
        theirs = ran[f"{b}_objective"]
        no_worse = (ran.alloc_objective <= theirs + 1e-9) | theirs.isna()
        better = ran.alloc_objective < theirs - 1e-9
        out.append(
            f"- alloc no worse than {BASELINES[b]} on {int(no_worse.sum())} of {len(ran)} "
            f"({100 * no_worse.mean():.1f} %), strictly better on {int(better.sum())}"
        )
    out.append(f"- every alloc plan passed alloc.check: {bool(d.checked.all())}")
    out.append(f"- alloc statuses: {d.alloc_status.value_counts().to_dict()}")
    out.append("")

    head = "| instance | m x n | BKS | alloc | gap % | bound | time s |"
    head += "".join(f" {BASELINES[b]} gap % |" for b in baselines)
    out += [head, "|---" * (7 + len(baselines)) + "|"]
    for _, r in d.iterrows():
        star = "" if r.bks_optimal else "*"
        line = (
            f"| {r.instance} | {r.m}x{r.n} | {r.bks:g}{star} | {r.alloc_objective:g} | "
            f"{_fmt(r.alloc_gap_pct, 2)} | {_fmt(float(r.alloc_bound), 0)} | "
            f"{r.alloc_time:.1f} |"
        )
        line += "".join(f" {_fmt(r[f'{b}_gap_pct'], 2)} |" for b in baselines)
        out.append(line)
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, nargs="+", help="one or more results CSVs")
    args = parser.parse_args()
    print(report(pd.concat([pd.read_csv(p) for p in args.csv], ignore_index=True)))


if __name__ == "__main__":
    main()
