"""Opening hours: read as staff write them (Chinese or OSM), stored as OSM, shown in Chinese.

:mod:`~stations.hours.chinese` reads Chinese forms, :mod:`~stations.hours.osm` the common OSM
ones, both into :mod:`~stations.hours.rules`' small tree; :mod:`~stations.hours.normalise`
decides what is stored, and :mod:`~stations.hours.evaluate` answers "open now" in the
station's local time.
"""

from stations.hours.chinese import EXAMPLES, HoursSyntaxError
from stations.hours.evaluate import DEFAULT_TZ, check_hours, is_open, local_naive
from stations.hours.normalise import Hours, hours_zh, normalise_hours, resolve_hours, same_hours

__all__ = [
    "DEFAULT_TZ",
    "EXAMPLES",
    "Hours",
    "HoursSyntaxError",
    "check_hours",
    "hours_zh",
    "is_open",
    "local_naive",
    "normalise_hours",
    "resolve_hours",
    "same_hours",
]
