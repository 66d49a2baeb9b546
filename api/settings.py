"""Configuration from the environment (prefix ``STATIONS_``), read when the app is built.

Nothing reads settings at import time (tipg issue #38): ``create_app(settings)`` and every CLI
command take a ``Settings`` object, so tests build their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stations.store.outage import StoreLimits

__all__ = ["Settings", "default_database_url"]


def default_database_url() -> str:
    """A SQLite file in the user's data directory (the embedded default)."""
    return "sqlite:///" + str(Path(user_data_dir("warm-stations")) / "stations.db")


class Settings(BaseSettings):
    """Every setting of the service; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="STATIONS_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    timezone: str = "Asia/Shanghai"
    #: Service region (west, south, east, north): points outside are imported with a warning.
    region_bbox: tuple[float, float, float, float] = (73.0, 3.0, 136.0, 54.0)
    #: Public base URL when behind a proxy (absolute links in paged responses).
    public_url: str | None = None
    max_k: int = 50
    max_page: int = 1000
    default_radius_m: float = 500.0
    #: OpenStreetMap streets (.osm.pbf | .osm) for reach along streets; unset: straight line.
    network_file: Path | None = None
    #: Basemap of the maps and the embed page: osm | amap | tianditu.
    basemap: Literal["osm", "amap", "tianditu"] = "osm"
    tianditu_key: str | None = None
    #: /maps/stations inlines up to this many stations; a larger network comes as tiles.
    map_inline_max: int = Field(5000, ge=0)
    #: /embed inlines up to this many stations in service; more come as tiles.
    embed_inline_max: int = Field(1000, ge=0)
    #: How often (seconds) a process checks the store for writes by other processes.
    refresh_interval_s: float = 0.5
    #: Where a worker keeps its station catalog: ``memory`` (its own objects, the reference)
    #: or ``mapped`` (one memory-mapped snapshot per host that every worker shares; stations
    #: decoded on demand — see stations.mapped and docs/deploy.md).
    catalog_snapshot: Literal["memory", "mapped"] = "memory"
    #: Folder of the mapped snapshots (default: the user's cache directory,
    #: warm-stations/catalog, e.g. ~/.cache/warm-stations/catalog); one sub-folder per store.
    catalog_snapshot_dir: Path | None = None
    #: With ``mapped``: how many decoded stations a worker keeps (riders' nearby ones);
    #: default: as many as its cached nearest features.
    catalog_keep_decoded: int | None = Field(None, ge=1)
    #: How many stations' rendered nearest-answer features a worker keeps (~2 KB each);
    #: default 16,384 with ``memory``, 4,096 with ``mapped`` (many workers per host).
    nearest_cached_features: int | None = Field(None, ge=0)
    #: Geocoding for imports: baidu | nominatim.
    geocoder: Literal["baidu", "nominatim"] | None = None
    geocoder_key: str | None = None
    geocoder_domain: str | None = None
    geocoder_scheme: str = "https"
    #: WeChat Official Account (JS-SDK) credentials; without them the embed page uses the browser.
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    #: Console uploads wait here between preview and confirmation (default: the user's cache
    #: directory, warm-stations/imports).
    upload_dir: Path | None = None
    #: Folder of domain-verification files (MP_verify_*.txt …) served at the site root.
    verification_dir: Path | None = None
    #: Origins allowed by CORS; empty means same-origin only.
    cors_origins: list[str] = []
    #: Who may frame /embed (CSP frame-ancestors); /admin is never framed.
    embed_frame_ancestors: list[str] = ["'self'", "https://*.qq.com", "https://servicewechat.com"]
    redis_url: str | None = None
    rate_limit_per_minute: int = 600
    #: Rider confirmations: how near the station a phone must be to count as on-site (m), and
    #: how many an address may send per hour (0: no limit of its own).
    confirm_radius_m: float = Field(200.0, gt=0, le=5000)
    confirm_per_hour: float = 600.0
    #: Station photos: a folder (default: beside the SQLite file, in the user's data
    #: directory), or an S3-compatible bucket shared by every host when ``photo_s3_bucket``
    #: is set (needs boto3).
    photo_dir: Path | None = None
    photo_s3_bucket: str | None = None
    photo_s3_endpoint: str | None = None
    photo_s3_region: str | None = None
    photo_s3_access_key: str | None = None
    photo_s3_secret_key: str | None = None
    max_body_bytes: int = 20 * 1024 * 1024
    #: Spreadsheet imports (``stations.io.limits``): inflated size and ratio of an .xlsx,
    #: rows and columns read. A zip bomb or an endless sheet is refused, not parsed.
    import_max_uncompressed_mb: int = Field(400, gt=0)
    import_max_ratio: float = Field(100.0, gt=1)
    import_max_rows: int = Field(500_000, gt=0)
    import_max_columns: int = Field(200, gt=0)
    #: Database waits (seconds): connecting, one statement, a lock, a free pooled connection;
    #: then a 503 with Retry-After (``db_retry_after_s``) instead of a hung request.
    db_connect_timeout_s: float = Field(3.0, gt=0)
    db_statement_timeout_s: float = Field(10.0, gt=0)
    db_lock_timeout_s: float = Field(5.0, gt=0)
    db_pool_wait_s: float = Field(2.0, gt=0)
    db_retry_after_s: float = Field(5.0, gt=0)
    #: The statement limit of ``stations`` commands other than ``serve`` (imports, exports,
    #: reports): an operator runs them, and a national import takes minutes.
    cli_statement_timeout_s: float = Field(3600.0, gt=0)
    #: Analysis runs (coverage, gaps, plan): what anyone may ask for, and, with a staff
    #: token, the ceiling; each run's wall-clock limit (then stopped, 503).
    analysis_max_cells: int = Field(250_000, ge=1)
    analysis_max_candidates: int = Field(5_000, ge=1)
    analysis_max_area_km2: float = Field(5_000.0, gt=0)
    analysis_time_limit_s: float = Field(30.0, gt=0)
    analysis_staff_max_cells: int = Field(3_000_000, ge=1)
    analysis_staff_max_candidates: int = Field(100_000, ge=1)
    analysis_staff_max_area_km2: float = Field(500_000.0, gt=0)
    analysis_staff_time_limit_s: float = Field(300.0, gt=0)
    #: Run analyses in a stoppable worker process (fork); off: in this process's threads,
    #: without the time limit (platforms without fork; the benchmark's "before").
    analysis_in_worker: bool = True
    #: On SIGTERM: seconds in-flight requests get to finish before they are cut off.
    shutdown_grace_s: float = Field(10.0, ge=0)
    #: How often the health monitor probes the database (what /readyz reports).
    db_probe_interval_s: float = Field(0.5, gt=0)
    #: JSON bodies: at most this many bytes and this many nesting levels (400/413 beyond).
    max_json_bytes: int = Field(5 * 1024 * 1024, gt=0)
    max_json_depth: int = Field(32, ge=1, le=500)
    #: Visits: one check-in per device per station within this many minutes.
    visit_window_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    #: Raw check-ins older than this many days may be pruned (``stations visits prune``);
    #: totals live in the daily roll-ups, so no report changes. Unset keeps every raw row.
    visit_keep_raw_days: int | None = Field(default=None, ge=1)
    #: Check-ins per client address per hour, in bursts of ``checkin_burst`` (riders share
    #: carrier-grade NAT addresses, so this is generous); 0 turns the limit off.
    checkin_rate_per_hour: int = Field(default=600, ge=0)
    checkin_burst: int = Field(default=60, ge=1)
    #: Count nearest-station searches per H3 cell (no position kept) for ``--demand searches``.
    search_demand: bool = True
    #: One access line per request on stdout, written by the app in uvicorn's format with
    #: coordinates rounded (``stations serve`` turns uvicorn's own access log off).
    access_log: bool = True
    #: FastAPI's own OpenTelemetry traces, metrics and logs, sent to the global providers an
    #: operator configures (``opentelemetry-instrument`` or the SDK). Off by default: the
    #: service has its own metrics (``/metrics``) and access log, and with it on FastAPI asks
    #: the global providers on every request whether one is configured.
    opentelemetry: bool = False
    #: Webhook delivery (change feed pushed to registered consumers): on in every worker; a
    #: lease per consumer lets one sender at a time deliver, in order.
    webhooks_enabled: bool = True
    webhook_poll_s: float = 0.5
    #: Once every consumer has the whole feed, the deliverer waits for the feed to move
    #: (in memory) and asks the database only this often (a consumer added elsewhere).
    webhook_idle_poll_s: float = 10.0
    webhook_lease_s: float = 30.0
    webhook_timeout_s: float = 10.0
    webhook_backoff_cap_s: float = 600.0

    def store_limits(self) -> StoreLimits:
        """The database timeouts as the store takes them."""
        return StoreLimits(
            connect_s=self.db_connect_timeout_s,
            statement_s=self.db_statement_timeout_s,
            lock_s=self.db_lock_timeout_s,
            pool_wait_s=self.db_pool_wait_s,
            retry_after_s=self.db_retry_after_s,
        )
