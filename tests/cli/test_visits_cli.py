"""The visits commands: posters for every station, hand tallies from a sheet (errors in
Chinese, nothing written), the monthly table."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main
from stations.store.sql import SqlStationStore
from stations.store.visits import SqlVisitStore
from tests.conftest import make_station
from tests.stations.visits.test_poster import decoded_qr_codes
from tests.stations.visits.test_tally_sheet import write_xlsx

PUBLIC = "https://yz.example.cn"


@pytest.fixture
def configured(store_url: str, monkeypatch: pytest.MonkeyPatch) -> SqlStationStore:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    monkeypatch.setenv("STATIONS_PUBLIC_URL", PUBLIC)
    store = SqlStationStore(store_url)
    for n in (1, 2, 3):
        store.create(make_station(name=f"驿站{n}", external_id=f"YZ-00{n}"), actor="t")
    store.delete(2, actor="t")
    yield store
    store.close()


def test_posters_for_every_live_station(configured: SqlStationStore, tmp_path: Path) -> None:
    out = tmp_path / "all.pdf"
    main(["poster", "--all", "-o", str(out), "--size", "a5"])
    codes = SqlVisitStore.beside(configured).codes()
    assert decoded_qr_codes(out) == [[f"{PUBLIC}/s/{codes[1]}"], [f"{PUBLIC}/s/{codes[3]}"]]
    one = tmp_path / "one.pdf"
    main(["poster", "3", "-o", str(one)])
    assert decoded_qr_codes(one, 1.0) == [[f"{PUBLIC}/s/{codes[3]}"]]


def test_poster_needs_the_public_address(configured, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("STATIONS_PUBLIC_URL")
    with pytest.raises(SystemExit) as stop:
        main(["poster", "1", "-o", str(tmp_path / "x.pdf")])
    assert stop.value.code == 1
    assert "STATIONS_PUBLIC_URL" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_tally_import_all_or_nothing(configured: SqlStationStore, tmp_path: Path, capsys) -> None:
    code = SqlVisitStore.beside(configured).code_for(1)
    bad = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["编号", "日期", "人次"],
            [code, "2026-11-02", 4],
            ["YZ-002", "2026-11-02", 3],
            ["YZ-003", "昨天", 1],
        ],
    )
    with pytest.raises(SystemExit):
        main(["visits", "import", str(bad)])
    assert "第 4 行 日期：日期无法识别，请写成 2026-11-03" in capsys.readouterr().err
    fixed = write_xlsx(
        tmp_path / "fixed.xlsx",
        [["编号", "日期", "人次"], [code, "2026-11-02", 4], ["YZ-002", "2026-11-02", 3]],
    )
    with pytest.raises(SystemExit):
        main(["visits", "import", str(fixed)])
    assert "第 3 行 编号：编号“YZ-002”没有对应的驿站" in capsys.readouterr().err  # deleted station
    assert SqlVisitStore.beside(configured).tallies() == []
    good = write_xlsx(
        tmp_path / "good.xlsx",
        [["编号", "日期", "人次"], [code, "2026-11-02", 4], ["YZ-003", "2026/11/3", 3]],
    )
    main(["visits", "import", str(good)])
    assert "已导入 2 行，共 7 人次" in capsys.readouterr().out
    out = tmp_path / "11月服务人次.xlsx"
    main(["visits", "--month", "2026-11", "-o", str(out)])
    assert "服务人次合计 7" in capsys.readouterr().out


def test_coverage_with_visits_as_demand(configured: SqlStationStore, capsys) -> None:
    import json
    from datetime import UTC, datetime

    visits = SqlVisitStore.beside(configured)
    codes = visits.codes()
    now = datetime.now(UTC)
    for n in range(7):
        visits.check_in(codes[1], f"phone-cov-{n:03d}", "courier", at=now)
    capsys.readouterr()
    main(["coverage", "--demand", "visits", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_weight"] == pytest.approx(7)
    with pytest.raises(SystemExit):
        main(["coverage", "--demand", "searches", "--json"])
    assert "no area with 5 or more searches" in capsys.readouterr().err
