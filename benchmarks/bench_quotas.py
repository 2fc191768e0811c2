"""Benchmark: quotas with equal odds against even, prior-year and trailing-12-month quotas.

Two real histories, back-tested with ``alloc.targets.backtest`` (every method shares out
the same total, so the figures compare the splits):

* **CDNOW** (23,570 customers, 1997-01 to 1998-06). The customers are allocated into 50
  books with ``alloc.solve`` (``MinimizeImbalance`` of their first-year value, 20 s,
  checked by ``alloc.check``), so the books are balanced in potential; quotas for
  1998-01 to 1998-06 are set from 1997 (12 months fit, 6 ahead).
* **Bike sales** (30 shops, 2011): the shops are the books; quotas for the second half
  from the first (6 months fit, 6 ahead; ``prior_year`` cannot run) and for the fourth
  quarter from the first three (9 fit, 3 ahead).

Each case is run with two totals: ``forecast`` (the sum of the forecast medians, what a
planner would have had) and ``actual`` (the total actually sold, in hindsight, so that the
figures measure the split alone). The issue's targets are printed beside the figures:
band coverage 80 +- 5 %, share of books reaching quota within 5 points of the mean
implied ``p_attain``, |corr(attainment, size)| <= 0.1 (Spearman), IQR of attainment
below every baseline's. A last pair of tables repeats the equal-odds figures at several
cutoffs and horizons (CDNOW only from 1998 on: its books were balanced on 1997 values,
which would favour ``even`` at cutoffs inside 1997), to show how much one back-test
varies; ``actual/forecast total`` there is the miss of the total that every book shares,
``total pit`` the share of the forecast's draws of the total at or below the total sold
(calibrated: spread evenly over 0-1 across cutoffs), ``reach p10`` and ``reach p90`` the
forecast's own 80 % interval for the share of books reaching quota,
``total model`` and ``total sd`` the level model of the pooled total the forecast chose
by back-test inside the fit window and the spread of its common shock, and the ``mean``
row averages the cutoffs (overlapping horizons, so not independent). The CDNOW case
also runs ``potential`` (shares of each book's first-year value, the potential the
allocation balanced).
A control closes the file: generated books that match the model's assumptions (steady
sizes, a yearly season, no shock shared by all books), over 12 seeds, to show what the
method does when the world is as it assumes; and a second generated family with another
recipe (lumpy orders, books that drift and churn, growth and a monthly shock shared by
all books), which the model does not assume, so that no figure rests on one family.

The forecast runs with two models (``alloc.targets.forecast(model=...)``): the books' time
series (``time_series``, the default) and their customers (``customers``: BG/NBD purchase
counts and Gamma-Gamma spend per customer, for books that are cohorts of customers who
drop out, as on CDNOW); ``auto`` picks one by back-test inside the fit window and the
tables say what it picked (on the bike shops, where a book is one shop buying again and
again, it should keep the time series). A second control generates cohorts from a
known BG/NBD + Gamma-Gamma process, where the customer model is the truth.

Run: ``PYTHONPATH=src python benchmarks/bench_quotas.py [OUTPUT]``. Writes OUTPUT
(default ``benchmarks/results/quotas_s22.txt``); the saved file holds two runs one after
the other, the main branch's code (``PYTHONPATH=/work/main/src``, "base") and this
branch's ("new"). Columns a version does not report are blank.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import alloc
from alloc.datasets import load_bike_sales, load_cdnow
from alloc.targets import backtest
from alloc.targets.backtesting import METHODS

RESULTS = Path(__file__).resolve().parent / "results" / "quotas_s22.txt"
N_BOOKS = 50
SOLVE_SECONDS = 20.0
BASELINES = ("even", "prior_year", "trailing_12m")


def cdnow_books() -> tuple[pd.DataFrame, str, pd.Series]:
    """CDNOW purchases with a ``book`` column from a balanced-potential allocation.

    Also returns each book's potential (the first-year value of its customers).
    """
    sales = load_cdnow()
    first_year = sales[sales["date"] < "1998-01-01"].groupby("customer_id")["dollar_value"].sum()
    customers = pd.DataFrame({"customer_id": first_year.index, "potential": first_year.to_numpy()})
    reps = pd.DataFrame({"rep_id": [f"B{i:02d}" for i in range(N_BOOKS)]})
    problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    start = time.perf_counter()
    result = alloc.solve(problem, time_limit=SOLVE_SECONDS)
    seconds = time.perf_counter() - start
    violations = alloc.check(problem, result.assignment)
    if violations:
        raise SystemExit(f"alloc.check rejected the CDNOW allocation: {violations[:5]}")
    loads = result.loads["potential"]
    note = (
        f"alloc.solve {result.status.name} in {seconds:.1f} s, checked by alloc.check; "
        f"first-year value per book {loads.min():,.0f} to {loads.max():,.0f}"
    )
    books = sales.assign(book=sales["customer_id"].map(result.assignment))
    return books, note, loads


def iqr_gap_interval(books: pd.DataFrame, draws: int = 2_000) -> tuple[float, float]:
    """80 % bootstrap interval over books of IQR(equal_odds) minus the best baseline's IQR.

    How far one back-test's IQR comparison is from noise: the books are resampled with
    replacement (the same books for every method) and the gap recomputed.
    """
    attainment = books["attainment"].unstack("method")
    kept = [m for m in BASELINES if m in attainment.columns]
    values = attainment[["equal_odds", *kept]].dropna().to_numpy()
    rng = np.random.default_rng(0)
    picks = rng.integers(0, values.shape[0], size=(draws, values.shape[0]))
    sample = values[picks]  # (draws, books, methods)
    iqr = np.quantile(sample, 0.75, axis=1) - np.quantile(sample, 0.25, axis=1)
    gap = iqr[:, 0] - iqr[:, 1:].min(axis=1)
    low, high = np.quantile(gap, (0.1, 0.9))
    return float(low), float(high)


def targets_line(summary: pd.DataFrame) -> list[str]:
    """The issue's four targets for the equal-odds row, each with met / not met."""
    eo = summary.loc["equal_odds"]
    baselines = summary.loc[[m for m in BASELINES if m in summary.index], "iqr_attainment"].dropna()
    checks = [
        ("p10-p90 coverage in [75, 85] %", 0.75 <= eo["band_coverage"] <= 0.85,
         f"{100 * eo['band_coverage']:.0f} %"),
        ("p10-p90 coverage inside the forecast's own 80 % interval for it",
         eo.get("coverage_p10", np.nan) <= eo["band_coverage"] <= eo.get("coverage_p90", np.nan),
         f"{100 * eo['band_coverage']:.0f} % in [{100 * eo.get('coverage_p10', np.nan):.0f}, "
         f"{100 * eo.get('coverage_p90', np.nan):.0f}] %"),
        ("share reaching quota within 5 pts of mean p_attain",
         abs(eo["share_reached"] - eo["mean_p_attain"]) <= 0.05,
         f"{100 * eo['share_reached']:.0f} % vs {100 * eo['mean_p_attain']:.0f} %"),
        ("share reaching quota inside the forecast's own 80 % interval for it",
         eo["reach_p10"] <= eo["share_reached"] <= eo["reach_p90"],
         f"{100 * eo['share_reached']:.0f} % in [{100 * eo['reach_p10']:.0f}, "
         f"{100 * eo['reach_p90']:.0f}] %"),
        ("|corr(attainment, size)| <= 0.1", abs(eo["corr_size"]) <= 0.1,
         f"{abs(eo['corr_size']):.3f}"),
        ("IQR below every baseline's", bool((eo["iqr_attainment"] < baselines).all()),
         f"{eo['iqr_attainment']:.3f} vs {', '.join(f'{x:.3f}' for x in baselines)}"),
    ]  # fmt: skip
    return [f"    {'MET    ' if ok else 'NOT MET'} {name}: {shown}" for name, ok, shown in checks]


