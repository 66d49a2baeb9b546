"""Access logs that do not keep riders' precise positions."""

from __future__ import annotations

import logging
import re

__all__ = ["RoundCoordinates", "install_log_filter"]

_COORD = re.compile(r"(?<=[?&;])(lat|lon|lng|latitude|longitude)=(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _round(match: re.Match[str]) -> str:
    return f"{match.group(1)}={float(match.group(2)):.3f}"


class RoundCoordinates(logging.Filter):
    """Rounds ``lat``/``lon`` query parameters in log lines to 3 decimals (about 100 m).

    Nearest queries carry where a rider is; access logs kept at full precision would be a
    track of each rider's day. Rounded, they still show which area asks for what.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _COORD.sub(_round, a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = _COORD.sub(_round, record.msg)
        return True


def install_log_filter() -> None:
    for name in ("uvicorn.access", "stations.api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RoundCoordinates) for f in logger.filters):
            logger.addFilter(RoundCoordinates())
