"""Two small caches the service keeps between requests, each held by ``api.services.Services``.

``Derived`` keeps one value computed from a source object and recomputes it only when the
source is another object (the catalog publishes a new snapshot list on every change; FastAPI
keeps one OpenAPI dict until routes change). ``PageCache`` keeps the last few rendered pages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Derived", "PageCache"]

S = TypeVar("S")
T = TypeVar("T")


class Derived(Generic[S, T]):
    """A value derived from ``source``, kept while the source is the same object."""

    def __init__(self) -> None:
        self._pair: tuple[S, T] | None = None

    def get(self, source: S, derive: Callable[[S], T]) -> T:
        pair = self._pair  # one read: another thread may replace it meanwhile, never half
        if pair is None or pair[0] is not source:
            pair = (source, derive(source))
            self._pair = pair
        return pair[1]


class PageCache:
    """The last ``size`` pages by key, oldest dropped first (pages cost a second to draw)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: dict[Hashable, str] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, draw: Callable[[], str]) -> str:
        page = self._pages.get(key)
        if page is None:
            page = draw()
            with self._lock:
                while len(self._pages) >= self.size:
                    self._pages.pop(next(iter(self._pages)))
                self._pages[key] = page
        return page
