"""Access logs that do not keep riders' precise positions.

The app writes its own access line, one per request, in uvicorn's format
(``INFO:     10.0.0.7:5555 - "GET /livez HTTP/1.1" 200 OK``) from :mod:`api.http.edge`, and
``stations serve`` turns uvicorn's access log off: uvicorn's line went through ``logging``
(a record, a filter, a formatter copying the record, a write and a flush per request), about a
tenth of a worker's time under check-ins. Lines are gathered and written to stdout once per
turn of the event loop. ``STATIONS_ACCESS_LOG=false`` turns them off.

Coordinates in query strings are rounded (:func:`round_coordinates`), in our lines and, by the
:class:`RoundCoordinates` filter, in uvicorn's own when the app runs under a plain ``uvicorn``
command with its access log on.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
import sys
from urllib.parse import quote

from starlette.types import Scope

__all__ = ["AccessLog", "RoundCoordinates", "install_log_filter", "round_coordinates"]

_COORD = re.compile(r"(?<=[?&;])(lat|lon|lng|latitude|longitude)=(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _round(match: re.Match[str]) -> str:
    return f"{match.group(1)}={float(match.group(2)):.3f}"


def round_coordinates(text: str) -> str:
    """``lat``/``lon`` query parameters in ``text`` rounded to 3 decimals (about 100 m).

    Nearest queries carry where a rider is; access logs kept at full precision would be a
    track of each rider's day. Rounded, they still show which area asks for what.
    """
    return _COORD.sub(_round, text)


class RoundCoordinates(logging.Filter):
    """:func:`round_coordinates` on log records (their arguments and message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                round_coordinates(a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = round_coordinates(record.msg)
        return True


def install_log_filter() -> None:
    for name in ("uvicorn.access", "stations.api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RoundCoordinates) for f in logger.filters):
            logger.addFilter(RoundCoordinates())


def _status_text(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} "


#: "201 Created" and the like, as uvicorn writes them.
_STATUS = {s.value: _status_text(s.value) for s in http.HTTPStatus}


class AccessLog:
    """One line per answered request on stdout, uvicorn's format, coordinates rounded."""

    def __init__(self) -> None:
        self._pending: list[str] = []

    def line(self, scope: Scope, status: int) -> str:
        """The access line of a request answered with ``status`` (newline included)."""
        client = scope.get("client")
        where = f"{client[0]}:{client[1]}" if client else ""
        target = quote(scope.get("root_path", "") + scope["path"])
        query = scope.get("query_string")
        if query:
            target = round_coordinates(f"{target}?{query.decode('latin-1')}")
        text = _STATUS.get(status) or _status_text(status)
        return (
            f'INFO:     {where} - "{scope["method"]} {target} HTTP/{scope["http_version"]}" '
            f"{text}\n"
        )

    def write(self, scope: Scope, status: int) -> None:
        """Queue the line; the lines of one turn of the event loop go out in one write."""
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(self.line(scope, status))

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            out = sys.stdout
            out.write("".join(lines))
            out.flush()
