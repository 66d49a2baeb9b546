"""``python -m stations.i18n``: compile the ``.po`` catalogs to the shipped ``.mo`` files."""

from __future__ import annotations

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from stations.i18n import LOCALE_DIR


def compile_catalogs() -> list[str]:
    """Write every ``stations.mo`` from its ``stations.po``; returns the paths written."""
    written = []
    for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/stations.po")):
        with open(po, "rb") as fh:
            catalog = read_po(fh, locale=po.parents[1].name)
        with open(po.with_suffix(".mo"), "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        written.append(str(po.with_suffix(".mo")))
    return written


if __name__ == "__main__":
    print("\n".join(compile_catalogs()))
