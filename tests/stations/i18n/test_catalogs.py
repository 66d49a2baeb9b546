"""The gettext catalogs: shipped compiled, complete, and used in both languages."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from api.app import create_app
from api.http.params import pydantic_message
from api.settings import Settings
from stations.errors import FieldError, NotFound, StationsError, ValidationFailed
from stations.i18n import LOCALE_DIR, Message, both, negotiate, translate
from stations.model import validate_station
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import add_staff, test_settings
from tests.conftest import make_station
from tests.stations.i18n.extraction import extract

ROOT = Path(__file__).resolve().parents[3]
LANGS = ["zh_CN", "en"]


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "stations.po", "rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_shipped_mo_is_the_compiled_po(lang: str) -> None:
    """``pip install -e .`` of a fresh clone has working catalogs: the .mo files are in
    the tree (and in package-data), and they are what ``python -m stations.i18n`` makes."""
    out = io.BytesIO()
    write_mo(out, _catalog(lang), use_fuzzy=False)
    shipped = LOCALE_DIR / lang / "LC_MESSAGES" / "stations.mo"
    assert shipped.read_bytes() == out.getvalue(), "run: python -m stations.i18n"
    assert "i18n/locale/*/LC_MESSAGES/*.mo" in (ROOT / "pyproject.toml").read_text()


def _used_messages() -> set[str]:
    """The ids ``pybabel extract -F babel.cfg`` finds, and the error titles the API uses."""
    found = {m.id for m in extract() if isinstance(m.id, str) and m.id}
    for cls in [StationsError, *_subclasses(StationsError)]:
        found.add(cls.title)
    found.update({"Invalid request", "Invalid geographic input"})
    return found


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_the_code_asks_for_is_in_the_catalog(lang: str) -> None:
    ids = {m.id for m in _catalog(lang) if m.id}
    used = _used_messages()
    assert used - ids == set()
    if lang == "zh_CN":
        untranslated = [m.id for m in _catalog(lang) if m.id and m.string == m.id]
        assert untranslated == []


def test_the_model_and_vocabulary_messages_are_extracted() -> None:
    """The keywords above do find them: a message id the code uses is in the set."""
    used = _used_messages()
    assert "is required" in used
    assert "unknown amenity {given}; valid: {valid}" in used
    assert (
        "cannot read the opening hours: {reason}; write e.g. '{example1}' or '{example2}'" in used
    )


#: Modules whose user-facing messages must all come from the catalogs: every one the
#: service, its console and its command line are made of, found on disk.
CATALOGUED = sorted(
    str(p.relative_to(ROOT))
    for top in ("stations", "api", "cli")
    for p in (ROOT / top).rglob("*.py")
)


def test_the_catalogued_modules_are_all_of_them() -> None:
    """The list is the packages' files, not a hand-kept subset."""
    assert {"stations/model.py", "stations/analysis/service.py", "api/errors.py"} <= set(CATALOGUED)
    assert "cli/__init__.py" in CATALOGUED and len(CATALOGUED) > 150


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("module", CATALOGUED)
def test_no_message_pairs_are_left_in_code(module: str) -> None:
    """Every field error is made from a catalog id: no ``FieldError(…, "中文")`` pairs, no
    Chinese message literals beside English ones."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        assert name != "FieldError", f"{module}:{node.lineno}: use FieldError.from_catalog"
        if name in ("from_catalog", "fail"):
            msgid = node.args[1]
            if isinstance(msgid, ast.Constant):
                assert not _cjk(msgid.value), f"{module}:{node.lineno}: msgid is English"
            else:  # passed through from a table of N_() ids
                passed = getattr(msgid, "id", None) or getattr(msgid, "attr", None)
                assert passed == "msgid", f"{module}:{node.lineno}"
        assert not any(k.arg in ("zh", "message_zh", "detail_zh") for k in node.keywords), (
            f"{module}:{node.lineno}"
        )


_ERRORS = {c.__name__ for c in [StationsError, *_subclasses(StationsError)]}


def _literal_text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) + _literal_text(node.right)
    return ""


@pytest.mark.parametrize("module", CATALOGUED)
def test_no_error_detail_is_a_chinese_english_pair(module: str) -> None:
    """A whole-request error (``NotFound``, ``Forbidden`` …) worded for people takes a
    ``Message``, not one string with the Chinese and the English side by side."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _ERRORS:
            if node.args:
                text = _literal_text(node.args[0])
                assert not _cjk(text), f"{module}:{node.lineno}: use Message(…) for {text!r}"