def run_case(name: str, history: pd.DataFrame, **kwargs: object) -> list[str]:
    lines = [f"== {name}; forecast model {kwargs.get('model', 'time_series')} =="]
    for total in ("forecast", "actual"):
        start = time.perf_counter()
        books, summary = backtest(history, total=total, **kwargs)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        quotas = books.groupby(level="method")["quota"].sum()
        ran = summary["total"].dropna()
        exact = bool((quotas.reindex(ran.index) == ran).all())
        shown = summary.assign(corr_size=summary["corr_size"].abs()).rename(
            columns={"corr_size": "|corr_size|"}
        )
        lines += [
            f"-- total = {total} ({summary['total'].dropna().iloc[0]:,.0f}); backtest "
            f"{seconds:.2f} s; quotas sum exactly to the total for every method: {exact}",
            f"   model used: {summary.attrs['model']} {summary.attrs['model_note']} "
            f"(back-test errors {_errors(summary)}); total model {summary.attrs['total_method']}, "
            f"sd {summary.attrs['total_spread']:.3f}, actual/forecast total "
            f"{summary.attrs['total_ratio']:.3f}, total pit {summary.attrs['total_pit']:.3f}",
            shown.drop(columns=["total"]).to_string(float_format=lambda x: f"{x:.3f}"),
            "  targets (equal_odds):",
            *targets_line(summary),
            "    (IQR of equal_odds minus the best baseline's, 80 % bootstrap interval over "
            "books: [{:+.3f}, {:+.3f}])".format(*iqr_gap_interval(books)),
        ]
    return [*lines, ""]


