"""A background probe of the database: the readiness answer, and the breaker's way back.

``/readyz`` must answer within a second whatever the database does, so it never asks the
database itself: it reads what this thread last found. The probe runs on a connection of its
own, past the breaker, every ``interval_s``; its first success after an outage closes the
breaker, so writes work again without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from stations.store.outage import Breaker, Pinger

__all__ = ["StoreMonitor"]

log = logging.getLogger("stations.store")


class StoreMonitor(threading.Thread):
    """Pings ``engine`` every ``interval_s``; ``healthy`` and ``error`` say what it found."""

    def __init__(
        self,
        engine: Engine,
        breaker: Breaker | None,
        *,
        interval_s: float = 0.5,
        counter: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(name="store-monitor", daemon=True)
        self.engine = engine
        self.breaker = breaker
        self.interval_s = interval_s
        self.healthy = True
        self.error: str | None = None
        #: The store's change counter at the last good probe (when ``counter`` is given).
        self.counter: int | None = None
        self._counter = counter
        self.checked_at = time.monotonic()
        self.stopped = threading.Event()
        self._ping = Pinger(engine, timeout_s=min(0.8, max(interval_s, 0.2)))

    def probe(self) -> bool:
        """One probe: update the state and the breaker; True when the database answered."""
        try:
            self._ping()
            if self._counter is not None:
                if self.breaker is not None:
                    self.breaker.reset()  # it answered: let the counter's query through
                self.counter = self._counter()
        except Exception as exc:  # any failure means "not ready": the log says which
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            if self.healthy:
                log.warning("store unreachable: %s", reason)
            self.healthy, self.error = False, reason
            if self.breaker is not None:
                self.breaker.trip(type(exc).__name__)
        else:
            if not self.healthy:
                log.warning("store reachable again")
            self.healthy, self.error = True, None
            if self.breaker is not None:
                self.breaker.reset()
        self.checked_at = time.monotonic()
        return self.healthy

    def run(self) -> None:
        """Probe every interval until stopped."""
        try:
            while not self.stopped.is_set():
                self.probe()
                self.stopped.wait(self.interval_s)
        finally:
            self._ping.close()

    def stop(self) -> None:
        """Stop probing and wait for the thread to end."""
        self.stopped.set()
        self.join(timeout=5)
