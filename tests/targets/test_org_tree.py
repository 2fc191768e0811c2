"""Tests for alloc.targets.org_tree (cascade): targets down an organisation tree."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.targets import cascade
from conftest import units

ORG = pd.DataFrame(
    {
        "parent": ["co", "co", "north", "north", "south", "south", "south"],
        "child": ["north", "south", "ann", "bob", "cid", "dan", "eve"],
    }
)
BASIS = {"ann": 30, "bob": 20, "cid": 25, "dan": 15, "eve": 10}


def _assert_coherent(result, graph):
    for node in graph:
        kids = list(graph.successors(node))
        if kids:
            assert result[node] == sum(result[k] for k in kids), node


def _graph(table):
    return nx.DiGraph(list(zip(table["parent"], table["child"], strict=True)))


def test_cascade_hand_example():
    out = cascade(ORG, 1_000, BASIS)
    assert out.to_dict() == {
        "co": 1000,
        "north": 500,
        "south": 500,
        "ann": 300,
        "bob": 200,
        "cid": 250,
        "dan": 150,
        "eve": 100,
    }
    assert out.index.name == "node" and out.name == "target"


def test_cascade_accepts_a_digraph_like_the_table():
    pd.testing.assert_series_equal(cascade(_graph(ORG), 999, BASIS), cascade(ORG, 999, BASIS))


def test_cascade_pin_is_taken_out_and_siblings_share_the_rest():
    out = cascade(ORG, 1_000, BASIS, pins={"cid": 100})
    assert out["cid"] == 100
    assert out["south"] == 500
    assert (out["dan"], out["eve"]) == (240, 160)
    _assert_coherent(out, _graph(ORG))


def test_cascade_deep_pin_raises_its_ancestors_when_needed():
    out = cascade(ORG, 1_000, BASIS, pins={"eve": 700})
    assert out["eve"] == 700
    assert out["south"] >= 700
    _assert_coherent(out, _graph(ORG))
    assert out["co"] == 1_000


def test_cascade_floors_and_caps_per_node():
    out = cascade(ORG, 1_000, BASIS, floors={"bob": 260}, caps={"south": 400})
    assert out["bob"] >= 260 and out["south"] <= 400
    _assert_coherent(out, _graph(ORG))


def test_cascade_blend_basis():
    frame = pd.DataFrame(
        {"potential": [1, 1, 1, 1, 1], "history": [4, 0, 0, 0, 0]},
        index=["ann", "bob", "cid", "dan", "eve"],
    )
    out = cascade(ORG, 1_000, (frame, {"potential": 0.5, "history": 0.5}))
    # ann: 0.5 * 0.2 + 0.5 * 1.0 = 0.6; every other rep 0.1
    assert out[["ann", "bob", "cid", "dan", "eve"]].tolist() == [600, 100, 100, 100, 100]


def test_cascade_float_unit():
    out = cascade(ORG, 1_000.0, BASIS, unit=0.5)
    assert out.dtype == np.float64
    assert ((out / 0.5) % 1 == 0).all()
    _assert_coherent(out, _graph(ORG))


@pytest.mark.parametrize(
    ("tree", "basis", "kwargs", "error", "match"),
    [
        (
            pd.DataFrame({"parent": ["co", "a", "b"], "child": ["a", "b", "a"]}),
            {"b": 1},
            {},
            InvalidProblemError,
            "cycle through 'a', 'b'",
        ),
        (
            pd.DataFrame({"parent": ["co", "co", "a", "b"], "child": ["a", "b", "x", "x"]}),
            {"x": 1},
            {},
            InvalidProblemError,
            "more than one parent to 'x'",
        ),
        (
            pd.DataFrame({"parent": ["co", "hq"], "child": ["a", "b"]}),
            {"a": 1, "b": 1},
            {},
            InvalidProblemError,
            "2 roots.*'co', 'hq'",
        ),
        (
            pd.DataFrame({"parent": ["co", "hq"], "child": ["a", "b"]}),
            {"a": 1, "b": 1},
            {"root": "co"},
            InvalidProblemError,
            "not reachable from the root 'co': 'hq', 'b'",
        ),
        (ORG, {**BASIS, "zed": 3}, {}, InvalidProblemError, "orphans.*'zed'"),
        (ORG, {"ann": 1, "bob": 1}, {}, InvalidProblemError, "'cid', 'dan', 'eve'"),
        (ORG, {**BASIS, "north": 5}, {}, InvalidProblemError, "internal nodes 'north'"),
        (ORG, BASIS, {"floors": {"ann": 900, "cid": 200}}, InvalidProblemError, "1,100"),
        (ORG, BASIS, {"caps": {"north": 100, "south": 100}}, InvalidProblemError, "200"),
        (
            ORG,
            BASIS,
            {"pins": {"north": 100}, "floors": {"ann": 150}},
            InvalidProblemError,
            "'north'",
        ),
        (ORG, BASIS, {"pins": {"ann": 10.5}}, InvalidProblemError, "multiple of unit"),
        (ORG, BASIS, {"pins": {"nobody": 1}}, InvalidProblemError, "'nobody'"),
        (
            ORG,
            {**BASIS, "ann": 0, "bob": 0},
            {"floors": {"north": 100}},
            InvalidProblemError,
            "0 for every leaf below 'north'",
        ),
        (nx.Graph([("co", "a")]), {"a": 1}, {}, InvalidParameterError, "directed"),
        (ORG, BASIS, {"root": "mars"}, InvalidParameterError, "'root'"),
        (ORG.rename(columns={"child": "kid"}), BASIS, {}, InvalidProblemError, "'child'"),
    ],
)
def test_cascade_rejects_bad_trees_and_bounds(tree, basis, kwargs, error, match):
    with pytest.raises(error, match=match):
        cascade(tree, 1_000, basis, **kwargs)


def test_cascade_does_not_mutate_inputs():
    table = ORG.copy()
    graph = _graph(ORG)
    edges = sorted(graph.edges())
    basis = pd.Series(BASIS)
    basis_copy = basis.copy()
    pins = {"ann": 100}
    cascade(table, 1_000, basis, pins=pins)
    cascade(graph, 1_000, basis)
    pd.testing.assert_frame_equal(table, ORG)
    pd.testing.assert_series_equal(basis, basis_copy)
    assert sorted(graph.edges()) == edges and pins == {"ann": 100}


@st.composite
def random_trees(draw):
    n = draw(st.integers(1, 25))
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    graph = nx.DiGraph()
    graph.add_node("n0")
    graph.add_edges_from((f"n{p}", f"n{i}") for i, p in enumerate(parents, start=1))
    leaves = [v for v in graph if graph.out_degree(v) == 0]
    return graph, leaves


@settings(max_examples=150, deadline=None)
@given(tree=random_trees(), n=st.integers(0, 5_000), unit=units, data=st.data())
def test_cascade_every_parent_is_exactly_the_sum_of_its_children(tree, n, unit, data):
    graph, leaves = tree
    values = data.draw(st.lists(st.integers(0, 100), min_size=len(leaves), max_size=len(leaves)))
    assume(sum(values) > 0)
    out = cascade(graph, n * unit, dict(zip(leaves, values, strict=True)), unit=unit)
    assert set(out.index) == set(graph.nodes)
    assert out["n0"] == n * unit
    assert (out >= 0).all() and (out % unit == 0).all()
    _assert_coherent(out, graph)
    for leaf, value in zip(leaves, values, strict=True):
        if value == 0:
            assert out[leaf] == 0


@settings(max_examples=150, deadline=None)
@given(tree=random_trees(), unit=units, data=st.data())
def test_cascade_returns_a_coherent_target_given_as_basis(tree, unit, data):
    graph, leaves = tree
    values = data.draw(st.lists(st.integers(0, 300), min_size=len(leaves), max_size=len(leaves)))
    assume(sum(values) > 0)
    leaf_targets = {leaf: v * unit for leaf, v in zip(leaves, values, strict=True)}
    out = cascade(graph, sum(leaf_targets.values()), leaf_targets, unit=unit)
    for leaf, target in leaf_targets.items():
        assert out[leaf] == target
    _assert_coherent(out, graph)


@settings(max_examples=150, deadline=None)
@given(tree=random_trees(), n=st.integers(0, 3_000), data=st.data())
def test_cascade_honours_pins_floors_and_caps(tree, n, data):
    graph, leaves = tree
    nodes = list(graph.nodes)
    values = data.draw(st.lists(st.integers(1, 100), min_size=len(leaves), max_size=len(leaves)))
    pinned = data.draw(st.lists(st.sampled_from(nodes[1:] or nodes), max_size=2, unique=True))
    pins = {v: data.draw(st.integers(0, 500)) for v in pinned if v != "n0"}
    floors = {v: data.draw(st.integers(0, 200)) for v in data.draw(st.sets(st.sampled_from(nodes)))}
    caps = {v: data.draw(st.integers(0, 3_000)) for v in data.draw(st.sets(st.sampled_from(nodes)))}
    basis = dict(zip(leaves, values, strict=True))
    try:
        out = cascade(graph, n, basis, floors=floors, caps=caps, pins=pins)
    except InvalidProblemError as exc:
        assert any(word in str(exc) for word in ("floors", "caps", "pins", "bounds", "total"))
        return
    _assert_coherent(out, graph)
    assert out["n0"] == n and (out >= 0).all()
    for v, pin in pins.items():
        assert out[v] == pin
    for v, floor in floors.items():
        if v not in pins:
            assert out[v] >= floor
    for v, cap in caps.items():
        if v not in pins:
            assert out[v] <= cap


def _org_sales(seed: int = 0, months: int = 18) -> pd.DataFrame:
    """Monthly sales of the ORG leaves: steady books of sizes 30, 20, 25, 15 and 10."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=months, freq="MS")
    return pd.DataFrame(
        [
            {"rep": rep, "date": d, "amount": size * rng.lognormal(0, 0.3)}
            for rep, size in BASIS.items()
            for d in dates
        ]
    )


