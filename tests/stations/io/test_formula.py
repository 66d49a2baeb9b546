"""CSV exports are neutralised against formula injection (OWASP) and still round-trip."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stations.io.exporting import export_stations
from stations.io.formula import neutralise, restore
from stations.io.importing import run_import
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

EVIL = ['=HYPERLINK("http://evil.example","点我")', "+86 10 1234", "-1+2", "@SUM(A1)", "\tx"]


@pytest.mark.parametrize("value", EVIL)
def test_trigger_cells_get_a_quote_and_lose_it_again(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", ["-12.5", "+3", "1e-3", "荣华中路", "", "'plain"])
def test_numbers_and_plain_text_are_left_alone(value: str) -> None:
    assert neutralise(value) == value
    assert restore(value) == value


@pytest.mark.parametrize("layout", ["standard", "staff"])
def test_exported_csv_has_no_live_formula_and_imports_back_unchanged(
    store: SqlStationStore, tmp_path: Path, layout: str
) -> None:
    for k, text in enumerate(EVIL[:4]):
        store.create(
            make_station(name=f"驿站{text}", notes=text, phone=text, external_id=f"E{k}"), actor="t"
        )
    before = {s.id: s.data for s in store.all()}
    out = tmp_path / "out.csv"
    export_stations(store.all(), out, layout=layout)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not c[1:2].isdigit()]
    assert "'" + EVIL[0] in cells
    report = run_import(store, out)
    assert report.unchanged == 4 and not report.errors
    assert {s.id: s.data for s in store.all()} == before
