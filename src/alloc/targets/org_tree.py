"""Targets down an organisation tree: every parent equals the sum of its children.

[`cascade`][alloc.targets.cascade] splits a total top-down through a tree (company -> region -> team
-> rep) by a per-leaf basis, in whole units, with floors, caps and pins per node.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import (
    FloatArray,
    IntArray,
    NoWeight,
    WeightsLike,
    cap_units,
    check_unit,
    floor_units,
    format_amount,
    from_units,
    split_units,
    to_units,
)
from alloc.targets.basis import resolve_basis
from alloc.targets.odds import attain_probability, quantile_column, quantile_grid
from alloc.validation import is_int, is_number

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["cascade", "tree_order"]


def _as_tree(tree: object, owner: str) -> nx.DiGraph:
    """The tree as a DiGraph, from a DiGraph or a table of parent -> child edges."""
    import networkx as nx  # on first use: it takes longer to import than alloc itself

    if isinstance(tree, pd.DataFrame):
        missing = [c for c in ("parent", "child") if c not in tree.columns]
        if missing:
            raise InvalidProblemError(
                f"the 'tree' argument of {owner} has no column {format_ids(missing)}; a "
                "tree table needs the columns 'parent' and 'child', one row per edge."
            )
        nulls = tree[["parent", "child"]].isna().any(axis=1).to_numpy()
        if nulls.any():
            raise InvalidProblemError(
                f"the 'tree' argument of {owner} has missing parent or child ids at rows "
                f"{format_ids(tree.index[nulls])}; fill or drop those rows."
            )
        graph = nx.DiGraph()
        edges = tree[["parent", "child"]].drop_duplicates()
        graph.add_edges_from(zip(edges["parent"].tolist(), edges["child"].tolist(), strict=True))
        return graph
    if isinstance(tree, nx.DiGraph):
        return tree
    if isinstance(tree, nx.Graph):
        raise InvalidParameterError(
            f"the 'tree' parameter of {owner} must be a directed graph (edges parent -> "
            "child); got an undirected graph. Build it with nx.DiGraph()."
        )
    raise InvalidParameterError(
        f"the 'tree' parameter of {owner} must be a networkx DiGraph or a DataFrame with "
        f"columns 'parent' and 'child'; got {type(tree).__name__}."
    )


def _tree_root(graph: nx.DiGraph, root: Hashable | None, owner: str) -> Hashable:
    """Check that ``graph`` is a tree (arborescence) and return its root."""
    import networkx as nx

    if graph.number_of_nodes() == 0:
        raise InvalidProblemError(f"the 'tree' argument of {owner} has no nodes.")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [u for u, _v, *_ in nx.find_cycle(graph)]
        raise InvalidProblemError(
            f"the 'tree' argument of {owner} has a cycle through {format_ids(cycle)}; a "
            "target tree must not loop back, so remove one of these edges."
        )
    several = [n for n, d in graph.in_degree() if d > 1]
    if several:
        raise InvalidProblemError(
            f"the 'tree' argument of {owner} gives more than one parent to "
            f"{format_ids(several)}; in a target tree each node has one parent."
        )
    if root is not None:
        if root not in graph:
            raise InvalidParameterError(
                f"the 'root' parameter of {owner} must be a node of the tree; got {root!r}."
            )
        reached = nx.descendants(graph, root) | {root}
        orphans = [n for n in graph if n not in reached]
        if orphans:
            raise InvalidProblemError(
                f"the 'tree' argument of {owner} has nodes not reachable from the root "
                f"{root!r}: {format_ids(orphans)}; connect them below the root or remove "
                "them."
            )
        return root
    roots = [n for n, d in graph.in_degree() if d == 0]
    if len(roots) > 1:
        raise InvalidProblemError(
            f"the 'tree' argument of {owner} has {len(roots)} roots (nodes without a "
            f"parent): {format_ids(roots)}; a target tree has exactly one. Connect the "
            "others below one root or remove them (pass root= to name the root; nodes "
            "not reachable from it are then reported as orphans)."
        )
    return roots[0]


def _node_amounts(
    values: object, nodes: Sequence[Hashable], name: str, owner: str
) -> dict[Hashable, float]:
    """Per-node amounts from a mapping / Series by node id (None -> {})."""
    if values is None:
        return {}
    if isinstance(values, pd.Series):
        items = dict(zip(values.index.tolist(), values.tolist(), strict=True))
    elif isinstance(values, Mapping):
        items = dict(values)
    else:
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a mapping or Series node -> "
            f"amount; got {type(values).__name__}."
        )
    known = set(nodes)
    unknown = [k for k in items if k not in known]
    if unknown:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} names nodes that are not in the tree: "
            f"{format_ids(unknown)}; remove them or fix the ids."
        )
    out: dict[Hashable, float] = {}
    bad = []
    for k, v in items.items():
        if v is None or (is_number(v) and math.isnan(float(v))):
            continue
        if not is_number(v) or float(v) < 0 or not math.isfinite(float(v)):
            bad.append(k)
        else:
            out[k] = float(v)
    if bad:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has negative or non-numeric amounts for "
            f"{format_ids(bad)}; amounts must be non-negative numbers."
        )
    return out


def cascade(
    tree: nx.DiGraph | pd.DataFrame,
    total: float,
    basis: WeightsLike | tuple[pd.DataFrame, Mapping[str, float]],
    *,
    unit: float = 1,
    floors: Mapping[Any, float] | pd.Series | None = None,
    caps: Mapping[Any, float] | pd.Series | None = None,
    pins: Mapping[Any, float] | pd.Series | None = None,
    root: Hashable | None = None,
    bands: pd.DataFrame | None = None,
) -> pd.Series | pd.DataFrame:
    """Cascade a total down an organisation tree so that every parent sums its children.

    The basis is given per leaf (e.g. per rep); an internal node's basis is the sum of
    the basis of the leaves below it. Starting from the root, each node's amount is
    divided among its children with [`split`][alloc.targets.split] (largest remainder on whole
    units), so every node is a multiple of ``unit`` and every parent equals the sum of its
    children exactly.

    Floors, caps and pins apply per node. A pinned node receives exactly its pin: the
    pin is taken out of its parent's amount and the rest is redistributed among its
    siblings by basis (floors and caps do not apply to pinned nodes). Bounds below a
    node constrain the node itself: a node gets at least ``max(floor, sum of its
    children's minima)`` and at most ``min(cap, sum of its children's maxima)``, where a
    pinned child's minimum and maximum are its pin; so a pin deep in the tree is always
    honoured, and an impossible set of bounds is reported before any split.

    Parameters
    ----------
    tree : networkx.DiGraph or pandas.DataFrame
        Edges parent -> child (a DiGraph), or a table with columns ``"parent"`` and
        ``"child"``, one row per edge. Children are split in the order of the graph's
        successors (the table's row order).
    total : int or float
        Amount at the root; a non-negative multiple of ``unit``.
    basis : mapping, pandas.Series, or (pandas.DataFrame, mapping)
        Leaf id -> non-negative basis value (potential, history, capacity, ...).
        For a blend pass ``(df, {"potential": 0.7, "history": 0.3})``: ``df`` is indexed
        by leaf id and the columns are blended as shares (see [`blend`][alloc.targets.blend]).
        Integer basis values are split with exact integer arithmetic.
    unit : int or float, default 1
        Granularity of every node's amount.
    floors, caps : mapping or pandas.Series, optional
        Node id -> minimum / maximum amount (rounded up / down to multiples of unit).
    pins : mapping or pandas.Series, optional
        Node id -> fixed amount (a multiple of ``unit``).
    root : hashable, optional
        The root node; by default the only node without a parent. When given, nodes
        not reachable from it are reported as orphans.
    bands : pandas.DataFrame, optional
        Forecast bands for every node, indexed by node with quantile columns (``p10``,
        ``p50``, ``p90``...), as from [`forecast`][alloc.targets.forecast] with
        ``tree=``. The result then carries them.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Amount per node (every node of the tree, root first, breadth-first), named
        ``"target"``; int64 when ``total`` and ``unit`` are ints, else float64. With
        ``bands``, a DataFrame indexed the same way with ``target``, the quantile
        columns of ``bands`` and ``p_attain`` (each node's estimated probability of
        selling at least its target, read off its quantiles as in
        [`set_quotas`][alloc.targets.set_quotas]).

    Raises
    ------
    InvalidProblemError
        The tree has a cycle, a node with two parents, several roots, or nodes not
        reachable from ``root``; leaves without basis, basis ids that are not leaves;
        bounds or pins that cannot all hold (the message names the nodes and amounts);
        an amount to place below a node whose leaves all have basis 0; ``bands``
        without quantile columns or without a row for some nodes.
    InvalidParameterError
        Bad ``unit``, ``total`` (negative or not a multiple of ``unit``) or ``root``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.targets import cascade
    >>> tree = pd.DataFrame({
    ...     "parent": ["co", "co", "north", "north", "south"],
    ...     "child": ["north", "south", "ann", "bob", "cid"],
    ... })
    >>> cascade(tree, 1_000, {"ann": 30, "bob": 20, "cid": 50}).to_dict()
    {'co': 1000, 'north': 500, 'south': 500, 'ann': 300, 'bob': 200, 'cid': 500}
    >>> cascade(tree, 1_000, {"ann": 30, "bob": 20, "cid": 50}, pins={"ann": 100}).to_dict()
    {'co': 1000, 'north': 500, 'south': 500, 'ann': 100, 'bob': 400, 'cid': 500}
    """
    owner = "cascade"
    check_unit(unit, owner)
    n_units = to_units(total, unit, "total", owner)
    as_int = is_int(total) and is_int(unit)
    graph = _as_tree(tree, owner)
    top = _tree_root(graph, root, owner)
    order = _BreadthFirst.walk(graph, top)
    node_basis = _node_basis(basis, order, owner)
    frame = None if bands is None else _band_frame(bands, order.nodes, owner)
    low, high, pin_units = _node_unit_bounds(floors, caps, pins, order, unit, owner)
    _tighten_bounds_bottom_up(low, high, pin_units, order, unit, owner)
    i_top = order.position[top]
    _check_total_within_bounds(n_units, low[i_top], high[i_top], unit, owner)
    amounts = _split_top_down(n_units, node_basis, low, high, order, unit, owner)
    target = pd.Series(
        from_units(amounts, unit, as_int),
        index=pd.Index(order.nodes, name="node"),
        name="target",
    )
    if frame is None:
        return target
    out = pd.concat([target, frame.set_axis(target.index)], axis=1)
    grid = quantile_grid(frame, owner)
    out["p_attain"] = attain_probability(grid, target.to_numpy(dtype=np.float64))
    return out


def _band_frame(bands: object, nodes: list[Hashable], owner: str) -> pd.DataFrame:
    """The quantile columns of ``bands`` for every node, in the order of ``nodes``."""
    if not isinstance(bands, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'bands' parameter of {owner} must be a DataFrame of quantile columns (p10, "
            f"p50, p90...) per node, as from forecast(..., tree=); got {type(bands).__name__}."
        )
    quantile_grid(bands, owner)  # checks the columns, the values and the ids
    missing = pd.Index(nodes).difference(bands.index)
    if len(missing):
        raise InvalidProblemError(
            f"the 'bands' argument of {owner} has no row for the nodes {format_ids(missing)}; "
            "give bands for every node (forecast(..., tree=tree) gives them)."
        )
    return bands.loc[nodes, [c for c in bands.columns if quantile_column(c)]]


def tree_order(tree: object, owner: str) -> _BreadthFirst:
    """The nodes of a tree (DiGraph or parent/child table), root first, breadth-first.

    Internal to alloc (shared with [`forecast`][alloc.targets.forecast]); raises the same
    errors as [`cascade`][alloc.targets.cascade] for trees that are not trees.
    """
    graph = _as_tree(tree, owner)
    return _BreadthFirst.walk(graph, _tree_root(graph, None, owner))


@dataclass(frozen=True)
class _BreadthFirst:
    """The tree's nodes root first, breadth-first, with each node's children and position."""

    nodes: list[Hashable]
    children: dict[Hashable, list[Hashable]]
    position: dict[Hashable, int]

    @classmethod
    def walk(cls, graph: nx.DiGraph, top: Hashable) -> _BreadthFirst:
        nodes: list[Hashable] = []
        children: dict[Hashable, list[Hashable]] = {}
        queue: deque[Hashable] = deque([top])
        while queue:
            node = queue.popleft()
            nodes.append(node)
            kids = list(graph.successors(node))
            children[node] = kids
            queue.extend(kids)
        return cls(nodes, children, {n: i for i, n in enumerate(nodes)})

    def child_positions(self, node: Hashable) -> list[int]:
        return [self.position[k] for k in self.children[node]]


def _node_basis(basis: object, order: _BreadthFirst, owner: str) -> npt.NDArray[Any]:
    """Basis per node (breadth-first order): given for each leaf, summed over the tree."""
    leaves = [n for n in order.nodes if not order.children[n]]
    leaf_index, leaf_values = resolve_basis(basis, owner)
    given = leaf_index.tolist()
    not_nodes = [k for k in given if k not in order.position]
    if not_nodes:
        raise InvalidProblemError(
            f"the 'basis' argument of {owner} has ids that are not nodes of the tree "
            f"(orphans): {format_ids(not_nodes)}; add them to the tree or drop them."
        )
    internal = [k for k in given if order.children[k]]
    if internal:
        raise InvalidProblemError(
            f"the 'basis' argument of {owner} gives values for internal nodes "
            f"{format_ids(internal)}; give the basis per leaf only (an internal node's "
            "basis is the sum of its leaves)."
        )
    given_set = set(given)
    without = [n for n in leaves if n not in given_set]
    if without:
        raise InvalidProblemError(
            f"the 'basis' argument of {owner} has no value for the leaves "
            f"{format_ids(without)}; give them a basis (0 for none) or remove them from "
            "the tree."
        )
    int_basis = leaf_values.dtype.kind in "iu"
    node_basis = np.zeros(len(order.nodes), dtype=np.int64 if int_basis else np.float64)
    node_basis[[order.position[k] for k in given]] = leaf_values
    for node in reversed(order.nodes):
        kids = order.child_positions(node)
        if kids:
            node_basis[order.position[node]] = node_basis[kids].sum()
    return node_basis


def _node_unit_bounds(
    floors: object,
    caps: object,
    pins: object,
    order: _BreadthFirst,
    unit: float,
    owner: str,
) -> tuple[FloatArray, FloatArray, dict[Hashable, int]]:
    """Each node's own floor and cap in units (0 and inf when none) and the pins in units."""
    floor_amounts = _node_amounts(floors, order.nodes, "floors", owner)
    cap_amounts = _node_amounts(caps, order.nodes, "caps", owner)
    pin_amounts = _node_amounts(pins, order.nodes, "pins", owner)
    low = np.zeros(len(order.nodes))
    high = np.full(len(order.nodes), np.inf)
    for node, amount in floor_amounts.items():
        low[order.position[node]] = floor_units(np.array([amount]), unit)[0]
    for node, amount in cap_amounts.items():
        high[order.position[node]] = cap_units(np.array([amount]), unit)[0]
    pin_units: dict[Hashable, int] = {}
    for node, amount in pin_amounts.items():
        try:
            pin_units[node] = to_units(amount, unit, "pins", owner)
        except InvalidParameterError:
            raise InvalidProblemError(
                f"the 'pins' argument of {owner} pins {node!r} to {amount!r}, which is not "
                f"a multiple of unit={unit!r}; round the pin to a multiple of the unit."
            ) from None
    return low, high, pin_units


def _tighten_bounds_bottom_up(
    low: FloatArray,
    high: FloatArray,
    pin_units: dict[Hashable, int],
    order: _BreadthFirst,
    unit: float,
    owner: str,
) -> None:
    """Turn own bounds into effective ones, in place: what each node must and may receive.

    A node needs at least its children's minima and may get at most their maxima; a
    pinned node's minimum and maximum are its pin.
    """
    for node in reversed(order.nodes):
        i = order.position[node]
        kids = order.child_positions(node)
        need = low[kids].sum() if kids else 0.0
        room = high[kids].sum() if kids else np.inf
        if node in pin_units:
            pin = pin_units[node]
            if kids and not need <= pin <= room:
                limit = (
                    f"at least {format_amount(need * unit)}"
                    if pin < need
                    else (f"at most {format_amount(room * unit)}")
                )
                raise InvalidProblemError(
                    f"the 'pins' argument of {owner} pins {node!r} to "
                    f"{format_amount(pin * unit)}, but the floors, caps and pins below it "
                    f"need {limit}; change the pin or those bounds."
                )
            low[i] = high[i] = pin
        else:
            low[i] = max(low[i], need)
            high[i] = min(high[i], room)
            if low[i] > high[i]:
                raise InvalidProblemError(
                    f"the bounds of {owner} cannot all hold at node {node!r}: it needs at "
                    f"least {format_amount(low[i] * unit)} (its floor and those of its "
                    f"children) but may get at most {format_amount(high[i] * unit)} (its cap "
                    "and those of its children); relax the floors, caps or pins below it."
                )


def _check_total_within_bounds(
    n_units: int, need: float, room: float, unit: float, owner: str
) -> None:
    """Raise unless the root's effective bounds ``[need, room]`` admit the total."""
    if not need <= n_units <= room:
        bound = "need at least" if n_units < need else "allow at most"
        amount = need if n_units < need else room
        raise InvalidProblemError(
            f"the 'total' of {owner} is {format_amount(n_units * unit)} but the floors, caps "
            f"and pins in the tree {bound} {format_amount(amount * unit)}; change the total "
            "or the bounds."
        )


def _split_top_down(
    n_units: int,
    node_basis: npt.NDArray[Any],
    low: FloatArray,
    high: FloatArray,
    order: _BreadthFirst,
    unit: float,
    owner: str,
) -> IntArray:
    """Units per node: the root gets the total, each parent's units split over its children."""
    amounts = np.zeros(len(order.nodes), dtype=np.int64)
    amounts[0] = n_units  # the root is first in breadth-first order
    for node in order.nodes:
        kids = order.child_positions(node)
        if not kids:
            continue
        try:
            amounts[kids] = split_units(
                int(amounts[order.position[node]]), node_basis[kids], low[kids], high[kids]
            )
        except NoWeight as exc:
            raise InvalidProblemError(
                f"the 'basis' argument of {owner} is 0 for every leaf below {node!r}, but "
                f"{format_amount(exc.remaining * unit)} must be split there; give some of "
                "those leaves a positive basis, or pin or cap the node."
            ) from None
    return amounts