def test_cascade_carries_the_forecast_bands_of_every_node():
    from alloc.targets import forecast

    bands = forecast(_org_sales(), by="rep", horizon=3, tree=ORG)
    assert list(bands.index) == ["co", "north", "south", "ann", "bob", "cid", "dan", "eve"]
    out = cascade(ORG, 300, BASIS, bands=bands)
    assert list(out.columns) == ["target", "p10", "p50", "p90", "p_attain"]
    pd.testing.assert_series_equal(out["target"], cascade(ORG, 300, BASIS))
    pd.testing.assert_frame_equal(out[["p10", "p50", "p90"]], bands[["p10", "p50", "p90"]])
    # a parent's band is that of the sum of its leaves' draws: not wider than the sum of
    # their bands, and its median close to the sum of theirs for steady books
    for node, kids in (("north", ["ann", "bob"]), ("south", ["cid", "dan", "eve"])):
        assert bands.loc[node, "p90"] - bands.loc[node, "p10"] <= (
            bands.loc[kids, "p90"] - bands.loc[kids, "p10"]
        ).sum() * (1 + 1e-9)
        assert bands.loc[node, "p50"] == pytest.approx(bands.loc[kids, "p50"].sum(), rel=0.1)
    # a target below a node's p10 is reached with odds above 90 %
    low = cascade(ORG, 30, BASIS, bands=bands)
    assert (low["p_attain"] > 0.9).all()


