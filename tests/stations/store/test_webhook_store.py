"""The webhook consumers' table on both engines: registry, positions, failures, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stations.errors import NotFound
from stations.store.sql import SqlStationStore
from stations.store.webhooks import SqlWebhookStore
from tests.conftest import make_station


def test_a_consumer_starts_at_the_head_or_from_the_start(store: SqlStationStore) -> None:
    store.create(make_station(), actor="t")
    hooks = SqlWebhookStore.beside(store)
    later, secret = hooks.add("https://a.example/hook", actor="admin")
    first, _ = hooks.add("https://b.example/hook", actor="admin", from_start=True)
    assert secret.startswith("whsec_") and later.secret == secret
    assert (later.delivered_seq, first.delivered_seq) == (store.feed_head(), 0)
    assert "secret" not in later.public() and later.public()["created_by"] == "admin"
    assert [c.id for c in hooks.list()] == [later.id, first.id]
    with pytest.raises(NotFound):
        hooks.get(later.id + 100)


def test_one_lease_holder_moves_the_position(store: SqlStationStore) -> None:
    hooks = SqlWebhookStore.beside(store)
    consumer, _ = hooks.add("https://a.example/hook", actor="t", from_start=True)
    lease = timedelta(seconds=30)
    assert hooks.claim(consumer.id, "a", lease) is not None
    assert hooks.claim(consumer.id, "b", lease) is None  # held by a
    assert not hooks.delivered(consumer.id, "b", 5, 5, 204)  # not b's to record
    assert hooks.delivered(consumer.id, "a", 5, 5, 204)
    state = hooks.get(consumer.id)
    assert (state.delivered_seq, state.delivered_count, state.last_status) == (5, 5, 204)
    retry = datetime.now(UTC) + timedelta(minutes=1)
    assert hooks.failed(consumer.id, "a", 500, "HTTP 500", retry)  # gives up the lease
    state = hooks.get(consumer.id)
    assert (state.failures, state.delivered_seq, state.last_error) == (1, 5, "HTTP 500")
    assert hooks.due(datetime.now(UTC)) == []  # backing off
    assert [c.id for c in hooks.due(retry + timedelta(seconds=1))] == [consumer.id]
    assert hooks.claim(consumer.id, "b", lease) is not None  # the lease was released


def test_a_disabled_consumer_is_kept_and_never_due(store: SqlStationStore) -> None:
    hooks = SqlWebhookStore.beside(store)
    consumer, _ = hooks.add("https://a.example/hook", actor="t")
    assert hooks.disable(consumer.id).disabled
    assert hooks.disable(consumer.id).disabled  # twice is fine
    assert hooks.due(datetime.now(UTC) + timedelta(days=1)) == []
    assert hooks.claim(consumer.id, "a", timedelta(seconds=30)) is None
    with pytest.raises(NotFound):
        hooks.disable(consumer.id + 100)
