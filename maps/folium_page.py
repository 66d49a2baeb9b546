"""The folium page every map is built on: local assets only, basemaps of one CRS, safe data.

folium's ``Map`` pulls Leaflet, jQuery, Bootstrap and Font Awesome from jsDelivr, cdnjs,
code.jquery.com and bootstrapcdn, which are slow or unreachable from mainland China (folium
#1593, #1594). ``LocalMap`` empties those lists on a subclass *and* per instance — folium keeps
them as class attributes and ``add_js_link`` edits them in place, so changing them on
``folium.Map`` would leak into every later map in the process. The page loads instead the
files named in its ``AssetBundle``: served from ``/assets/<hash>/…`` (see ``maps.assets``) or,
for a file written to disk, inlined so that it opens offline.

Overlay data never goes through folium's JavaScript templates: it is embedded as JSON in a
``<script type="application/json">`` block (``<``, ``>`` and ``&`` escaped, so a station
called ``</script><script>…`` stays data) and drawn by the page's own small scripts in
``maps/static/map``, which put text into the DOM with ``textContent`` only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from maps.assets import Asset, asset_url, find_asset
from maps.basemaps import Basemap, TileSource

__all__ = [
    "AssetBundle",
    "JsonBlock",
    "LocalMap",
    "PageFigure",
    "ScriptCall",
    "ScriptLayer",
    "base_page",
    "basemap_links",
    "finish_page",
    "inline_script_hashes",
    "json_for_html",
    "MAP_ASSETS",
    "render",
]

#: What every map page loads, in order (CSS first, then scripts).
MAP_ASSETS: tuple[str, ...] = (
    "leaflet/leaflet.css",
    "markercluster/MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css",
    "app/map/map.css",
    "leaflet/leaflet.js",
    "markercluster/leaflet.markercluster.js",
    "app/common/crs.js",
    "app/map/core.js",
)

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)


def json_for_html(data: Any) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc., so no value can close the element or open
    a comment; ``JSON.parse`` gives back the original strings.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class PageFigure(Figure):
    """folium's Figure with ``lang="zh-CN"`` and an escaped title."""

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n'
        "<head>\n"
        "{% if this.title %}<title>{{ this.title|e }}</title>{% endif %}\n"
        "    {{ this.header.render(**kwargs) }}\n"
        "</head>\n"
        "<body>\n"
        "    {{ this.html.render(**kwargs) }}\n"
        "</body>\n"
        "<script>\n"
        "    {{ this.script.render(**kwargs) }}\n"
        "</script>\n"
        "</html>\n"
    )


class LocalMap(folium.Map):
    """A ``folium.Map`` that links no CDN: its JS/CSS come from an ``AssetBundle``.

    The empty lists are this subclass's own (folium's are untouched), and each instance gets
    fresh copies, so even ``add_js_link`` on one map cannot reach another.
    """

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_js = []
        self.default_css = []


class AssetBundle(Element):
    """``<link>``/``<script>`` tags for local assets, or the files themselves inlined.

    Inlined CSS has its ``url(…)`` references to other assets (Leaflet's layer icons)
    turned into ``data:`` URIs, so the file needs nothing else.
    """

    def __init__(self, names: Sequence[str], *, inline: bool = False) -> None:
        super().__init__()
        self._name = "AssetBundle"
        self.names = tuple(names)
        self.inline = inline
        for name in self.names:  # fail at build time, not with a 404 in someone's browser
            asset_url(name)

    def render(self, **kwargs: Any) -> str:
        tags = []
        for name in self.names:
            asset = find_asset(name)
            assert asset is not None  # checked in __init__
            is_css = name.endswith(".css")
            if self.inline:
                text = asset.read_bytes().decode("utf-8")
                if is_css:
                    tags.append(f"<style>\n{_inline_css(asset, text)}\n</style>")
                else:
                    tags.append(f"<script>\n{_inline_js(text)}\n</script>")
            elif is_css:
                tags.append(f'<link rel="stylesheet" href="{html.escape(asset.url)}">')
            else:
                tags.append(f'<script src="{html.escape(asset.url)}"></script>')
        return "\n".join(tags)


def _inline_js(text: str) -> str:
    # "</script" anywhere in a script ends the element; "<\/script" means the same in JS.
    return _SCRIPT_END.sub(r"<\\/\1", text).replace("<!--", "<\\!--")


