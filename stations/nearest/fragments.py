"""The nearest answer's bytes: each station's feature JSON cached, the page spliced.

/api/v1/nearest serialises each station once and reuses the bytes: per request only
``open_now`` and ``distance_m`` change. Building the dicts, the ISO timestamps and the
navigation links and JSON-encoding ~8 KB cost ~300 µs of the ~450 µs a nearest request
took; splicing cached bytes takes a few. The bytes are cut from the single formatter's dicts
(:func:`stations.features.features`), so both agree; ``stations.nearest.reference`` is the
plain version the tests hold this one to. A mapped catalog writes the same cut bytes of a
missed station from its record instead (``written``: :mod:`stations.mapped.render`, held
to the dict path by a test), since its workers keep few features and miss most.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Container, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from stations.features import features, json_bytes
from stations.model import Station
from stations.navigation import AppCoords
from stations.nearest._splice import splice

if TYPE_CHECKING:
    from stations.search import Hit
    from stations.trust.board import TrustBoard

__all__ = ["DEFAULT_KEPT", "feature_collection_json", "keep_features"]


class _Marked(NamedTuple):
    """A hit whose per-request values are placeholders (rendered once, then cut)."""

    station: Station
    distance_m: Any
    open_now: Any


# Placeholders for the per-request values. Control characters are refused in station text
# (stations.model), and JSON escapes them, so these encoded tokens cannot occur otherwise;
# the split below checks that anyway.
_OPEN_MARK = "\x01open_now\x01"
_DIST_MARK = "\x01distance_m\x01"
_OPEN_TOKEN = json_bytes(_OPEN_MARK)
_DIST_TOKEN = json_bytes(_DIST_MARK)

# One entry per (station object, crs, navigation, with distance), keyed by one int:
# ``id(station)`` shifted left, or'd with the variant (:func:`_variant`); an int key is
# compared without reading a stored key tuple, a cache miss per hit on a cold page. The value
# holds the Station itself, so the id cannot be reused while the entry lives; a write makes
# a new Station, hence a new entry. Bounded: at ~2 KB an entry, 16,384 entries cost ~30 MB
# per worker and cover a city's busy stations. Oldest entries go first (an OrderedDict:
# eviction is O(1); deleting from the front of a plain dict leaves dummy slots that
# ``next(iter(d))`` walks, 7 % of a worker's time under a national load): a read is one
# lock-free ``get``, and a busy station evicted by age is simply rendered again. The bound
# is a setting (:func:`keep_features`): a worker of a mapped catalog, where many workers
# share a host, keeps fewer.
_Parts = tuple[bytes, ...]
_FRAGMENTS: OrderedDict[int, tuple[Station, _Parts]] = OrderedDict()
_VARIANTS: dict[tuple[str, bool], int] = {}
_VARIANT_BITS = 6  # room for 32 (crs, navigation) pairs, each with and without distance
_FRAGMENTS_MAX = 16_384
_FRAGMENTS_LOCK = threading.Lock()


#: How many cached features a worker keeps unless told (:func:`keep_features`).
DEFAULT_KEPT = _FRAGMENTS_MAX


def keep_features(bound: int) -> None:
    """Keep at most ``bound`` (≥ 0) cached features from now on, the oldest dropped first.

    ~2 KB each: the default 16,384 hold a city's busy stations in ~30 MB per worker; a
    smaller bound costs a rendering (~0.1 ms) for each answer's station that fell out.
    """
    global _FRAGMENTS_MAX
    if bound < 0:
        raise ValueError(f"cannot keep {bound} features")
    with _FRAGMENTS_LOCK:
        _FRAGMENTS_MAX = bound
        while len(_FRAGMENTS) > bound:
            _FRAGMENTS.popitem(last=False)


def _cut(feature_json: bytes, with_distance: bool) -> _Parts:
    """A marked feature's JSON cut around the per-request values: ``(a, b)`` or ``(a, b, c)``."""
    head, sep, rest = feature_json.partition(_OPEN_TOKEN)
    if not sep or _OPEN_TOKEN in rest:
        raise ValueError("open_now placeholder not found exactly once")
    if not with_distance:
        return head, rest
    middle, sep, tail = rest.partition(_DIST_TOKEN)
    if not sep or _DIST_TOKEN in tail:
        raise ValueError("distance_m placeholder not found exactly once")
    return head, middle, tail


def _variant(crs: str, navigation: bool) -> int:
    """The low bits of a cache key for ``(crs, navigation)``; bit 0 is "with distance"."""
    variant = _VARIANTS.get((crs, navigation))
    if variant is None:
        with _FRAGMENTS_LOCK:
            variant = _VARIANTS.setdefault((crs, navigation), 2 * len(_VARIANTS))
            if variant >> _VARIANT_BITS:
                raise ValueError(f"more than {2 ** (_VARIANT_BITS - 1)} fragment variants")
    return variant


#: Writes a station's cut feature (WGS-84, navigation links, a distance) some faster way
#: than the dict path, or None where it cannot (``StationCatalog.feature_parts``).
PartsWriter = Callable[[Station], "_Parts | None"]


