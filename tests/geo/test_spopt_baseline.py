"""benchmarks/spopt_baseline.py: the scores the territory benchmark compares alloc on."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely import box

from alloc.geo import adjacency

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "spopt_baseline.py"


@pytest.fixture(scope="module")
def baseline():  # the benchmark script, imported from its path
    spec = importlib.util.spec_from_file_location("spopt_baseline", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def strip(n: int) -> pd.DataFrame:
    """A row of n unit squares (km), measure w = 1, 2, ..., n."""
    return pd.DataFrame(
        {
            "customer_id": [f"u{i}" for i in range(n)],
            "x": np.arange(n) + 0.5,
            "y": np.full(n, 0.5),
            "w": np.arange(1.0, n + 1),
            "geometry": [box(i, 0, i + 1, 1) for i in range(n)],
        }
    )


def test_score_on_a_strip(baseline) -> None:
    table = strip(6)
    neighbors = adjacency(table, kind="rook")
    labels = pd.Series([0, 0, 0, 1, 1, 1], index=table["customer_id"])
    scores = baseline.score(labels, table, ["w"], neighbors, k=2)
    # Loads 6 and 15 against a share of 10.5: deviation 4.5 / 10.5.
    assert scores["max_dev_w"] == pytest.approx(4.5 / 10.5)
    # Each run of 3 has its median in the middle: 1 + 1 per region.
    assert scores["dispersion"] == pytest.approx(4.0)
    assert scores["disconnected"] == 0 and scores["regions"] == 2
    split = pd.Series([0, 1, 0, 1, 0, 1], index=table["customer_id"])
    assert baseline.score(split, table, ["w"], neighbors, k=2)["disconnected"] == 2


def test_missing_regions_count_against_the_plan_asked_for(baseline) -> None:
    table = strip(4)
    labels = pd.Series([0, 0, 0, 0], index=table["customer_id"])
    scores = baseline.score(labels, table, ["w"], adjacency(table), k=2)
    assert scores["regions"] == 1
    assert scores["max_dev_w"] == pytest.approx(1.0)  # 10 against a share of 5


def test_spopt_methods_return_connected_regions(baseline) -> None:
    pytest.importorskip("spopt")
    pytest.importorskip("geopandas")
    cells = [box(c, r, c + 1, r + 1) for r in range(4) for c in range(4)]
    table = pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(16)],
            "x": [g.centroid.x for g in cells],
            "y": [g.centroid.y for g in cells],
            "w": np.ones(16),
            "geometry": cells,
        }
    )
    runs = baseline.run_baselines(table, ["w"], k=2, seconds=0.0)
    assert [r.method for r in runs] == ["skater", "azp", "region_kmeans"]
    for run in runs:
        assert run.scores["regions"] == 2 and run.scores["disconnected"] == 0
        assert set(run.labels.index) == set(table["customer_id"])


def test_maps_in_several_parts_are_refused(baseline) -> None:
    # spopt 0.7's RegionKMeansHeuristic never returns on a disconnected graph.
    table = strip(4)
    neighbors = pd.DataFrame({"customer_id": ["u0", "u1"], "neighbor_id": ["u1", "u0"]})
    with pytest.raises(ValueError, match=r"3 parts \(smallest: \['u2'\]\)"):
        baseline.run_baselines(table, ["w"], k=2, seconds=0.0, neighbors=neighbors)
