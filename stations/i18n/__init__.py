"""Messages staff and riders read, from gettext catalogs (Babel), Chinese first.

Message ids are English; ``locale/zh_CN/LC_MESSAGES/stations.po`` holds the Chinese and
``locale/en`` the (identity) English catalog. The compiled ``.mo`` files are shipped beside
the ``.po`` files, so an editable install of a fresh clone has them; a test compiles the
``.po`` files with Babel and checks the shipped ``.mo`` files match, and that every message
the code asks for is in both catalogs. ``python -m stations.i18n`` recompiles them.

* :func:`both` — ``"中文 English"``: what the command line prints (Chinese first).
* :func:`translate` — one language, for an answer that negotiated one.
* :func:`translations` — a language's catalog as ``gettext`` translations (the console's
  Jinja2 templates install it).
* :func:`negotiate` — the language an ``Accept-Language`` header prefers (zh-CN or en).
* :func:`N_` — marks a message id kept for later (a table of ids); returns it unchanged.
* :class:`Message` — an id and its parameters, rendered later in the reader's language (a
  part of a larger message, e.g. "row 5" inside "probable duplicate of row 5").
* :class:`Joined` — several such parts as one parameter (a list of refused rows).

``stations.errors.FieldError.from_catalog(field, msgid, …)`` carries an id and its parameters, so a
field error is rendered in each reader's language where it is shown.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "LANGUAGES",
    "LOCALE_DIR",
    "Joined",
    "Message",
    "N_",
    "both",
    "negotiate",
    "translate",
    "translations",
]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "stations"
#: Languages with a catalog, as ``Accept-Language`` tags (first = Chinese).
LANGUAGES = ("zh-CN", "en")
_CATALOG = {"zh-CN": "zh_CN", "en": "en"}


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "translate later"
    """``message`` unchanged: marks a catalog id that is translated where it is shown."""
    return message


class Message:
    """A catalog id with its parameters, rendered when the reader's language is known.

    Used as a parameter of another message (``FieldError.from_catalog`` renders a param
    with ``text(lang)`` in the same language as the message around it), and nests.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh-CN`` or ``en``)."""
        values = {k: (v.text(lang) if hasattr(v, "text") else v) for k, v in self.params.items()}
        return translate(self.msgid, lang, **values)

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"


class Joined:
    """Several messages (or plain texts) as one parameter, each rendered in the reader's
    language and joined with ``sep`` (e.g. every refused row of an import).
    """

    __slots__ = ("parts", "sep")

    def __init__(self, parts: list[Any], sep: str = "; ") -> None:
        self.parts = parts
        self.sep = sep

    def text(self, lang: str) -> str:
        """The parts in ``lang``, joined."""
        return self.sep.join(p.text(lang) if hasattr(p, "text") else str(p) for p in self.parts)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (``zh-CN`` or ``en``; anything else English), as gettext
    translations: what Jinja2's i18n extension installs to render a page in ``lang``.
    """
    catalog = _CATALOG.get(lang, "en")
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[catalog], fallback=True)


def translate(message: str, lang: str, **values: Any) -> str:
    """``message`` (an English msgid) in ``lang`` (``zh-CN`` or ``en``), formatted."""
    text = translations(lang).gettext(message)
    return text.format(**values) if values else text


def both(message: str, **values: Any) -> str:
    """Chinese, then English: ``新增 added: 3``."""
    zh = translate(message, "zh-CN", **values)
    en = translate(message, "en", **values)
    return zh if zh == en else f"{zh} {en}"


def negotiate(header: str | None, default: str = "en") -> str:
    """The catalog language an ``Accept-Language`` header prefers, else ``default``.

    ``zh``, ``zh-CN``, ``zh-Hans`` … choose Chinese; ``en-*`` English; ``q`` weights order
    the choices; anything else falls through to the next choice and finally ``default``.
    """
    if not header:
        return default
    choices: list[tuple[float, int, str]] = []
    for k, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        choices.append((-q, k, tag.strip().lower()))
    for negq, _, tag in sorted(choices):
        if negq >= 0:
            continue
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
        if tag == "*":
            return default
    return default