def _inline_css(asset: Asset, text: str) -> str:
    if re.search(r"</style", text, re.IGNORECASE):
        raise ValueError(f"{asset.name} contains '</style' and cannot be inlined")
    base = posixpath.dirname(asset.name)

    def data_uri(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return match.group(0)
        target = find_asset(posixpath.normpath(posixpath.join(base, ref.split("?")[0])))
        if target is None:
            raise ValueError(f"{asset.name} refers to {ref!r}, which is not a known asset")
        encoded = base64.b64encode(target.read_bytes()).decode("ascii")
        return f'url("data:{target.media_type};base64,{encoded}")'

    return _CSS_URL.sub(data_uri, text)


class _Verbatim(Element):
    """Markup added as it is. (A plain branca ``Element(text)`` compiles ``text`` as a Jinja
    template, so ``{{ … }}`` in a station name would run on the server.)"""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class VerbatimMacro(MacroElement):
    """A MacroElement whose rendered output is placed verbatim, never compiled again.

    branca's ``MacroElement.render`` wraps each macro's output in ``Element(output)``, which
    compiles it as a template: data inside the output (station names, addresses…) became
    server-side template code. Every element here that carries data derives from this.
    """

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(
                    _Verbatim(macro(self, kwargs)), name=self.get_name()
                )
        for element in self._children.values():
            element.render(**kwargs)


class JsonBlock(VerbatimMacro):
    """A ``<script type="application/json" id=…>`` element holding ``data`` (escaped)."""

    _template = Template(
        "{% macro html(this, kwargs) %}"
        '<script type="application/json" id="{{ this.block_id|e }}">{{ this.payload }}</script>'
        "{% endmacro %}"
    )

    def __init__(self, block_id: str, data: Any) -> None:
        super().__init__()
        self._name = "JsonBlock"
        self.block_id = block_id
        self.payload = json_for_html(data)


class ScriptCall(VerbatimMacro):
    """One statement of page script: ``WarmMap.<function>(map, options)``."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.function }}({{ this._parent.get_name() }}, {{ this.options|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, function: str, options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ScriptCall"
        self.function = function
        self.options = options


class ScriptLayer(folium.map.Layer, VerbatimMacro):
    """A layer built in the browser by ``WarmMap.<factory>(map, options)``.

    Being a folium ``Layer`` puts it in the layer control under ``name``.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = {{ this.factory }}({{ this._parent.get_name() }}, "
        "{{ this.options|tojson }});"
        "{% endmacro %}"
    )

    def __init__(
        self, factory: str, options: dict[str, Any], *, name: str, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ScriptLayer"
        self.factory = factory
        self.options = options


def _tile_layer(source: TileSource, *, name: str, show: bool, control: bool) -> folium.TileLayer:
    return folium.TileLayer(
        tiles=source.url,
        attr=source.attribution,
        name=name,
        overlay=False,
        control=control,
        show=show,
        subdomains=source.subdomains or "abc",
        max_zoom=source.max_zoom,
        max_native_zoom=source.max_native_zoom,
    )


def _add_basemap(m: LocalMap, basemap: Basemap, show: bool) -> None:
    if len(basemap.layers) == 1:
        _tile_layer(basemap.layers[0], name=basemap.label, show=show, control=True).add_to(m)
        return
    # Several tile layers (roads + labels) switched as one base layer.
    group = folium.FeatureGroup(name=basemap.label, overlay=False, control=True, show=show)
    for source in basemap.layers:
        _tile_layer(source, name=basemap.label, show=True, control=False).add_to(group)
    group.add_to(m)


def base_page(
    basemaps: Sequence[Basemap],
    *,
    title: str,
    assets: Iterable[str] = (),
    inline: bool = False,
    center: tuple[float, float] = (39.8, 116.5),
    zoom: int = 12,
) -> tuple[PageFigure, LocalMap]:
    """A figure holding a ``LocalMap`` with ``basemaps`` (first one shown) and the assets.

    Parameters
    ----------
    basemaps
        All in one CRS (``maps.basemaps.same_crs``): overlays are drawn in that CRS.
    assets
        Names of assets beyond ``MAP_ASSETS`` (page scripts), loaded after them.
    inline
        Inline every asset (a self-contained file) instead of linking ``/assets/…``.
    center
        (lat, lon) to start at; pages usually fit their data's bounds right after.
    """
    crs = {b.crs for b in basemaps}
    if len(crs) != 1:
        raise ValueError(f"basemaps of one page must share one CRS, got {sorted(crs)}")
    figure = PageFigure(title=title)
    bundle = AssetBundle([*MAP_ASSETS, *assets], inline=inline)
    figure.header.add_child(bundle, name="assets")
    m = LocalMap(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        font_size="14px",
        prefer_canvas=False,
        zoom_snap=0.5,
    )
    figure.add_child(m)
    for i, basemap in enumerate(basemaps):
        _add_basemap(m, basemap, show=i == 0)
    return figure, m


def basemap_links(current: Basemap, choices: Sequence[Basemap]) -> list[dict[str, Any]]:
    """One entry per page (per CRS family): ``{"code", "label", "current"}`` for the page."""
    seen: dict[str, dict[str, Any]] = {}
    for b in choices:
        if b.page != b.code or b.page in seen:
            continue  # a companion basemap shown in the layer control of its page
        seen[b.page] = {"code": b.page, "label": b.label, "current": b.page == current.page}
    return list(seen.values())


def finish_page(m: LocalMap) -> None:
    """Add the layer control; call after every layer so it lists them all."""
    folium.LayerControl(position="topright", collapsed=True).add_to(m)


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(page: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) of the page's inline scripts.

    folium writes the map's set-up as inline script; a Content-Security-Policy that allows
    exactly these hashes runs them and nothing injected. (JSON data blocks are never run, so
    they need no hash.)
    """
    out = []
    for match in _INLINE_SCRIPT.finditer(page):
        digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
        out.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return list(dict.fromkeys(out))


def render(figure: Figure) -> str:
    """The page's HTML."""
    return figure.render()
