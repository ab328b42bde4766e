#!/usr/bin/env bash
# Runs every tracking benchmark against a Release build and prints each figure
# next to its same-run baseline. Usage: make bench  (or bench/run_all.sh BUILD_DIR)
#   BENCH_RUNS=100000  runs in the search/startup workspace
#   BENCH_SECONDS=5    duration of each wrk measurement
#   BENCH_ROUNDS=3     alternating baseline/subject rounds for the wrk figures
#   BENCH_MODELS=10000 registered models (10 versions each) in the registry workspace
#   BENCH_EDGES=100000 edges in the lineage graph
#   BENCH_DATA_MB=1024 size of the data file registered
#   BENCH_ONLY=assets  only the asset figures (lineage, data registration)
#   BENCH_ONLY=data    only the data statistics figures (bench/data_stats_bench.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-release}"
BIN="$BUILD/cairn"
TB="$BUILD/bench/tracking_bench"
RB="$BUILD/bench/registry_bench"
AB="$BUILD/bench/asset_bench"
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

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "# cairn benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ "${BENCH_ONLY:-}" == data ]]; then
  bench/data_stats_bench.sh "$BUILD"
  exit 0
fi
# BENCH_ONLY=assets skips the tracking and registry figures.
if [[ "${BENCH_ONLY:-}" != assets ]]; then
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
fi

AB_EDGES="${BENCH_EDGES:-100000}"
echo "lineage: a graph of $AB_EDGES edges..."
"$AB" populate "$WORK/lineage" "$AB_EDGES"
start_server "$WORK/lineage"
"$AB" query "$PORT"
ms_now() { date +%s%N | awk '{printf "%.3f", $1 / 1e6}'; }
# The whole command as a user runs it: process start, request, walk, printing.
wall() {  # wall N CMD... -> median milliseconds
  local times=()
  for _ in $(seq 1 "$1"); do
    local t0; t0=$(ms_now); "${@:2}" >/dev/null; times+=("$(echo "$(ms_now) - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | median
}
base=$(wall 30 "$BIN" --server "http://127.0.0.1:$PORT" datastore list)
got=$(wall 30 "$BIN" --server "http://127.0.0.1:$PORT" lineage show data:d7:1 --downstream --depth 3)
printf "cairn lineage show (CLI wall time, median of 30): %6.1f ms | cairn datastore list %6.1f ms  ratio %.2f\n" \
  "$got" "$base" "$(echo "$got / $base" | bc -l)"
stop_servers

MB="${BENCH_DATA_MB:-1024}"
echo "data registration: one ${MB} MB file (random bytes)..."
dd if=/dev/urandom of="$WORK/big.bin" bs=1M count="$MB" status=none
start_server "$WORK/assets"
SERVER_PID="${PIDS[-1]}"
export CAIRN_CACHE_DIR="$WORK/hash-cache"
t0=$(ms_now); openssl dgst -sha256 "$WORK/big.bin" >/dev/null; t_hash=$(echo "$(ms_now) - $t0" | bc -l)
t0=$(ms_now); cp "$WORK/big.bin" "$WORK/copy.bin" && sync "$WORK/copy.bin"; t_copy=$(echo "$(ms_now) - $t0" | bc -l)
rm -f "$WORK/copy.bin"
t0=$(ms_now); "$BIN" --server "http://127.0.0.1:$PORT" data create --name big --path "$WORK/big.bin" >/dev/null
t_reg=$(echo "$(ms_now) - $t0" | bc -l)
t0=$(ms_now); "$BIN" --server "http://127.0.0.1:$PORT" data create --name big --path "$WORK/big.bin" >/dev/null
t_again=$(echo "$(ms_now) - $t0" | bc -l)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
mbps() { echo "$MB * 1000 / $1" | bc -l; }
printf "register %d MB (hash, upload, store, fsync): %7.0f ms = %6.0f MB/s | cp+fsync %6.0f MB/s, openssl sha256 %6.0f MB/s  ratio to cp+fsync %.2f\n" \
  "$MB" "$t_reg" "$(mbps "$t_reg")" "$(mbps "$t_copy")" "$(mbps "$t_hash")" "$(echo "$t_copy / $t_reg" | bc -l)"
printf "re-register unchanged (hash cache, nothing uploaded): %.0f ms\n" "$t_again"
printf "server peak RSS during the upload: %d MB\n" "$((rss / 1024))"
stop_servers

# Online serving (issue 7): its own server process and client, see bench/serving_bench.cc.
if [[ -x "$BUILD/bench/serving_bench" ]]; then
  echo "online serving (serving_bench, ${SECS} s per measurement)..."
  "$BUILD/bench/serving_bench" "$SECS"
fi
# XGBoost single-row prediction vs the plain C-API call (built only when asked for).
if [[ -x "$BUILD/bench/ml_bench" ]]; then "$BUILD/bench/ml_bench"; fi
if [[ -z "${BENCH_ONLY:-}" ]]; then
  bench/data_stats_bench.sh "$BUILD"
fi
