"""compare_routers: one row per (stream, router, seed), whatever executor runs it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import alloc.leads as al
from alloc.errors import InvalidParameterError

STREAM = al.make_leads(n_leads=300, n_reps=10, n_days=6, seed=2)


def test_table_has_one_row_per_task_and_matches_simulate() -> None:
    routers = [al.RoundRobin(), al.BestFit(), al.ExpectedValue()]
    table = al.compare_routers({"q": STREAM}, routers, seeds=[0, 3], executor="serial")
    assert list(table.columns) == list(al.ROUTER_COLUMNS)
    assert table[["router", "seed"]].values.tolist() == [
        [r.name, s] for r in routers for s in (0, 3)
    ]
    sim = al.simulate(STREAM.leads, STREAM.reps, al.ExpectedValue(), STREAM.win_prob, seed=3)
    row = table[(table["router"] == "ExpectedValue") & (table["seed"] == 3)].iloc[0]
    assert row["expected_value"] == pytest.approx(sim.summary["expected_value"])
    assert row["won_value"] == pytest.approx(sim.summary["won_value"])
    assert (table["cap_breaches"] == 0).all()


def test_any_executor_gives_the_serial_table() -> None:
    routers = [al.LeastLoaded(), al.ExpectedValue()]
    serial = al.compare_routers([STREAM, STREAM], routers, seeds=1, executor="serial")
    with ThreadPoolExecutor(2) as pool:
        threaded = al.compare_routers([STREAM, STREAM], routers, seeds=1, executor=pool)
    cols = [c for c in al.ROUTER_COLUMNS if c != "time"]
    pd.testing.assert_frame_equal(serial[cols], threaded[cols])


def test_bad_arguments_are_refused_before_any_task() -> None:
    with pytest.raises(InvalidParameterError, match="distinct names"):
        al.compare_routers(STREAM, [al.BestFit(), al.BestFit()], executor="serial")
    with pytest.raises(InvalidParameterError, match="streams"):
        al.compare_routers({"x": (STREAM.leads, STREAM.reps)}, [al.BestFit()])
    with pytest.raises(InvalidParameterError, match="seeds"):
        al.compare_routers(STREAM, [al.BestFit()], seeds=[-1])
    with pytest.raises(InvalidParameterError, match="executor"):
        al.compare_routers(STREAM, [al.BestFit()], executor="dask")

    class Unpicklable(al.BestFit):
        pass

    with ThreadPoolExecutor(1) as pool, pytest.raises(InvalidParameterError, match="picklable"):
        al.compare_routers(STREAM, [Unpicklable()], executor=pool)


def test_alloc_compare_runs_lead_streams_through_compare_routers() -> None:
    import alloc

    routers = [al.RoundRobin(), al.ExpectedValue()]
    direct = al.compare_routers({"q": STREAM}, routers, seeds=[0, 1], executor="serial")
    via = alloc.compare({"q": STREAM}, routers, seeds=[0, 1], executor="serial")
    cols = [c for c in al.ROUTER_COLUMNS if c != "time"]
    pd.testing.assert_frame_equal(direct[cols], via[cols])
    with pytest.raises(InvalidParameterError, match="metrics"):
        alloc.compare(STREAM, routers, executor="serial", metrics=["objective"])
