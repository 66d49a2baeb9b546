"""Answers of the geocoding services, kept so an address is paid for (in quota and time) once.

Keyed by the provider's cache name and the normalised address
(:func:`stations.io.geocoding.normalise_query`); a miss is kept too (no position, with the
number of candidates), so an address that found nothing, or too many places far apart, is not
asked again on the next import. Service failures are never kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from stations.store.repository import Repository
from stations.store.schema import geocode_cache_table

__all__ = ["GeocodeCacheStore"]

_G = geocode_cache_table


class GeocodeCacheStore(Repository):
    """The geocoding cache in the station store's database."""

    def get(self, provider: str, query: str) -> dict[str, Any] | None:
        """The kept answer (``lon``, ``lat``, ``address``, ``candidates``), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_G).where(_G.c.provider == provider, _G.c.query == query)
            ).first()
        if row is None:
            return None
        return {
            "lon": row.lon,
            "lat": row.lat,
            "address": row.address,
            "candidates": row.candidates,
        }

    def put(self, provider: str, query: str, result: dict[str, Any]) -> None:
        """Keep an answer for later imports (replacing an older one for the same query)."""
        with self._write() as conn, conn.begin():
            conn.execute(_G.delete().where(_G.c.provider == provider, _G.c.query == query))
            conn.execute(
                insert(_G).values(
                    provider=provider,
                    query=query,
                    lon=result.get("lon"),
                    lat=result.get("lat"),
                    address=result.get("address"),
                    candidates=int(result.get("candidates", 0)),
                    at=datetime.now(UTC),
                )
            )
