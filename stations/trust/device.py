"""The rider's device, known only as a salted hash.

The page keeps a random id in ``localStorage`` and sends it as ``X-Device-Id``; the store
keeps ``HMAC-SHA256(salt, id)``, cut to 128 bits — enough to tell devices apart for the
one-vote-per-hour and three-different-riders rules, and nothing that leads back to a phone.
The salt is a random secret made by migration 0003 and kept in the database, so every
replica hashes alike without configuration, and a copy of the confirmations table alone
cannot be matched against guessed ids.
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


def device_hash(salt: bytes, device_id: str) -> str:
    """32 hex digits: the HMAC of ``device_id`` under ``salt``."""
    return hmac.new(salt, device_id.encode("ascii"), hashlib.sha256).hexdigest()[:32]
