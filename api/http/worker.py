"""Run one heavy, synchronous call in a worker process that can be stopped.

A thread cannot be stopped: an analysis left running after its client has gone, or past any
sensible time, keeps a core and its memory until it ends by itself. A forked process can:
:func:`run_in_worker` starts the call in a child (``fork``, so the station catalog and
everything else is shared copy-on-write, nothing is pickled on the way in), waits without
holding the event loop, and kills the child when the client disconnects or ``deadline_s``
passes. The answer comes back pickled through a pipe; an exception raised in the child is
raised again in the service, with its attributes, so the usual problem mapping applies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from stations.errors import StationsError
from stations.i18n import Message

__all__ = ["ClientGone", "WorkerTimedOut", "run_in_worker"]

_POLL_S = 0.05


class WorkerTimedOut(StationsError):
    """The run was stopped at its wall-clock limit."""

    status = 503
    title = "Analysis took too long"


class ClientGone(Exception):
    """The client disconnected; the run was stopped and nobody is left to answer."""


def _pack(value: Any) -> Any:
    if isinstance(value, Response):  # rebuilt in the service: a Response is not picklable
        return ("response", value.status_code, bytes(value.body), value.raw_headers)
    return ("value", value)


def _unpack(packed: Any) -> Any:
    if packed[0] == "response":
        _kind, status, body, raw_headers = packed
        response = Response(content=body, status_code=status)
        response.raw_headers = list(raw_headers)
        return response
    return packed[1]


def _close_inherited(keep: int) -> None:
    """Close every descriptor the child inherited but 0-2 and ``keep`` (its pipe).

    The fork copied the service's sockets — clients' connections, the listening socket, the
    database's: held open here, a client's close would not reach the service (it could not
    tell the client had gone), and nothing here may ever speak on the service's database
    connections.
    """
    high = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    high = high if 0 < high < 1 << 20 else 1 << 16
    os.closerange(3, keep)
    os.closerange(keep + 1, high)


def _child(call: Callable[[], Any], conn: Any) -> None:
    _close_inherited(conn.fileno())
    try:
        message: Any = ("ok", _pack(call()))
    except BaseException as exc:  # everything goes back to the service
        # Exceptions pickle by their args, which loses domain errors' fields (ValidationFailed
        # carries a list of FieldErrors): send the class, its args and its attributes.
        message = ("error", (type(exc), exc.args, dict(getattr(exc, "__dict__", {}))))
        try:
            pickle.loads(pickle.dumps(message))
        except Exception:
            message = ("error", (RuntimeError, (f"{type(exc).__name__}: {exc}",), {}))
    try:
        conn.send(message)
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers or inherited threads: they belong to the service


def _rebuild(error: tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]) -> BaseException:
    cls, args, attributes = error
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(attributes)
    return exc


async def run_in_worker(
    call: Callable[[], Any],
    *,
    deadline_s: float,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> Any:
    """``call()`` in a forked child; its value, or its exception raised here.

    Raises :class:`WorkerTimedOut` when ``deadline_s`` passes and :class:`ClientGone` when
    ``disconnected()`` says the client left; the child is killed in both cases.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(call, sender), daemon=True)
    process.start()
    sender.close()
    started = time.monotonic()
    try:
        while not receiver.poll():
            if not process.is_alive() and not receiver.poll():
                raise RuntimeError(f"the analysis worker died (exit code {process.exitcode})")
            if time.monotonic() - started > deadline_s:
                raise WorkerTimedOut(
                    Message(
                        "the analysis did not finish within {seconds} s and was stopped; "
                        "ask for a smaller area, a coarser resolution or fewer candidates",
                        seconds=f"{deadline_s:g}",
                    ),
                    retry_after_s=30,
                )
            if disconnected is not None and await disconnected():
                raise ClientGone()
            await asyncio.sleep(_POLL_S)
        kind, payload = await run_in_threadpool(receiver.recv)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        await run_in_threadpool(process.join, 5)
    if kind == "error":
        raise _rebuild(payload)
    return _unpack(payload)
