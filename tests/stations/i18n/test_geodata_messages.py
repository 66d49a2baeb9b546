"""``geodata``'s errors staff meet read in Chinese too, from the ``stations`` catalogs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodata.areas import area_from_geojson, check_area, load_area
from geodata.errors import GeodataError
from stations.errors import FieldError, geodata_message
from tests.stations.i18n.extraction import ROOT, catalog, extract

BOWTIE = [[[116.5, 39.8], [116.6, 39.9], [116.6, 39.8], [116.5, 39.9], [116.5, 39.8]]]


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _raised(call, *args) -> GeodataError:  # type: ignore[no-untyped-def]
    with pytest.raises(GeodataError) as err:
        call(*args)
    return err.value


def test_geodata_catalog_ids_are_extracted() -> None:
    """``pybabel extract`` (babel.cfg, ``from_catalog:2``) finds the ids in ``geodata``."""
    geodata = ROOT / "geodata"
    found = {m.id: m for m in extract() if isinstance(m.id, str)}
    places = {Path(path) for path, _ in found["the area is empty"].locations}
    assert places == {geodata / "areas.py"}
    zh = {m.id for m in catalog("zh_CN")}
    ids = {
        i for i, m in found.items() if any(Path(p).is_relative_to(geodata) for p, _ in m.locations)
    }
    assert len(ids) >= 19 and ids <= zh


def _area_errors(tmp: Path) -> list[GeodataError]:
    bad_json = tmp / "bad.geojson"
    bad_json.write_text("{", encoding="utf-8")
    bowtie_file = tmp / "bowtie.geojson"
    bowtie_file.write_text(json.dumps({"type": "Polygon", "coordinates": BOWTIE}), "utf-8")
    return [
        _raised(load_area, tmp / "nope.geojson"),
        _raised(load_area, bad_json),
        _raised(load_area, bowtie_file),
        _raised(area_from_geojson, {"features": []}),
        _raised(area_from_geojson, {"type": "FeatureCollection"}),
        _raised(area_from_geojson, {"type": "Polygon", "coordinates": BOWTIE}),
        _raised(area_from_geojson, {"type": "Point", "coordinates": [116.5, 39.8]}),
        _raised(check_area, None),
    ]


def test_every_area_error_has_a_chinese_text(tmp_path: Path) -> None:
    for exc in _area_errors(tmp_path):
        message = geodata_message(exc)
        assert message is not None, str(exc)
        assert exc.field == "area"
        assert message.text("en") == str(exc)
        assert _cjk(message.text("zh-CN")), message.text("zh-CN")


def test_an_area_file_problem_nests_in_one_language(tmp_path: Path) -> None:
    """ "file: problem" — the problem inside is rendered in the same language as the line."""
    path = tmp_path / "bowtie.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": BOWTIE}), encoding="utf-8")
    exc = _raised(load_area, path)
    message = geodata_message(exc)
    assert message is not None
    assert message.text("zh-CN").startswith("bowtie.geojson：区域第 1 个要素不是有效的多边形：")
    assert str(exc).startswith("bowtie.geojson: area feature 1 is not a valid polygon:")
    field = FieldError.of(exc)
    assert (field.field, field.text("zh-CN")) == ("area", message.text("zh-CN"))
    assert field.message == str(exc)