def test_the_console_renders_field_errors_from_their_message() -> None:
    """The console's templates show ``e.text(lang)``, not an (English, Chinese) pair."""
    for page in (ROOT / "api/admin/templates").glob("*.html"):
        assert "message_zh" not in page.read_text(encoding="utf-8"), page.name


def test_a_field_error_renders_in_each_language() -> None:
    e = FieldError.from_catalog("lat", "must be between -{bound} and {bound}", 95, 3, bound="90")
    assert (e.message, e.message_zh) == ("must be between -90 and 90", "必须在 -90 到 90 之间")
    assert e.text("en") == e.message and e.text("zh-CN") == e.message_zh
    assert str(e) == "row 3, lat: must be between -90 and 90 (value 95)"
    with pytest.raises(ValidationFailed) as info:
        validate_station({"name": "x", "lon": 116.5, "lat": 39.8, "amenities": "飞机"})
    unknown = info.value.errors[0]
    assert unknown.text("zh-CN").startswith("无法识别的服务设施“飞机”，可选：饮用水、热水")
    assert unknown.text("en").startswith("unknown amenity '飞机'; valid: drinking_water (饮用水)")
    with pytest.raises(ValidationFailed) as info:
        validate_station({"name": "x", "lon": 116.5, "lat": 39.8, "opening_hours": "很晚"})
    hours = info.value.errors[0]
    assert hours.text("zh-CN").startswith("开放时间无法识别：无法识别“很晚”。可以这样写")
    assert hours.text("en").startswith("cannot read the opening hours: could not understand")


def test_chinese_first_then_english() -> None:
    assert both("added") == "新增 added"
    assert both("and {n} more", n=4) == "另有 4 条 and 4 more"
    assert translate("Validation failed", "zh-CN") == "输入有误"
    assert translate("Validation failed", "en") == "Validation failed"


@pytest.mark.parametrize(
    ("header", "default", "lang"),
    [
        (None, "en", "en"),
        (None, "zh-CN", "zh-CN"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "en", "zh-CN"),
        ("en-US,en;q=0.9,zh;q=0.8", "zh-CN", "en"),
        ("fr-FR, zh-Hans;q=0.5", "en", "zh-CN"),
        ("de", "zh-CN", "zh-CN"),
        ("en;q=0.2, zh;q=0.8", "en", "zh-CN"),
    ],
)
def test_negotiate(header: str | None, default: str, lang: str) -> None:
    assert negotiate(header, default) == lang


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    store = SqlStationStore(store_url)
    store.create(make_station(external_id="YZ-001"), actor="t")
    with TestClient(create_app(Settings(), store=store)) as c:
        yield c
    store.close()


def test_api_errors_follow_accept_language(client: TestClient) -> None:
    english = client.get("/api/v1/stations/999999")
    assert english.status_code == 404 and english.json()["title"] == "Not found"
    chinese = client.get("/api/v1/stations/999999", headers={"Accept-Language": "zh-CN"})
    assert chinese.json()["title"] == "未找到" and chinese.headers["content-language"] == "zh-CN"
    bad = client.get("/api/v1/stations", params={"limit": "abc"})
    assert bad.status_code == 422 and bad.json()["title"] != "请求参数有误"
    bad_zh = client.get(
        "/api/v1/stations", params={"limit": "abc"}, headers={"Accept-Language": "zh"}
    )
    assert bad_zh.status_code == 422
    assert bad_zh.json()["title"] == translate(bad.json()["title"], "zh-CN") != bad.json()["title"]
    assert "limit" in bad_zh.json()["detail"]
    # The riders' page and its feeds default to Chinese.
    embed = client.get("/embed/markers", params={"amenity": "sauna"})
    assert embed.status_code == 422 and embed.json()["title"] == "输入有误"
    assert "未知" in embed.json()["detail"] or "amenity" in embed.json()["detail"]


