#!/usr/bin/env bash
# End-to-end `cairn data stats FILE --json` on generated CSVs (10 numeric + 5
# categorical columns) of 1 GB and 4 GB, next to pandas (read_csv + describe()
# + value_counts() per categorical column) on the 1 GB file in the same run.
# Prints MB/s, the ratio to pandas and the peak RSS (/usr/bin/time -v) of each.
# Usage: bench/data_stats_bench.sh [BUILD_DIR=build-release]
#   BENCH_STATS_MB="1024 4096"  file sizes in MB (pandas runs on the first)
#   BENCH_STATS_DIR=/tmp        where the files are generated (deleted after)
#   BENCH_STATS_PANDAS=0        skip pandas (it takes minutes and ~2.3 GB per GB of CSV)
#   BENCH_STATS_RUNS=3          cairn runs per file; the median is reported. On a
#                               shared machine one 2 s run can land in a slow
#                               moment that a 20 s pandas run averages out.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-release}"
BIN="$BUILD/cairn"
DB="$BUILD/bench/data_bench"
SIZES=(${BENCH_STATS_MB:-1024 4096})
need_mb=0; for s in "${SIZES[@]}"; do need_mb=$((need_mb + s)); done
DIR="$(mktemp -d "${BENCH_STATS_DIR:-/tmp}/cairn-stats-bench.XXXXXX")"
trap 'rm -rf "$DIR"' EXIT
free_mb=$(df -Pm "$DIR" | awk 'NR == 2 {print $4}')
if ((free_mb < need_mb + 1024)); then
  echo "data stats: needs $((need_mb + 1024)) MB free in $DIR, has $free_mb MB" >&2
  exit 1
fi
[[ -x /usr/bin/time ]] || { echo "data stats: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

# measure OUT CMD... : runs CMD under /usr/bin/time -v; sets SECS and RSS_MB.
measure() {
  local out="$1"; shift
  /usr/bin/time -v "$@" >"$out" 2>"$DIR/time.txt" || { cat "$DIR/time.txt" >&2; return 1; }
  SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0;
           for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$DIR/time.txt")
  CPU=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$DIR/time.txt")
  RSS_MB=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$DIR/time.txt")
}

echo "data stats: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A MBPS RSS
first=""
for mb in "${SIZES[@]}"; do
  file="$DIR/data_${mb}.csv"
  "$DB" gen "$mb" "$file" >/dev/null
  size_mb=$(echo "$(stat -c %s "$file") / 1048576" | bc -l)
  cat "$file" >/dev/null  # from the page cache, like the pandas run
  runs=()
  for ((r = 0; r < ${BENCH_STATS_RUNS:-3}; r++)); do
    measure "$DIR/stats.json" "$BIN" data stats "$file" --json
    runs+=("$SECS $CPU $RSS_MB")
  done
  # The run with the median wall time (its CPU and RSS with it).
  read -r SECS CPU RSS_MB < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((${#runs[@]} + 1) / 2))p")
  all_secs=$(printf '%s\n' "${runs[@]}" | awk '{print $1}' | sort -n | paste -sd' ')
  exact=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exact"])' "$DIR/stats.json")
  MBPS[$mb]=$(echo "$size_mb / $SECS" | bc -l)
  CAIRN_CPU=$CPU
  RSS[$mb]=$RSS_MB
  printf "cairn data stats --json, %5.0f MB: %6.2f s = %6.1f MB/s (CPU %.1f s), peak RSS %5d MB, exact: %s (median of %d runs: %s s)\n" \
    "$size_mb" "$SECS" "${MBPS[$mb]}" "$CPU" "$RSS_MB" "$exact" "${#runs[@]}" "$all_secs"
  if [[ -z "$first" && "${BENCH_STATS_PANDAS:-1}" != 0 ]]; then
    first=$mb
    measure "$DIR/pandas.txt" /usr/bin/python3 bench/pandas_stats.py "$file"
    sed 's/^/  /' "$DIR/pandas.txt"
    # pandas' own timing (after `import pandas`), the fairer baseline: cairn's
    # figure includes its process start.
    pandas_secs=$(awk '/read_csv \+ describe/ {for (i = 1; i <= NF; i++) if ($i == "s") {print $(i - 1); exit}}' \
                  "$DIR/pandas.txt" | tail -1)
    printf "pandas (read_csv + describe + value_counts), %5.0f MB: %6.2f s = %6.1f MB/s (whole process %.2f s, CPU %.1f s), peak RSS %5d MB\n" \
      "$size_mb" "$pandas_secs" "$(echo "$size_mb / $pandas_secs" | bc -l)" "$SECS" "$CPU" "$RSS_MB"
    printf "cairn vs pandas on %s MB: %.1fx faster (wall); CPU seconds: cairn %.1f, pandas %.1f\n" "$mb" \
      "$(echo "$pandas_secs * ${MBPS[$mb]} / $size_mb" | bc -l)" "$CAIRN_CPU" "$CPU"
  fi
  rm -f "$file"
done
if ((${#SIZES[@]} > 1)); then
  line="peak RSS of cairn data stats:"
  for mb in "${SIZES[@]}"; do line+=" ${mb} MB file ${RSS[$mb]} MB;"; done
  echo "$line"
fi
