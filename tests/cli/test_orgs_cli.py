"""``stations orgs``, ``users add --org`` and ``import --as``: the command line in scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main
from stations.store.orgs import SqlOrgStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station


def test_orgs_users_and_an_import_as_a_scoped_user(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    main(["orgs", "add", "全国"])
    main(["orgs", "add", "北京市", "--parent", "全国"])
    main(["orgs", "add", "上海市", "--parent", "全国"])
    main(["users", "add", "yz", "--role", "editor", "--org", "北京市"])
    main(["orgs", "list", "--json"])
    out = capsys.readouterr().out
    assert '"name": "上海市"' in out and "added yz (editor, 北京市)" in out
    store = SqlStationStore(store_url)
    orgs = SqlOrgStore.beside(store)
    sh = store.create(make_station(external_id="SH-1"), actor="seed", org_id=orgs.get("上海市").id)
    sheet = tmp_path / "s.csv"
    sheet.write_text(
        f"id,external_id,name,lon,lat\n{sh.id},SH-1,改名,116.5,39.79\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as refused:
        main(["import", str(sheet), "--as", "yz"])
    assert refused.value.code == 1
    err = capsys.readouterr().err
    assert "第 2 行" in err and "上海市" in err
    assert store.get(sh.id).version == 1
    main(["import", str(sheet)])  # the command line itself has the whole tree
    assert store.get(sh.id).data.name == "改名"
    store.close()
