"""The controlled vocabularies of a station: amenity, host-type and status codes.

Codes are the stable English identifiers stored and exchanged in the API; the Chinese labels
are what union staff and riders read. Both are accepted on input, because union spreadsheets
are written in Chinese (``热水`` means ``hot_water``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stations.errors import FieldError, ValidationFailed
from stations.i18n import N_

__all__ = [
    "AMENITIES",
    "ENTRY_METHODS",
    "HOST_TYPES",
    "STATUSES",
    "UnknownCode",
    "codes",
    "distance_words",
    "entry_words",
    "normalise_code",
]

#: Amenity code → Chinese label, in the order shown to users.
AMENITIES: Mapping[str, str] = {
    "drinking_water": "饮用水",
    "hot_water": "热水",
    "microwave": "微波炉",
    "fridge": "冰箱",
    "charging": "手机充电",
    "toilet": "卫生间",
    "seating": "休息座椅",
    "air_conditioning": "空调",
    "heating": "取暖",
    "first_aid": "医药箱",
    "wifi": "无线网络",
    "umbrella": "雨具",
    "repair_tools": "维修工具",
    "reading": "书报",
}

#: Host type code → Chinese label.
HOST_TYPES: Mapping[str, str] = {
    "bank": "银行网点",
    "express_depot": "快递网点",
    "union_office": "工会",
    "convenience_store": "便利店",
    "gas_station": "加油站",
    "community_center": "社区服务中心",
    "government": "政府机关",
    "other": "其他",
}

#: Status code → Chinese label.
STATUSES: Mapping[str, str] = {
    "open": "正常开放",
    "temporarily_closed": "暂停开放",
    "closed": "已关闭",
}

#: How a rider gets in → Chinese label (what the embed card says).
ENTRY_METHODS: Mapping[str, str] = {
    "open_door": "门开着，直接进",
    "staffed": "有工作人员开门",
    "scan": "扫码进门",
    "face_or_id": "刷脸或刷证件",
    "code_lock": "密码锁",
    "other": "其他方式",
}


def distance_words(metres: float) -> str:
    """A distance as riders and staff say it: "350 米", "1.4 公里"."""
    return f"{metres:.0f} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"


def entry_words(entry: str | None, no_smartphone_ok: bool | None) -> str:
    """How to get in, as a rider reads it: ``扫码进门，需要智能手机``; empty when not recorded.

    The poster's page says it with this; ``maps/static/common/words.js``'s ``entryText``
    says the same from a station's properties in the browser (a test compares them).
    """
    label = ENTRY_METHODS.get(entry or "")
    words = [label] if label else []
    if no_smartphone_ok is True:
        words.append("不用智能手机也能进")
    elif no_smartphone_ok is False:
        words.append("需要智能手机")
    return "，".join(words)


# Extra spellings seen in union sheets, mapped to codes.
_ALIASES: dict[str, dict[str, str]] = {
    "amenity": {
        "饮水": "drinking_water",
        "开水": "hot_water",
        "充电": "charging",
        "厕所": "toilet",
        "洗手间": "toilet",
        "座椅": "seating",
        "休息区": "seating",
        "暖气": "heating",
        "药箱": "first_aid",
        "急救箱": "first_aid",
        "wi-fi": "wifi",
        "雨伞": "umbrella",
        "打气筒": "repair_tools",
        "图书": "reading",
    },
    "host_type": {
        "银行": "bank",
        "快递": "express_depot",
        "快递站": "express_depot",
        "工会驿站": "union_office",
        "社区": "community_center",
    },
    "entry": {
        "直接进": "open_door",
        "敞开": "open_door",
        "有人值守": "staffed",
        "值守": "staffed",
        "扫码": "scan",
        "刷脸": "face_or_id",
        "刷证": "face_or_id",
        "密码": "code_lock",
        "其他": "other",
    },
    "status": {
        "开放": "open",
        "暂停": "temporarily_closed",
        "暂时关闭": "temporarily_closed",
        "关闭": "closed",
    },
}

_VOCABS: dict[str, Mapping[str, str]] = {
    "amenity": AMENITIES,
    "host_type": HOST_TYPES,
    "status": STATUSES,
    "entry": ENTRY_METHODS,
}


#: The message for a value not in a vocabulary, per vocabulary (catalog ids).
_UNKNOWN: dict[str, str] = {
    "amenity": N_("unknown amenity {given}; valid: {valid}"),
    "host_type": N_("unknown host_type {given}; valid: {valid}"),
    "status": N_("unknown status {given}; valid: {valid}"),
    "entry": N_("unknown entry {given}; valid: {valid}"),
}


class UnknownCode(ValueError):
    """A value that is no code, label or alias of its vocabulary.

    ``msgid`` and ``params`` give the message (with every valid code and its Chinese
    label) in either language: ``FieldError.from_catalog(field, exc.msgid, value, **exc.params)``.
    """

    def __init__(self, kind: str, value: str) -> None:
        vocab = _VOCABS[kind]
        self.msgid = _UNKNOWN[kind]
        self.params: dict[str, Any] = {
            "given": repr(value),
            "written": value,
            "valid": ", ".join(f"{c} ({label})" for c, label in vocab.items()),
            "labels": "、".join(vocab.values()),
        }
        super().__init__(self.msgid.format(**self.params))

    def error(self, name: str, value: Any, row: int | None = None) -> FieldError:
        """The problem as a field error about ``name``."""
        return FieldError.from_catalog(name, self.msgid, value, row, **self.params)


def _lookup_table(kind: str) -> dict[str, str]:
    vocab = _VOCABS[kind]
    table = {code: code for code in vocab}
    table.update({label: code for code, label in vocab.items()})
    table.update(_ALIASES.get(kind, {}))
    return table


_TABLES = {kind: _lookup_table(kind) for kind in _VOCABS}


def normalise_code(kind: str, value: str) -> str:
    """Return the code for ``value`` (a code, a Chinese label or a known alias).

    Parameters
    ----------
    kind : {"amenity", "host_type", "status"}
    value : str
        What the user wrote; case and surrounding spaces do not matter.

    Raises
    ------
    UnknownCode
        A ``ValueError`` listing the valid codes and labels, so the message alone tells
        the user how to fix it.
    """
    key = value.strip()
    table = _TABLES[kind]
    code = table.get(key) or table.get(key.lower())
    if code is None:
        raise UnknownCode(kind, value)
    return code


def codes(kind: str, values: list[str] | None) -> frozenset[str]:
    """Codes for ``values`` (codes, labels, comma lists); all unknown ones reported at once.

    Raises ``ValidationFailed`` naming ``kind`` as the field, for the API's query parameters
    and the CLI's options alike.
    """
    out = set()
    errors = []
    for raw in values or []:
        for item in raw.split(","):
            if not item.strip():
                continue
            try:
                out.add(normalise_code(kind, item))
            except UnknownCode as exc:
                errors.append(exc.error(kind, item))
    if errors:
        raise ValidationFailed(errors)
    return frozenset(out)
