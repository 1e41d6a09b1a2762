#!/usr/bin/env bash
# The live rooms phase of `make bench` (9; also `make bench-live` alone):
# `kinshop serve` (uvicorn, BENCH_LIVE_WORKERS processes, default the CPUs) with
# REDIS_URL (BENCH_REDIS_URL, default redis://127.0.0.1:6379/11: a spare database;
# the hub's channels carry the number) so the Redis hub is used, one room on
# air, SSE viewers in steps up to BENCH_LIVE_VIEWERS_MAX (default 5000) and
# chat messages at BENCH_LIVE_RATE a second, then the same against bare Redis
# pub/sub; at most BENCH_LIVE_SECONDS (default 150) of measuring. Alone, it makes
# and drops its own database `kinshop_live_bench` on PG_URL's server; inside
# `make bench` it uses the bench database (DATABASE_URL) and leaves the report
# to run.sh. Writes the "Live rooms" section of bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-.venv/bin/python}
export PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
export BENCH_LIVE_WORKERS=${BENCH_LIVE_WORKERS:-$(nproc)}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/11}
own_db=""
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_env live
export BENCH_LIVE_LOAD
BENCH_LIVE_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -z ${DATABASE_URL:-} ]]; then
  own_db=kinshop_live_bench
  DATABASE_URL=$("$PYTHON" -m bench.db url "$own_db")
fi
export DATABASE_URL

live_pid=""
cleanup() {
  stop_process "$live_pid"
  if [[ -n $own_db && ${BENCH_KEEP_DB:-0} != 1 ]]; then "$PYTHON" -m bench.db drop "$own_db" || true; fi
  if [[ -n $bench_own_tmp ]]; then rm -rf "$bench_own_tmp"; fi
}
trap cleanup EXIT

"$PYTHON" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2).ping()' \
  || { echo "  no Redis at $REDIS_URL: the live phase is skipped"; exit 0; }
printf '\n== 9. live rooms: SSE viewers up to %s, Redis hub (%s s)\n' "${BENCH_LIVE_VIEWERS_MAX:-5000}" "$SECONDS"
if [[ -n $own_db ]]; then
  "$PYTHON" -m bench.db recreate "$own_db"
  "$PYTHON" -m kinshop migrate -v 0
fi
"$PYTHON" -m bench.live setup
# The server gets the hard limit of open files too (a viewer is a socket).
ulimit -n "$(ulimit -Hn)"
echo "  ulimit -n: $(ulimit -n)"
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PYTHON" -m kinshop serve --bind "127.0.0.1:$PORT" --workers "$BENCH_LIVE_WORKERS" \
  >"$BENCH_TMP/serve_live.log" 2>&1 &
live_pid=$!
"$PYTHON" -m bench.wait "$PORT" "kinshop serve"
"$PYTHON" -m bench.live run --port "$PORT" --server-pid "$live_pid"
if grep -qiE 'error|traceback' "$BENCH_TMP/serve_live.log"; then
  echo "  kinshop serve logged errors:"; grep -iE -m 20 'error|traceback' "$BENCH_TMP/serve_live.log" | sed 's/^/    /'
fi
if [[ -n $bench_own_tmp ]]; then
  "$PYTHON" -m bench.live record
fi
echo "live phase: $SECONDS s"