def test_cascade_bands_must_cover_every_node():
    from alloc.targets import forecast

    bands = forecast(_org_sales(), by="rep", horizon=3, tree=ORG).drop(index="south")
    with pytest.raises(InvalidProblemError, match="no row for the nodes 'south'"):
        cascade(ORG, 300, BASIS, bands=bands)
    with pytest.raises(InvalidProblemError, match="quantile columns"):
        cascade(ORG, 300, BASIS, bands=bands[["forecast"]])


def test_forecast_tree_leaves_must_hold_every_book():
    from alloc.targets import forecast

    sales = _org_sales()
    sales.loc[0, "rep"] = "zoe"
    with pytest.raises(InvalidProblemError, match=r"'zoe'.*not leaves of the tree"):
        forecast(sales, by="rep", horizon=3, tree=ORG)
    # a leaf without history is an all-zero book
    quiet = _org_sales()
    quiet = quiet[quiet["rep"] != "eve"]
    bands = forecast(quiet, by="rep", horizon=3, tree=ORG)
    assert bands.loc["eve", "all_zero"] and bands.loc["eve", "p90"] == 0
    assert not bands.loc["south", "all_zero"]


def test_cascade_bands_must_be_a_table():
    with pytest.raises(InvalidParameterError, match="'bands' parameter of cascade"):
        cascade(ORG, 300, BASIS, bands={"co": (1, 2)})
