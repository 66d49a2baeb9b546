"""The nearest answer path, fenced: the fast version and the plain one it must equal.

* :func:`nearest_json` — what /api/v1/nearest sends: the catalog's rows built in the geodesic
  index's compiled search (:func:`nearest_rows`, ``_rows.pyx``), each station's feature JSON
  cached and the page spliced in one C call (:func:`feature_collection_json`,
  ``_splice.pyx``).
* :func:`reference_json` — the same answer in ordinary Python (a geodesic scan, the single
  formatter, ``json``); a property test holds the two to the same bytes.

Speed work on the nearest answer belongs here, beside its reference.
"""

from stations.nearest.fast import nearest_json
from stations.nearest.fragments import feature_collection_json
from stations.nearest.reference import reference_json, reference_rows
from stations.nearest.rows import nearest_rows

__all__ = [
    "feature_collection_json",
    "nearest_json",
    "nearest_rows",
    "reference_json",
    "reference_rows",
]
