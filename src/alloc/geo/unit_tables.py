"""Turn a map's units into the customers table `alloc.Problem` takes.

A unit (county, ZIP code, brick) becomes one customer row: its id, its location (``x``/``y``
in a projected system, or ``lat``/``lon`` in degrees) and its measures (population,
workload...). Locations come from the shapes' centroids, or from coordinate columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from alloc.errors import DataWarning, InvalidProblemError, format_ids
from alloc.geo.shapes import read_shapes
from alloc.validation import check_param, is_real_at_least

__all__ = ["units"]


def units(
    frame: pd.DataFrame,
    *,
    id: str | None = None,
    measures: Sequence[str] | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    """The customers table of a map's units: ids, locations and measures.

    Parameters
    ----------
    frame : GeoDataFrame or DataFrame
        One row per unit. With shapes (a GeoDataFrame, or a ``geometry`` column of shapely
        polygons), locations are the shapes' centroids: ``x``/``y`` in the frame's
        projected coordinates, or ``lat``/``lon`` when its CRS is geographic (degrees).
        Without shapes, the frame must have numeric ``x``/``y`` or ``lat``/``lon``
        columns.
    id : str, optional
        Column holding the unit ids; default ``customer_id`` if the frame has it, else the
        index.
    measures : sequence of str, optional
        Columns to keep as measures (numbers a plan balances: population, workload...).
        Default: every column other than the id, the locations and the shapes.
    scale : float, default 1
        Factor applied to ``x``/``y`` taken from shapes, e.g. ``0.001`` for km from a
        CRS in metres.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, then ``x``, ``y`` (or ``lat``, ``lon``), then the
        measures; one row per unit, in the frame's order. The shapes are not copied: pass
        them to `adjacency` and `alloc.plot.territories`.

    Raises
    ------
    InvalidProblemError
        Missing or repeated ids, shapes that are invalid, a frame without shapes nor
        coordinate columns, coordinates that are not finite numbers, latitudes outside
        [-90, 90], or unknown or non-numeric measures.

    Warns
    -----
    DataWarning
        A GeoDataFrame without CRS whose coordinates look like degrees (read as x/y).

    Examples
    --------
    >>> import pandas as pd
    >>> from shapely import box
    >>> frame = pd.DataFrame({"geometry": [box(0, 0, 2, 2), box(2, 0, 4, 2)], "pop": [5, 7]},
    ...                      index=pd.Index(["a", "b"], name="county"))
    >>> units(frame)
      customer_id    x    y  pop
    0           a  1.0  1.0    5
    1           b  3.0  1.0    7
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidProblemError(
            f"units needs a GeoDataFrame or DataFrame, one row per unit; got "
            f"{type(frame).__name__}."
        )
    check_param("scale", scale, "units", is_real_at_least(scale, 0, strict=True), "a number > 0")
    ids = _ids(frame, id)
    has_shapes = _has_shapes(frame)
    if has_shapes:
        places = _centroids(frame, ids, float(scale))
    else:
        places = _coordinates(frame)
    dropped = {id or "customer_id", "x", "y", "lat", "lon", *_shape_columns(frame)}
    values = _measures(frame, measures, dropped)
    table = pd.concat(
        [pd.DataFrame({"customer_id": ids.to_numpy()}), places, values.reset_index(drop=True)],
        axis=1,
    )
    return table


def _ids(frame: pd.DataFrame, column: str | None) -> pd.Index:
    if column is not None:
        if column not in frame.columns:
            raise InvalidProblemError(
                f"frame has no id column {column!r} (columns: "
                f"{format_ids(map(str, frame.columns), 8)})."
            )
        ids = pd.Index(frame[column].to_numpy(), name="customer_id")
    elif "customer_id" in frame.columns:
        ids = pd.Index(frame["customer_id"].to_numpy(), name="customer_id")
    else:
        ids = pd.Index(frame.index.to_numpy(), name="customer_id")
    if ids.hasnans:
        raise InvalidProblemError(f"frame has {int(ids.isna().sum())} units without an id.")
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise InvalidProblemError(
            f"frame has repeated unit ids {format_ids(duplicated)}; ids must be unique "
            f"(dissolve repeated units first)."
        )
    return ids


