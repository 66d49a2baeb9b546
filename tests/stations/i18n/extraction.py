"""Babel's extraction as a developer runs it: ``pybabel extract -F babel.cfg`` with the keywords.

``babel.cfg`` says where messages are (the Python packages and ``api/admin/templates``);
:data:`KEYWORDS` which Python calls carry a message id. Both catalog tests read what this
gives, so there is one list of keywords and one extraction.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from stations.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[3]

#: Python calls whose argument is a catalog id, as ``pybabel extract -k`` takes them
#: (``name`` = the first argument, ``name:2`` = the second); Babel's defaults (``_``,
#: ``gettext``, ``N_`` …) are kept, and are what the templates use.
KEYWORDS = [
    "both",
    "translate",
    # FieldError.from_catalog(field, msgid, …) and the model's c.fail(field, msgid, …).
    "from_catalog:2",
    "fail:2",
    # stations.io's whole-file errors: file_error(path, msgid, …), _refuse_file(path, msgid, …)
    "file_error:2",
    "_refuse_file:2",
    "_refuse",  # stations.photos.process: _refuse(msgid, …)
    "Message",
    "CatalogText",  # geodata.errors.CatalogText(msgid, …): a part of a geodata error
    "HoursSyntaxError:2",
]


def pybabel(*args: str) -> None:
    """Babel's command line, in process."""
    CommandLineInterface().run(["pybabel", "--quiet", *args])


@cache
def extract() -> Catalog:
    """Every message id in the code and the templates, with where each was found."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "stations.pot"
        keywords = [f"--keyword={k}" for k in KEYWORDS]
        mapping = str(ROOT / "babel.cfg")
        pybabel("extract", "--mapping-file", mapping, *keywords, "-o", str(pot), str(ROOT))
        with open(pot, "rb") as fh:
            return read_po(fh)


def catalog(lang: str) -> Catalog:
    """The ``.po`` catalog of ``lang`` (``zh_CN`` or ``en``)."""
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "stations.po", "rb") as fh:
        return read_po(fh, locale=lang)
