"""Every JS/CSS/image file a page needs, served by the service itself under versioned URLs.

folium pages normally pull ~10 files from jsDelivr, cdnjs, code.jquery.com and bootstrapcdn;
jsDelivr has been unreachable from mainland China since 2022 and such maps show blank there
(folium #1593, #1594). Here every asset comes from an installed XStatic package, from
``fastapi-offline`` (Swagger UI and ReDoc for ``/docs`` and ``/redoc``: no XStatic package
ships them) or from ``maps/static``; its URL carries a content hash, so browsers may cache it
for a year and a new release can never be served stale.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["ASSET_PREFIX", "Asset", "asset_url", "assets", "find_asset"]

ASSET_PREFIX = "/assets"
_STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Asset:
    name: str  # e.g. "leaflet/leaflet.js"
    path: Path

    @property
    def media_type(self) -> str:
        guessed, _ = mimetypes.guess_type(self.path.name)
        if self.path.suffix == ".js":
            return "text/javascript; charset=utf-8"
        if self.path.suffix == ".css":
            return "text/css; charset=utf-8"
        return guessed or "application/octet-stream"

    @property
    def digest(self) -> str:
        return _digest(self.path)

    @property
    def url(self) -> str:
        return f"{ASSET_PREFIX}/{self.digest}/{self.name}"

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


@cache
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def _xstatic_dir(module: str) -> Path:
    import importlib

    pkg = importlib.import_module(f"xstatic.pkg.{module}")
    return Path(pkg.BASE_DIR)


def _package_dir(package: str, sub: str) -> Path:
    """A data directory inside an installed package, found without importing the package
    (``fastapi_offline`` would import FastAPI, which ``maps`` must not load)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed", name=package)
    return Path(next(iter(spec.submodule_search_locations))) / sub


@cache
def assets() -> dict[str, Asset]:
    """All servable assets by name: XStatic Leaflet + MarkerCluster, the API docs' Swagger UI
    and ReDoc bundles (``apidocs/…``) and ``maps/static``."""
    found: dict[str, Asset] = {}
    roots = {
        "leaflet": _xstatic_dir("leaflet"),
        "markercluster": _xstatic_dir("leaflet_markercluster"),
        "apidocs": _package_dir("fastapi_offline", "static"),
        "app": _STATIC,
    }
    for prefix, root in roots.items():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.endswith((".map", ".esm.js")):
                name = f"{prefix}/{path.relative_to(root).as_posix()}"
                found[name] = Asset(name, path)
    return found


def find_asset(name: str) -> Asset | None:
    return assets().get(name)


def asset_url(name: str) -> str:
    """The versioned URL of an asset; an unknown name is a programming error."""
    asset = find_asset(name)
    if asset is None:
        raise KeyError(f"no such asset: {name}")
    return asset.url
