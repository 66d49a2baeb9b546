"""The shipped deployment files work as docs/deploy.md says.

* the environment example names every setting of ``api.settings.Settings`` (and nothing
  else), and its values validate;
* the systemd units parse (and pass ``systemd-analyze verify`` where it exists);
* the service starts from the unit's ``ExecStart`` with the documented environment and
  answers ``/readyz``;
* the nginx site passes ``nginx -t``, and a live nginx with it proxies HTTPS to that service:
  gzip, cached content-hashed assets, the WeChat verification file at the root, the
  HTTP→HTTPS redirect and the internal-only ``/metrics``;
* the backup script writes a database copy plus ``stations export`` files and prunes old ones.

Production addresses in the files (PostgreSQL, Redis, certificate and log paths, ports) are
replaced by local stand-ins here; each replacement must find its target, so a file that
drifts from what the test expects fails instead of being skipped over.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from stations.store.sql import SqlStationStore
from tests.conftest import make_station, require

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "warm-stations.env.example"
UNIT = DEPLOY / "systemd" / "warm-stations.service"
BACKUP_UNIT = DEPLOY / "systemd" / "warm-stations-backup.service"
BACKUP_TIMER = DEPLOY / "systemd" / "warm-stations-backup.timer"
PRUNE_UNIT = DEPLOY / "systemd" / "warm-stations-visits-prune.service"
PRUNE_TIMER = DEPLOY / "systemd" / "warm-stations-visits-prune.timer"
NGINX_SITE = DEPLOY / "nginx" / "warm-stations.conf"
BACKUP_SH = DEPLOY / "backup.sh"
DOC = ROOT / "docs" / "deploy.md"
VERIFY_NAME = "MP_verify_Ab12Cd34Ef56Gh78"

_ENV_LINE = re.compile(r"^(#)?\s*(STATIONS_[A-Z0-9_]+)=(.*)$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env_entries(path: Path) -> list[tuple[str, str, bool]]:
    """``(name, value, active)`` per ``STATIONS_*`` line; commented ones are documentation.

    Values are read the way systemd's EnvironmentFile= reads them: the rest of the line,
    without one pair of enclosing quotes.
    """
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ENV_LINE.match(line.strip())
        if not m:
            continue
        value = m.group(3).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out.append((m.group(2), value, m.group(1) is None))
    return out


def _active_env(path: Path) -> dict[str, str]:
    return {name: value for name, value, active in _env_entries(path) if active}


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _field_env_names() -> set[str]:
    return {"STATIONS_" + name.upper() for name in Settings.model_fields}


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"expected {old!r} in the shipped file; update the test or the file"
    return text.replace(old, new)


# -- the environment file ---------------------------------------------------------------------


def test_env_example_names_exactly_the_settings() -> None:
    names = [name for name, _, _ in _env_entries(ENV_EXAMPLE)]
    assert len(names) == len(set(names)), "a variable appears twice"
    unknown = set(names) - _field_env_names()
    assert not unknown, f"not settings of api/settings.py (typos?): {sorted(unknown)}"
    missing = _field_env_names() - set(names)
    assert not missing, f"settings missing from the env example: {sorted(missing)}"


def test_env_example_sets_what_production_needs_and_validates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    active = _active_env(ENV_EXAMPLE)
    for needed in (
        "STATIONS_DATABASE_URL",
        "STATIONS_PUBLIC_URL",
        "STATIONS_REDIS_URL",
        "STATIONS_VERIFICATION_DIR",
    ):
        assert active.get(needed), f"{needed} must be set in the production example"
    assert active["STATIONS_DATABASE_URL"].startswith("postgresql+psycopg://")
    for name in _field_env_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in active.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.database_url == active["STATIONS_DATABASE_URL"]
    assert settings.public_url == "https://stations.example.cn"
    assert settings.max_body_bytes == 20 * 1024 * 1024
    assert settings.region_bbox == (73.0, 3.0, 136.0, 54.0)
    assert "https://servicewechat.com" in settings.embed_frame_ancestors


def test_every_setting_is_documented_in_deploy_md() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(n for n in _field_env_names() if f"`{n}`" not in text)
    assert not missing, f"docs/deploy.md does not describe {missing}"


def test_nginx_body_limit_matches_the_apps() -> None:
    site = NGINX_SITE.read_text(encoding="utf-8")
    m = re.search(r"client_max_body_size\s+(\d+)m;", site)
    assert m, "client_max_body_size missing"
    assert int(m.group(1)) * 1024 * 1024 == int(_active_env(ENV_EXAMPLE)["STATIONS_MAX_BODY_BYTES"])


# -- systemd ------------------------------------------------------------------------------


def test_service_unit_runs_stations_serve_with_the_env_file() -> None:
    unit = _unit(UNIT)
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "stations" and argv[1] == "serve", argv
    assert argv[argv.index("--host") + 1] == "127.0.0.1", "behind nginx: loopback only"
    assert int(argv[argv.index("--workers") + 1]) >= 2
    assert service["EnvironmentFile"] == "/etc/warm-stations/warm-stations.env"
    assert service["User"] == "warm-stations"
    assert service["Restart"] in ("on-failure", "always")
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    # nginx's upstream and the unit agree on the port.
    port = argv[argv.index("--port") + 1]
    assert f"server 127.0.0.1:{port}" in NGINX_SITE.read_text(encoding="utf-8")


def test_backup_units_run_the_script_nightly() -> None:
    service = _unit(BACKUP_UNIT)["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"].endswith("/deploy/backup.sh")
    assert service["EnvironmentFile"] == "/etc/warm-stations/warm-stations.env"
    timer = _unit(BACKUP_TIMER)
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["Timer"]["OnCalendar"])
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_visits_prune_units_run_the_command_daily() -> None:
    service = _unit(PRUNE_UNIT)["Service"]
    assert service["Type"] == "oneshot"
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "stations" and argv[1:] == ["visits", "prune"], argv
    assert service["EnvironmentFile"] == "/etc/warm-stations/warm-stations.env"
    assert service["User"] == "warm-stations"
    timer = _unit(PRUNE_TIMER)
    at = timer["Timer"]["OnCalendar"]
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", at), "daily, so next month's partition exists"
    backup_at = _unit(BACKUP_TIMER)["Timer"]["OnCalendar"]
    assert at > backup_at, "prune after the nightly backup, which still holds the rows it deletes"
    assert timer["Install"]["WantedBy"] == "timers.target"
    doc = DOC.read_text(encoding="utf-8")
    for name in (PRUNE_UNIT.name, PRUNE_TIMER.name):
        assert name in doc, f"docs/deploy.md does not mention {name}"
    assert f"systemctl enable --now {PRUNE_TIMER.name}" in doc


def test_visits_prune_unit_runs_with_the_documented_environment(
    store_url: str, tmp_path: Path
) -> None:
    """The unit's ``ExecStart`` with the env example's settings, on each engine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONS_")}
    env.update(_active_env(ENV_EXAMPLE))
    env["STATIONS_DATABASE_URL"] = store_url
    env["STATIONS_VISIT_KEEP_RAW_DAYS"] = "90"
    env.pop("STATIONS_REDIS_URL", None)
    argv = shlex.split(_unit(PRUNE_UNIT)["Service"]["ExecStart"])
    done = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "device hashes forgotten 0" in done.stdout, done.stdout


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    require(tool is not None, "systemd-analyze")
    assert tool is not None
    stations_bin = shutil.which("stations") or sys.executable
    units = (UNIT, BACKUP_UNIT, BACKUP_TIMER, PRUNE_UNIT, PRUNE_TIMER)
    for src in units:
        text = src.read_text(encoding="utf-8")
        # verify insists that ExecStart's program exists: point at real ones.
        text = text.replace("/opt/warm-stations/venv/bin/stations", stations_bin)
        text = text.replace("/opt/warm-stations/deploy/backup.sh", str(BACKUP_SH))
        (tmp_path / src.name).write_text(text, encoding="utf-8")
    for name in (src.name for src in units):
        done = subprocess.run(
            [tool, "verify", str(tmp_path / name)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"


# -- the service, started as the unit starts it ------------------------------------------------


@dataclass
class Served:
    base: str
    root: Path
    verify_dir: Path


@pytest.fixture(scope="module")
def served(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ExecStart`` of the unit with the example's environment, on a fresh database of each
    engine (PostgreSQL + PostGIS as in production, and SQLite); Redis replaced by the
    in-process limiter."""
    root = tmp_path_factory.mktemp("served")
    db_url = module_store_url
    store = SqlStationStore(db_url)
    for i in range(12):  # enough for a list response worth compressing
        store.create(
            make_station(
                name=f"测试驿站{i}", lon=116.50 + i / 1000, lat=39.79, external_id=f"T-{i:03d}"
            ),
            actor="test",
        )
    store.close()
    verify_dir = root / "verify"
    verify_dir.mkdir()
    (verify_dir / f"{VERIFY_NAME}.txt").write_text("Ab12Cd34Ef56Gh78", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONS_")}
    env.update(_active_env(ENV_EXAMPLE))
    env["STATIONS_DATABASE_URL"] = db_url
    env["STATIONS_VERIFICATION_DIR"] = str(verify_dir)
    env.pop("STATIONS_REDIS_URL", None)  # no Redis here: the in-process limiter

    argv = shlex.split(_unit(UNIT)["Service"]["ExecStart"])
    port = _free_port()
    argv[argv.index("--port") + 1] = str(port)
    cmd = [sys.executable, "-c", "from cli import main; main()", *argv[1:]]
    log = open(root / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (root / "serve.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "service never became ready"
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield Served(base, root, verify_dir)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def test_service_starts_with_the_documented_environment(served: Served) -> None:
    ready = httpx.get(served.base + "/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["stations"] == 12
    page = httpx.get(served.base + "/api/v1/stations", params={"limit": 5}, timeout=5).json()
    # STATIONS_PUBLIC_URL from the env file makes the paging links absolute and public.
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert nxt.startswith("https://stations.example.cn/api/v1/stations?")


# -- nginx ----------------------------------------------------------------------------------


@dataclass
class Nginx:
    https: str
    http: str


def _make_cert(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    require(openssl is not None, "openssl")
    assert openssl is not None
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-days",
            "1",
            "-subj",
            "/CN=stations.example.cn",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _nginx_files(folder: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """The shipped site with local stand-ins, inside a minimal main configuration."""
    cert, key = _make_cert(folder)
    site = NGINX_SITE.read_text(encoding="utf-8")
    for old, new in (
        ("/etc/nginx/ssl/stations.example.cn/fullchain.pem", str(cert)),
        ("/etc/nginx/ssl/stations.example.cn/privkey.pem", str(key)),
        ("/var/cache/nginx/warm-stations", str(folder / "cache")),
        ("/var/log/nginx/warm-stations.access.log", str(folder / "site-access.log")),
        ("/var/log/nginx/warm-stations.error.log", str(folder / "site-error.log")),
        ("/var/www/acme", str(folder / "acme")),
        ("server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),  # no IPv6 assumed on test machines
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
    ):
        site = _replace(site, old, new)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    {mime}
    access_log {folder / "access.log"};
{temp}
    include {folder / "site.conf"};
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


def _nginx_bin() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    require(found is not None, "nginx (apt-get install nginx-light)")
    assert found is not None
    return found


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _nginx_bin()
    conf = _nginx_files(tmp_path, 8000, _free_port(), _free_port())
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "e.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.fixture(scope="module")
def nginx_live(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    nginx = _nginx_bin()
    folder = tmp_path_factory.mktemp("nginx")
    app_port = int(served.base.rsplit(":", 1)[1])
    http_port, https_port = _free_port(), _free_port()
    conf = _nginx_files(folder, app_port, http_port, https_port)
    proc = subprocess.Popen(
        [
            nginx,
            "-p",
            str(folder),
            "-e",
            str(folder / "e.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    https = f"https://127.0.0.1:{https_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "nginx never answered"
            try:
                httpx.get(https + "/livez", verify=False, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Nginx(https, f"http://127.0.0.1:{http_port}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def through(nginx_live: Nginx) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=nginx_live.https, verify=False, timeout=10, headers={"Host": "stations.example.cn"}
    ) as client:
        yield client


def test_nginx_proxies_https_to_the_service(through: httpx.Client) -> None:
    r = through.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert r.headers["strict-transport-security"].startswith("max-age=")
    # The app's own security headers pass through untouched.
    assert "frame-ancestors" in r.headers["content-security-policy"]


def test_nginx_compresses_json(through: httpx.Client) -> None:
    r = through.get("/api/v1/stations", params={"limit": 12}, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in r.headers.get("vary", "")
    assert len(r.json()["features"]) == 12  # httpx decoded it: valid gzip of valid JSON
    raw = through.get(
        "/api/v1/stations", params={"limit": 12}, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in raw.headers


def test_nginx_caches_content_hashed_assets(through: httpx.Client) -> None:
    from maps.assets import find_asset

    asset = find_asset("leaflet/leaflet.js")
    assert asset is not None
    first = through.get(asset.url)
    second = through.get(asset.url)
    assert first.status_code == second.status_code == 200
    assert "immutable" in first.headers["cache-control"]
    assert "max-age=31536000" in first.headers["cache-control"]
    assert second.headers["x-cache-status"] == "HIT"
    assert "strict-transport-security" in second.headers  # add_header there hides the server's
    assert second.content == asset.read_bytes()


def test_nginx_serves_the_wechat_verification_file_at_the_root(
    through: httpx.Client, served: Served
) -> None:
    r = through.get(f"/{VERIFY_NAME}.txt")
    assert r.status_code == 200
    assert r.text == (served.verify_dir / f"{VERIFY_NAME}.txt").read_text(encoding="utf-8")
    assert through.get("/MP_verify_NotThere1.txt").status_code == 404


def test_nginx_redirects_http_and_keeps_metrics_internal(
    nginx_live: Nginx, through: httpx.Client
) -> None:
    r = httpx.get(
        nginx_live.http + "/embed?x=1", headers={"Host": "stations.example.cn"}, timeout=10
    )
    assert r.status_code == 301
    assert r.headers["location"] == "https://stations.example.cn/embed?x=1"
    metrics = through.get("/metrics")  # from 127.0.0.1: allowed
    assert metrics.status_code == 200 and "# TYPE" in metrics.text


# -- backups --------------------------------------------------------------------------------


def _run_backup(env_extra: dict[str, str], backup_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONS_")}
    env.update(
        env_extra,
        BACKUP_DIR=str(backup_dir),
        PYTHON_BIN=sys.executable,
        STATIONS_BIN=shutil.which("stations") or "stations",
    )
    return subprocess.run(
        ["bash", str(BACKUP_SH)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _only_backup(backup_dir: Path) -> Path:
    folders = [p for p in backup_dir.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    assert not folders[0].name.endswith(".partial")
    return folders[0]


def test_backup_script_copies_sqlite_exports_and_prunes(tmp_path: Path) -> None:
    # SQLite only: this is the script's SQLite branch (an online copy of the file); its
    # PostgreSQL branch (pg_dump of the schema) is the test below.
    require(shutil.which("stations") is not None, "the stations command (pip install -e .)")
    url = "sqlite:///" + str(tmp_path / "live.db")
    store = SqlStationStore(url)
    store.create(make_station(name="备份测试驿站", external_id="BK-1"), actor="test")
    store.close()
    backups = tmp_path / "backups"
    old = backups / "20000101-023000"
    old.mkdir(parents=True)
    stale = time.time() - 40 * 86400
    os.utime(old, (stale, stale))
    done = _run_backup({"STATIONS_DATABASE_URL": url, "BACKUP_KEEP_DAYS": "14"}, backups)
    assert done.returncode == 0, done.stderr
    assert not old.exists(), "a backup older than BACKUP_KEEP_DAYS was kept"
    folder = _only_backup(backups)
    with sqlite3.connect(folder / "stations.sqlite") as copy:
        names = [r[0] for r in copy.execute("SELECT name FROM stations")]
    assert names == ["备份测试驿站"]
    exported = json.loads((folder / "stations.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["external_id"] for f in exported["features"]] == ["BK-1"]
    assert (folder / "stations.xlsx").stat().st_size > 0


def test_backup_script_refuses_an_unknown_database(tmp_path: Path) -> None:
    done = _run_backup({"STATIONS_DATABASE_URL": "mysql://x@127.0.0.1/y"}, tmp_path / "b")
    assert done.returncode == 2
    assert "unsupported" in done.stderr


@pytest.mark.postgres
def test_backup_script_dumps_postgresql(pg_schema_url: str, tmp_path: Path) -> None:
    # PostgreSQL only: the script's pg_dump branch (the SQLite branch is the test above).
    require(
        shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None,
        "pg_dump and pg_restore (postgresql-client)",
    )
    require(shutil.which("stations") is not None, "the stations command (pip install -e .)")
    store = SqlStationStore(pg_schema_url)
    store.create(make_station(name="主库驿站", external_id="PG-1"), actor="test")
    store.close()
    schema = re.search(r"search_path%3D(\w+)", pg_schema_url)
    assert schema is not None
    backups = tmp_path / "backups"
    done = _run_backup(
        {"STATIONS_DATABASE_URL": pg_schema_url, "BACKUP_PG_SCHEMA": schema.group(1)}, backups
    )
    assert done.returncode == 0, done.stderr
    folder = _only_backup(backups)
    listing = subprocess.run(
        ["pg_restore", "--list", str(folder / "stations.pgdump")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert re.search(rf"TABLE DATA {schema.group(1)} stations ", listing), listing
    assert re.search(rf"TABLE DATA {schema.group(1)} station_history ", listing)
    exported = json.loads((folder / "stations.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["name"] for f in exported["features"]] == ["主库驿站"]
    # The dump restores: pg_restore turns it back into SQL that creates the table.
    sql = subprocess.run(
        ["pg_restore", "--file=-", "--schema-only", str(folder / "stations.pgdump")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"CREATE TABLE {schema.group(1)}.stations" in sql
