"""Distances between points: straight lines on projected x/y, great circles on lat/lon.

Used for dispersion terms (unit to territory centre) and travel. The matrix is computed
in row blocks, so the temporaries stay a few megabytes whatever its size; a 5,000 x
5,000 matrix costs its own 200 MB and well under a second.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from alloc.errors import InvalidProblemError
from alloc.validation import check_param

__all__ = ["EARTH_RADIUS_KM", "distance_matrix"]

#: Mean Earth radius (IUGG), in km: haversine distances are in km.
EARTH_RADIUS_KM = 6371.0088

#: Elements of one block of the haversine computation (about 8 MB per temporary).
_BLOCK = 1 << 20


def distance_matrix(
    a: Any, b: Any = None, *, metric: Literal["euclidean", "haversine"] = "euclidean"
) -> np.ndarray:
    """Distances from every point of ``a`` to every point of ``b``.

    Parameters
    ----------
    a : array-like of shape (n, 2) or DataFrame
        Points: ``(x, y)`` in a projected system (metres, km...) for ``"euclidean"``,
        ``(lat, lon)`` in degrees for ``"haversine"``. A DataFrame gives its ``x``/``y``
        (euclidean) or ``lat``/``lon`` (haversine) columns.
    b : array-like of shape (m, 2) or DataFrame, optional
        Other points, in the same form; ``a`` itself when omitted.
    metric : {"euclidean", "haversine"}
        ``"euclidean"``: straight-line distance in the unit of the coordinates.
        ``"haversine"``: great-circle distance on a sphere of radius `EARTH_RADIUS_KM`,
        in km.

    Returns
    -------
    numpy.ndarray
        ``(n, m)`` float64 distances.

    Raises
    ------
    InvalidParameterError
        Unknown ``metric``.
    InvalidProblemError
        Points that are not pairs of finite numbers, latitudes outside [-90, 90] or
        longitudes outside [-180, 360], or a DataFrame without the columns ``metric``
        needs.

    Examples
    --------
    >>> distance_matrix([[0, 0], [3, 4]])
    array([[0., 5.],
           [5., 0.]])
    >>> distance_matrix([[0, 0]], [[0, 180]], metric="haversine").round(1)  # half the equator
    array([[20015.1]])
    """
    check_param(
        "metric",
        metric,
        "distance_matrix",
        metric in ("euclidean", "haversine"),
        "'euclidean' or 'haversine'",
    )
    first = _points(a, "a", metric)
    second = first if b is None else _points(b, "b", metric)
    if metric == "euclidean":
        return np.asarray(cdist(first, second), dtype=np.float64)
    return _haversine(first, second)


def _points(value: Any, arg: str, metric: str) -> np.ndarray:
    if isinstance(value, pd.DataFrame):
        columns = ["x", "y"] if metric == "euclidean" else ["lat", "lon"]
        missing = [c for c in columns if c not in value.columns]
        if missing:
            other = "haversine" if metric == "euclidean" else "euclidean"
            raise InvalidProblemError(
                f"{arg} has no columns {missing} for metric={metric!r} (columns: "
                f"{list(map(str, value.columns))[:8]}); give {columns}, or use "
                f"metric={other!r} for the other kind of coordinates."
            )
        value = value[columns]
    try:
        points = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(
            f"{arg} must hold numbers (pairs of coordinates): {exc}"
        ) from None
    if points.ndim != 2 or points.shape[1] != 2:
        raise InvalidProblemError(
            f"{arg} must have shape (n, 2), one (x, y) or (lat, lon) pair per row; got shape "
            f"{points.shape}."
        )
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        raise InvalidProblemError(
            f"{arg} has missing or infinite coordinates in rows {np.flatnonzero(bad)[:5].tolist()}"
            f"{' and more' if bad.sum() > 5 else ''}; every point needs two finite numbers."
        )
    if metric == "haversine":
        _check_degrees(points, arg)
    return points


def _check_degrees(points: np.ndarray, arg: str) -> None:
    wrong = (np.abs(points[:, 0]) > 90) | (points[:, 1] < -180) | (points[:, 1] > 360)
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise InvalidProblemError(
            f"{arg} has {int(wrong.sum())} points that are not (lat, lon) in degrees, e.g. row "
            f"{row}: {points[row].tolist()}; latitude comes first, within [-90, 90]. Projected "
            f"x/y need metric='euclidean'."
        )


def _haversine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    lat1, lon1 = np.radians(first[:, 0])[:, None], np.radians(first[:, 1])[:, None]
    lat2, lon2 = np.radians(second[:, 0])[None, :], np.radians(second[:, 1])[None, :]
    cos2 = np.cos(lat2)
    out = np.empty((first.shape[0], second.shape[0]), dtype=np.float64)
    rows = max(1, _BLOCK // max(1, second.shape[0]))
    for start in range(0, first.shape[0], rows):
        block = slice(start, start + rows)
        h = np.sin((lat2 - lat1[block]) / 2) ** 2 + np.cos(lat1[block]) * cos2 * (
            np.sin((lon2 - lon1[block]) / 2) ** 2
        )
        out[block] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out
