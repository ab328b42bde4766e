#!/usr/bin/env bash
# Installs the npm package vega-datasets (pinned) whose data/ holds the flights
# tables the demo uses (flights-200k.json: delay, distance, time of day;
# flights-20k.json: date, delay, distance, origin, destination). Idempotent.
# Usage: scripts/fetch_flights.sh [DIR]   (default: $CAIRN_DATASETS or <repo>/.datasets)
# Prints the data directory on stdout.
set -euo pipefail
version="3.2.1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-${CAIRN_DATASETS:-$repo/.datasets}}"
data="$dir/node_modules/vega-datasets/data"
if [[ ! -f "$data/flights-200k.json" || ! -f "$data/flights-20k.json" ]]; then
  command -v npm >/dev/null || { echo "fetch_flights: npm is missing (scripts/setup.sh demo)" >&2; exit 2; }
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent "vega-datasets@$version" >&2
fi
echo "$data"
