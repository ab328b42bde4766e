#!/usr/bin/env bash
# Installs the Debian packages Cairn needs, asking dpkg-query first so a warm
# machine pays nothing. Usage: scripts/setup.sh [build|test|demo|bench]
set -euo pipefail
profile="${1:-build}"
pkgs=(cmake ninja-build ccache g++ pkg-config libsqlite3-dev libcpp-httplib-dev
      nlohmann-json3-dev libcli11-dev libssl-dev libboost-dev libgtest-dev libgmock-dev
      libyaml-cpp-dev libgit2-dev zlib1g-dev libxgboost-dev git python3 python3-venv
      python3-numpy)
case "$profile" in
  demo) pkgs+=(python3-sklearn) ;;
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
