"""OGC API – Tiles for the stations: the tile set list, the tile set, the tiles, and the
WebMercatorQuad tile matrix set, so QGIS and other clients can add the vector tiles."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse, Response

from api.deps import SettingsDep, TilesDep, base_url
from api.rest.tiles import MVT, tile_response
from stations.errors import NotFound
from stations.tiles import LAYER, MAX_ZOOM

router = APIRouter(prefix="/ogc", tags=["ogc"])

TMS = "WebMercatorQuad"
_TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
_HALF = 20037508.3427892
_JSON = "application/json"


def _root(request: Request, settings: Any) -> str:
    return base_url(request, settings) + "/ogc"


def _matrix(z: int) -> dict[str, Any]:
    cell = 2 * _HALF / 256 / 2**z
    return {
        "id": str(z),
        "scaleDenominator": cell / 0.00028,
        "cellSize": cell,
        "cornerOfOrigin": "topLeft",
        "pointOfOrigin": [-_HALF, _HALF],
        "tileWidth": 256,
        "tileHeight": 256,
        "matrixWidth": 2**z,
        "matrixHeight": 2**z,
    }


@router.get("/tileMatrixSets", summary="Tile matrix sets")
def tile_matrix_sets(request: Request, settings: SettingsDep) -> Any:
    root = _root(request, settings)
    return {
        "tileMatrixSets": [
            {
                "id": TMS,
                "title": "Google Maps Compatible for the World",
                "uri": _TMS_URI,
                "links": [{"href": f"{root}/tileMatrixSets/{TMS}", "rel": "self", "type": _JSON}],
            }
        ]
    }


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="One tile matrix set")
def tile_matrix_set(tileMatrixSetId: str) -> Any:  # noqa: N803 - the OGC parameter name
    if tileMatrixSetId != TMS:
        raise NotFound(f"no tile matrix set {tileMatrixSetId!r}; only {TMS}")
    return {
        "id": TMS,
        "title": "Google Maps Compatible for the World",
        "uri": _TMS_URI,
        "crs": _CRS,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [_matrix(z) for z in range(MAX_ZOOM + 1)],
    }


def _tileset(root: str) -> dict[str, Any]:
    template = f"{root}/collections/stations/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    lat = math.degrees(math.atan(math.sinh(math.pi)))
    return {
        "title": "Stations 驿站 (vector tiles)",
        "dataType": "vector",
        "crs": _CRS,
        "tileMatrixSetURI": _TMS_URI,
        "boundingBox": {
            "lowerLeft": [-180, -lat],
            "upperRight": [180, lat],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        },
        "layers": [
            {
                "id": LAYER,
                "dataType": "vector",
                "geometryDimension": 0,
                "minTileMatrix": "0",
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer", "description": "stations in a cluster"},
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "status": {"type": "string"},
                    },
                },
            }
        ],
        "links": [
            {"href": f"{root}/collections/stations/tiles/{TMS}", "rel": "self", "type": _JSON},
            {
                "href": f"{root}/tileMatrixSets/{TMS}",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "type": _JSON,
            },
            {"href": template, "rel": "item", "type": MVT, "templated": True},
        ],
    }


@router.get("/collections/stations/tiles", summary="Vector tile sets of the stations")
def tilesets(request: Request, settings: SettingsDep) -> Any:
    root = _root(request, settings)
    tileset = _tileset(root)
    return {
        "tilesets": [
            {
                "title": tileset["title"],
                "dataType": "vector",
                "crs": _CRS,
                "tileMatrixSetURI": _TMS_URI,
                "links": [
                    {
                        "href": f"{root}/collections/stations/tiles/{TMS}",
                        "rel": "self",
                        "type": _JSON,
                    },
                    tileset["links"][1],
                ],
            }
        ],
        "links": [{"href": f"{root}/collections/stations/tiles", "rel": "self", "type": _JSON}],
    }


@router.get("/collections/stations/tiles/{tileMatrixSetId}", summary="The stations' tile set")
def tileset(request: Request, settings: SettingsDep, tileMatrixSetId: str) -> Any:  # noqa: N803
    if tileMatrixSetId != TMS:
        raise NotFound(f"no tile matrix set {tileMatrixSetId!r}; only {TMS}")
    return JSONResponse(_tileset(_root(request, settings)))


@router.get(
    "/collections/stations/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="One vector tile of the stations (WGS-84 positions in Web Mercator)",
    responses={200: {"content": {MVT: {}}}, 204: {"description": "No station in this tile"}},
)
def tile(
    tiles: TilesDep,
    tileMatrixSetId: str,  # noqa: N803
    tileMatrix: Annotated[int, Path(ge=0, le=MAX_ZOOM)],  # noqa: N803
    tileRow: Annotated[int, Path(ge=0)],  # noqa: N803
    tileCol: Annotated[int, Path(ge=0)],  # noqa: N803
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    if tileMatrixSetId != TMS:
        raise NotFound(f"no tile matrix set {tileMatrixSetId!r}; only {TMS}")
    return tile_response(tiles, tileMatrix, tileCol, tileRow, "wgs84", if_none_match)
