"""Group commit: many requests' writes in one transaction, each answered after its commit.

One small write alone is a few statements and a commit, and the commit waits for the WAL to
reach the disk; a worker doing them one by one spends most of its time waiting. Here each
request hands its item to one writer thread and waits until the transaction that holds it
has committed, so the answer still comes only after the data is durable (a kill -9 loses
nothing acknowledged). While one batch commits, the next requests queue up; the writer takes
all of them (up to ``max_batch``) into the next transaction.

Two knobs, both off by default. ``linger_s``: once items come several at a time (the last
batch held more than one), the writer sleeps that long once before writing, then takes
everything queued, so a busy writer's fixed cost per transaction (a round trip, a commit,
the driver's work in the process the requests share) is spread over more items. One sleep,
not a wait on the queue until a deadline: while the writer waits on the queue, every item
put wakes its thread, and in a worker whose event loop shares the core that wake-up takes
the core (and the interpreter) from the loop once per item. A batch already
:data:`FULL_ENOUGH` is written at once, and an item arriving alone is never held back.
``idle``: called when no item came for ``idle_s`` (and when the writer stops), so a writer
that keeps a connection between batches gives it back when quiet.

The writer is generic: ``write(batch)`` is one transaction for a list of items and returns one
result per item, in order; a result that is an exception is raised to that item's caller
alone (a duplicate tap, a station deleted meanwhile), an exception raised by ``write`` itself
reaches every caller of the batch (nothing of it was committed). Synchronous callers block in
:meth:`GroupCommitWriter.submit`; coroutines ``await`` :meth:`GroupCommitWriter.submit_async`
and keep the event loop free for other requests while the batch commits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any, Generic, TypeVar

__all__ = ["FULL_ENOUGH", "GroupCommitWriter", "LazyGroupWriter"]

#: A batch of this many items is written without lingering: its fixed cost is shared enough,
#: and a writer flat out would otherwise sleep between full batches for nothing.
FULL_ENOUGH = 32

T = TypeVar("T")
R = TypeVar("R")


class GroupCommitWriter(Generic[T, R]):
    """The one thread that writes ``T`` items, a batch per transaction."""

    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R | BaseException]],
        *,
        name: str,
        max_batch: int = 500,
        linger_s: float = 0.0,
        idle: Callable[[], None] | None = None,
        idle_s: float = 1.0,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._idle = idle
        self.idle_s = idle_s
        self._queue: queue.SimpleQueue[tuple[T, _Done[R]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: T) -> Future[R]:
        done: Future[R] = Future()
        self._queue.put((item, done))
        return done

    def submit(self, item: T, timeout_s: float = 30.0) -> R:
        """Queue ``item`` and wait until it is committed (or its batch failed: raises)."""
        return self._put(item).result(timeout=timeout_s)

    async def submit_async(self, item: T, timeout_s: float = 30.0) -> R:
        """:meth:`submit` for a coroutine: the event loop serves others while it waits.

        The writer answers a batch's coroutines with one call into their loop, not one
        thread-safe wake-up (and a second future) per item: about 25 µs of the loop's CPU
        per item, which a worker's every other request shares.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        self._queue.put((item, (loop, done)))
        # A timer on the loop, not ``asyncio.wait_for``: that wraps the future in a second
        # one, with a callback each way, for every item.
        timer = loop.call_later(timeout_s, _expire, done)
        try:
            return await done
        finally:
            timer.cancel()

    def close(self) -> None:
        """Write what is queued and stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        busy = False  # an item came, and the idle hook (if any) has not run since
        last = 0  # the previous batch's size
        while True:
            try:
                first = self._queue.get(timeout=self.idle_s if busy and self._idle else None)
            except queue.Empty:
                busy = False
                self._quiet()
                continue
            busy = True
            if first is None:
                self._quiet()
                return
            batch, stop = self._gather(first, linger=last > 1)
            last = len(batch)
            try:
                results: Sequence[R | BaseException] = self._write([item for item, _ in batch])
            except Exception as exc:  # every request of the batch hears why
                results = [exc] * len(batch)
            _answer(batch, results)
            if stop:
                self._quiet()
                return

    def _gather(
        self, first: tuple[T, _Done[R]], *, linger: bool
    ) -> tuple[list[tuple[T, _Done[R]]], bool]:
        """``first`` and what else is queued (up to ``max_batch``); with ``linger`` and fewer
        than :data:`FULL_ENOUGH`, also what is queued after one sleep of ``linger_s``. True as
        well when the writer is asked to stop.
        """
        batch = [first]
        stop = self._drain(batch)
        if linger and self.linger_s > 0 and not stop and len(batch) < FULL_ENOUGH:
            time.sleep(self.linger_s)  # items put meanwhile wake nobody
            stop = self._drain(batch)
        return batch, stop

    def _drain(self, batch: list[tuple[T, _Done[R]]]) -> bool:
        """Move what is queued into ``batch`` (up to ``max_batch``).

        True if the writer is asked to stop.
        """
        while len(batch) < self.max_batch:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                return False
            if nxt is None:
                return True
            batch.append(nxt)
        return False

    def _quiet(self) -> None:
        if self._idle is not None:
            try:
                self._idle()
            except Exception:  # giving a connection back must not stop the writer
                pass


class LazyGroupWriter(Generic[T, R]):
    """A :class:`GroupCommitWriter` whose thread starts on first use, for a repository that
    many processes build but few write through; :meth:`close` stops it (a later use starts a
    new one).
    """

    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R | BaseException]],
        *,
        name: str,
        linger_s: float = 0.0,
        idle: Callable[[], None] | None = None,
    ) -> None:
        self._write = write
        self._name = name
        self._linger_s = linger_s
        self._idle = idle
        self._writer: GroupCommitWriter[T, R] | None = None
        self._lock = threading.Lock()

    def get(self) -> GroupCommitWriter[T, R]:
        """The running writer, started now if there is none."""
        with self._lock:
            if self._writer is None:
                self._writer = GroupCommitWriter(
                    self._write, name=self._name, linger_s=self._linger_s, idle=self._idle
                )
            return self._writer

    def close(self) -> None:
        """Write what is queued and stop the thread, if one was started."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None


