"""Who checks in: the worker types a rider may choose (optional, self-declared).

Codes are stored and exchanged; the Chinese labels are what riders and staff read.
``unspecified`` is what a check-in without a choice is counted as, so a monthly table's
columns always add up to its total.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["UNSPECIFIED", "WORKER_TYPES", "WORKER_COLUMNS"]

#: Worker type code → Chinese label, in the order the page and the reports show them.
WORKER_TYPES: Mapping[str, str] = {
    "delivery": "外卖骑手",
    "courier": "快递员",
    "sanitation": "环卫工人",
    "ride_hailing": "网约车司机",
    "other": "其他",
}

UNSPECIFIED = "unspecified"

#: Every value a stored check-in's ``worker_type`` can hold, with its column heading.
WORKER_COLUMNS: Mapping[str, str] = {**WORKER_TYPES, UNSPECIFIED: "未填写"}
