"""Errors raised by ``geodata`` for bad geographic input.

``geodata`` knows nothing of stations or HTTP; the API maps ``GeodataError`` to a 422
problem document (``api/errors.py``), the CLI prints it as one line.
"""

from __future__ import annotations

__all__ = ["GeodataError"]


class GeodataError(ValueError):
    """Bad geographic input: an empty or self-intersecting area, a radius ≤ 0, a bad CRS.

    ``field`` names the parameter at fault so callers can point the user at it;
    ``message_zh``, when given, says the same in Chinese for the staff and riders who read
    the error (``stations`` carries it into its ``FieldError``).
    """

    def __init__(
        self, message: str, field: str | None = None, *, message_zh: str | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message_zh = message_zh
