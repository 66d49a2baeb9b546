"""``stations coverage | gaps | plan | map --as USER``: the command line reads as a staff user
sees (their organisation and below); without ``--as`` it reads the whole network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from stations.store.orgs import SqlOrgStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station


@pytest.fixture
def two_districts(store_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Beijing with E-Town below it and Shanghai beside it, a station in each, two users."""
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    main(["orgs", "add", "北京市"])
    main(["orgs", "add", "亦庄", "--parent", "北京市"])
    main(["orgs", "add", "上海市"])
    main(["users", "add", "bj", "--role", "viewer", "--org", "北京市"])
    main(["users", "add", "yz", "--role", "editor", "--org", "亦庄"])
    store = SqlStationStore(store_url)
    orgs = SqlOrgStore.beside(store)
    ids = {}
    for org, lon, lat in (
        ("北京市", 116.50, 39.78),
        ("亦庄", 116.52, 39.80),
        ("上海市", 116.54, 39.76),
    ):
        st = make_station(name=f"{org}驿站", lon=lon, lat=lat, opening_hours="24/7")
        ids[org] = store.create(st, actor="seed", org_id=orgs.get(org).id).id
    store.close()
    return ids


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    main(argv)
    return json.loads(capsys.readouterr().out)


def test_analysis_commands_read_as_the_user(
    two_districts: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = two_districts
    capsys.readouterr()

    def counted(*extra: str) -> set[int]:
        body = _json(capsys, ["coverage", "--json", "--radius-m", "1000", *extra])
        return {row["id"] for row in body["stations"]}

    assert counted() == set(ids.values())
    assert counted("--as", "bj") == {ids["北京市"], ids["亦庄"]}
    assert counted("--as", "yz") == {ids["亦庄"]}
    gaps = _json(capsys, ["gaps", "--json", "--as", "yz"])
    assert gaps["organisation"] == "亦庄" and gaps["stations_counted"] == 1
    assert _json(capsys, ["gaps", "--json"])["organisation"] is None
    plan = _json(capsys, ["plan", "--new-sites", "1", "--min-gain", "0", "--json", "--as", "bj"])
    assert plan["organisation"] == "北京市" and plan["stations_counted"] == 2
    # A what-if cannot reach outside the user's scope: Shanghai's station is no station to them.
    with pytest.raises(SystemExit) as refused:
        main(["coverage", "--json", "--as", "yz", "--close", str(ids["上海市"])])
    assert refused.value.code != 0
    assert str(ids["上海市"]) in capsys.readouterr().err
    with pytest.raises(SystemExit) as unknown:
        main(["coverage", "--json", "--as", "nobody"])
    assert unknown.value.code != 0 and "nobody" in capsys.readouterr().err
    page = tmp_path / "gaps.html"
    main(["map", "--kind", "gaps", "--new-sites", "0", "--as", "yz", "-o", str(page)])
    assert "1 个开放驿站" in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    assert "亦庄驿站" in html and "上海市驿站" not in html and "北京市驿站" not in html
