#!/usr/bin/env bash
# The whole suite on SQLite, then again on PostgreSQL when one is reachable.
# With CI=true a missing PostgreSQL is a failure, not a skip.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
export KINSHOP_PAYMENT_SANDBOX=1
# One pytest-xdist worker per core, at most 4 (KINSHOP_TEST_WORKERS overrides;
# 0 runs everything in this process). Each worker has its own test database, temp dir and
# media root; tests marked xdist_group("servers") (the browser and crash tests,
# which start servers in subprocesses) all run on one worker, one at a time.
cores=$(nproc 2>/dev/null || echo 2)
WORKERS=${KINSHOP_TEST_WORKERS:-$((cores < 4 ? cores : 4))}
PYTEST_ARGS=(-n "$WORKERS" --dist loadgroup -rs)

echo "== Kinshop tests on SQLite ($WORKERS pytest-xdist workers) =="
env -u DATABASE_URL KINSHOP_TEST_DB=sqlite "$PYTHON" -m pytest "${PYTEST_ARGS[@]}" "$@"

target=""
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  target=$DATABASE_URL
elif "$PYTHON" - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
PY
then
  target=$PG_URL
fi

if [[ -z "$target" ]]; then
  echo
  echo "!! PostgreSQL tests SKIPPED: no server at DATABASE_URL or $PG_URL."
  echo "!! Concurrency, locking and crash tests only run on PostgreSQL."
  if [[ "${CI:-}" == "true" ]]; then
    echo "!! CI=true requires the PostgreSQL run: failing."
    exit 1
  fi
  exit 0
fi

echo
echo "== Kinshop tests on PostgreSQL (${target%%@*}@…, $WORKERS pytest-xdist workers) =="
DATABASE_URL=$target KINSHOP_TEST_DB=postgres "$PYTHON" -m pytest "${PYTEST_ARGS[@]}" "$@"
