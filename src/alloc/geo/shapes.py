"""Read unit shapes from what users hold: a GeoSeries or GeoDataFrame, a DataFrame with a
``geometry`` column, a sequence of shapely geometries, or WKT strings.

Every reader in `alloc.geo` and the map in `alloc.plot` goes through `read_shapes`, so
they all take the same inputs, pair them with the same ids and refuse the same mistakes
(missing, invalid or non-polygonal shapes, duplicate ids, ids of the wrong length) with
`InvalidProblemError` naming the ids. geopandas is never imported: a GeoSeries is a
pandas Series of shapely geometries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidProblemError, format_ids

__all__ = ["Shapes", "read_shapes"]


@dataclass(frozen=True)
class Shapes:
    """Valid polygonal shapes paired with their unit ids.

    Attributes
    ----------
    ids
        Unit ids, unique, in input order.
    geometries
        ``(n,)`` object array of shapely ``Polygon`` / ``MultiPolygon``, aligned with ``ids``.
    """

    ids: pd.Index
    geometries: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def read_shapes(geometry: Any, ids: Any = None, *, arg: str = "geometry") -> Shapes:
    """Pair shapes with ids and check them.

    Parameters
    ----------
    geometry : GeoSeries, GeoDataFrame, DataFrame, Series or sequence
        A GeoSeries or Series (ids: its index), a GeoDataFrame or DataFrame with a
        ``geometry`` column (ids: its ``customer_id`` column if present, else its index), or
        a sequence of shapely geometries or WKT strings (ids: ``0..n-1``).
    ids : sequence, optional
        Unit ids, one per shape, overriding the ids read from ``geometry``.
    arg : str
        The argument's name in error messages.

    Returns
    -------
    Shapes

    Raises
    ------
    InvalidProblemError
        No shapes; ``ids`` of another length than the shapes, missing or duplicated;
        a shape that is missing, not WKT, not a polygon or multipolygon, or invalid (the
        message names the ids and shapely's reason, and suggests ``shapely.make_valid``).
    """
    values, found_ids = _values_and_ids(geometry, arg)
    if ids is not None:
        given = pd.Index(list(ids) if not isinstance(ids, pd.Index) else ids)
        if len(given) != len(values):
            raise InvalidProblemError(
                f"ids has {len(given)} entries but {arg} has {len(values)} shapes; give one id "
                f"per shape, in the same order."
            )
        found_ids = given
    if len(values) == 0:
        raise InvalidProblemError(f"{arg} has no shapes; give at least one polygon.")
    _check_ids(found_ids, arg)
    shapes = _to_geometries(values, found_ids, arg)
    _check_polygons(shapes, found_ids, arg)
    return Shapes(ids=found_ids, geometries=shapes)


def _values_and_ids(geometry: Any, arg: str) -> tuple[np.ndarray, pd.Index]:
    if isinstance(geometry, pd.DataFrame):
        column = _geometry_column(geometry, arg)
        values = np.asarray(column, dtype=object)
        if "customer_id" in geometry.columns:
            return values, pd.Index(geometry["customer_id"].to_numpy())
        return values, geometry.index.copy()
    if isinstance(geometry, pd.Series):
        return np.asarray(geometry, dtype=object), geometry.index.copy()
    import shapely

    if isinstance(geometry, shapely.Geometry):
        raise InvalidProblemError(
            f"{arg} is a single shapely geometry; give a sequence of shapes, one per unit "
            f"(e.g. list(multipolygon.geoms))."
        )
    if isinstance(geometry, str | bytes) or not (
        isinstance(geometry, Sequence | np.ndarray)
        or (hasattr(geometry, "__len__") and hasattr(geometry, "__iter__"))  # GeometryArray
    ):
        raise InvalidProblemError(
            f"{arg} must be a GeoSeries, GeoDataFrame, a DataFrame with a 'geometry' column, "
            f"or a sequence of shapely geometries or WKT strings; got {type(geometry).__name__}."
        )
    values = np.empty(len(geometry), dtype=object)
    values[:] = list(geometry)
    return values, pd.RangeIndex(len(values))


def _geometry_column(frame: pd.DataFrame, arg: str) -> pd.Series:
    name = getattr(frame, "_geometry_column_name", None)  # a GeoDataFrame's active column
    if name is None or name not in frame.columns:
        name = "geometry"
    if name not in frame.columns:
        raise InvalidProblemError(
            f"{arg} has no 'geometry' column (columns: {format_ids(map(str, frame.columns), 8)}); "
            f"add one with a shapely polygon per row, or pass a GeoSeries."
        )
    return frame[name]


def _check_ids(ids: pd.Index, arg: str) -> None:
    if ids.hasnans:
        raise InvalidProblemError(
            f"the ids of {arg} are missing for {int(np.sum(ids.isna()))} shapes; every shape "
            f"needs an id."
        )
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise InvalidProblemError(
            f"the ids of {arg} repeat: {format_ids(duplicated)}; each shape needs its own id. "
            f"Dissolve the shapes of one unit into one (e.g. shapely.union_all)."
        )


def _to_geometries(values: np.ndarray, ids: pd.Index, arg: str) -> np.ndarray:
    import shapely

    text = np.array([isinstance(v, str | bytes) for v in values], dtype=bool)
    shapes = values.copy()
    if text.any():
        parsed = shapely.from_wkt(values[text].astype(str), on_invalid="ignore")
        bad = np.flatnonzero(text)[pd.isna(parsed)]
        if bad.size:
            raise InvalidProblemError(
                f"{arg} has text that is not WKT for the ids {format_ids(ids[bad])}; give "
                f"WKT such as 'POLYGON ((0 0, 1 0, 1 1, 0 0))'."
            )
        shapes[text] = parsed
    missing = np.array([not isinstance(v, shapely.Geometry) for v in shapes], dtype=bool)
    if missing.any():
        raise InvalidProblemError(
            f"{arg} has no shape for the ids {format_ids(ids[missing])} (got "
            f"{type(shapes[np.flatnonzero(missing)[0]]).__name__}); give a polygon for each."
        )
    return shapes


def _check_polygons(shapes: np.ndarray, ids: pd.Index, arg: str) -> None:
    import shapely

    kinds = shapely.get_type_id(shapes)
    polygonal = (kinds == shapely.GeometryType.POLYGON) | (
        kinds == shapely.GeometryType.MULTIPOLYGON
    )
    empty = shapely.is_empty(shapes)
    wrong = ~polygonal | empty
    if wrong.any():
        shown = [
            f"{ids[i]!r} ({shapes[i].geom_type}{', empty' if empty[i] else ''})"
            for i in np.flatnonzero(wrong)[:5]
        ]
        raise InvalidProblemError(
            f"{arg} must hold non-empty polygons or multipolygons; {int(wrong.sum())} are not: "
            f"{', '.join(shown)}. Use the units' areas, not their points or lines."
        )
    invalid = ~shapely.is_valid(shapes)
    if invalid.any():
        shown = [
            f"{ids[i]!r} ({shapely.is_valid_reason(shapes[i])})"
            for i in np.flatnonzero(invalid)[:5]
        ]
        raise InvalidProblemError(
            f"{arg} has {int(invalid.sum())} invalid shapes: {', '.join(shown)}. Repair them "
            f"first, e.g. with shapely.make_valid(...) or geometry.buffer(0)."
        )
