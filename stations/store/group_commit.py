"""Group commit: many requests' writes in one transaction, each answered after its commit.

One small write alone is a few statements and a commit, and the commit waits for the WAL to
reach the disk; a worker doing them one by one spends most of its time waiting. Here each
request hands its item to one writer thread and waits until the transaction that holds it
has committed, so the answer still comes only after the data is durable (a kill -9 loses
nothing acknowledged). While one batch commits, the next requests queue up; the writer takes
all of them (up to ``max_batch``) into the next transaction.

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
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Generic, TypeVar

__all__ = ["GroupCommitWriter", "LazyGroupWriter"]

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
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[T, Future[R]] | None] = queue.SimpleQueue()
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
        """:meth:`submit` for a coroutine: the event loop serves others while it waits."""
        return await asyncio.wait_for(asyncio.wrap_future(self._put(item)), timeout_s)

    def close(self) -> None:
        """Write what is queued and stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                results: Sequence[R | BaseException] = self._write([item for item, _ in batch])
            except Exception as exc:  # every request of the batch hears why
                results = [exc] * len(batch)
            for (_, done), result in zip(batch, results, strict=True):
                _settle(done, result)
            if stop:
                return


class LazyGroupWriter(Generic[T, R]):
    """A :class:`GroupCommitWriter` whose thread starts on first use, for a repository that
    many processes build but few write through; :meth:`close` stops it (a later use starts a
    new one).
    """

    def __init__(
        self, write: Callable[[list[T]], Sequence[R | BaseException]], *, name: str
    ) -> None:
        self._write = write
        self._name = name
        self._writer: GroupCommitWriter[T, R] | None = None
        self._lock = threading.Lock()

    def get(self) -> GroupCommitWriter[T, R]:
        """The running writer, started now if there is none."""
        with self._lock:
            if self._writer is None:
                self._writer = GroupCommitWriter(self._write, name=self._name)
            return self._writer

    def close(self) -> None:
        """Write what is queued and stop the thread, if one was started."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None


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
