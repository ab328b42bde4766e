#!/usr/bin/env bash
# Installs the Debian packages Cairn needs, asking dpkg-query first so a warm
# machine pays nothing. Usage: scripts/setup.sh [build|test|demo|bench]
set -euo pipefail
profile="${1:-build}"
pkgs=(cmake ninja-build ccache g++ pkg-config libsqlite3-dev libcpp-httplib-dev
      nlohmann-json3-dev libcli11-dev libssl-dev libboost-dev libgtest-dev libgmock-dev
      libyaml-cpp-dev libgit2-dev zlib1g-dev libxgboost-dev git python3 python3-venv tzdata
      python3-numpy python3-sklearn libicu-dev)
case "$profile" in
  # npm fetches the flights data (vega-datasets); a NodeSource nodejs already ships npm.
  demo) command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
  bench) pkgs+=(wrk bc curl python3-pandas time) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ "$profile" == demo ]]; then
  "$(dirname "$0")/fetch_flights.sh" >/dev/null
fi