def _errors(summary: pd.DataFrame) -> str:
    errors = summary.attrs.get("model_errors") or {}
    return ", ".join(f"{k} {v:.3f}" for k, v in errors.items()) or "none"


def rolling(
    name: str, history: pd.DataFrame, cases: list[tuple[str, int]], **kwargs: object
) -> list[str]:
    """Equal odds at several cutoffs (total = forecast): how much one back-test varies."""
    rows = []
    for cutoff, horizon in cases:
        _, summary = backtest(history, cutoff=cutoff, horizon=horizon, **kwargs)  # type: ignore[arg-type]
        eo = summary.loc["equal_odds"]
        best = summary.drop(index="equal_odds")["iqr_attainment"].min()
        rows.append(
            {
                "cutoff": cutoff,
                "horizon": horizon,
                "model": summary.attrs["model"],
                "back-test errors (wape)": _errors(summary),
                "total model": summary.attrs["total_method"],
                "total sd": summary.attrs["total_spread"],
                "actual/forecast total": summary.attrs["total_ratio"],
                "total pit": summary.attrs["total_pit"],
                "share scale": summary.attrs.get("share_scale", np.nan),
                "band_coverage": eo["band_coverage"],
                "shifted_coverage": eo["shifted_coverage"],
                "coverage p10": eo.get("coverage_p10", np.nan),
                "coverage p90": eo.get("coverage_p90", np.nan),
                "share_reached": eo["share_reached"],
                "mean_p_attain": eo["mean_p_attain"],
                "reach p10": eo["reach_p10"],
                "reach p90": eo["reach_p90"],
                "|corr_size|": abs(eo["corr_size"]),
                "iqr equal_odds": eo["iqr_attainment"],
                "best baseline iqr": best,
            }
        )
    table = pd.DataFrame(rows).set_index(["cutoff", "horizon"])
    table.loc[("mean", ""), :] = table.mean(numeric_only=True)
    model = kwargs.get("model", "time_series")
    return [f"== {name}: equal odds at several cutoffs (total = forecast), model {model} ==",
            table.to_string(float_format=lambda x: f"{x:.3f}", na_rep=""), ""]  # fmt: skip


