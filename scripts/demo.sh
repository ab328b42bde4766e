#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: starts a Cairn server on a
# workspace, trains a real model (scikit-learn's bundled breast-cancer data) in
# four tracked runs, then shows them through the CLI. Run via `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/cairn
WS="${CAIRN_DEMO_WORKSPACE:-demo-workspace}"
PORT_FILE="$(mktemp)"

"$BIN" server --workspace "$WS" --port 0 --port-file "$PORT_FILE" >"$WS.server.log" 2>&1 &
PID=$!
stop() { kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -f "$PORT_FILE"; }
trap stop EXIT
for _ in $(seq 1 200); do [[ -s "$PORT_FILE" ]] && break; sleep 0.05; done
[[ -s "$PORT_FILE" ]] || { echo "demo: the server did not start:"; cat "$WS.server.log"; exit 1; }
export CAIRN_URL="http://127.0.0.1:$(cat "$PORT_FILE")"
echo "== Cairn server on $CAIRN_URL, workspace $WS/"

echo "== Training: logistic regression, one tracked run per C value"
/usr/bin/python3 examples/quickstart/train.py quickstart

echo
echo "== cairn experiment list"
"$BIN" experiment list
echo
echo "== cairn run search -e quickstart --filter \"metrics.roc_auc > 0.99\" --order-by \"metrics.roc_auc DESC\""
"$BIN" run search -e quickstart --filter "metrics.roc_auc > 0.99" --order-by "metrics.roc_auc DESC"
BEST="$("$BIN" --json run search -e quickstart --order-by "metrics.roc_auc DESC" --max-results 1 |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["info"]["run_id"])')"
echo
echo "== cairn run show $BEST"
"$BIN" run show "$BEST"
echo
echo "== cairn run artifacts $BEST"
"$BIN" run artifacts "$BEST"
cat <<EOM

Where to look:
  workspace:  $WS/cairn.db (metadata, SQLite) and $WS/artifacts/ (files)
  explore:    $BIN server --workspace $WS        # then, in another shell:
              $BIN run search -e quickstart --order-by "metrics.roc_auc DESC"
              MLFLOW_TRACKING_URI=http://127.0.0.1:5050 python your_mlflow_script.py
EOM