def test_moved_errors_render_in_both_languages_through_the_api(store_url: str) -> None:
    """A field error and a store's refusal that were (English, Chinese) pairs, each asked for
    in English (the JSON API's default) and in Chinese."""
    store = SqlStationStore(store_url)
    store.create(make_station(external_id="YZ-001"), actor="t")
    staff = add_staff(store)
    zh = {"Accept-Language": "zh-CN"}
    with TestClient(create_app(test_settings(), store=store)) as client:
        en = client.get("/api/v1/changes", params={"since": "42x"}, headers=staff.as_viewer)
        assert en.status_code == 422 and en.headers["content-language"] == "en"
        assert en.json()["detail"].startswith("since: is not a cursor this feed gave out")
        cn = client.get(
            "/api/v1/changes", params={"since": "42x"}, headers={**staff.as_viewer, **zh}
        )
        assert cn.json()["detail"].startswith("since：不是本接口给出的游标")
        assert cn.json()["errors"] == en.json()["errors"]  # both texts, in either answer
        assert cn.json()["errors"][0]["message_zh"].startswith("不是本接口给出的游标")
        url = "/api/v1/stations/1/confirmations"
        tap = {"state": "open", "lat": 39.7956, "lon": 116.5068}
        assert (
            client.post(url, json=tap, headers={"X-Device-Id": "rider-phone-1"}).status_code == 201
        )
        again = client.post(url, json=tap, headers={"X-Device-Id": "rider-phone-1"})
        assert again.status_code == 429 and "less than an hour ago" in again.json()["detail"]
        assert again.json()["detail_zh"].startswith("每个驿站一小时内只能确认一次")
        again_zh = client.post(url, json=tap, headers={"X-Device-Id": "rider-phone-1", **zh})
        assert again_zh.json()["detail"] == again.json()["detail_zh"]
    store.close()


def test_a_store_refusal_carries_its_detail_in_both_languages() -> None:
    """``NotFound(Message(…))``: English detail, Chinese on request, no pair in the code."""
    err = NotFound(Message("confirmation {id} not found", id=7))
    assert (err.detail, str(err)) == ("confirmation 7 not found", "confirmation 7 not found")
    assert err.text("zh-CN") == "找不到确认记录 7" and err.text("en") == err.detail
    plain = NotFound("no such thing")
    assert plain.text("zh-CN") == plain.text("en") == "no such thing"
    failed = ValidationFailed([FieldError.from_catalog("radius_m", "must be a number > 0", -1.0)])
    assert failed.text("en") == "radius_m: must be a number > 0 (value -1.0)"
    assert failed.text("zh-CN") == "radius_m：必须是大于 0 的数"


class _Shapes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=2, max_length=4, pattern=r"^\w+$")]
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    n: Annotated[int, Field(gt=0, lt=10)]
    flag: bool
    kind: Literal["a", "b"]
    tags: Annotated[list[str], Field(max_length=2)]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({}, "missing"),
        ({"x": 1}, "extra_forbidden"),
        ({"name": 5}, "string_type"),
        ({"name": "a"}, "string_too_short"),
        ({"name": "abcde"}, "string_too_long"),
        ({"name": "a-b"}, "string_pattern_mismatch"),
        ({"lat": 91.0}, "less_than_equal"),
        ({"lat": -90.5}, "greater_than_equal"),
        ({"n": 0}, "greater_than"),
        ({"n": 10}, "less_than"),
        ({"n": "x"}, "int_parsing"),
        ({"n": 1.5}, "int_from_float"),
        ({"lat": "x"}, "float_parsing"),
        ({"flag": "perhaps"}, "bool_parsing"),
        ({"kind": "c"}, "literal_error"),
        ({"tags": 3}, "list_type"),
        ({"tags": ["a", "b", "c"]}, "too_long"),
    ],
)
def test_pydantic_errors_keep_their_english_and_get_catalog_chinese(
    raw: dict[str, object], kind: str
) -> None:
    """Each pydantic error type in the table renders pydantic's own English from its
    catalog id (so the table follows the pinned pydantic), and its Chinese differs."""
    with pytest.raises(PydanticError) as info:
        _Shapes.model_validate(raw)
    error = next(e for e in info.value.errors() if e["type"] == kind)
    msgid, params = pydantic_message(error)
    assert msgid != "{reason}", (kind, error["msg"])
    assert Message(msgid, **params).text("en") == error["msg"]
    assert _cjk(Message(msgid, **params).text("zh-CN"))