def steady_books(seed: int) -> pd.DataFrame:
    """Stationary seasonal books: lognormal sizes, gamma noise, no shock shared by all."""
    rng = np.random.default_rng(seed)
    n, months = 50, 30
    sizes = rng.lognormal(0.0, 0.8, n) * 1_000
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(months) / 12)
    mean = sizes[:, None] * season[None, :]
    return _monthly_table(rng.gamma(4.0, mean / 4.0))


def lumpy_books(seed: int) -> pd.DataFrame:
    """Another recipe: lumpy orders, drifting and churning books, growth, a shared shock.

    40 books; each orders Poisson(rate) times a month, every order lognormal (sigma 1,
    so a few big orders make a month); a book's rate drifts (log random walk, 8 % a
    month), each book has a 1 % chance a month of losing 60 % of its rate for good
    (churned accounts), and every book shares a 1.5 % monthly growth and a monthly
    shock (lognormal, sigma 0.1).
    """
    rng = np.random.default_rng(10_000 + seed)
    n, months = 40, 30
    log_rate = np.log(rng.lognormal(np.log(3.0), 0.7, n))[:, None] + np.cumsum(
        rng.normal(0.0, 0.08, (n, months)), axis=1
    )
    churn = np.cumsum(rng.random((n, months)) < 0.01, axis=1) * np.log(0.4)
    common = 0.015 * np.arange(months) + rng.normal(0.0, 0.1, months)
    rate = np.exp(log_rate + churn + common[None, :])
    orders = rng.poisson(rate)
    amounts = np.zeros((n, months))
    for (i, j), count in np.ndenumerate(orders):
        amounts[i, j] = rng.lognormal(np.log(500.0), 1.0, count).sum()
    return _monthly_table(amounts)


def _monthly_table(amounts: np.ndarray) -> pd.DataFrame:
    n, months = amounts.shape
    return pd.DataFrame(
        {
            "rep": np.repeat([f"r{i:02d}" for i in range(n)], months),
            "date": np.tile(pd.date_range("2022-01-01", periods=months, freq="MS"), n),
            "amount": amounts.ravel(),
        }
    )


def synthetic(seeds: int = 12, family: str = "steady") -> list[str]:
    """Generated books over several seeds: fit 24 months, quotas for the next 6."""
    rows = []
    make = steady_books if family == "steady" else lumpy_books
    for seed in range(seeds):
        history = make(seed)
        _, summary = backtest(history, by="rep", cutoff="2024-01-01", horizon=6, seed=seed)
        eo = summary.loc["equal_odds"]
        rows.append(
            {
                "seed": seed,
                "total model": summary.attrs["total_method"],
                "total sd": summary.attrs["total_spread"],
                "share scale": summary.attrs.get("share_scale", np.nan),
                "actual/forecast total": summary.attrs["total_ratio"],
                "total pit": summary.attrs["total_pit"],
                "band_coverage": eo["band_coverage"],
                "coverage p10": eo.get("coverage_p10", np.nan),
                "coverage p90": eo.get("coverage_p90", np.nan),
                "share_reached": eo["share_reached"],
                "mean_p_attain": eo["mean_p_attain"],
                "reach p10": eo["reach_p10"],
                "reach p90": eo["reach_p90"],
                "|corr_size|": abs(eo["corr_size"]),
                "iqr equal_odds": eo["iqr_attainment"],
                "best baseline iqr": summary.drop(index="equal_odds")["iqr_attainment"].min(),
            }
        )
    table = pd.DataFrame(rows).set_index("seed")
    table.loc["mean"] = table.mean(numeric_only=True)
    title = (
        "== Control: 50 generated books (lognormal sizes, yearly season of +-20 %, gamma "
        "noise of 50 % a month, no shared shock), fit 24 months, quotas for 6, total = "
        "forecast =="
        if family == "steady"
        else "== Control 3: 40 generated books of lumpy orders (Poisson orders of lognormal "
        "size, sigma 1), rates drifting 8 % a month, 1 % a month of churning to 40 %, 1.5 % "
        "growth and a shared monthly shock of 10 %, fit 24 months, quotas for 6, total = "
        "forecast =="
    )
    return [
        title,
        table.to_string(float_format=lambda x: f"{x:.3f}", na_rep=""),
        "",
    ]


