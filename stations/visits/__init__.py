"""Visits served (服务人次): public station codes, anonymous check-ins, hand tallies,
posters and the monthly report.

The repository lives in ``stations.store.visits`` (and its statistics in
``stations.store.visit_stats``); this package holds the rules and the documents.
"""

from stations.visits.checkin import device_hash, validate_checkin
from stations.visits.codes import CODE_ALPHABET, CODE_LENGTH, new_code, normalise_code
from stations.visits.vocabulary import UNSPECIFIED, WORKER_COLUMNS, WORKER_TYPES

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "UNSPECIFIED",
    "WORKER_COLUMNS",
    "WORKER_TYPES",
    "device_hash",
    "new_code",
    "normalise_code",
    "validate_checkin",
]
