"""Minimal HTML pages for the OGC API – Features endpoint (the ``html`` conformance class).

Each page renders the JSON document of the same URL, so the two never disagree. Pages load
nothing from elsewhere (no scripts, no fonts, no CDN: they must open from mainland China and
offline) and every value that came from a user or the store passes through ``html.escape``:
station names and notes are typed by union staff and imported from spreadsheets.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = [
    "CSP",
    "render_collection",
    "render_collections",
    "render_conformance",
    "render_item",
    "render_items",
    "render_landing",
]

#: Sent with every page: no script may run, and only the inline stylesheet applies.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
body{font:15px/1.45 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:1.2em;
color:#222;max-width:72em}
table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}nav{margin-bottom:1em}code{font-size:90%}
"""

_ITEM_COLUMNS = ("name", "address", "host_type", "status", "open_now", "opening_hours", "amenities")


def _e(value: Any) -> str:
    """Escape anything for text or a quoted attribute."""
    if value is None:
        return ""
    if isinstance(value, bool):  # as in the JSON, not Python's True/False
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value), quote=True)
    return escape(str(value), quote=True)


def _a(href: str, text: Any) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>'


def _page(title: str, body: str, doc: dict[str, Any], root: str) -> str:
    alternate = next((lk for lk in doc.get("links", []) if lk.get("rel") == "alternate"), None)
    json_link = f" · {_a(alternate['href'], 'JSON')}" if alternate else ""
    nav = (
        f"<nav>{_a(root + '?f=html', 'OGC API')} · "
        f"{_a(root + '/collections?f=html', 'Collections')}{json_link}</nav>"
    )
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{nav}<h1>{_e(title)}</h1>{body}</body></html>"
    )


def _links_list(links: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<li>{_a(lk['href'], lk.get('title') or lk['href'])} "
        f"<code>{_e(lk['rel'])}</code> <code>{_e(lk.get('type'))}</code></li>"
        for lk in links
    )
    return f"<ul>{rows}</ul>"


def render_landing(doc: dict[str, Any], root: str) -> str:
    body = f"<p>{_e(doc.get('description'))}</p>{_links_list(doc['links'])}"
    return _page(doc["title"], body, doc, root)


def render_conformance(doc: dict[str, Any], root: str) -> str:
    items = "".join(f"<li>{_a(uri, uri)}</li>" for uri in doc["conformsTo"])
    return _page("Conformance", f"<ul>{items}</ul>", doc, root)


def _extent_text(col: dict[str, Any]) -> str:
    bbox = col.get("extent", {}).get("spatial", {}).get("bbox")
    return "—" if not bbox else ", ".join(str(v) for v in bbox[0])


def render_collections(doc: dict[str, Any], root: str) -> str:
    rows = "".join(
        f"<tr><td>{_a(root + '/collections/' + c['id'] + '?f=html', c['id'])}</td>"
        f"<td>{_e(c.get('title'))}</td><td>{_e(c.get('description'))}</td>"
        f"<td>{_e(_extent_text(c))}</td>"
        f"<td>{_a(root + '/collections/' + c['id'] + '/items?f=html', 'items')}</td></tr>"
        for c in doc["collections"]
    )
    body = (
        "<table><tr><th>id</th><th>title</th><th>description</th><th>extent (CRS84)</th>"
        f"<th></th></tr>{rows}</table>"
    )
    return _page("Collections", body, doc, root)


def render_collection(doc: dict[str, Any], root: str) -> str:
    body = (
        f"<p>{_e(doc.get('description'))}</p><table>"
        f"<tr><th>id</th><td>{_e(doc['id'])}</td></tr>"
        f"<tr><th>item type</th><td>{_e(doc.get('itemType'))}</td></tr>"
        f"<tr><th>CRS</th><td>{_e(doc.get('crs'))}</td></tr>"
        f"<tr><th>extent</th><td>{_e(_extent_text(doc))}</td></tr></table>"
        f"{_links_list(doc['links'])}"
    )
    return _page(doc["title"], body, doc, root)


def render_items(fc: dict[str, Any], root: str, collection_id: str) -> str:
    base = f"{root}/collections/{collection_id}/items"
    head = "".join(f"<th>{_e(c)}</th>" for c in ("id", *_ITEM_COLUMNS, "lon", "lat"))
    rows = []
    for f in fc["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        cells = "".join(f"<td>{_e(p.get(c))}</td>" for c in _ITEM_COLUMNS)
        href = f"{base}/{f['id']}?f=html"
        rows.append(
            f"<tr><td>{_a(href, f['id'])}</td>{cells}<td>{_e(lon)}</td><td>{_e(lat)}</td></tr>"
        )
    paging = " · ".join(
        _a(lk["href"], lk["rel"]) for lk in fc["links"] if lk["rel"] in ("prev", "next")
    )
    body = (
        f"<p>{_e(fc['numberReturned'])} of {_e(fc['numberMatched'])} matching stations"
        f" · {_e(fc['timeStamp'])}</p><p>{paging}</p>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table><p>{paging}</p>"
    )
    return _page("Stations", body, fc, root)


def render_item(feature: dict[str, Any], root: str) -> str:
    props = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in props.items())
    rows += f"<tr><th>lon, lat (CRS84)</th><td>{_e(lon)}, {_e(lat)}</td></tr>"
    body = f"<table>{rows}</table>{_links_list(feature['links'])}"
    return _page(str(props.get("name") or feature["id"]), body, feature, root)
