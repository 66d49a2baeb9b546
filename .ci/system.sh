# Sourced by .ci/run and .ci/latest: system packages, PostgreSQL + PostGIS, test settings.
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq postgresql-15-postgis-3 chromium fonts-wqy-microhei libzbar0 nginx-light poppler-utils >/dev/null
fi

if ! pg_lsclusters 2>/dev/null | grep -q online; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qc "CREATE EXTENSION IF NOT EXISTS postgis"

export STATIONS_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
export STATIONS_REQUIRE_ALL=1
export STATIONS_TEST_ARTIFACTS="${STATIONS_TEST_ARTIFACTS:-$PWD/test-artifacts}"