def compare(
    name: str, history: pd.DataFrame, models: tuple[str, ...], **kwargs: object
) -> list[str]:
    """The issue's figures for equal odds, one row per forecast model, same run."""
    rows = []
    for model in models:
        start = time.perf_counter()
        _, summary = backtest(history, model=model, **kwargs)  # type: ignore[arg-type]
        eo = summary.loc["equal_odds"]
        iqr = summary["iqr_attainment"]
        rows.append(
            {
                "model asked": model,
                "model used": summary.attrs["model"],
                "back-test errors (wape)": _errors(summary),
                "seconds": time.perf_counter() - start,
                "actual/forecast total": summary.attrs["total_ratio"],
                "total pit": summary.attrs["total_pit"],
                "total sd": summary.attrs["total_spread"],
                "share scale": summary.attrs.get("share_scale", np.nan),
                "band_coverage": eo["band_coverage"],
                "shifted_coverage": eo["shifted_coverage"],
                "share_reached": eo["share_reached"],
                "mean_p_attain": eo["mean_p_attain"],
                "|corr_size|": abs(eo["corr_size"]),
                "iqr equal_odds": eo["iqr_attainment"],
                **{f"iqr {m}": iqr.get(m, np.nan) for m in BASELINES},
            }
        )
    table = pd.DataFrame(rows).set_index("model asked")
    return [f"== {name}: equal odds by forecast model (same run, total = forecast) ==",
            table.to_string(float_format=lambda x: f"{x:.3f}", na_rep=""), ""]  # fmt: skip


