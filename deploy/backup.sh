#!/usr/bin/env bash
# 暖心驿站地图 Warm Stations — nightly backup (docs/deploy.md, "备份 Backups").
#
# Writes two independent copies of the store into BACKUP_DIR/<date-time>/ and prunes old ones:
#   * the database itself: `pg_dump --format=custom` for PostgreSQL (restore with pg_restore),
#     or SQLite's online backup for a SQLite store — stations, history, accounts, everything;
#   * `stations export` of every live station as GeoJSON and XLSX — readable without this
#     software (QGIS, Excel), and re-importable with `stations import`.
#
# Settings come from the environment (the systemd unit loads /etc/warm-stations/warm-stations.env):
#   STATIONS_DATABASE_URL   the store (as for the service)
#   BACKUP_DIR              where to write (default /var/backups/warm-stations)
#   BACKUP_KEEP_DAYS        delete backups older than this many days (default 14)
#   STATIONS_BIN            the `stations` command (default: the one on PATH)
#   BACKUP_PG_SCHEMA        dump only this PostgreSQL schema (default: the whole database)
# Exit status is non-zero if any step failed, so the timer's failure shows in `systemctl`.
set -euo pipefail
umask 077

: "${STATIONS_DATABASE_URL:?set STATIONS_DATABASE_URL (see warm-stations.env.example)}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/warm-stations}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
STATIONS_BIN="${STATIONS_BIN:-stations}"
PYTHON_BIN="${PYTHON_BIN:-python3}"

stamp="$(date +%Y%m%d-%H%M%S)"
target="${BACKUP_DIR}/${stamp}"
partial="${target}.partial"
mkdir -p "${partial}"

case "${STATIONS_DATABASE_URL}" in
  postgresql*)
    # libpq takes the same URL without SQLAlchemy's "+driver" part.
    pg_url="$(printf '%s' "${STATIONS_DATABASE_URL}" | sed -E 's#^postgresql\+[a-z0-9]+://#postgresql://#')"
    schema_args=()
    if [[ -n "${BACKUP_PG_SCHEMA:-}" ]]; then
      schema_args=(--schema="${BACKUP_PG_SCHEMA}")
    fi
    pg_dump --format=custom --no-owner "${schema_args[@]}" --file="${partial}/stations.pgdump" \
      "${pg_url}"
    ;;
  sqlite*)
    db_path="${STATIONS_DATABASE_URL#sqlite:///}"
    # The online backup API copies a consistent snapshot while the service keeps writing.
    "${PYTHON_BIN}" - "${db_path}" "${partial}/stations.sqlite" <<'PY'
import sqlite3, sys
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
target = sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
target.close()
source.close()
PY
    ;;
  *)
    echo "backup: unsupported STATIONS_DATABASE_URL scheme: ${STATIONS_DATABASE_URL%%:*}" >&2
    exit 2
    ;;
esac

"${STATIONS_BIN}" export "${partial}/stations.geojson"
"${STATIONS_BIN}" export "${partial}/stations.xlsx"

mv "${partial}" "${target}"
echo "backup: wrote ${target}"

# Prune whole backup folders older than BACKUP_KEEP_DAYS (never the one just written).
find "${BACKUP_DIR}" -mindepth 1 -maxdepth 1 -type d -name '20*' ! -name "${stamp}" \
  -mtime +"${BACKUP_KEEP_DAYS}" -print -exec rm -rf {} +
