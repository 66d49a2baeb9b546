"""``pybabel`` over the code and the console's templates, as a developer runs it.

The extraction (:mod:`tests.stations.i18n.extraction`) runs in process through Babel's own
command line, so what this test reads is what ``pybabel extract -F babel.cfg`` gives; every
id it finds must have a translation in both catalogs, ``pybabel compile`` must give the
shipped ``.mo`` files, and no template may write Chinese outside ``_()``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from jinja2 import Environment, nodes

from stations.i18n import LOCALE_DIR
from tests.stations.i18n.extraction import ROOT, catalog, extract, pybabel

LANGS = ["zh_CN", "en"]
TEMPLATES = ROOT / "api/admin/templates"


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return extract()


def _sources(extracted: Catalog) -> set[str]:
    """The files messages were found in, relative to the repository."""
    return {
        Path(loc[0]).resolve().relative_to(ROOT).as_posix()
        for m in extracted
        if m.id
        for loc in m.locations
    }


def test_the_extraction_reads_code_and_templates(extracted: Catalog) -> None:
    """The mapping finds both kinds of source (a broken section would find nothing)."""
    sources = _sources(extracted)
    assert {"stations", "api"} <= {s.split("/")[0] for s in sources}
    assert {f"api/admin/templates/{p.name}" for p in TEMPLATES.glob("*.html")} <= sources
    assert extracted.get("System ID") is not None  # {{ _("System ID") }} in list.html
    assert extracted.get("is required") is not None  # c.fail(field, "is required")


@pytest.mark.parametrize("lang", LANGS)
def test_every_extracted_message_is_translated(extracted: Catalog, lang: str) -> None:
    po = catalog(lang)
    missing = []
    for message in extracted:
        if not message.id:
            continue
        entry = po.get(message.id)
        if entry is None or not entry.string:
            missing.append((message.id, message.locations[:1]))
    assert missing == [], f"add to {lang}/LC_MESSAGES/stations.po, then python -m stations.i18n"


def test_the_shipped_mo_files_are_what_pybabel_compiles(tmp_path: Path) -> None:
    for lang in LANGS:
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "stations.po").write_bytes(
            (LOCALE_DIR / lang / "LC_MESSAGES/stations.po").read_bytes()
        )
    pybabel("compile", "--directory", str(tmp_path), "--domain", "stations")
    for lang in LANGS:
        compiled = (tmp_path / lang / "LC_MESSAGES/stations.mo").read_bytes()
        shipped = (LOCALE_DIR / lang / "LC_MESSAGES/stations.mo").read_bytes()
        assert compiled == shipped, f"{lang}: run python -m stations.i18n"


def _literal_chinese(source: str) -> list[str]:
    """Chinese in a template that does not go through ``_()``: page text, attribute values
    and string constants alike."""
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)
    translated = {
        id(arg)
        for call in tree.find_all(nodes.Call)
        if isinstance(call.node, nodes.Name) and call.node.name == "_"
        for arg in call.args
    }
    found = []
    for node in tree.find_all((nodes.TemplateData, nodes.Const)):
        text = node.data if isinstance(node, nodes.TemplateData) else node.value
        if isinstance(node, nodes.Const) and id(node) in translated:
            continue
        if isinstance(text, str):
            # The switch to Chinese names the language in Chinese, whatever the page's language.
            text = text.replace('lang="zh-CN">中文<', "")
            found += [text.strip()[:60]] if any("\u4e00" <= ch <= "\u9fff" for ch in text) else []
    return found


@pytest.mark.parametrize("page", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_page_writes_chinese_outside_the_catalog(page: str) -> None:
    assert _literal_chinese((TEMPLATES / page).read_text(encoding="utf-8")) == []


def test_the_literal_check_sees_text_attributes_and_constants() -> None:
    assert _literal_chinese("<p>驿站</p>") == ["<p>驿站</p>"]
    assert _literal_chinese('<a title="查看">x</a>') != []
    assert _literal_chinese("{{ '编辑' if x else '' }}") == ["编辑"]
    assert _literal_chinese('<p>{{ _("Station") }}</p>') == []
