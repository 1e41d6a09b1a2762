#!/usr/bin/env bash
# `make bench`: Kinshop measured side by side with PostgreSQL's and Django's own
# limits, on this machine, in one run of a few minutes. Prints one table and
# writes bench/RESULTS.md.
#
# Environment: PYTHON (the venv's python), PG_URL (any database on the server
# to use; the bench makes and drops its own BENCH_DB (default `kinshop_bench`)
# and BENCH_PGBENCH_DB (default `kinshop_pgbench`) there), BENCH_SECONDS (each timed phase, default 20),
# BENCH_SETTLE_LINES (default 100000), BENCH_FLASH_STOCK (default 300),
# BENCH_FLASH_SALE_UNITS (a campaigns flash sale's units, default 50) and
# BENCH_FLASH_SALE_BUYERS (default 500, 64 at a time, each trying once to buy one),
# BENCH_WORKERS (gunicorn workers, default 2 × CPUs), BENCH_KEEP_DB=1 keeps the
# bench databases afterwards for a look. Then the insight phase (bench/insight.sh:
# BENCH_INSIGHT_ORDERS, BENCH_INSIGHT_EVENTS; BENCH_INSIGHT=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PYTHON=${PYTHON:-.venv/bin/python}
export PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
export BENCH_SECONDS=${BENCH_SECONDS:-20}
SETTLE_LINES=${BENCH_SETTLE_LINES:-100000}
FLASH_STOCK=${BENCH_FLASH_STOCK:-300}
FLASH_SALE_UNITS=${BENCH_FLASH_SALE_UNITS:-50}
FLASH_SALE_BUYERS=${BENCH_FLASH_SALE_BUYERS:-500}
export BENCH_WORKERS=${BENCH_WORKERS:-$(( 2 * $(nproc) ))}
export BENCH_SETTLE_TIMEOUT=${BENCH_SETTLE_TIMEOUT:-240}
# The whole run must stay under 10 minutes on a busy 2-core machine: the
# unbounded phases (crowds, settlement) get what is left of this budget.
BUDGET=${BENCH_BUDGET_SECONDS:-560}
GUNICORN=$(dirname "$PYTHON")/gunicorn
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
[[ -x $PGBENCH ]] || { echo "pgbench not found: apt-get install postgresql-contrib"; exit 1; }

# shellcheck source=bench/lib.sh
source bench/lib.sh
# A run of its own: a new temp dir, var dir and secret whatever the caller set.
unset BENCH_TMP KINSHOP_VAR_DIR SECRET_KEY
bench_env bench
export BENCH_LOAD_BEFORE
BENCH_LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
export BENCH_DB=${BENCH_DB:-kinshop_bench} BENCH_PGBENCH_DB=${BENCH_PGBENCH_DB:-kinshop_pgbench}
DATABASE_URL=$("$PYTHON" -m bench.db url "$BENCH_DB")
PGBENCH_URL=$("$PYTHON" -m bench.db url "$BENCH_PGBENCH_DB")
export DATABASE_URL

