"""Webhook delivery to a real receiver on localhost: signed, in order, retried, one sender."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from stations.errors import ValidationFailed
from stations.feed.delivery import WebhookDeliverer, sign, verify
from stations.store.sql import SqlStationStore
from stations.store.webhooks import SqlWebhookStore
from tests.conftest import make_station
from tests.stations.feed.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _wait(condition: Any, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_signature_is_hmac_of_timestamp_and_body() -> None:
    body = b'{"changes":[]}'
    sig = sign("whsec_x", 1_700_000_000, body)
    headers = {"Webhook-Timestamp": "1700000000", "Webhook-Signature": sig}
    assert verify("whsec_x", headers, body, now=1_700_000_100)
    assert not verify("whsec_y", headers, body, now=1_700_000_100)
    assert not verify("whsec_x", headers, body + b" ", now=1_700_000_100)
    assert not verify("whsec_x", headers, body, now=1_700_000_000 + 301)  # a replay, later


def test_urls_are_checked(store: SqlStationStore) -> None:
    hooks = SqlWebhookStore.beside(store)
    for bad in ("ftp://x/", "http://", "javascript:alert(1)", "localhost:8000"):
        with pytest.raises(ValidationFailed):
            hooks.add(bad, actor="t")


def test_every_change_arrives_once_in_order_signed(
    store: SqlStationStore, receiver: Receiver
) -> None:
    before = store.create(make_station(name="登记前"), actor="t")
    hooks = SqlWebhookStore.beside(store)
    consumer, secret = hooks.add(receiver.url, actor="t")
    receiver.secret = secret
    deliverer = WebhookDeliverer(store, hooks, poll_s=0.02, lease_s=5, batch=7)
    deliverer.start()
    try:
        made = [store.create(make_station(name=f"站{i}"), actor="t") for i in range(20)]
        for s in made[:5]:
            store.update(s.id, {"name": s.data.name + "改"}, actor="t")
        store.delete(made[0].id, actor="t")
        _wait(lambda: len(receiver.changes()) == 26)
    finally:
        deliverer.stopped.set()
        deliverer.join(10)
    got = receiver.changes()
    assert before.id not in {e["station_id"] for e in got}  # only changes after registering
    assert [e["op"] for e in got] == ["create"] * 20 + ["update"] * 5 + ["delete"]
    assert [e["station_id"] for e in got[:20]] == [s.id for s in made]
    assert receiver.bad_signatures == 0
    assert all(len(b["changes"]) <= 7 for b in receiver.batches)
    state = hooks.get(consumer.id)
    assert state.delivered_count == 26 and state.failures == 0 and state.last_status == 204


def test_a_failing_receiver_is_retried_with_back_off_and_order_kept(
    store: SqlStationStore, receiver: Receiver
) -> None:
    hooks = SqlWebhookStore.beside(store)
    consumer, secret = hooks.add(receiver.url, actor="t")
    receiver.secret = secret
    receiver.fail_next = 2
    made = [store.create(make_station(name=f"站{i}"), actor="t") for i in range(3)]
    deliverer = WebhookDeliverer(store, hooks, poll_s=0.02, lease_s=5, batch=1)
    assert deliverer.run_once() == 0  # first attempt: 500
    state = hooks.get(consumer.id)
    assert state.failures == 1 and state.last_status == 500 and "HTTP 500" in state.last_error
    assert state.next_attempt_at is not None
    assert deliverer.run_once() == 0  # not due yet: nothing is sent during the back-off
    assert receiver.batches == []
    deliverer.start()
    try:
        _wait(lambda: len(receiver.changes()) == 3)
    finally:
        deliverer.stopped.set()
        deliverer.join(10)
    assert [e["station_id"] for e in receiver.changes()] == [s.id for s in made]
    state = hooks.get(consumer.id)
    assert state.failures == 0 and state.last_error is None


def test_two_deliverers_never_send_to_one_consumer_at_once(
    store: SqlStationStore, receiver: Receiver
) -> None:
    """Workers of one service (or several hosts) all run a deliverer; the lease keeps each
    consumer's batches in order and never sent twice."""
    hooks = SqlWebhookStore.beside(store)
    _consumer, secret = hooks.add(receiver.url, actor="t", from_start=True)
    receiver.secret = secret
    deliverers = [WebhookDeliverer(store, hooks, poll_s=0.01, lease_s=5, batch=3) for _ in "ab"]
    for d in deliverers:
        d.start()
    try:
        writers = [
            threading.Thread(
                target=lambda n=n: [
                    store.create(make_station(name=f"w{n}-{i}"), actor="t") for i in range(30)
                ]
            )
            for n in range(3)
        ]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        _wait(lambda: len(receiver.changes()) == 90)
    finally:
        for d in deliverers:
            d.stopped.set()
        for d in deliverers:
            d.join(10)
    assert len(receiver.ids) == len(set(receiver.ids))  # no batch sent twice
    seqs = [e["cursor"] for e in receiver.changes()]
    assert seqs == [e["cursor"] for b in receiver.batches for e in b["changes"]]
    feed = store.feed(0, 1000)
    assert [e["station_id"] for e in receiver.changes()] == [h.station_id for h in feed]


def test_an_idle_sender_waits_for_the_feed_to_move_not_the_database(
    store: SqlStationStore, receiver: Receiver
) -> None:
    """Once every consumer has the whole feed the sender asks the database nothing until the
    catalog's change counter moves; a write then reaches the receiver within a poll or two."""
    from sqlalchemy import event

    from stations.search import StationCatalog

    hooks = SqlWebhookStore.beside(store)
    _consumer, receiver.secret = hooks.add(receiver.url, actor="t")
    catalog = StationCatalog(store)
    deliverer = WebhookDeliverer(
        store, hooks, poll_s=0.02, idle_s=600, feed_hint=lambda: catalog.counter, lease_s=5
    )
    asked: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.current_thread() is deliverer:
            asked.append(statement)

    engines = {id(e): e for e in (store.engine, hooks.engine, hooks.write_engine)}
    for e in engines.values():
        event.listen(e, "before_cursor_execute", count)
    deliverer.start()
    try:
        store.create(make_station(name="第一站"), actor="t")
        catalog.refresh()
        _wait(lambda: len(receiver.changes()) == 1)
        time.sleep(0.3)  # the pass that found everyone up to date has ended
        asked.clear()
        time.sleep(0.5)  # 25 polls
        assert asked == []
        started = time.monotonic()
        store.create(make_station(name="第二站"), actor="t")
        catalog.refresh()  # what a local write (or the catalog refresher) does
        _wait(lambda: len(receiver.changes()) == 2)
        assert time.monotonic() - started < 5
        assert asked  # woken by the feed moving
    finally:
        deliverer.stopped.set()
        deliverer.join(10)
        for e in engines.values():
            event.remove(e, "before_cursor_execute", count)
    assert [e["op"] for e in receiver.changes()] == ["create", "create"]
