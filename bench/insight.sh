#!/usr/bin/env bash
# The insight phase of `make bench` (also `make bench-insight` alone): builds
# BENCH_INSIGHT_ORDERS orders (default 10 million) and BENCH_INSIGHT_EVENTS
# events (default 50 million) with set-based SQL in its own database
# `kinshop_insight_bench` on PG_URL's server, runs the rollup job, times the
# platform and shop insight from the rollups and DuckDB over the raw tables,
# and writes its section of bench/RESULTS.md. The full size takes a while
# (tens of minutes on 2 busy cores); use e.g. BENCH_INSIGHT_ORDERS=100000
# BENCH_INSIGHT_EVENTS=500000 to try it. DuckDB and the PyPI package that ships
# its postgres extension are installed into the venv here (bench-only; the
# `bench` extra of pyproject.toml names the same versions).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
ORDERS=${BENCH_INSIGHT_ORDERS:-10000000}
EVENTS=${BENCH_INSIGHT_EVENTS:-50000000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_env insight
DATABASE_URL=$("$PYTHON" -m bench.db url kinshop_insight_bench)
export DATABASE_URL
cleanup() {
  if [[ ${BENCH_KEEP_DB:-0} != 1 ]]; then "$PYTHON" -m bench.db drop kinshop_insight_bench || true; fi
  if [[ -n $bench_own_tmp ]]; then rm -rf "$bench_own_tmp"; fi
}
trap cleanup EXIT

printf '\n== 6. insight at scale: %s orders, %s events (%s s)\n' "$ORDERS" "$EVENTS" "$SECONDS"
"$PYTHON" -m pip install --quiet "duckdb==1.4.4" "duckdb-ext-postgres==1.4.4.20260205" \
  || echo "  DuckDB could not be installed: the reference is skipped"
"$PYTHON" -m bench.db recreate kinshop_insight_bench
"$PYTHON" -m kinshop migrate -v 0
"$PYTHON" -m bench.insight build "$ORDERS" "$EVENTS"
"$PYTHON" -m bench.insight rollup
"$PYTHON" -m bench.insight time
"$PYTHON" -m bench.insight duckdb
"$PYTHON" -m bench.insight record
echo "insight phase: $SECONDS s"