server_pid=""
stop_server() {
  stop_process "$server_pid"
  server_pid=""
}
cleanup() {
  stop_server
  if [[ ${BENCH_KEEP_DB:-0} != 1 ]]; then
    "$PYTHON" -m bench.db drop "$BENCH_DB" "$BENCH_PGBENCH_DB" || true
  fi
  rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

phase() { printf '\n== %s (%s s)\n' "$1" "$SECONDS"; }

phase "fresh databases, migrations, seed data"
"$PYTHON" -m bench.db recreate "$BENCH_DB" "$BENCH_PGBENCH_DB"
"$PYTHON" -m kinshop migrate -v 0
"$PYTHON" -m bench.seed "$FLASH_STOCK" "$FLASH_SALE_UNITS" "$FLASH_SALE_BUYERS"
"$PGBENCH" -i -s 10 -q "$PGBENCH_URL" >"$BENCH_TMP/pgbench_init.txt" 2>&1

# The production server and settings: gunicorn (what the project ships and
# README names), sync workers, PostgreSQL through each process's connection pool
# (KINSHOP_DB_POOL_SIZE), the local-memory cache unless REDIS_URL is set.
phase "start gunicorn ($BENCH_WORKERS workers)"
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$GUNICORN" kinshop.wsgi --chdir "$ROOT" --bind "127.0.0.1:$PORT" \
  --workers "$BENCH_WORKERS" --threads 1 --timeout 120 --graceful-timeout 5 \
  --log-level warning >"$BENCH_TMP/gunicorn.log" 2>&1 &
server_pid=$!
"$PYTHON" -m bench.wait "$PORT" "gunicorn"
LOAD=("$PYTHON" -m bench.load)
# Every worker imports, connects and fills its caches before anything is timed.
"${LOAD[@]}" checkout warmup --port "$PORT" --clients 8 --seconds 3 >/dev/null
"${LOAD[@]}" get warmup_get --port "$PORT" --clients 8 --seconds 1 --path /shop/bench-main/ >/dev/null

for clients in 8 32; do
  phase "1. checkout, $clients clients, then pgbench"
  "$PYTHON" -m bench.cpu mark "checkout_${clients}_start" "$server_pid"
  "${LOAD[@]}" checkout "checkout_$clients" --port "$PORT" --clients "$clients" --seconds "$BENCH_SECONDS"
  "$PYTHON" -m bench.cpu mark "checkout_${clients}_end" "$server_pid"
  "$PGBENCH" -c "$clients" -j 2 -T "$BENCH_SECONDS" -b tpcb-like "$PGBENCH_URL" \
    >"$BENCH_TMP/pgbench_$clients.txt" 2>&1
  grep -E '^tps|latency average' "$BENCH_TMP/pgbench_$clients.txt" | sed 's/^/  pgbench: /'
done

phase "2. flash crowd: 32 clients on 1 SKU, then on 100 SKUs"
# Each crowd may use a fifth of what is left, so settlement keeps its share.
crowd_limit=$(( (BUDGET - SECONDS) / 5 )); (( crowd_limit < 20 )) && crowd_limit=20
"${LOAD[@]}" crowd crowd_hot --port "$PORT" --clients 32 --hot --limit "$crowd_limit"
"${LOAD[@]}" crowd crowd_spread --port "$PORT" --clients 32 --limit "$crowd_limit" \
  --target "$("$PYTHON" -c 'import json, os; print(json.load(open(os.environ["BENCH_TMP"] + "/crowd_hot.json"))["ok"] or 1)')"

phase "4. storefront (100 products) vs a trivial view, 8 clients"
"${LOAD[@]}" get get_storefront --port "$PORT" --clients 8 --seconds "$BENCH_SECONDS" --path /shop/bench-main/
"${LOAD[@]}" get get_trivial --port "$PORT" --clients 8 --seconds "$BENCH_SECONDS" --path /bench/trivial/

SHARE_CODE=$("$PYTHON" -c 'import json, os; print(json.load(open(os.environ["BENCH_TMP"] + "/seed.json"))["share_code"])')
phase "6. share landing /s/<code> (a new visitor each time) vs the trivial view, 8 clients"
"${LOAD[@]}" get get_share --port "$PORT" --clients 8 --seconds "$BENCH_SECONDS" --path "/s/$SHARE_CODE" --expect 302
"${LOAD[@]}" get get_trivial_share --port "$PORT" --clients 8 --seconds "$BENCH_SECONDS" --path /bench/trivial/

phase "7. 64 clients at once: a click flood on the share link"
"${LOAD[@]}" get flood_64 --port "$PORT" --clients 64 --seconds "$BENCH_SECONDS" --path "/s/$SHARE_CODE" --expect 302 --watch-connections

phase "8. flash sale (campaigns): $FLASH_SALE_BUYERS buyers, 64 at once, race for $FLASH_SALE_UNITS units"
"${LOAD[@]}" flashsale flash_sale --port "$PORT" --clients 64 --limit "$crowd_limit"
stop_server
if grep -qiE 'error|traceback' "$BENCH_TMP/gunicorn.log"; then
  echo "  gunicorn logged errors:"; grep -iE -m 20 'error|traceback' "$BENCH_TMP/gunicorn.log" | sed 's/^/    /'
fi

phase "5. SQL queries per request"
"$PYTHON" -m bench.queries
phase "stock checks (after every order of the run)"
"$PYTHON" -m bench.checks

phase "3. settlement of $SETTLE_LINES matured lines vs one INSERT"
"$PYTHON" -m bench.settle build "$SETTLE_LINES"
left=$(( BUDGET - SECONDS - 20 ))  # 20 s for the reference insert and the report
(( left < BENCH_SETTLE_TIMEOUT )) && BENCH_SETTLE_TIMEOUT=$(( left > 30 ? left : 30 ))
if timeout --signal=TERM "$BENCH_SETTLE_TIMEOUT" "$PYTHON" -m bench.settle run; then
  "$PYTHON" -m bench.settle reference
else
  echo "  settlement did not finish within $BENCH_SETTLE_TIMEOUT s"
fi

# The live phase gets what is left of the budget (30 to 150 s of measuring);
# it starts its own server (uvicorn) and skips itself without Redis.
live_cap=$(( BUDGET - SECONDS - 40 )); (( live_cap > 150 )) && live_cap=150; (( live_cap < 30 )) && live_cap=30
if [[ ${BENCH_LIVE:-1} == 1 ]]; then
  BENCH_LIVE_SECONDS=${BENCH_LIVE_SECONDS:-$live_cap} PYTHON=$PYTHON bash bench/live.sh
fi

phase "report"
"$PYTHON" -m bench.report
[[ -f $BENCH_TMP/live.json ]] && "$PYTHON" -m bench.live record >/dev/null
echo "total: $SECONDS s"

# Outside the 10-minute budget above: ten million orders take their own time.
if [[ ${BENCH_INSIGHT:-1} == 1 ]]; then
  PYTHON=$PYTHON bash bench/insight.sh
fi
