"""Errors raised by ``geodata`` for bad geographic input.

``geodata`` knows nothing of stations or HTTP; the API maps ``GeodataError`` to a 422
problem document (``api/errors.py``), the CLI prints it as one line.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CatalogText", "GeodataError"]


class CatalogText:
    """A catalog id and its parameters used as a part of a :class:`GeodataError` (where in
    a file: "demand.csv row 5"), so the part reads in the same language as the error.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return self.msgid.format(**self.params)


class GeodataError(ValueError):
    """Bad geographic input: an empty or self-intersecting area, a radius ≤ 0, a bad CRS.

    ``field`` names the parameter at fault so callers can point the user at it.
    ``msgid`` and ``params``, when the error is made with :meth:`from_catalog`, are a message
    id of the ``stations`` gettext catalogs and its parameters: ``geodata`` has no catalogs
    of its own (it sits below ``stations``), so the layers that show the error render it in
    their reader's language (``stations.errors.FieldError.of``, the API, the CLI).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.msgid: str | None = None
        self.params: dict[str, Any] = {}

    @classmethod
    def from_catalog(cls, field: str, msgid: str, **params: Any) -> GeodataError:
        """The error ``msgid`` (English, with ``{placeholders}``) about ``field``; its
        English text is ``msgid`` formatted with ``params``. A param may itself be a
        :class:`CatalogText` or a ``GeodataError`` made this way (a file's name before what is wrong in it): the layers
        above render it in the same language as the message around it.
        """
        error = cls(msgid.format(**params), field)
        error.msgid = msgid
        error.params = params
        return error
