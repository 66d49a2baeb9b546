"""What every repository beside the station store shares: its database and its two pools.

Accounts, reports, confirmations, photos, visits, webhooks, organisations and the geocoding
cache keep their tables in the station store's database (one engine, one migration chain).
Each repository reads through the station store's read pool and writes through its write
pool, so writes stuck on a lock or a stalled database (a long import, a busy check-in burst)
cannot take the connections that reads and the health probe need, whichever table they
write.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import Connection, Engine

from stations.errors import ConfigurationError
from stations.store.engine import WRITE

__all__ = ["Repository", "pools_of"]


def pools_of(store: object) -> tuple[Engine, Engine]:
    """``(read engine, write engine)`` of a station store.

    A store without a write pool of its own (one built on a single engine, or an in-memory
    SQLite database) writes through its read engine.

    Raises
    ------
    ConfigurationError
        The store has no SQL engine to share.
    """
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        raise ConfigurationError(f"{type(store).__name__} has no SQL engine to share")
    write = getattr(store, "write_engine", None)
    return engine, write if isinstance(write, Engine) else engine


class Repository:
    """Tables in the station store's database, read and written through its pools.

    Parameters
    ----------
    engine : Engine
        The read pool.
    write_engine : Engine, optional
        The write pool (default: ``engine``).
    """

    def __init__(self, engine: Engine, *, write_engine: Engine | None = None) -> None:
        self.engine = engine
        self.write_engine = write_engine if write_engine is not None else engine

    @classmethod
    def beside(cls, store: object, *args: Any, **kwargs: Any) -> Self:
        """The repository sharing a station store's database and pools; ``args`` and
        ``kwargs`` go to the repository's own constructor after the engine.
        """
        engine, write = pools_of(store)
        return cls(engine, *args, write_engine=write, **kwargs)

    def _write(self) -> Connection:
        """A connection from the write pool, marked as writing (SQLite: ``BEGIN IMMEDIATE``)."""
        return self.write_engine.connect().execution_options(**WRITE)