def _parts_of(
    hits: Sequence[Hit],
    crs: str,
    navigation: bool,
    evidence: Container[int] = (),
    app_coords: Callable[[Sequence[Station]], Sequence[AppCoords]] | None = None,
    written: PartsWriter | None = None,
) -> tuple[list[_Parts], list[int]]:
    """The cached cut-up JSON of each hit's station, the missing ones rendered together;
    and the positions of the hits whose trust members differ from the cached defaults (a
    station id in ``evidence``, or open-now unknown), told in the loop that runs anyway.

    Together: the navigation links of a page are one vectorised CRS conversion, where one
    per station cost ~40 numpy calls each (a quarter of a worker's time when the national
    working set overflows the cache). With ``app_coords`` (the catalog's points converted
    per snapshot) not even that one: it was about a third of rendering a missed station.
    ``written`` renders a missed station of the common variant (WGS-84, navigation links,
    a distance) first, where it can: a mapped catalog's writer from its records.
    """
    variant = _variant(crs, navigation)
    get = _FRAGMENTS.get
    found: list[_Parts | None] = []
    missing: list[tuple[int, int]] = []  # (position in the page, key)
    special: list[int] = []
    for station, distance_m, open_now in hits:
        if open_now is None or station.id in evidence:
            special.append(len(found))
        key = id(station) << _VARIANT_BITS | variant | (distance_m is not None)
        entry = get(key)
        if entry is not None and entry[0] is station:
            found.append(entry[1])
        else:
            missing.append((len(found), key))
            found.append(None)
    if missing and written is not None and crs == "wgs84" and navigation:
        missing = _written(hits, missing, found, written)
    if missing:
        marked = [
            _Marked(hits[i].station, None if hits[i].distance_m is None else _DIST_MARK, _OPEN_MARK)
            for i, _ in missing
        ]
        coords = app_coords([m.station for m in marked]) if navigation and app_coords else None
        rendered = features(marked, crs, navigation=navigation, _marked=True, _coords=coords)
        for (i, key), feature_dict in zip(missing, rendered, strict=True):
            found[i] = _cut(json_bytes(feature_dict), key & 1 == 1)
        _keep(hits, found, missing)
    return found, special  # type: ignore[return-value]


def _written(
    hits: Sequence[Hit],
    missing: list[tuple[int, int]],
    found: list[_Parts | None],
    written: PartsWriter,
) -> list[tuple[int, int]]:
    """Fill ``found`` (and the cache) for the missed hits ``written`` renders; the rest."""
    rest = []
    done = []
    for i, key in missing:
        parts = written(hits[i].station) if key & 1 else None
        if parts is None:
            rest.append((i, key))
        else:
            found[i] = parts
            done.append((i, key))
    if done:
        _keep(hits, found, done)
    return rest


def _keep(hits: Sequence[Hit], found: list[_Parts | None], missed: list[tuple[int, int]]) -> None:
    """Cache the parts found for the ``missed`` hits (position in the page, key), the oldest
    entries dropped past the bound.
    """
    with _FRAGMENTS_LOCK:
        for i, key in missed:
            _FRAGMENTS[key] = (hits[i].station, found[i])  # type: ignore[assignment]
        while len(_FRAGMENTS) > _FRAGMENTS_MAX:
            _FRAGMENTS.popitem(last=False)


def feature_collection_json(
    hits: Sequence[Hit],
    crs: str = "wgs84",
    *,
    navigation: bool = False,
    trust: TrustBoard | None = None,
    app_coords: Callable[[Sequence[Station]], Sequence[AppCoords]] | None = None,
    written: PartsWriter | None = None,
    **members: Any,
) -> bytes:
    """``json_bytes(feature_collection(hits, crs, navigation=…, trust=…, **members))``,
    from cached fragments (:func:`stations.features.feature_collection`); ``trust``'s
    evidence is written over the fragments' default trust members (``TrustBoard.members``).
    ``app_coords`` gives stations' navigation points already converted
    (:meth:`stations.search.StationCatalog.app_coords`); ``written`` a faster writer of a
    missed station's cut feature (:meth:`stations.search.StationCatalog.feature_parts`).
    """
    try:
        tail = _collection_tail(tuple(members.items()))
    except TypeError:  # an unhashable member (a list of links): not kept
        tail = _collection_tail.__wrapped__(tuple(members.items()))
    if trust is None:
        parts, _ = _parts_of(hits, crs, navigation, app_coords=app_coords, written=written)
        return splice(_COLLECTION_HEAD, parts, hits, tail)
    parts, special = _parts_of(hits, crs, navigation, trust.evidence, app_coords, written)
    assessed = trust.members(hits, special) if special else None
    return splice(_COLLECTION_HEAD, parts, hits, tail, assessed)


_COLLECTION_HEAD = b'{"type":"FeatureCollection","features":['


@functools.lru_cache(maxsize=1024)
def _collection_tail(members: tuple[tuple[str, Any], ...]) -> bytes:
    """What follows the features: the top-level members (a page's ``numberReturned``
    repeats from request to request, so its JSON is kept).
    """
    return b"]," + json_bytes(dict(members))[1:] if members else b"]}"
