"""Plots: the data drawn are the data given."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import alloc

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def result() -> alloc.Result:
    return alloc.solve(alloc.datasets.sample_problem(), time_limit=1, seed=0, workers=1)


def test_loads_draws_each_reps_load_and_its_fair_share(result: alloc.Result) -> None:
    ax = alloc.plot.loads({"plan": result.loads}, "workload")
    heights = [patch.get_height() for patch in ax.patches]
    assert np.allclose(heights, result.loads["workload"].to_numpy())
    share_lines = ax.collections[0].get_segments()
    assert np.allclose([seg[0][1] for seg in share_lines], result.loads["workload_share"])
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in result.loads.index]
    matplotlib.pyplot.close(ax.figure)


def test_loads_names_the_metrics_it_can_draw(result: alloc.Result) -> None:
    with pytest.raises(KeyError, match="metrics available"):
        alloc.plot.loads(result.loads, "revenue")


def test_deviations_draws_percentages(result: alloc.Result) -> None:
    ax = alloc.plot.deviations(result.loads, "potential")
    heights = [patch.get_height() for patch in ax.patches]
    assert np.allclose(heights, 100 * result.loads["potential_dev"].to_numpy())
    matplotlib.pyplot.close(ax.figure)


def test_attainment_draws_every_book_with_an_attainment_per_method() -> None:
    rng = np.random.default_rng(0)
    sales = pd.DataFrame(
        {
            "rep": np.repeat(["a", "b", "c", "d"], 24),
            "date": np.tile(pd.date_range("2023-01-01", periods=24, freq="MS"), 4),
            "amount": rng.gamma(20, 5, 96) * np.repeat([1, 2, 4, 8], 24),
        }
    )
    books, _ = alloc.targets.backtest(sales, by="rep", cutoff="2024-07-01", horizon=6)
    ax = alloc.plot.attainment(books)
    methods = list(books.index.get_level_values("method").unique())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == methods
    for method, points in zip(methods, ax.collections, strict=True):
        expected = books.loc[method].dropna(subset=["attainment"])
        assert np.allclose(points.get_offsets(), expected[["size", "attainment"]].to_numpy())
    matplotlib.pyplot.close(ax.figure)


def test_attainment_names_the_table_it_needs() -> None:
    with pytest.raises(KeyError, match=r"books table of alloc\.targets\.backtest"):
        alloc.plot.attainment(pd.DataFrame({"attainment": [1.0]}))
