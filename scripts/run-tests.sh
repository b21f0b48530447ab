#!/usr/bin/env bash
# The whole test suite: lint, then pytest on SQLite, then again on PostgreSQL when a server
# answers (UCFLEET_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/ucfleet).
# Browser tests need Debian's chromium: installed here when we are root with apt-get,
# otherwise they are skipped with one clear line (CI sets UCFLEET_REQUIRE_BROWSER=1 and
# fails on any skipped browser test).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p test-artifacts

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
      >test-artifacts/apt.log 2>&1 || echo "!! chromium could not be installed (see test-artifacts/apt.log)"
  fi
  [ -x /usr/bin/chromium ] || echo "!! /usr/bin/chromium is missing: browser tests will be skipped"
fi

if ! command -v pg_dump >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's postgresql-client for the backup tests (pg_dump, pg_restore)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client) \
    >>test-artifacts/apt.log 2>&1 || echo "!! postgresql-client could not be installed (see test-artifacts/apt.log)"
fi

echo "== lint"
$BIN/ruff check src tests bench || exit 1
$BIN/ruff format --check src tests bench || exit 1
$BIN/mypy || exit 1
$BIN/lint-imports --no-cache || exit 1
$BIN/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "!! models and migrations differ: run manage.py makemigrations -n <name>"; exit 1; }

status=0
summary=()
run_leg() {  # name, then env assignments for the leg
  local name=$1; shift
  echo "== tests on $name"
  env "$@" $BIN/pytest -p no:cacheprovider -q "${PYTEST_ARGS[@]}" | tee "test-artifacts/pytest-$name.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[=]* ?[0-9]+ (passed|failed)|^[0-9]+ (passed|failed)|(passed|failed).* in [0-9.]+s' \
    "test-artifacts/pytest-$name.log" | tail -n 1 | tr -d '=' | sed 's/^ *//')
  summary+=("$name: ${line:-no result} (exit $rc)")
  [ "$rc" = 0 ] || status=1
}

PYTEST_ARGS=("$@")
run_leg sqlite UCFLEET_DATABASE_URL=

PG_URL=${UCFLEET_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/ucfleet}
if $BIN/python - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username, dbname="postgres",
                connect_timeout=3).close()
PY
then
  run_leg postgresql UCFLEET_DATABASE_URL="$PG_URL"
else
  summary+=("postgresql: SKIPPED - no PostgreSQL server answers at $PG_URL")
  echo "!! PostgreSQL is not reachable at $PG_URL: the PostgreSQL leg is skipped"
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
