"""Stations as Mapbox Vector Tiles, clustered at low zooms, for maps of the whole network."""

from stations.tiles.cache import Tile, TileCache
from stations.tiles.mvt import (
    CLUSTER_BELOW_ZOOM,
    EXTENT,
    LAYER,
    MAX_ZOOM,
    TileIndex,
    tile_bounds,
)

__all__ = [
    "CLUSTER_BELOW_ZOOM",
    "EXTENT",
    "LAYER",
    "MAX_ZOOM",
    "Tile",
    "TileCache",
    "TileIndex",
    "tile_bounds",
]
