"""Rules and terms for territories on a map: contiguity, base units and dispersion.

``Contiguous`` asks that each rep's customers form one connected set in a neighbour
graph (optionally containing the rep's base unit); ``MinimizeDispersion`` adds the
distance from each unit to its territory's centre (the rep's own coordinates, its base
unit, or a unit the solver chooses). Both compile into the model's
[`Geography`][alloc.data.geography.Geography] (see `alloc.data.spatial`); a base unit
is also a pin, so every solver keeps it on its rep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alloc.data.context import Tables
from alloc.errors import InvalidProblemError, format_ids
from alloc.objectives import Term, _check_weight
from alloc.rules import Rule
from alloc.validation import check_param

__all__ = ["Contiguous", "MinimizeDispersion", "neighbour_pairs"]


def neighbour_pairs(neighbors: Any) -> tuple[tuple[tuple[Any, Any], ...], tuple[Any, ...]]:
    """``(pairs, nodes)`` of a neighbour table or graph: links (self loops dropped) and,
    for a graph, every node (so isolated nodes are known as islands)."""
    if isinstance(neighbors, pd.DataFrame):
        if neighbors.shape[1] < 2:
            raise InvalidProblemError(
                "Contiguous: neighbors needs two columns of customer ids (customer_id, "
                f"neighbor_id); it has {neighbors.shape[1]}. Build it with "
                "alloc.geo.adjacency(geometry)."
            )
        frame = neighbors.iloc[:, :2]
        if frame.isna().any(axis=None):
            raise InvalidProblemError(
                "Contiguous: neighbors has missing ids in "
                f"{int(frame.isna().any(axis=1).sum())} rows; drop those rows."
            )
        links = [(a, b) for a, b in frame.itertuples(index=False) if a != b]
        return tuple(links), ()
    if hasattr(neighbors, "edges") and hasattr(neighbors, "nodes"):
        links = [(a, b) for a, b in neighbors.edges() if a != b]
        return tuple(links), tuple(neighbors.nodes())
    raise InvalidProblemError(
        "Contiguous: neighbors must be a DataFrame whose first two columns are customer "
        f"ids or a networkx Graph; got {type(neighbors).__name__}."
    )


@dataclass(frozen=True, init=False, eq=False)
class Contiguous(Rule):
    """Each rep's customers form one connected set of the neighbour graph.

    An empty territory counts as connected.

    Parameters
    ----------
    neighbors : DataFrame or networkx.Graph
        Links between customers: the first two columns of a DataFrame (e.g. from
        ``alloc.geo.adjacency``), or a graph's edges (symmetric either way). Customers
        kept together by ``Together`` count as one place.
    base : str, optional
        A rep column naming each rep's base unit (a customer id; missing: no base).
        The base goes to its rep, and is the centre of ``MinimizeDispersion`` when the
        reps have no coordinates.
    islands : {"refuse", "allow"}
        Customers with no neighbour are refused by default (usually a gap in the
        neighbour table: link them with an explicit pair, or drop them). With
        ``"allow"`` they stay, and an island can only be a territory on its own.
    """

    neighbors: tuple[tuple[Any, Any], ...]
    base: str | None
    islands: str
    nodes: tuple[Any, ...]

    def __init__(self, neighbors: Any, base: str | None = None, islands: str = "refuse") -> None:
        check_param(
            "islands", islands, "Contiguous", islands in ("refuse", "allow"), "'refuse' or 'allow'"
        )
        check_param(
            "base", base, "Contiguous", base is None or isinstance(base, str), "a rep column name"
        )
        links, nodes = neighbour_pairs(neighbors)
        object.__setattr__(self, "neighbors", links)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "islands", islands)

    def __hash__(self) -> int:
        return hash((len(self.neighbors), self.base, self.islands))

    def __repr__(self) -> str:
        extra = "" if self.base is None else f", base={self.base!r}"
        extra += "" if self.islands == "refuse" else f", islands={self.islands!r}"
        return f"Contiguous({len(self.neighbors)} links{extra})"

    # ---- validation -------------------------------------------------------------------
    def validate(self, tables: Tables) -> None:
        ids = tables.customers.index
        named = pd.Index([*(v for link in self.neighbors for v in link), *self.nodes])
        unknown = pd.unique(named[~named.isin(ids)].to_numpy())
        if len(unknown):
            raise InvalidProblemError(
                f"{self!r}: neighbors name ids that are not customers: "
                f"{format_ids(list(unknown))}. Drop those links or add the customers."
            )
        a, b = self.neighbour_links(tables)
        linked = np.zeros(tables.n_customers, dtype=bool)
        linked[a] = linked[b] = True
        if self.islands == "refuse" and not linked.all():
            raise InvalidProblemError(
                f"{self!r}: customers {format_ids(list(ids[~linked]))} have no neighbour "
                "(islands). Link each to a neighbour with an explicit pair in neighbors, "
                "drop them, or pass islands='allow' (an island is then a territory alone)."
            )
        self.base_codes(tables)

    def neighbour_links(self, tables: Tables) -> tuple[np.ndarray, np.ndarray]:
        """Customer codes of both ends of every link."""
        if not self.neighbors:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ends = np.array([[a, b] for a, b in self.neighbors], dtype=object)
        index = tables.customers.index
        a = index.get_indexer(pd.Index(ends[:, 0], dtype=object))
        b = index.get_indexer(pd.Index(ends[:, 1], dtype=object))
        return a.astype(np.int64), b.astype(np.int64)

    def base_codes(self, tables: Tables) -> np.ndarray:
        """Customer code of each rep's base unit, -1 for none (errors name the reps)."""
        m = tables.n_reps
        if self.base is None:
            return np.full(m, -1, dtype=np.int64)
        values = pd.Series(tables.rep_column(self.base, rule=repr(self), numeric=False))
        present = values.notna().to_numpy()
        codes = np.full(m, -1, dtype=np.int64)
        found = tables.customers.index.get_indexer(pd.Index(values[present], dtype=object))
        reps = tables.reps.index
        if (found < 0).any():
            wrong = found < 0
            pairs = zip(reps[present][wrong], values[present][wrong], strict=True)
            bad = [f"{r}->{v}" for r, v in pairs]
            raise InvalidProblemError(
                f"{self!r}: reps[{self.base!r}] names base units that are not customers "
                f"({format_ids(bad)}). Fix the ids or leave the base missing."
            )
        codes[present] = found
        used = codes[codes >= 0]
        twice = pd.Index(used)[pd.Index(used).duplicated()]
        if len(twice):
            owners = [reps[codes == c].tolist() for c in twice.unique()]
            raise InvalidProblemError(
                f"{self!r}: reps share a base unit ({format_ids(owners)}); each base unit "
                "belongs to one rep. Give each rep its own base."
            )
        return codes

    # ---- compilation ------------------------------------------------------------------
    def pinned(self, tables: Tables) -> np.ndarray | None:
        codes = self.base_codes(tables)
        return codes[codes >= 0] if (codes >= 0).any() else None

    def allowed(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray | None:
        codes = self.base_codes(tables)
        if not (codes >= 0).any():
            return None
        owner = np.full(tables.n_customers, -1, dtype=np.int64)
        owner[codes[codes >= 0]] = np.flatnonzero(codes >= 0)
        return (owner[pc] < 0) | (owner[pc] == pr)


def _coordinates(tables: Tables, columns: tuple[str, str], table: str) -> np.ndarray | None:
    frame = tables.customers if table == "customers" else tables.reps
    if not all(c in frame.columns for c in columns):
        return None
    values = [pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in columns]
    return np.column_stack(values)


@dataclass(frozen=True, repr=False, eq=False)
class MinimizeDispersion(Term):
    """``weight * dispersion``: the distance from each unit to its territory's centre,
    summed (``kind="sum"``, p-median) or the largest (``kind="max"``, p-centre).

    The centre of a rep's territory is, in this order: the rep's own coordinates when
    the reps table has the coordinate columns; the rep's base unit when a
    ``Contiguous(base=...)`` rule names one for every rep; otherwise a customer of the
    territory chosen by the solver (``result.centers``). Distances are Euclidean on
    ``xy`` (projected coordinates) or, when the customers have no ``xy`` columns,
    great-circle kilometres on ``latlon``. ``distances=`` gives them instead (road
    times, say): a square DataFrame whose index and columns are the customer ids, row
    ``u``, column ``v`` the distance from unit ``u`` to a centre at ``v``; the centres
    are then the base units or chosen. Fixed centres with ``kind="sum"`` are a plain
    per-pair cost, which every solver handles.
    """

    kind: str = "sum"
    weight: float = 1.0
    xy: tuple[str, str] = ("x", "y")
    latlon: tuple[str, str] = ("lat", "lon")
    distances: Any = field(default=None, compare=False)

    def __repr__(self) -> str:
        extra = "" if self.distances is None else f", distances={len(self.distances)} x ..."
        return f"MinimizeDispersion(kind={self.kind!r}, weight={self.weight!r}{extra})"

    def __hash__(self) -> int:
        return hash((self.kind, self.weight, self.xy, self.latlon, id(self.distances)))

    def __post_init__(self) -> None:
        check_param(
            "kind", self.kind, "MinimizeDispersion", self.kind in ("sum", "max"), "'sum' or 'max'"
        )
        _check_weight(self.weight, "MinimizeDispersion")
        for name in ("xy", "latlon"):
            value = getattr(self, name)
            ok = isinstance(value, (tuple, list)) and len(value) == 2
            check_param(name, value, "MinimizeDispersion", ok, "two column names")
            object.__setattr__(self, name, tuple(value))
        check_param(
            "distances",
            "a " + type(self.distances).__name__,
            "MinimizeDispersion",
            self.distances is None or isinstance(self.distances, pd.DataFrame),
            "None or a square DataFrame (index and columns: customer ids)",
        )

    def matrix(self, tables: Tables) -> np.ndarray | None:
        """``distances`` as an (n, n) array in customer order (None when not given)."""
        if self.distances is None:
            return None
        ids = tables.customers.index
        frame = self.distances
        missing = [*ids[~ids.isin(frame.index)], *ids[~ids.isin(frame.columns)]]
        if missing:
            raise InvalidProblemError(
                f"{self!r}: distances has no row or no column for customers "
                f"{format_ids(pd.unique(np.asarray(missing, dtype=object)).tolist())}; give a "
                "square table whose index and columns hold every customer id."
            )
        values = frame.reindex(index=ids, columns=ids).apply(pd.to_numeric, errors="coerce")
        matrix = values.to_numpy(float)
        bad = ~np.isfinite(matrix) | (matrix < 0)
        if bad.any():
            rows = ids[bad.any(axis=1)]
            raise InvalidProblemError(
                f"{self!r}: distances has missing, negative or non-numeric values in the "
                f"rows of {format_ids(list(rows))}; fill them with distances >= 0."
            )
        return matrix

    def points(self, tables: Tables) -> tuple[str, np.ndarray, np.ndarray | None]:
        """``(metric, customer points (n, 2), rep points (m, 2) or None)``."""
        for metric, columns in (("euclidean", self.xy), ("haversine", self.latlon)):
            cust = _coordinates(tables, columns, "customers")
            if cust is None:
                continue
            bad = ~np.isfinite(cust).all(axis=1)
            if bad.any():
                raise InvalidProblemError(
                    f"{self!r}: customers{list(columns)} have missing or non-numeric "
                    f"coordinates at {format_ids(list(tables.customers.index[bad]))}. "
                    "Fill or drop those rows."
                )
            reps = _coordinates(tables, columns, "reps")
            if reps is not None and not np.isfinite(reps).all():
                reps = None  # some reps without a location: centres come from elsewhere
            return metric, cust, reps
        raise InvalidProblemError(
            f"{self!r}: customers have neither {list(self.xy)} (projected) nor "
            f"{list(self.latlon)} (degrees) columns; add them or set xy=/latlon=."
        )

    def validate(self, tables: Tables) -> None:
        if self.distances is None:
            self.points(tables)
        else:
            self.matrix(tables)
