"""Which units touch: queen or rook adjacency of polygons, with islands reported.

The neighbour table is what ``alloc.Contiguous`` takes. Candidate pairs come from one
shapely ``STRtree`` query (vectorised, about ``n log n``); rook adjacency then measures the
shared boundary of the candidates only.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from alloc.errors import DataWarning, format_ids
from alloc.geo.shapes import read_shapes
from alloc.validation import check_param, is_real_at_least

__all__ = ["CORNER_FACTOR", "adjacency"]

#: With ``tolerance > 0``, rook neighbours share more than ``CORNER_FACTOR * tolerance`` of
#: boundary within ``tolerance`` of each other: two units meeting at one corner share about
#: ``2 * tolerance`` of boundary near it (one ``tolerance`` along each edge), a real border
#: far more.
CORNER_FACTOR = 4.0


def adjacency(
    geometry: Any,
    ids: Any = None,
    kind: Literal["queen", "rook"] = "queen",
    *,
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """Neighbouring units of a map, as a table ``customer_id``, ``neighbor_id``.

    Parameters
    ----------
    geometry : GeoSeries, GeoDataFrame, DataFrame, Series or sequence
        One polygon or multipolygon per unit: a GeoSeries or Series (ids: its index), a
        (Geo)DataFrame with a ``geometry`` column (ids: its ``customer_id`` column, else its
        index), or a sequence of shapely geometries or WKT strings (ids: ``0..n-1``).
    ids : sequence, optional
        Unit ids, one per shape, in the same order (overrides the ids read from
        ``geometry``).
    kind : {"queen", "rook"}
        ``"queen"``: the units share at least one point (a corner is enough). ``"rook"``:
        they share a stretch of border of positive length.
    tolerance : float, default 0
        Distance, in the shapes' units, within which borders count as shared, for maps
        whose neighbours leave slivers or gaps between them. Queen: the shapes are within
        ``tolerance``. Rook: more than ``CORNER_FACTOR * tolerance`` of one unit's border
        lies within ``tolerance`` of the other's.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` and ``neighbor_id``: each neighbouring pair in both
        directions, no unit paired with itself, sorted by ``customer_id`` then
        ``neighbor_id``. ``attrs["islands"]`` lists the units with no neighbour (also
        named in a `DataWarning`); ``attrs["detached"]`` lists the groups of several units
        that touch nothing outside the group (id lists, largest first; e.g. Virginia's
        Eastern Shore), named in a second `DataWarning`. The map is one connected part
        when both are empty. (Only these small lists are kept: pandas copies ``attrs``
        on every operation on the frame.)

    Raises
    ------
    InvalidProblemError
        Shapes that are missing, invalid or not polygons; ids repeated, missing or of the
        wrong length (see `read_shapes`).
    InvalidParameterError
        ``kind`` or ``tolerance`` out of range.

    Examples
    --------
    >>> from shapely import box
    >>> cells = [box(x, y, x + 1, y + 1) for y in range(2) for x in range(2)]
    >>> adjacency(cells, ids=["a", "b", "c", "d"], kind="rook")
      customer_id neighbor_id
    0           a           b
    1           a           c
    2           b           a
    3           b           d
    4           c           a
    5           c           d
    6           d           b
    7           d           c
    >>> len(adjacency(cells, kind="queen"))  # the diagonals touch at the centre too
    12
    """
    check_param("kind", kind, "adjacency", kind in ("queen", "rook"), "'queen' or 'rook'")
    check_param(
        "tolerance", tolerance, "adjacency", is_real_at_least(tolerance, 0), "a number >= 0"
    )
    shapes = read_shapes(geometry, ids)
    left, right = _candidate_pairs(shapes.geometries, float(tolerance))
    if kind == "rook" and left.size:
        keep = _share_border(shapes.geometries[left], shapes.geometries[right], float(tolerance))
        left, right = left[keep], right[keep]
    return _table(shapes.ids, left, right)


def _candidate_pairs(geometries: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` of shapes that intersect (or lie within ``tolerance``)."""
    import shapely

    tree = shapely.STRtree(geometries)
    if tolerance > 0:
        pairs = tree.query(geometries, predicate="dwithin", distance=tolerance)
    else:
        pairs = tree.query(geometries, predicate="intersects")
    left, right = pairs
    upper = left < right
    return left[upper], right[upper]


def _share_border(a: np.ndarray, b: np.ndarray, tolerance: float) -> np.ndarray:
    """Whether each pair of shapes shares a border of positive length (see `adjacency`)."""
    import shapely

    border_a, border_b = shapely.boundary(a), shapely.boundary(b)
    if tolerance == 0:
        return np.asarray(shapely.length(shapely.intersection(border_a, border_b)) > 0)
    near_b = shapely.buffer(border_b, tolerance)
    shared = shapely.length(shapely.intersection(border_a, near_b))
    return np.asarray(shared > CORNER_FACTOR * tolerance)


def _table(ids: pd.Index, left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
    first = np.concatenate([left, right])
    second = np.concatenate([right, left])
    order = np.lexsort((second, first))  # input order: ids of mixed types need no comparison
    frame = pd.DataFrame(
        {
            "customer_id": ids.to_numpy()[first[order]],
            "neighbor_id": ids.to_numpy()[second[order]],
        }
    )
    frame = _sorted_by_id(frame)
    touched = np.zeros(len(ids), dtype=bool)
    touched[first] = True
    islands = ids[~touched].tolist()
    parts = _parts(ids, first, second)
    detached = [part for part in parts[1:] if len(part) > 1]
    frame.attrs["islands"] = islands
    frame.attrs["detached"] = detached
    if islands:
        warnings.warn(
            f"{len(islands)} units have no neighbour (islands): {format_ids(islands)}. A "
            f"territory holding one cannot be connected to others; link them to the mainland "
            f"by adding rows to the neighbour table (e.g. a ferry), or raise `tolerance` if "
            f"the map has gaps.",
            DataWarning,
            stacklevel=3,
        )
    if detached:
        warnings.warn(
            f"the map falls into {len(parts)} separate parts; besides the main part "
            f"({len(parts[0])} units) and any islands, these groups touch no other part: "
            + "; ".join(format_ids(part) for part in detached[:3])
            + ". A territory cannot span two parts unless the neighbour table links them.",
            DataWarning,
            stacklevel=3,
        )
    return frame


def _parts(ids: pd.Index, first: np.ndarray, second: np.ndarray) -> list[list[Any]]:
    """Connected parts of the neighbour graph, as id lists, largest first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ids)
    graph = coo_matrix((np.ones(first.size), (first, second)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(-np.bincount(label), kind="stable")
    return [ids[label == part].tolist() for part in order]


def _sorted_by_id(frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return frame.sort_values(["customer_id", "neighbor_id"], kind="stable", ignore_index=True)
    except TypeError:  # ids of mixed types do not compare: keep input order
        return frame
