"""Draw territories on a map with matplotlib alone: units filled by rep, territory borders,
centres and rep labels.

No geopandas, tiles or network: each unit's polygon becomes one matplotlib path (holes and
parts included) in a single ``PatchCollection``; the territories' borders come from the
union of their units. The public entry point is ``alloc.plot.territories``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.geo.shapes import Shapes

__all__ = ["UNASSIGNED_COLOUR", "draw_territories", "rep_colours"]

#: Fill of units no rep holds.
UNASSIGNED_COLOUR = "#d9d9d9"


def rep_colours(reps: Sequence[Any], palette: Any = None) -> dict[Any, Any]:
    """A distinct qualitative colour per rep (matplotlib's tab10, tab20, then tab20b/c).

    Parameters
    ----------
    reps : sequence
        Rep ids, in drawing order.
    palette : sequence of colours or mapping rep -> colour, optional
        Colours to use instead, cycled when there are more reps than colours.

    Returns
    -------
    dict
        rep -> RGBA tuple.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    if isinstance(palette, Mapping):
        missing = [r for r in reps if r not in palette]
        if missing:
            raise InvalidParameterError(
                f"palette has no colour for the reps {format_ids(missing)}; give one per rep."
            )
        return {r: to_rgba(palette[r]) for r in reps}
    if palette is None:
        names = ("tab10",) if len(reps) <= 10 else ("tab20", "tab20b", "tab20c")
        palette = [c for name in names for c in colormaps[name].colors]  # type: ignore[attr-defined]
    colours = [to_rgba(c) for c in palette]
    if not colours:
        raise InvalidParameterError("palette is empty; give at least one colour.")
    return {r: colours[i % len(colours)] for i, r in enumerate(reps)}


def draw_territories(
    shapes: Shapes,
    assignment: pd.Series,
    centers: Mapping[Any, Any] | pd.Series | None = None,
    ax: Any = None,
    *,
    labels: bool = True,
    palette: Any = None,
    border_width: float = 1.6,
    title: str | None = None,
) -> Any:
    """Draw units coloured by rep, territory borders, centres and labels; return the Axes.

    See ``alloc.plot.territories`` for the parameters. Artists carry gids for tests and
    styling: ``"territory-units"`` (the fills, one path per unit in ``shapes`` order),
    ``"territory-borders"``, ``"territory-centers"``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PatchCollection

    rep_of = _rep_per_unit(shapes, assignment)
    reps = _reps_in_order(rep_of)
    colours = rep_colours(reps, palette)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    fills = [colours[r] if not pd.isna(r) else UNASSIGNED_COLOUR for r in rep_of]
    units = PatchCollection(
        [_patch(g) for g in shapes.geometries],
        facecolors=fills,
        edgecolors="white",
        linewidths=0.4,
        gid="territory-units",
    )
    ax.add_collection(units)
    dissolved = _dissolve(shapes, rep_of, reps)
    ax.add_collection(
        LineCollection(
            _border_segments(list(dissolved.values())),
            colors="black",
            linewidths=border_width,
            gid="territory-borders",
        )
    )
    if centers is not None:
        _draw_centres(ax, shapes, centers)
    if labels:
        _draw_labels(ax, dissolved)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def _rep_per_unit(shapes: Shapes, assignment: pd.Series) -> np.ndarray:
    if not isinstance(assignment, pd.Series):
        raise InvalidParameterError(
            f"assignment must be a pandas Series customer_id -> rep_id (or a Result); got "
            f"{type(assignment).__name__}."
        )
    unknown = assignment.index.difference(shapes.ids)
    if len(unknown):
        raise InvalidProblemError(
            f"assignment names units that have no shape: {format_ids(unknown)}; give a shape "
            f"for every assigned unit (the ids of the geometry are {format_ids(shapes.ids, 3)})."
        )
    return assignment.reindex(shapes.ids).to_numpy(dtype=object)


def _reps_in_order(rep_of: np.ndarray) -> list[Any]:
    reps = pd.unique(pd.Series(rep_of).dropna()).tolist()
    try:
        return sorted(reps)
    except TypeError:  # ids of mixed types: first appearance
        return reps


def _patch(geometry: Any) -> Any:
    """One matplotlib patch for a polygon or multipolygon, holes included."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    rings = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        rings.append(np.asarray(polygon.exterior.coords)[:, :2])
        rings.extend(np.asarray(hole.coords)[:, :2] for hole in polygon.interiors)
    vertices = np.concatenate(rings)
    codes = np.full(len(vertices), Path.LINETO, dtype=np.uint8)
    starts = np.cumsum([0] + [len(r) for r in rings[:-1]])
    codes[starts] = Path.MOVETO
    codes[starts + np.array([len(r) for r in rings]) - 1] = Path.CLOSEPOLY
    return PathPatch(Path(vertices, codes))


def _dissolve(shapes: Shapes, rep_of: np.ndarray, reps: list[Any]) -> dict[Any, Any]:
    import shapely

    held = ~pd.isna(rep_of)
    return {
        r: shapely.union_all(shapes.geometries[held & (rep_of == r)])
        for r in reps  # union per territory: its outline is the border drawn
    }


def _border_segments(territories: list[Any]) -> list[np.ndarray]:
    import shapely

    lines = []
    for border in shapely.boundary(np.asarray(territories, dtype=object)):
        for part in getattr(border, "geoms", [border]):
            lines.append(np.asarray(part.coords)[:, :2])
    return lines


def _inside_point(geometry: Any) -> tuple[float, float]:
    """The centroid if it lies inside the shape, else a point surely inside."""
    import shapely

    point = shapely.centroid(geometry)
    if not shapely.contains(geometry, point):
        point = shapely.point_on_surface(geometry)
    return float(point.x), float(point.y)


def _draw_centres(ax: Any, shapes: Shapes, centers: Mapping[Any, Any] | pd.Series) -> None:
    chosen = pd.Series(centers, dtype=object)
    where = shapes.ids.get_indexer(pd.Index(chosen.to_numpy()))
    if (where < 0).any():
        raise InvalidProblemError(
            f"centers names units that have no shape: {format_ids(chosen[where < 0].tolist())}; "
            f"centers maps rep_id -> customer_id of a unit on the map."
        )
    points = np.array([_inside_point(shapes.geometries[i]) for i in where]).reshape(-1, 2)
    ax.scatter(
        points[:, 0],
        points[:, 1],
        marker="*",
        s=140,
        c="white",
        edgecolors="black",
        linewidths=0.9,
        zorder=4,
        gid="territory-centers",
    )


def _draw_labels(ax: Any, dissolved: dict[Any, Any]) -> None:
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for rep, territory in dissolved.items():
        x, y = _inside_point(territory)
        ax.text(x, y, str(rep), ha="center", va="center", fontsize=8, zorder=5, path_effects=halo)
