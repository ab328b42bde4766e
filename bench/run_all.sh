#!/usr/bin/env bash
# Runs every tracking benchmark against a Release build and prints each figure
# next to its same-run baseline. Usage: make bench  (or bench/run_all.sh BUILD_DIR)
#   BENCH_RUNS=100000  runs in the search/startup workspace
#   BENCH_SECONDS=5    duration of each wrk measurement
#   BENCH_ROUNDS=3     alternating baseline/subject rounds for the wrk figures
#   BENCH_MODELS=10000 registered models (10 versions each) in the registry workspace
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-release}"
BIN="$BUILD/cairn"
TB="$BUILD/bench/tracking_bench"
RB="$BUILD/bench/registry_bench"
RUNS="${BENCH_RUNS:-100000}"
SECS="${BENCH_SECONDS:-5}"
WORK="$(mktemp -d /tmp/cairn-bench.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

start_server() {  # start_server WORKSPACE -> sets PORT
  rm -f "$WORK/port"
  "$BIN" server --workspace "$1" --port 0 --port-file "$WORK/port" >"$WORK/server.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 400); do [[ -s "$WORK/port" ]] && break; sleep 0.05; done
  PORT="$(cat "$WORK/port")"
}
stop_servers() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
rps() { wrk "$@" | awk '/Requests\/sec/ {print $2}'; }

echo "# cairn tracking benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
start_server "$WORK/empty"
URL="http://127.0.0.1:$PORT"
RUN_ID="$(curl -s -XPOST "$URL/api/2.0/mlflow/runs/create" -d '{"experiment_id":"0"}' |
          /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Baseline and subject alternate for ROUNDS rounds, so a noisy neighbour hits
# both alike; the medians and their ratio are reported.
ROUNDS="${BENCH_ROUNDS:-3}"
for conns in 1 16; do
  threads=$(( conns == 1 ? 1 : 2 ))
  bases=(); gots=()
  for _ in $(seq 1 "$ROUNDS"); do
    bases+=("$(rps -t$threads -c$conns -d${SECS}s "$URL/health")")
    gots+=("$(CAIRN_RUN_ID="$RUN_ID" rps -t$threads -c$conns -d${SECS}s -s bench/log_metric.lua "$URL")")
  done
  base=$(printf '%s\n' "${bases[@]}" | median)
  got=$(printf '%s\n' "${gots[@]}" | median)
  printf "log-metric, %2d keep-alive client(s): %9.0f req/s | /health %9.0f req/s  ratio %.2f  (median of %d rounds: %s)\n" \
    "$conns" "$got" "$base" "$(echo "$got / $base" | bc -l)" "$ROUNDS" "${gots[*]}"
done
"$TB" batch "$PORT"
stop_servers

echo "populating $RUNS runs (10 params + 10 metrics each)..."
"$TB" populate "$WORK/full" "$RUNS" 2>/dev/null
start_server "$WORK/full"
"$TB" search "$PORT" 1
stop_servers
mkdir -p "$WORK/empty2"
"$TB" startup "$BIN" "$WORK/full" "$WORK/empty2" 5093

echo "model registry: ${BENCH_MODELS:-10000} models x 10 versions..."
"$RB" "$WORK/registry" "${BENCH_MODELS:-10000}" 10 2>/dev/null