def _shape_columns(frame: pd.DataFrame) -> list[str]:
    name = getattr(frame, "_geometry_column_name", None)
    return [c for c in {name, "geometry"} if c is not None and c in frame.columns]


def _has_shapes(frame: pd.DataFrame) -> bool:
    return bool(_shape_columns(frame))


def _centroids(frame: pd.DataFrame, ids: pd.Index, scale: float) -> pd.DataFrame:
    import shapely

    shapes = read_shapes(frame[_shape_columns(frame)[0]], ids=ids, arg="frame's geometry")
    points = shapely.centroid(shapes.geometries)
    first, second = shapely.get_x(points), shapely.get_y(points)
    crs = getattr(frame, "crs", None)
    if crs is not None and getattr(crs, "is_geographic", False):
        # Degrees: distances need haversine on lat/lon, never Euclidean on x/y.
        return pd.DataFrame({"lat": second, "lon": first})
    if crs is None and hasattr(frame, "crs") and _look_like_degrees(first, second):
        warnings.warn(
            "frame is a GeoDataFrame without CRS whose coordinates look like degrees "
            "(longitude, latitude); they are read as projected x/y. Set its CRS "
            "(frame.set_crs('EPSG:4326') gives lat/lon; frame.to_crs(<a projected CRS>) x/y).",
            DataWarning,
            stacklevel=3,
        )
    return pd.DataFrame({"x": first * scale, "y": second * scale})


def _look_like_degrees(x: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90))


def _coordinates(frame: pd.DataFrame) -> pd.DataFrame:
    if {"x", "y"} <= set(frame.columns):
        columns = ["x", "y"]
    elif {"lat", "lon"} <= set(frame.columns):
        columns = ["lat", "lon"]
    else:
        raise InvalidProblemError(
            f"frame has neither shapes (a 'geometry' column) nor coordinate columns 'x'/'y' "
            f"(projected) or 'lat'/'lon' (degrees); columns: "
            f"{format_ids(map(str, frame.columns), 8)}."
        )
    places = pd.DataFrame(
        {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64) for c in columns}
    )
    bad = ~np.isfinite(places.to_numpy()).all(axis=1)
    if bad.any():
        raise InvalidProblemError(
            f"frame has missing or non-numeric {columns} in {int(bad.sum())} rows (first: row "
            f"{int(np.flatnonzero(bad)[0])}); every unit needs a location."
        )
    if columns == ["lat", "lon"] and (
        (places["lat"].abs() > 90).any() or (places["lon"].abs() > 360).any()
    ):
        raise InvalidProblemError(
            "frame has 'lat' outside [-90, 90] or 'lon' outside [-360, 360]; lat/lon are in "
            "degrees (projected coordinates go in 'x'/'y')."
        )
    return places


def _measures(
    frame: pd.DataFrame, measures: Sequence[str] | None, dropped: set[str]
) -> pd.DataFrame:
    if measures is None:
        return frame[[c for c in frame.columns if c not in dropped]].copy()
    names = [measures] if isinstance(measures, str) else list(measures)
    missing = [m for m in names if m not in frame.columns]
    if missing:
        raise InvalidProblemError(
            f"frame has no measure columns {format_ids(missing)} (columns: "
            f"{format_ids(map(str, frame.columns), 8)})."
        )
    not_numeric = [m for m in names if not pd.api.types.is_numeric_dtype(frame[m])]
    if not_numeric:
        raise InvalidProblemError(
            f"the measures {format_ids(not_numeric)} are not numeric; a plan balances numbers "
            f"(convert them with pd.to_numeric)."
        )
    return frame[names].copy()
