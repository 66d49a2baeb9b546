"""What a check-in may carry, checked before anything is written.

A check-in is anonymous: a station code, an optional self-chosen worker type and the
device id the page keeps in the phone's local storage. The device id is needed only to
count one visit per device per station per window; it is hashed with a secret key of the
deployment (and the station) before it reaches the database, so the stored value cannot be
turned back into the id nor matched across stations.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from stations.errors import FieldError, ValidationFailed
from stations.visits.codes import normalise_code
from stations.visits.vocabulary import UNSPECIFIED, WORKER_TYPES

__all__ = ["device_hash", "validate_checkin"]

_DEVICE = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def validate_checkin(code: Any, worker_type: Any, device_id: Any) -> tuple[str, str, str]:
    """``(code, worker_type, device_id)`` normalised, or ``ValidationFailed`` naming each
    bad field; a missing worker type is counted as ``unspecified``.
    """
    errors: list[FieldError] = []
    clean_code = normalise_code(code) if isinstance(code, str) else None
    if clean_code is None:
        shown = str(code)[:40] if code is not None else None
        errors.append(
            FieldError.from_catalog("code", "is not a station code (8 letters and digits)", shown)
        )
    if worker_type in (None, ""):
        worker_type = UNSPECIFIED
    elif worker_type not in WORKER_TYPES:
        errors.append(
            FieldError.from_catalog(
                "worker_type",
                "must be a worker type: {valid}",
                str(worker_type)[:40],
                valid=", ".join(WORKER_TYPES),
            )
        )
    if not isinstance(device_id, str) or not _DEVICE.fullmatch(device_id):
        errors.append(
            FieldError.from_catalog(
                "X-Device-Id", "header missing or not 8-128 letters, digits or . _ : -"
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return str(clean_code), str(worker_type), str(device_id)


def device_hash(secret: bytes, station_id: int, device_id: str) -> str:
    """The keyed hash stored for de-duplication: 128 bits of HMAC-SHA256."""
    message = f"{station_id}:{device_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
