#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: starts a Cairn server on a
# workspace, registers the training data, the code and the environment as
# versioned assets, trains a real model (scikit-learn's bundled breast-cancer
# data) in four tracked runs that record their inputs, then shows the runs and
# the lineage through the CLI. Run via `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/cairn
WS="${CAIRN_DEMO_WORKSPACE:-demo-workspace}"
PORT_FILE="$(mktemp)"

# Debian's python3 builds environments: it is the one that has python3-sklearn.
"$BIN" server --workspace "$WS" --port 0 --port-file "$PORT_FILE" --python /usr/bin/python3 \
  >"$WS.server.log" 2>&1 &
PID=$!
stop() { kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -f "$PORT_FILE"; }
trap stop EXIT
for _ in $(seq 1 200); do [[ -s "$PORT_FILE" ]] && break; sleep 0.05; done
[[ -s "$PORT_FILE" ]] || { echo "demo: the server did not start:"; cat "$WS.server.log"; exit 1; }
export CAIRN_URL="http://127.0.0.1:$(cat "$PORT_FILE")"
echo "== Cairn server on $CAIRN_URL, workspace $WS/"

echo "== Versioned assets: the data, the code, the environment"
DATA_DIR="$WS.data"
mkdir -p "$DATA_DIR"
/usr/bin/python3 - "$DATA_DIR/breast_cancer.csv" <<'PY'
import csv, sys
from sklearn.datasets import load_breast_cancer
d = load_breast_cancer()
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(list(d.feature_names) + ["target"])
    for row, target in zip(d.data, d.target):
        w.writerow([repr(float(v)) for v in row] + [int(target)])
PY
"$BIN" data create --name breast-cancer --path "$DATA_DIR/breast_cancer.csv" \
  --description "scikit-learn's breast-cancer data as CSV" --tag source=sklearn
DATA_VERSION="$("$BIN" --json data show breast-cancer@latest |
                /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["asset"]["version"])')"
CODE="$("$BIN" code snapshot examples/quickstart)"
echo "code snapshot: $CODE"
"$BIN" environment create -f examples/quickstart/environment.yml
"$BIN" environment build quickstart-sklearn@latest

echo
echo "== Training: logistic regression, one tracked run per C value"
CAIRN_DATA="$DATA_DIR/breast_cancer.csv" CAIRN_DATA_REF="azureml:breast-cancer:$DATA_VERSION" \
  /usr/bin/python3 examples/quickstart/train.py quickstart
# Each run recorded its data input itself (MLflow's log-inputs); link the code
# and the environment it ran with.
for RUN in $("$BIN" --json run search -e quickstart |
             /usr/bin/python3 -c 'import json,sys; [print(r["info"]["run_id"]) for r in json.load(sys.stdin)["runs"]]'); do
  "$BIN" lineage link "code:$CODE" "run:$RUN" >/dev/null
  "$BIN" lineage link "environment:quickstart-sklearn@latest" "run:$RUN" >/dev/null
done

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
echo
echo "== Registry: the best run's model becomes the champion; the runner-up is compared against it"
SECOND="$("$BIN" --json run search -e quickstart --order-by "metrics.roc_auc DESC" --max-results 2 |
          /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][1]["info"]["run_id"])')"
MODEL=breast-cancer-classifier
version_of() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model_version"]["version"])'; }
CHAMPION="$("$BIN" --json model create --name "$MODEL" --run "$BEST" --artifact-path model \
             --description "scaled logistic regression, best roc_auc" | version_of)"
echo "registered $MODEL:$CHAMPION from run $BEST"
"$BIN" model promote "$MODEL:$CHAMPION" --alias champion --reason "best roc_auc in the quickstart sweep"
CHALLENGER="$("$BIN" --json model create --name "$MODEL" --run "$SECOND" --artifact-path model \
               --description "runner-up" | version_of)"
echo "registered $MODEL:$CHALLENGER from run $SECOND"
echo "\$ cairn model compare $MODEL:$CHALLENGER --against $MODEL@champion --metric roc_auc"
"$BIN" model compare "$MODEL:$CHALLENGER" --against "$MODEL@champion" --metric roc_auc ||
  echo "(exit $?: the challenger does not beat the champion, so CI would not promote it)"
echo
echo "== cairn model show $MODEL@champion"
"$BIN" model show "$MODEL@champion"

echo
echo "== cairn lineage show breast-cancer:$DATA_VERSION --downstream   (what depends on this data?)"
"$BIN" lineage show "breast-cancer:$DATA_VERSION" --downstream
echo
echo "== cairn lineage show run:$BEST --upstream   (what produced this run?)"
"$BIN" lineage show "run:$BEST" --upstream
cat <<EOM

Where to look:
  workspace:  $WS/cairn.db (metadata, SQLite) and $WS/artifacts/ (files)
  assets:     $BIN data list; $BIN data show breast-cancer@latest; $BIN environment list
  models:     $BIN model list; $BIN model show breast-cancer-classifier@champion
  explore:    $BIN server --workspace $WS        # then, in another shell:
              $BIN run search -e quickstart --order-by "metrics.roc_auc DESC"
              MLFLOW_TRACKING_URI=http://127.0.0.1:5050 python your_mlflow_script.py
EOM