def cohort_sales(seed: int, customers: int = 3000, books: int = 20) -> pd.DataFrame:
    """Transactions of a cohort from a known BG/NBD + Gamma-Gamma process (2 years)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.4, 5.0, 0.8, 3.0  # alpha in weeks
    p, q, scale = 6.0, 4.0, 15.0
    rate = rng.gamma(r, 1 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    nu = rng.gamma(q, 1 / scale, customers)
    joined = rng.integers(0, 90, customers)
    rows = []
    for i in range(customers):
        t, times = 0.0, [0.0]
        while True:
            t += rng.exponential(1 / rate[i])
            if t >= 104:
                break
            times.append(t)
            if rng.random() < dropout[i]:
                break
        for w in times:
            day = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(joined[i] + 7 * w))
            rows.append((f"c{i:05d}", f"b{i % books:02d}", day, rng.gamma(p, 1 / nu[i])))
    return pd.DataFrame(rows, columns=["customer_id", "book", "date", "amount"])


def cohort_control(seeds: int = 6) -> list[str]:
    """Second control: the customer model is the truth; both models, same cohorts."""
    rows = []
    for seed in range(seeds):
        sales = cohort_sales(seed)
        for model in ("time_series", "customers"):
            _, summary = backtest(
                sales, by="book", customer="customer_id", cutoff="2023-01-01", horizon=6,
                model=model, seed=seed,
            )  # fmt: skip
            eo = summary.loc["equal_odds"]
            rows.append(
                {
                    "seed": seed,
                    "model": model,
                    "actual/forecast total": summary.attrs["total_ratio"],
                    "total pit": summary.attrs["total_pit"],
                    "band_coverage": eo["band_coverage"],
                    "share_reached": eo["share_reached"],
                    "mean_p_attain": eo["mean_p_attain"],
                    "|corr_size|": abs(eo["corr_size"]),
                    "iqr equal_odds": eo["iqr_attainment"],
                    "best baseline iqr": summary.drop(index="equal_odds")["iqr_attainment"].min(),
                }
            )
    table = pd.DataFrame(rows).set_index(["model", "seed"]).sort_index()
    means = table.groupby(level="model").mean()
    means.index = pd.MultiIndex.from_tuples([(m, "mean") for m in means.index])
    return [
        "== Control 2: 20 books of a generated cohort (3,000 customers joining over 13 weeks, "
        "BG/NBD r=0.4 alpha=5 a=0.8 b=3 in weeks, Gamma-Gamma p=6 q=4 gamma=15), fit 2022, "
        "quotas 2023-01..06, total = forecast ==",
        pd.concat([table, means]).to_string(float_format=lambda x: f"{x:.3f}", na_rep=""),
        "",
    ]


def main() -> None:
    header = [
        f"bench_quotas {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {platform.python_version()}, {platform.machine()}, alloc {alloc.__version__} "
        f"from {Path(alloc.__file__).parent}",
        "",
    ]
    cdnow, note, potential = cdnow_books()
    out = [*header, f"CDNOW books: {note}"]
    cdnow_args = {"by": "book", "value": "dollar_value", "customer": "customer_id"}
    out += compare(
        "CDNOW, 50 books, fit 1997, quotas 1998-01..06", cdnow,
        ("time_series", "customers", "auto"), cutoff="1998-01-01", horizon=6, **cdnow_args,
    )  # fmt: skip
    for model in ("time_series", "customers"):
        out += run_case(
            "CDNOW, 50 books, fit 1997 (12 months), quotas 1998-01..06",
            cdnow, cutoff="1998-01-01", horizon=6, methods=(*METHODS, "potential"),
            potential=potential, model=model, **cdnow_args,
        )  # fmt: skip
    bikes = load_bike_sales()
    common = {"by": "bikeshop_name", "date": "order_date", "value": "total_price"}
    shops = {**common, "customer": "bikeshop_name", "model": "auto"}
    out += run_case(
        "Bike sales, 30 shops, fit 2011-01..06, quotas 2011-07..12",
        bikes, cutoff="2011-07-01", horizon=6, **shops,
    )  # fmt: skip
    out += run_case(
        "Bike sales, 30 shops, fit 2011-01..09, quotas 2011-10..12",
        bikes, cutoff="2011-10-01", horizon=3, **shops,
    )  # fmt: skip
    states = {"by": "state", "date": "order_date", "value": "total_price",
              "customer": "bikeshop_name"}  # fmt: skip
    out += compare(
        "Bike sales by state (shops as customers), fit 2011-01..09, quotas 2011-10..12", bikes,
        ("time_series", "customers", "auto"), cutoff="2011-10-01", horizon=3, **states,
    )  # fmt: skip
    cdnow_cutoffs = [("1998-01-01", 3), ("1998-01-01", 6), ("1998-02-01", 3),
                     ("1998-03-01", 3), ("1998-04-01", 3)]  # fmt: skip
    for model in ("time_series", "customers", "auto"):
        out += rolling("CDNOW (books as above)", cdnow, cdnow_cutoffs, model=model, **cdnow_args)
    out += rolling(
        "Bike sales", bikes,
        [("2011-05-01", 3), ("2011-06-01", 3), ("2011-07-01", 3), ("2011-07-01", 6),
         ("2011-08-01", 3), ("2011-09-01", 3), ("2011-10-01", 3)],
        **shops,
    )  # fmt: skip
    out += synthetic()
    out += synthetic(family="lumpy")
    out += cohort_control()
    text = "\n".join(out)
    print(text)
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    results.parent.mkdir(exist_ok=True)
    results.write_text(text + "\n")


if __name__ == "__main__":
    main()
