"""Station files in and out: reading, importing, exporting, geocoding.

One module per step, so each can be read alone: :mod:`~stations.io.headers` (which field a
column names), :mod:`~stations.io.read` / :mod:`~stations.io.read_geo` (files → a
:class:`~stations.io.sheet.Sheet`), :mod:`~stations.io.cells` (cells parsed once),
:mod:`~stations.io.match`, :mod:`~stations.io.duplicates`, :mod:`~stations.io.plan`,
:mod:`~stations.io.importing` (the all-or-nothing write), :mod:`~stations.io.rejects`,
:mod:`~stations.io.write` and :mod:`~stations.io.exporting`, :mod:`~stations.io.geocoding`.
Submodules are imported where used: geocoding pulls in geopy, the GIS readers geopandas.
"""

__all__ = [
    "cells",
    "duplicates",
    "exporting",
    "geocoding",
    "headers",
    "importing",
    "match",
    "plan",
    "read",
    "read_geo",
    "rejects",
    "report",
    "sheet",
    "write",
]
