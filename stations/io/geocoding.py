"""Addresses to WGS-84 points through geopy, cached in the database, never guessed.

Union sheets often give an address and no coordinates. A geocoder fills them, but a wrong
point is worse than none — a rider would be sent to the wrong street — so a lookup that finds
nothing, or finds several places far apart, or only matches a whole district, is reported for
that row and left for staff to fix. Points that were geocoded are marked (``geocoded=True``)
so staff can check them on the map.

Providers
---------
``baidu``
    geopy's ``BaiduV3`` (needs an API key). Baidu answers in BD-09, converted here to WGS-84.
    Its geocoding API returns a single best match with a ``confidence`` (Baidu documents
    confidence ≥ 60 as an error below 500 m) and a match ``level``; a lower confidence or a
    match at district level or coarser counts as ambiguous.
``nominatim``
    geopy's ``Nominatim`` against any OSM-based server (``domain``; the public one allows one
    request a second and needs a real user agent). Up to five candidates are asked for; if
    they lie more than ``ambiguity_m`` apart the lookup is ambiguous.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from pyproj import Geod

from geodata.crs import to_wgs84
from stations.errors import ConfigurationError, FieldError
from stations.i18n import Message
from stations.store.geocode_cache import GeocodeCacheStore

__all__ = [
    "PROVIDERS",
    "GeocodeResult",
    "Geocoder",
    "geocode_addresses",
    "make_geocoder",
    "normalise_query",
]

PROVIDERS: tuple[str, ...] = ("baidu", "nominatim")

_GEOD = Geod(ellps="WGS84")
# Baidu match levels too coarse to place a station (a whole country, province, city, district).
_BAIDU_VAGUE_LEVELS = frozenset({"国家", "省", "城市", "区县"})
# Baidu: confidence ≥ 60 means an absolute error below 500 m (its geocoding API docs).
_BAIDU_MIN_CONFIDENCE = 60
_SPACES = re.compile(r"\s+")
# A space next to a CJK (non-ASCII) character means nothing in a Chinese address.
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")


def normalise_query(address: str) -> str:
    """The cache key of an address: NFKC (full-width → half-width), casefolded, spaces
    collapsed and dropped next to Chinese characters.

    ``北京市 大兴区\u3000荣华中路１０号`` and ``北京市大兴区荣华中路10号`` are one lookup.
    """
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", address)).strip()
    return _CJK_SPACE.sub("", text).casefold()


@dataclass(frozen=True)
class GeocodeResult:
    """One lookup. ``lon``/``lat`` (WGS-84) are set only when the answer is one clear place.

    ``candidates`` counts what the provider offered; ``label`` is its name for the place
    found, or — when nothing usable was found — why not, in words staff can act on.
    """

    query: str
    lon: float | None
    lat: float | None
    candidates: int
    label: str = ""
    cached: bool = False

    @property
    def found(self) -> bool:
        """True when the geocoder returned a position."""
        return self.lon is not None and self.lat is not None

    def reason(self) -> Message:
        """Why the lookup failed, as a catalog message."""
        if self.candidates == 0:
            return Message(
                "geocoding found no place for this address; add lon/lat or make the "
                "address more complete (city, district, road, number)"
            )
        return Message(
            "geocoding is ambiguous ({label}); add lon/lat or a more precise address",
            label=self.label,
        )

    def as_cache(self) -> dict[str, Any]:
        """The result as stored in the geocode cache."""
        return {
            "lon": self.lon,
            "lat": self.lat,
            "address": self.label,
            "candidates": self.candidates,
        }


class _TransientRetry(RateLimiter):
    """geopy's RateLimiter, retrying only errors worth retrying.

    The stock one retries every ``GeocoderServiceError``, including a rejected key, which
    only wastes the provider's quota and the clerk's time.
    """

    _retry_exceptions = (GeocoderTimedOut, GeocoderUnavailable, GeocoderRateLimited)


class _BaiduV3At(BaiduV3):
    """``BaiduV3`` at another host: geopy hard-codes ``api.map.baidu.com`` for Baidu.

    Used for a proxy/mirror of the Baidu API (and for tests, which have no internet).
    """

    def __init__(self, api_key: str, *, domain: str, **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        base = f"{self.scheme}://{domain.strip('/')}"
        self.api = base + self.api_path
        self.reverse_api = base + self.reverse_path


class Geocoder:
    """A rate-limited, cached address lookup; build one with :func:`make_geocoder`.

    Parameters
    ----------
    provider : {"baidu", "nominatim"}
    backend : geopy geocoder
        Already configured (key, domain, scheme, timeout).
    cache_name : str
        The provider name the cache is keyed by (includes a non-default server).
    min_delay_s : float
        Minimum seconds between two requests, as the provider's usage policy requires.
    ambiguity_m : float
        Candidates further apart than this make a lookup ambiguous.
    cache : GeocodeCacheStore, optional
        Where answers are kept between imports (none: every lookup asks the provider).
    """

    def __init__(
        self,
        provider: str,
        backend: Any,
        *,
        cache_name: str,
        min_delay_s: float,
        ambiguity_m: float = 500.0,
        error_wait_s: float = 5.0,
        cache: GeocodeCacheStore | None = None,
    ) -> None:
        self.provider = provider
        self.backend = backend
        self.cache_name = cache_name
        self.cache = cache
        self.ambiguity_m = ambiguity_m
        self.requests = 0
        self._call = _TransientRetry(
            self._request,
            min_delay_seconds=min_delay_s,
            max_retries=2,
            error_wait_seconds=error_wait_s,
            swallow_exceptions=False,
        )

    def _request(self, query: str) -> Any:
        self.requests += 1
        if self.provider == "baidu":
            # BaiduV3 returns one best match; exactly_one=False would iterate a dict.
            return self.backend.geocode(query, exactly_one=True)
        return self.backend.geocode(query, exactly_one=False, limit=5)

    def lookup(self, address: str) -> GeocodeResult:
        """Geocode one address, from the cache when it has been asked before.

        Raises
        ------
        ConfigurationError
            The provider rejected the key or the account: no lookup can succeed.
        geopy.exc.GeocoderServiceError
            A service failure (timeout, quota, server error) after retries; not cached.
        """
        query = normalise_query(address)
        if self.cache is not None:
            hit = self.cache.get(self.cache_name, query)
            if hit is not None:
                return GeocodeResult(
                    query,
                    hit.get("lon"),
                    hit.get("lat"),
                    int(hit.get("candidates") or 0),
                    hit.get("address") or "",
                    cached=True,
                )
        try:
            answer = self._call(address.strip())
        except (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges) as exc:
            raise ConfigurationError(
                f"the {self.provider} geocoder refused the request ({exc}); check the API "
                "key / account"
            ) from exc
        result = self._interpret(query, answer)
        if self.cache is not None:
            self.cache.put(self.cache_name, query, result.as_cache())
        return result

    def _interpret(self, query: str, answer: Any) -> GeocodeResult:
        if answer is None:
            return GeocodeResult(query, None, None, 0)
        if self.provider == "baidu":
            return self._interpret_baidu(query, answer)
        places = [a for a in answer if a.longitude is not None and a.latitude is not None]
        if not places:
            return GeocodeResult(query, None, None, 0)
        if len(places) > 1:
            lons = [p.longitude for p in places]
            lats = [p.latitude for p in places]
            n = len(places)
            i, j = zip(*[(a, b) for a in range(n) for b in range(a + 1, n)], strict=True)
            _, _, dist = _GEOD.inv(
                [lons[k] for k in i],
                [lats[k] for k in i],
                [lons[k] for k in j],
                [lats[k] for k in j],
            )
            spread = float(max(dist))
            if spread > self.ambiguity_m:
                names = "; ".join(str(p.address) for p in places[:3])
                return GeocodeResult(
                    query, None, None, n, f"{n} candidates up to {spread:,.0f} m apart: {names}"
                )
        best = places[0]
        return GeocodeResult(
            query, float(best.longitude), float(best.latitude), len(places), str(best.address or "")
        )

    def _interpret_baidu(self, query: str, answer: Any) -> GeocodeResult:
        raw = answer.raw or {}
        level = str(raw.get("level") or "")
        confidence = raw.get("confidence")
        if level in _BAIDU_VAGUE_LEVELS or (
            isinstance(confidence, int | float) and confidence < _BAIDU_MIN_CONFIDENCE
        ):
            return GeocodeResult(
                query,
                None,
                None,
                1,
                f"Baidu matched only at level {level or '?'} (confidence {confidence})",
            )
        lon, lat = to_wgs84([float(answer.longitude)], [float(answer.latitude)], "bd09")
        return GeocodeResult(query, float(lon[0]), float(lat[0]), 1, level)


def make_geocoder(
    provider: str,
    *,
    api_key: str | None = None,
    domain: str | None = None,
    scheme: str = "https",
    user_agent: str = "warm-stations",
    min_delay_s: float = 1.0,
    timeout: float = 10,
    ambiguity_m: float = 500.0,
    error_wait_s: float = 5.0,
    cache: GeocodeCacheStore | None = None,
) -> Geocoder:
    """Configure a geocoder for ``stations import --geocode``.

    Parameters
    ----------
    provider : {"baidu", "nominatim"}
    api_key : str, optional
        Baidu's AK (required for ``baidu``).
    domain : str, optional
        Host (and port) of the server: a self-hosted Nominatim, or a Baidu API proxy.
        Defaults to each provider's public host.
    scheme : {"https", "http"}
    user_agent : str
        Sent with every request; OSM's usage policy requires one that identifies the app.
    min_delay_s : float
        Seconds between requests (public Nominatim: at least 1).
    timeout : float
        Seconds to wait for one answer.
    ambiguity_m : float
        Candidates further apart than this make a lookup ambiguous (reported, not guessed).
    error_wait_s : float
        Pause before retrying a timeout or unavailable server.
    cache : GeocodeCacheStore, optional
        Keeps answers between imports (``Services.geocode_cache``), so an address is asked
        once even across runs.

    Raises
    ------
    ConfigurationError
        Unknown provider, or Baidu without a key.
    """
    name = provider.strip().lower()
    common: dict[str, Any] = {"scheme": scheme, "timeout": timeout, "user_agent": user_agent}
    if name == "baidu":
        if not api_key:
            raise ConfigurationError("the baidu geocoder needs an API key (AK)")
        backend: Any = (
            _BaiduV3At(api_key, domain=domain, **common) if domain else BaiduV3(api_key, **common)
        )
    elif name == "nominatim":
        backend = Nominatim(domain=domain or "nominatim.openstreetmap.org", **common)
    else:
        raise ConfigurationError(
            f"unknown geocoding provider {provider!r}; valid: {', '.join(PROVIDERS)}"
        )
    cache_name = name
    if domain:
        cache_name = f"{name}@{domain.strip('/')}"
        if len(cache_name) > 40:  # the cache's provider column holds 40 characters
            digest = hashlib.sha1(domain.encode()).hexdigest()[:12]
            cache_name = f"{name}@{digest}"
    return Geocoder(
        name,
        backend,
        cache_name=cache_name,
        min_delay_s=min_delay_s,
        ambiguity_m=ambiguity_m,
        error_wait_s=error_wait_s,
        cache=cache,
    )


def geocode_addresses(
    items: Sequence[tuple[int, str]],
    geocoder: Geocoder,
    *,
    progress: Callable[[int], None] | None = None,
    give_up_after: int = 3,
) -> tuple[dict[int, GeocodeResult], list[FieldError]]:
    """Geocode ``(row, address)`` pairs; each distinct address is asked once.

    Returns the rows that got a point and a ``FieldError`` (field ``address``) for every row
    that did not. After ``give_up_after`` service failures in a row (quota, outage) the rest
    are reported as not geocoded instead of waiting on a dead service row after row.
    """
    found: dict[int, GeocodeResult] = {}
    errors: list[FieldError] = []
    answers: dict[str, GeocodeResult | str] = {}
    failures = 0
    for done, (row, address) in enumerate(items, start=1):
        key = normalise_query(address)
        answer = answers.get(key)
        if answer is None:
            if failures >= give_up_after:
                answer = "skipped after repeated geocoding service errors"
            else:
                try:
                    answer = geocoder.lookup(address)
                    failures = 0
                except GeocoderServiceError as exc:
                    # Baidu reports "no result" as status 1 ("internal error") too, so this
                    # is per-row and not cached: a retry later may succeed.
                    transient = type(exc) is not GeocoderServiceError
                    failures += 1 if transient else 0
                    if not transient and geocoder.provider == "baidu":
                        answer = "Baidu answered status 1 (no match, or a server error)"
                    else:
                        answer = f"geocoding service error: {exc or type(exc).__name__}"
            answers[key] = answer
        if isinstance(answer, str):
            errors.append(
                FieldError.from_catalog(
                    "address", "{answer}; add lon/lat or retry later", address, row, answer=answer
                )
            )
        elif answer.found:
            found[row] = answer
        else:
            reason = answer.reason()
            errors.append(
                FieldError.from_catalog("address", reason.msgid, address, row, **reason.params)
            )
        if progress is not None:
            progress(done)
    return found, errors
