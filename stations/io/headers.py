"""Which field a column header names, and which format a file extension names.

Union sheets head their columns in Chinese (``编号``, ``经度（GCJ-02）``, ``开放时间``), GIS
files in English; both map onto the model's field names here, in one table, so the reader,
the exporter's staff layout and the error messages agree on what a column is called.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ImportFailed

__all__ = [
    "FORMATS",
    "HEADER_ALIASES",
    "IGNORED_HEADERS",
    "blank",
    "file_format",
    "header_key",
    "is_ignored",
    "map_header",
]

#: File extension → format name. The format is always chosen from the extension.
FORMATS: Mapping[str, str] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".gpkg": "gpkg",
}

#: Field → accepted column headers (English contract names first, then Chinese). Matching
#: ignores case, spaces, ``_``/``-``/``.``, a trailing ``*`` and any bracketed note, so
#: ``External ID``, ``经度（GCJ-02）`` and ``名称*`` all match. ``id`` is the store's own id
#: (exported files carry it); ``编号`` is the union's number, i.e. ``external_id``.
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "station_id", "系统编号", "系统id"),
    "external_id": ("external_id", "ext_id", "code", "编号", "驿站编号", "站点编号", "外部编号"),
    "name": ("name", "名称", "驿站名称", "站点名称", "驿站名"),
    "address": ("address", "addr", "地址", "详细地址", "驿站地址", "站点地址"),
    "district": ("district", "区", "所属区域", "区县", "所属区县", "所在区域", "所在区"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "host_type": ("host_type", "type", "类型", "依托类型", "驿站类型", "阵地类型"),
    "host_org": (
        "host_org",
        "host",
        "organisation",
        "organization",
        "依托单位",
        "所属单位",
        "建设单位",
        "运营单位",
    ),
    "amenities": (
        "amenities",
        "services",
        "facilities",
        "服务设施",
        "服务项目",
        "设施",
        "配套设施",
        "服务内容",
    ),
    "opening_hours": ("opening_hours", "hours", "开放时间", "服务时间", "营业时间"),
    "opening_hours_text": ("opening_hours_text", "hours_text", "开放时间原文"),
    "phone": ("phone", "tel", "telephone", "联系电话", "电话", "联系方式"),
    "status": ("status", "状态", "运营状态"),
    "notes": ("notes", "note", "remarks", "备注"),
    "geocoded": ("geocoded", "已地理编码", "地理编码"),
    "entry": ("entry", "进门方式", "进入方式", "入口方式"),
    "no_smartphone_ok": ("no_smartphone_ok", "无智能手机可用", "无需智能手机", "老年机可用"),
}

#: Headers dropped without a warning: what our own exports and reject files add.
IGNORED_HEADERS: tuple[str, ...] = (
    "version",
    "updated_at",
    "verified_at",
    "上次核查",
    "created_at",
    "错误 error",
    "错误",
    "error",
)

_BRACKETED = re.compile(r"[(\[【].*?[)\]】]")
_NOISE = re.compile(r"[\s_\-.:*]+")


def header_key(header: Any) -> str:
    """The comparison key of a column header: NFKC, casefolded, no brackets/spaces/punctuation."""
    text = unicodedata.normalize("NFKC", str(header)).strip()
    text = _BRACKETED.sub("", text)
    return _NOISE.sub("", text.casefold())


_ALIAS_TABLE: dict[str, str] = {
    header_key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}
_IGNORED_KEYS = frozenset(header_key(h) for h in IGNORED_HEADERS)


def map_header(header: Any) -> str | None:
    """The field a column header names, or ``None`` when it names none."""
    if header is None:
        return None
    return _ALIAS_TABLE.get(header_key(header))


def file_format(path: Path) -> str:
    """The format name for ``path``'s extension; ``ImportFailed`` for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFailed(
            [
                FieldError.from_catalog(
                    "file",
                    "unsupported file type {suffix}; use .csv, .xlsx, .geojson or .gpkg",
                    str(path),
                    None,
                    suffix=repr(path.suffix or "(none)"),
                )
            ]
        )
    return fmt


def is_ignored(header: Any) -> bool:
    """Whether a column is one our own exports and reject files add (dropped silently)."""
    return header_key(header) in _IGNORED_KEYS


def blank(value: Any) -> bool:
    """An empty cell: ``None``, whitespace-only text or NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)
