"""One error hierarchy for the domain, each class carrying its HTTP meaning.

Nothing below ``api/`` raises ``HTTPException``; ``api/errors.py`` maps these to RFC 9457
problem documents in one place, and the CLI prints ``str(error)`` as one line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from geodata.errors import CatalogText, GeodataError
from stations.i18n import Message

__all__ = [
    "geodata_message",
    "StationsError",
    "ValidationFailed",
    "FieldError",
    "NotFound",
    "Conflict",
    "TooManyRequests",
    "PreconditionFailed",
    "Unauthorized",
    "Forbidden",
    "ImportFailed",
    "ConfigurationError",
]


def geodata_message(exc: GeodataError) -> Message | None:
    """A ``geodata`` error as a catalog message, ``None`` when it gave no catalog id.

    Why here: ``geodata`` has no catalogs; its ids are the ``stations`` catalogs', and a
    param that is itself such an error (an area file's name before what is wrong in it)
    nests, so the whole line reads in one language wherever it is shown.
    """
    if exc.msgid is None:
        return None
    return _geodata_part(exc)  # type: ignore[return-value]


def _geodata_part(part: Any) -> Any:
    """A ``geodata`` error or :class:`CatalogText` (and their nested parts) as a Message."""
    if isinstance(part, GeodataError | CatalogText):
        if part.msgid is None:
            return str(part)
        return Message(part.msgid, **{k: _geodata_part(v) for k, v in part.params.items()})
    return part


@dataclass
class FieldError:
    """One problem with one field, located as precisely as the input allows.

    Made with :meth:`from_catalog`, it carries a catalog message id (English, with ``{placeholders}``)
    and its ``params``; each interface renders it in its reader's language with
    :meth:`text` (the command line Chinese then English, the API per ``Accept-Language``,
    the console Chinese). ``message`` (English) and ``message_zh`` are those renderings, kept
    for the callers that read them.
    """

    field: str
    message: str
    value: Any = None
    row: int | None = None
    message_zh: str | None = None
    msgid: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_catalog(
        cls, name: str, msgid: str, value: Any = None, row: int | None = None, **params: Any
    ) -> FieldError:
        """The error ``msgid`` (a catalog id) about field ``name``, with ``params``.

        A param with a ``text(lang)`` method (a nested message, e.g. the hours parser's
        reason) is rendered in the same language as the message around it.
        """
        return cls(
            name,
            _render(msgid, "en", params),
            value,
            row,
            _render(msgid, "zh-CN", params),
            msgid,
            params,
        )

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh-CN`` or ``en``)."""
        if self.msgid is not None:
            return _render(self.msgid, lang, self.params)
        if lang == "zh-CN" and self.message_zh:
            return self.message_zh
        return self.message

    @classmethod
    def of(
        cls, exc: GeodataError, value: Any = None, row: int | None = None, field: str = "value"
    ) -> FieldError:
        """The same problem as ``geodata`` reported it, located in the domain's terms
        (``field`` when ``geodata`` named none; from the catalogs when it gave its message id).
        """
        name = exc.field or field
        message = geodata_message(exc)
        if message is not None:
            return cls.from_catalog(name, message.msgid, value, row, **message.params)
        return cls(name, str(exc), value, row)

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        val = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}{self.field}: {self.message}{val}"


def _render(msgid: str, lang: str, params: dict[str, Any]) -> str:
    return Message(msgid, **params).text(lang)


class StationsError(Exception):
    """Base class; ``status`` is the HTTP status the API answers with.

    ``detail`` is a :class:`~stations.i18n.Message` (a catalog id and its parameters) when
    people read it: each interface renders it with :meth:`text` in its reader's language
    (the API per ``Accept-Language``, the command line Chinese then English), and
    ``self.detail`` is its English. A plain string is kept as it is, in every language.
    """

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str | Message, **extra: Any) -> None:
        self.message = detail if isinstance(detail, Message) else None
        text = detail.text("en") if isinstance(detail, Message) else detail
        super().__init__(text)
        self.detail = text
        self.extra = extra

    def text(self, lang: str) -> str:
        """The detail in ``lang`` (``zh-CN`` or ``en``)."""
        return self.message.text(lang) if self.message is not None else self.detail


class ValidationFailed(StationsError):
    """Input that breaks the model's rules; carries every field error, not just the first."""

    status = 422
    title = "Validation failed"

    def __init__(self, errors: list[FieldError], detail: str | Message | None = None) -> None:
        self.errors = errors
        super().__init__(detail or "; ".join(str(e) for e in errors))

    def text(self, lang: str) -> str:
        """The detail in ``lang``; without one of its own, the field errors in ``lang``."""
        if self.message is not None or lang == "en" or not self.errors:
            return super().text(lang)
        return "；".join(f"{e.field}：{e.text(lang)}" for e in self.errors)


class NotFound(StationsError):
    """The station (or other record) asked for does not exist."""

    status = 404
    title = "Not found"


class Conflict(StationsError):
    """The request clashes with the stored state (e.g. a duplicate external id)."""

    status = 409
    title = "Conflict"


class TooManyRequests(StationsError):
    """Too soon to do that again; ``retry_after_s`` (extra) says when it will be accepted."""

    status = 429
    title = "Too many requests"


class PreconditionFailed(StationsError):
    """A write carried a stale version (If-Match): someone else changed the record first."""

    status = 412
    title = "Precondition failed"


class PreconditionRequired(StationsError):
    """A write that must name the version it undoes (If-Match) came without one."""

    status = 428
    title = "Precondition required"


class Unauthorized(StationsError):
    """No (or no valid) credentials: log in or send a bearer token."""

    status = 401
    title = "Unauthorized"


class Forbidden(StationsError):
    """Authenticated, but the role is too weak for this."""

    status = 403
    title = "Forbidden"


class ImportFailed(ValidationFailed):
    """A file import that was refused as a whole; ``errors`` lists every bad row.

    ``report`` is the import's plan (a ``stations.io.report.ImportReport``: counts of what
    would have been added, updated and refused) when the file could be read at all, so a
    caller can show it beside the errors. Typed loosely: ``stations.io`` imports this module.
    """

    title = "Import failed"

    def __init__(
        self,
        errors: list[FieldError],
        detail: str | Message | None = None,
        *,
        report: Any = None,
    ) -> None:
        super().__init__(errors, detail)
        self.report = report


class ConfigurationError(StationsError):
    """The service is set up wrongly (a missing engine, setting or file)."""

    status = 500
    title = "Configuration error"
