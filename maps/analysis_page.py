"""The coverage and gap map pages, assembled once for the web page and ``stations map``.

Which stations count is the analysis's own rule (:func:`stations.analysis.service.
select_stations`: status ``open``, and open at ``at`` when a time is given), so the maps, the
JSON API and the command line count the same stations, in the same reader's scope (their
organisation and below: the ``scope`` handed to ``select_stations``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from branca.element import Figure

from maps.basemaps import Basemap
from maps.station_map import catalog_hits
from stations.model import Station
from stations.orgs.scope import EVERYWHERE, ReadScope
from stations.search import StationCatalog

__all__ = ["draw_analysis_page"]


def draw_analysis_page(
    kind: str,
    catalog: StationCatalog,
    basemap: Basemap,
    *,
    radius_m: float,
    resolution: int,
    new_sites: int,
    network: str | Path | None = None,
    rule: str = "radius",
    at: datetime | None = None,
    tz: str = "Asia/Shanghai",
    tianditu_key: str | None = None,
    inline: bool = False,
    scope: ReadScope = EVERYWHERE,
) -> tuple[Figure, list[Station]]:
    """The ``kind`` (``coverage`` or ``gaps``) map of the catalog and the stations it counts
    (those of ``scope``: a staff reader's organisation and below).

    Stations are taken in the catalog's listing order, so a page drawn twice from one
    snapshot is the same page.
    """
    from geodata.areas import load_area
    from maps.analysis_data import analysis_data
    from maps.analysis_maps import analysis_map
    from stations.analysis.service import select_stations

    listed = [h.station for h in catalog_hits(catalog)]
    counted = list(select_stations(listed, at=at, tz=tz, scope=scope).counted)
    data = analysis_data(
        counted,
        load_area(),
        radius_m=radius_m,
        resolution=resolution,
        new_sites=new_sites,
        network=network,
        rule=rule,
    )
    page = analysis_map(kind, data, basemap, tianditu_key=tianditu_key, inline=inline)
    return page, counted
