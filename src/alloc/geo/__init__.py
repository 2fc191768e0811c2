"""Geography of territories: which units touch, where they are, how far apart.

- `adjacency`: the neighbour table (queen or rook) of a map's polygons, islands reported;
- `units`: the customers table of a map's units (ids, x/y or lat/lon, measures);
- `distance_matrix`: Euclidean distances on x/y, great-circle (haversine, km) on lat/lon;
- `read_shapes`: the shapes and ids every function here reads, checked once.

Only shapely is needed (geopandas GeoSeries and GeoDataFrames are accepted, never
required); shapely is imported when a function first needs it.
"""

from alloc.geo.distances import EARTH_RADIUS_KM, distance_matrix
from alloc.geo.neighbors import adjacency
from alloc.geo.shapes import Shapes, read_shapes
from alloc.geo.unit_tables import units

__all__ = [
    "EARTH_RADIUS_KM",
    "Shapes",
    "adjacency",
    "distance_matrix",
    "read_shapes",
    "units",
]
