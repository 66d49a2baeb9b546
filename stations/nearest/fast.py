"""The nearest answer, fast: the catalog's compiled search and the cached, spliced bytes.

The route answers with :func:`nearest_json`. Its pieces, all in this package: the answer
rows built in the index's compiled call (:mod:`stations.nearest.rows`), each station's
feature JSON cached and the page spliced in one C call (:mod:`stations.nearest.fragments`).
:mod:`stations.nearest.reference` is the plain version it must equal, byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stations.nearest.fragments import feature_collection_json

if TYPE_CHECKING:
    from stations.search import NearestQuery, StationCatalog
    from stations.trust.board import TrustBoard

__all__ = ["nearest_json"]


def nearest_json(
    catalog: StationCatalog,
    query: NearestQuery,
    crs: str = "wgs84",
    *,
    navigation: bool = True,
    trust: TrustBoard | None = None,
) -> bytes:
    """The bytes of /api/v1/nearest for ``query`` (WGS-84) answered in ``crs``, with
    ``trust``'s rider evidence when given.
    """
    hits = catalog.nearest(query)
    return feature_collection_json(
        hits,
        crs,
        navigation=navigation,
        trust=trust,
        app_coords=catalog.app_coords,
        written=catalog.feature_parts,
        numberReturned=len(hits),
    )
