"""Webhook consumers: who gets the change feed pushed, and how far each has been delivered.

The outbox is the change log itself: every change's history row is written in the same
transaction as the change and numbered in commit order (``station_history.seq``), so nothing
the store committed can be missing from it, whatever dies when. A consumer keeps only its
delivery position, its failure state and a lease, so one delivery worker at a time (across
processes and hosts) sends to it, in order. The consumers are kept by
:class:`stations.store.webhooks.SqlWebhookStore`; signing and delivery are in
:mod:`stations.feed.delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from stations.errors import FieldError, ValidationFailed

__all__ = ["Consumer", "check_url"]


@dataclass(frozen=True)
class Consumer:
    """A registered receiver and its delivery state (``secret`` only where it is needed)."""

    id: int
    url: str
    created_at: datetime
    created_by: str
    disabled: bool
    delivered_seq: int
    delivered_count: int
    failures: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_status: int | None
    last_error: str | None
    secret: str = ""

    def public(self) -> dict[str, Any]:
        """What the admin API and console show (never the secret)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "url": self.url,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "disabled": self.disabled,
            "delivered_count": self.delivered_count,
            "failures": self.failures,
            "next_attempt_at": iso(self.next_attempt_at),
            "last_attempt_at": iso(self.last_attempt_at),
            "last_success_at": iso(self.last_success_at),
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


def check_url(url: str) -> str:
    """An http(s) URL with a host; refused with a bilingual reason otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "url",
                    "must be an http:// or https:// URL with a host (at most 2000 characters)",
                    url[:80],
                )
            ]
        )
    return url.strip()
