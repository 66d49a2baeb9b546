"""The rider's device, known only as a salted hash.

The page keeps a random id in ``localStorage`` and sends it as ``X-Device-Id``; the store
keeps ``HMAC-SHA256(salt, id)``, cut to 128 bits — enough to tell devices apart for the
one-vote-per-hour and three-different-riders rules, and nothing that leads back to a phone.
The salt is a random secret made by migration 0003 and kept in the database, so every
replica hashes alike without configuration, and a copy of the confirmations table alone
cannot be matched against guessed ids.

Why a keyed hash and not a slow KDF: the id is a random string the page made (not a phone
number or anything a rider chose), so there is nothing to guess from a hash without the
salt, and with it a slow function would not help de-duplication, only cost every tap. The
salt's HMAC state is computed once per salt and copied per tap (the same digest as
``hmac.new(salt, id, sha256)``: stored hashes stay valid).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from stations.errors import FieldError, ValidationFailed

__all__ = ["DEVICE_HEADER", "device_hash", "check_device_id"]

DEVICE_HEADER = "X-Device-Id"
_DEVICE_ID = re.compile(r"[A-Za-z0-9_\-]{8,128}")


def check_device_id(value: str | None) -> str:
    """The device id as sent, or ``ValidationFailed`` saying what a valid one looks like."""
    if value is None or not value.strip():
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    DEVICE_HEADER,
                    "is required: a random id the page keeps (8–128 of A-Z a-z 0-9 _ -)",
                )
            ]
        )
    text = value.strip()
    if not _DEVICE_ID.fullmatch(text):
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    DEVICE_HEADER, "must be 8–128 characters of A-Z a-z 0-9 _ -", text[:20]
                )
            ]
        )
    return text


#: salt → HMAC keyed with it, nothing fed yet (one salt per database: a handful at most).
_KEYED: dict[bytes, hmac.HMAC] = {}


def device_hash(salt: bytes, device_id: str) -> str:
    """32 hex digits: the HMAC-SHA256 of ``device_id`` under ``salt``."""
    keyed = _KEYED.get(salt)
    if keyed is None:
        if len(_KEYED) >= 16:
            _KEYED.clear()
        keyed = _KEYED[salt] = hmac.new(salt, digestmod=hashlib.sha256)
    mac = keyed.copy()
    mac.update(device_id.encode("ascii"))
    return mac.hexdigest()[:32]
