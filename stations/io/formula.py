"""Spreadsheet formula injection: CSV cells neutralised on the way out, restored on the way in.

A station name like ``=HYPERLINK("http://evil","点我")`` or ``@SUM(1+1)`` written raw into a
CSV becomes a live formula when a clerk opens the file in Excel or WPS. The OWASP rule
("CSV Injection"): a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with a leading ``'``, which spreadsheets show as text. Plain numbers
(``-12.5``, a western longitude) are left alone: they are numbers, not formulas, and
exports must stay lossless. Reading strips exactly that one quote again, so
``import(export(x)) == x`` still holds for a name that really starts with ``=``.
(XLSX needs no quote: every string is written as a text cell, and one that looks like a
formula also gets the cell's "quote prefix", so editing it in Excel keeps it text.)
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["looks_like_formula", "neutralise", "restore"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def looks_like_formula(value: Any) -> bool:
    """Text a spreadsheet would take for a formula if it were typed into a cell."""
    return isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value)


def neutralise(value: Any) -> Any:
    """``value`` safe to write as a CSV cell (only text starting with a trigger changes)."""
    return "'" + value if looks_like_formula(value) else value


def restore(value: Any) -> Any:
    """Undo :func:`neutralise` on a cell read from CSV."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value
