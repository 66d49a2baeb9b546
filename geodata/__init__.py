"""Geography with no knowledge of stations; import the module you need.

``crs`` (WGS-84, GCJ-02, BD-09 and checks of CRS names), ``distance`` (geodesic metres),
``projection`` (metric projections), ``spatial_index`` (the nearest-neighbour index),
``areas`` (service areas and boundaries), ``hexgrid`` (H3 grids), ``demand`` (demand layers),
``coverage``, ``reach`` and ``planning`` (coverage and site-selection math), ``network``
(street reach from OpenStreetMap), ``errors`` (``GeodataError``).

Nothing is re-exported here, so importing one module loads only what it needs.
"""

__all__: list[str] = []