#: How a queued item's caller hears back: a thread's future, or a coroutine's loop and future.
_Done = Future[R] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[R]"]


def _answer(batch: list[tuple[T, _Done[R]]], results: Sequence[R | BaseException]) -> None:
    """Each caller its result: threads directly, coroutines with one call per loop."""
    loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[R], R | BaseException]]]
    loops = {}
    for (_, done), result in zip(batch, results, strict=True):
        if isinstance(done, Future):
            _settle(done, result)
        else:
            loops.setdefault(done[0], []).append((done[1], result))
    for loop, pairs in loops.items():
        try:
            loop.call_soon_threadsafe(_settle_all, pairs)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _settle_all(pairs: list[tuple[asyncio.Future[R], R | BaseException]]) -> None:
    # In the loop's thread. A caller that gave up (timeout, client gone) cancelled its future:
    # its write stands, unacknowledged.
    for done, result in pairs:
        if done.done():
            continue
        if isinstance(result, BaseException):
            done.set_exception(result)
        else:
            done.set_result(result)


def _expire(done: asyncio.Future[Any]) -> None:
    # In the loop's thread: the caller stops waiting (as asyncio.wait_for would tell it); the
    # writer's answer, when it comes, finds the future done and leaves it.
    if not done.done():
        done.set_exception(TimeoutError())


def _settle(done: Future[R], result: R | BaseException) -> None:
    # A caller that gave up (timeout, client gone) cancelled its future: its write stands,
    # unacknowledged, and the others of the batch must still hear theirs.
    try:
        if isinstance(result, BaseException):
            done.set_exception(result)
        else:
            done.set_result(result)
    except InvalidStateError:
        pass
