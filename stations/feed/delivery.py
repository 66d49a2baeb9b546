"""Pushing the change feed to webhook consumers: signed, in order, retried with back-off.

Each POST carries a batch of feed entries (the same JSON as ``GET /api/v1/changes``) and:

``Webhook-Id``
    the cursor of the batch's last entry. Delivery is at least once: a process killed after
    the receiver answered but before the answer was recorded sends those entries again
    (perhaps with newer ones after them), so a receiver keeps the last entry ``cursor`` it
    applied and drops entries at or before it — every change then counts once, in order.
``Webhook-Timestamp``
    Unix seconds when it was signed; receivers should refuse ones older than a few minutes.
``Webhook-Signature``
    ``v1=`` + hex HMAC-SHA256 over ``"{timestamp}.{body}"`` with the consumer's secret.

A consumer gets its next batch only after a 2xx for the previous one, so order is kept per
consumer; a failure waits ``min(cap, 2**failures)`` seconds (with jitter) and tries the same
batch again.

The loop asks the database only while there is something to send: once every consumer has
the whole feed it sleeps until the feed moves (the catalog's change counter, read in
memory) or a long idle interval passes; see :meth:`WebhookDeliverer.run`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from stations.feed.changes import entry
from stations.feed.webhooks import Consumer
from stations.store.base import StationStore
from stations.store.webhooks import SqlWebhookStore

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookDeliverer",
    "sign",
    "verify",
]

log = logging.getLogger("stations.webhooks")

ID_HEADER = "Webhook-Id"
TIMESTAMP_HEADER = "Webhook-Timestamp"
SIGNATURE_HEADER = "Webhook-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Webhook-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, headers: Any, body: bytes, *, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        timestamp = int(headers[TIMESTAMP_HEADER])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), headers.get(SIGNATURE_HEADER, ""))


class WebhookDeliverer(threading.Thread):
    """The delivery loop of one process; runs beside the app (see ``api.app``)."""

    def __init__(
        self,
        store: StationStore,
        hooks: SqlWebhookStore,
        *,
        poll_s: float = 0.5,
        idle_s: float = 10.0,
        feed_hint: Callable[[], int] | None = None,
        lease_s: float = 30.0,
        timeout_s: float = 10.0,
        backoff_cap_s: float = 600.0,
        batch: int = 100,
    ) -> None:
        super().__init__(name="webhook-delivery", daemon=True)
        self.store = store
        self.hooks = hooks
        self.poll_s = poll_s
        self.idle_s = max(idle_s, poll_s)
        self.feed_hint = feed_hint
        self.lease = timedelta(seconds=lease_s)
        self.timeout_s = min(timeout_s, lease_s / 3)
        self.backoff_cap_s = backoff_cap_s
        self.batch = batch
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopped = threading.Event()
        self._client = httpx.Client(timeout=self.timeout_s, follow_redirects=False)

    def run(self) -> None:
        """Deliver until stopped.

        While a consumer is behind the feed (sending, or backing off after a failure) a pass
        runs every ``poll_s``. Once every enabled consumer has the whole feed, a pass every
        ``poll_s`` would cost two queries for nothing (a few per cent of a worker's
        throughput, beside the other pollers): the loop then sleeps until ``feed_hint`` — the
        feed's head as this process knows it, read in memory; the app hands it the catalog's
        change counter, which moves on this process's writes at once and on other processes'
        through the catalog refresher — differs from the head it settled at, or ``idle_s``
        passes (a consumer added, re-enabled or rewound elsewhere does not move the feed).
        Without a hint every pass goes to the database, as before.
        """
        settled: int | None = None  # the feed head every consumer had at the last pass
        next_pass = 0.0
        while not self.stopped.is_set():
            hint = self.feed_hint() if self.feed_hint is not None else None
            if settled is None or hint != settled or time.monotonic() >= next_pass:
                try:
                    settled = self._round()
                except Exception:  # the database may be away for a moment; try again later
                    log.exception("webhook delivery round failed")
                    settled = None
                next_pass = time.monotonic() + self.idle_s
            self.stopped.wait(self.poll_s)
        self._client.close()

    def _round(self) -> int | None:
        """One pass; the feed head when every enabled consumer then has all of it (None:
        something is still to send, or there is no hint to sleep on).
        """
        head = self.store.feed_head()
        self.run_once(head)
        if self.feed_hint is None:
            return None
        behind = [c for c in self.hooks.list() if not c.disabled and c.delivered_seq < head]
        return None if behind else head

    def run_once(self, head: int | None = None) -> int:
        """Deliver what is due to every consumer (up to the feed's ``head``, read here when
        not given); returns the number of batches sent.
        """
        if head is None:
            head = self.store.feed_head()
        sent = 0
        for consumer in self.hooks.due(datetime.now(UTC)):
            if consumer.delivered_seq >= head or self.stopped.is_set():
                continue
            claimed = self.hooks.claim(consumer.id, self.owner, self.lease)
            if claimed is None:
                continue
            try:
                sent += self._drain(claimed)
            finally:
                self.hooks.release(consumer.id, self.owner)
        return sent

    def _drain(self, consumer: Consumer) -> int:
        position, sent = consumer.delivered_seq, 0
        deadline = time.monotonic() + self.lease.total_seconds() / 2
        while not self.stopped.is_set() and time.monotonic() < deadline:
            rows = self.store.feed(position, self.batch)
            if not rows:
                return sent
            entries = [entry(h) for h in rows]
            last = rows[-1].seq
            assert last is not None
            body = json.dumps(
                {
                    "consumer": consumer.id,
                    "changes": entries,
                    "next_cursor": entries[-1]["cursor"],
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
            status, error = self._post(consumer, entries[-1]["cursor"], body)
            if status is not None and 200 <= status < 300:
                if not self.hooks.delivered(consumer.id, self.owner, last, len(rows), status):
                    return sent  # the lease was lost (we were too slow): the new owner goes on
                position, sent = last, sent + 1
                if self.hooks.claim(consumer.id, self.owner, self.lease) is None:
                    return sent
                continue
            wait = min(self.backoff_cap_s, 2.0 ** min(consumer.failures, 20))
            wait *= 0.5 + random.random() / 2
            retry_at = datetime.now(UTC) + timedelta(seconds=wait)
            self.hooks.failed(consumer.id, self.owner, status, error, retry_at)
            log.warning("webhook %s to %s failed: %s", consumer.id, consumer.url, error)
            return sent
        return sent

    def _post(self, consumer: Consumer, delivery_id: str, body: bytes) -> tuple[int | None, str]:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "warm-stations-webhooks/1",
            ID_HEADER: delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(consumer.secret, timestamp, body),
        }
        try:
            response = self._client.post(consumer.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"
