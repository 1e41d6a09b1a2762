# Sourced by bench/run.sh, bench/live.sh and bench/insight.sh: the settings
# every phase runs Kinshop under, and how a phase stops a server it started.

# bench_env NAME: BENCH_TMP (made here, named after NAME, unless the caller
# passed one down: then `bench_own_tmp` is empty and the caller removes it),
# and the app's environment: production settings plus the bench's trivial view.
bench_env() {
  bench_own_tmp=""
  if [[ -z ${BENCH_TMP:-} ]]; then
    BENCH_TMP=$(mktemp -d -t "kinshop-$1.XXXXXX")
    bench_own_tmp=$BENCH_TMP
  fi
  export BENCH_TMP
  export DJANGO_SETTINGS_MODULE=bench.settings DEBUG=0 KINSHOP_PAYMENT_SANDBOX=1 LOG_LEVEL=ERROR
  export KINSHOP_VAR_DIR=${KINSHOP_VAR_DIR:-$BENCH_TMP/var}
  export SECRET_KEY=${SECRET_KEY:-"bench-$RANDOM-$RANDOM-$RANDOM"}
}

# stop_process PID: ask it to stop, give it 10 s, then kill it.
stop_process() {
  local pid=${1:-}
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
  fi
}
