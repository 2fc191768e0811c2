"""alloc.geo.distance_matrix: Euclidean and great-circle distances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.geo import EARTH_RADIUS_KM, distance_matrix


def test_euclidean_matches_pythagoras() -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[6.0, 8.0]])
    assert np.allclose(distance_matrix(a, b), [[10.0], [5.0]])
    assert np.allclose(distance_matrix(a), [[0, 5], [5, 0]])


def test_haversine_known_arcs() -> None:
    quarter = math.pi / 2 * EARTH_RADIUS_KM
    points = [[0, 0], [90, 0], [0, 90], [0, 180], [-90, 45]]
    d = distance_matrix(points, metric="haversine")
    assert d[0, 1] == pytest.approx(quarter)  # equator to pole
    assert d[0, 2] == pytest.approx(quarter)  # a quarter of the equator
    assert d[0, 3] == pytest.approx(2 * quarter)  # antipodes
    assert d[1, 4] == pytest.approx(2 * quarter)  # pole to pole, whatever the longitude
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0)


def test_haversine_one_degree_of_latitude_and_a_city_pair() -> None:
    d = distance_matrix([[45.0, 7.0]], [[46.0, 7.0]], metric="haversine")
    assert d[0, 0] == pytest.approx(EARTH_RADIUS_KM * math.pi / 180)  # 111.195 km
    # Paris (48.8566 N, 2.3522 E) to London (51.5074 N, 0.1278 W): about 343.5 km.
    paris_london = distance_matrix([[48.8566, 2.3522]], [[51.5074, -0.1278]], metric="haversine")
    assert paris_london[0, 0] == pytest.approx(343.5, abs=0.5)


def test_haversine_agrees_with_the_law_of_cosines_on_random_points() -> None:
    rng = np.random.default_rng(3)
    a = np.column_stack([rng.uniform(-80, 80, 3000), rng.uniform(-180, 180, 3000)])
    b = a[:400]
    whole = distance_matrix(a, b, metric="haversine")
    lat1, lon1 = np.radians(a[:, :1]), np.radians(a[:, 1:])
    lat2, lon2 = np.radians(b[:, 0]), np.radians(b[:, 1])
    # Spherical law of cosines, an independent formula, accurate at these distances.
    cosine = np.sin(lat1) * np.sin(lat2) + np.cos(lat1) * np.cos(lat2) * np.cos(lon1 - lon2)
    reference = EARTH_RADIUS_KM * np.arccos(np.clip(cosine, -1, 1))
    assert np.allclose(whole, reference, atol=1e-3)


def test_haversine_stays_accurate_at_a_metre() -> None:
    # 1 m north along a meridian: 1e-3 km, where cosine formulas lose all precision.
    step = 1e-3 / EARTH_RADIUS_KM * 180 / math.pi
    d = distance_matrix([[52.0, 13.0]], [[52.0 + step, 13.0]], metric="haversine")
    assert d[0, 0] == pytest.approx(1e-3, rel=1e-6)


def test_dataframes_give_the_right_columns() -> None:
    frame = pd.DataFrame({"lat": [0.0, 0.0], "lon": [0.0, 1.0], "x": [0.0, 3.0], "y": [0.0, 4.0]})
    assert distance_matrix(frame)[0, 1] == pytest.approx(5.0)
    assert distance_matrix(frame, metric="haversine")[0, 1] == pytest.approx(111.195, abs=1e-3)
    with pytest.raises(InvalidProblemError, match="metric='haversine'"):
        distance_matrix(frame[["lat", "lon"]])


@pytest.mark.parametrize(
    ("a", "kwargs", "error", "match"),
    [
        ([[0, 0]], {"metric": "manhattan"}, InvalidParameterError, "metric"),
        ([[0, 0, 0]], {}, InvalidProblemError, r"shape \(n, 2\)"),
        ([[0, np.nan]], {}, InvalidProblemError, "rows \\[0\\]"),
        ([["a", "b"]], {}, InvalidProblemError, "numbers"),
        (
            [[500000.0, 4000000.0]],
            {"metric": "haversine"},
            InvalidProblemError,
            "latitude comes first",
        ),
    ],
)
def test_bad_points_are_refused(a: object, kwargs: dict[str, str], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        distance_matrix(a, **kwargs)  # type: ignore[arg-type]
