#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: starts a Cairn server on a
# workspace, registers the training data, the code and the environment as
# versioned assets, trains a real model (scikit-learn's bundled breast-cancer
# data) in four tracked runs that record their inputs, then shows the runs and
# the lineage through the CLI. Then the flights pipeline (prep, validate,
# train, evaluate, register; examples/flights/) runs twice: the second run
# reuses every step. Last, the flights model is served (blue), a second version
# is rolled out beside it (green: mirror, canary, promote) and rolled back.
# Run via `make demo`.
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
echo
echo "== Pipelines: the flights demo (examples/flights/pipeline.yml), run twice"
# flights-20k: 20,000 records with date, origin and destination (flights-200k
# has only delay, distance and time of day), so the model gets schedule and
# airport features while training stays a few seconds.
FLIGHTS="$(scripts/fetch_flights.sh)/flights-20k.json"
"$BIN" data create --name flights --path "$FLIGHTS" \
  --description "vega-datasets flights-20k: 2001 US flights, delay in minutes" --tag source=vega-datasets
# The scikit-learn baseline step runs in this environment (built on first use).
"$BIN" environment create -f examples/flights/baseline/environment.yml
STAMP="$(date +%Y%m%d-%H%M%S)"
step_table() {  # job name -> "step  status  run  reused-from" lines, from `cairn job show --json`
  "$BIN" --json job show "$1" | /usr/bin/python3 -c '
import json, sys
job = json.load(sys.stdin)["job"]
print("job %s: %s" % (job["name"], job["status"]))
for s in job["steps"]:
    reused = s.get("reused_from") or ""
    print("  %-9s %-10s run %s%s" % (s["name"], s["status"], s["run_id"],
                                     "  reused from run " + reused if reused else ""))'
}
step_run() {  # job name, step name -> the run that did the step's work (the origin when reused)
  "$BIN" --json job show "$1" |
    /usr/bin/python3 -c 'import json,sys; print(next(s.get("reused_from") or s["run_id"] for s in json.load(sys.stdin)["job"]["steps"] if s["name"] == sys.argv[1]))' "$2"
}
for RUN in 1 2; do
  JOB="flights-$STAMP-$RUN"
  echo
  echo "\$ cairn job create -f examples/flights/pipeline.yml --name $JOB --stream"
  START=$(date +%s.%N)
  "$BIN" job create -f examples/flights/pipeline.yml --name "$JOB" --stream
  END=$(date +%s.%N)
  step_table "$JOB"
  /usr/bin/python3 -c 'import sys; print(f"  wall time: {float(sys.argv[2]) - float(sys.argv[1]):.2f} s")' "$START" "$END"
done
FIRST="flights-$STAMP-1"
EVAL_RUN="$(step_run "$FIRST" evaluate)"
TRAIN_RUN="$(step_run "$FIRST" train)"
BASELINE_RUN="$(step_run "$FIRST" baseline)"
echo
echo "== Held-out metrics of the flights model (run $EVAL_RUN of the evaluate step, MLflow API)"
"$BIN" --json run show "$EVAL_RUN" | /usr/bin/python3 -c '
import json, sys
metrics = {m["key"]: m["value"] for m in json.load(sys.stdin)["run"]["data"]["metrics"]}
for k in ("accuracy", "roc_auc", "log_loss", "f1", "precision", "recall"):
    if k in metrics:
        print(f"  {k:<10} {metrics[k]:.4f}")'
echo "== The scikit-learn baseline step (run $BASELINE_RUN, logged through the stdlib cairn_client helper)"
"$BIN" --json run show "$BASELINE_RUN" | /usr/bin/python3 -c '
import json, sys
metrics = {m["key"]: m["value"] for m in json.load(sys.stdin)["run"]["data"]["metrics"]}
for k in ("accuracy", "roc_auc", "log_loss"):
    if k in metrics:
        print(f"  {k:<10} {metrics[k]:.4f}")'
echo
echo "== cairn model show flights-delay@champion"
"$BIN" model show flights-delay@champion
echo
echo "== cairn lineage show run:$TRAIN_RUN --upstream   (what produced the model?)"
"$BIN" lineage show "run:$TRAIN_RUN" --upstream

echo
echo "== Online endpoint: blue serves flights-delay:1; green (a second version) is mirrored, canaried, promoted, rolled back"
ROLL="$WS.rollout"
rm -rf "$ROLL" && mkdir -p "$ROLL"
"$BIN" job download "$FIRST" --step prep --output "$ROLL" >/dev/null
TRAIN_CSV="$(find "$ROLL/prep/train" -type f | head -1)"
TEST_CSV="$(find "$ROLL/prep/test" -type f | head -1)"
"$BIN" component train --data "$TRAIN_CSV" --label delayed --param num_round=120 \
  --param max_depth=6 --param eta=0.1 --param seed=1 --output "$ROLL/model-v2" >/dev/null
GREEN_VERSION="$("$BIN" --json model create --name flights-delay --path "$ROLL/model-v2" \
                  --description "120 trees of depth 6" | version_of)"
SERVING=examples/flights/serving
sed "s/flights-delay:2/flights-delay:$GREEN_VERSION/" "$SERVING/green.yml" >"$ROLL/green.yml"
wait_ready() {  # deployment -> waits until it serves (or fails)
  for _ in $(seq 1 200); do
    STATE="$("$BIN" --json deployment show -e flights-delay -n "$1" |
             /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["deployment"]; print(d.get("provisioning_state",""))')"
    [[ "$STATE" == Succeeded || "$STATE" == Failed ]] && break
    sleep 0.05
  done
  echo "deployment $1: $STATE"
  [[ "$STATE" == Succeeded ]]
}
"$BIN" endpoint delete flights-delay >/dev/null 2>&1 || true  # a rerun on the same workspace starts afresh
"$BIN" endpoint create -f "$SERVING/endpoint.yml" >/dev/null
"$BIN" deployment create -f "$SERVING/blue.yml" --all-traffic >/dev/null
wait_ready blue
"$BIN" deployment create -f "$ROLL/green.yml" >/dev/null
wait_ready green
KEY="$("$BIN" --json endpoint get-credentials flights-delay |
       /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["primary_key"])')"
send() { /usr/bin/python3 "$SERVING/send_requests.py" "$CAIRN_URL" flights-delay "$KEY" "$TEST_CSV" "$1"; }
mirrored() {
  /usr/bin/python3 - "$CAIRN_URL" <<'PY'
import sys, urllib.request
total = 0.0
for line in urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode().splitlines():
    if line.startswith("cairn_serving_mirror_requests_total{") and 'endpoint="flights-delay"' in line:
        total += float(line.rsplit(" ", 1)[1])
print(f"  mirrored to green (responses discarded): {int(total)}")
PY
}
echo "\$ cairn endpoint update flights-delay --mirror-traffic green=10     # shadow"
"$BIN" endpoint update flights-delay --mirror-traffic green=10 --reason shadow >/dev/null
send 300; mirrored
echo "\$ cairn endpoint update flights-delay --traffic blue=90,green=10 --mirror-traffic none   # canary"
"$BIN" endpoint update flights-delay --traffic blue=90,green=10 --mirror-traffic none \
  --reason canary >/dev/null
send 1000
echo "\$ cairn endpoint update flights-delay --traffic green=100          # promote"
"$BIN" endpoint update flights-delay --traffic green=100 --reason promote >/dev/null
send 200
echo "\$ cairn endpoint rollback flights-delay"
"$BIN" endpoint rollback flights-delay --reason "demo rollback" >/dev/null
send 200
echo
echo "== cairn endpoint show flights-delay"
"$BIN" endpoint show flights-delay

cat <<EOM

Where to look:
  workspace:  $WS/cairn.db (metadata, SQLite) and $WS/artifacts/ (files)
  assets:     $BIN data list; $BIN data show breast-cancer@latest; $BIN environment list
  models:     $BIN model list; $BIN model show breast-cancer-classifier@champion
  serving:    $BIN endpoint show flights-delay; curl -s \$CAIRN_URL/metrics | grep cairn_serving
              request logs in $WS/serving/logs/flights-delay/
  pipelines:  $BIN job list; $BIN job show flights-$STAMP-1; $BIN job show flights-$STAMP-2
              $BIN model show flights-delay@champion; $BIN lineage show run:$TRAIN_RUN --upstream
  explore:    $BIN server --workspace $WS        # then, in another shell:
              $BIN run search -e quickstart --order-by "metrics.roc_auc DESC"
              MLFLOW_TRACKING_URI=http://127.0.0.1:5050 python your_mlflow_script.py
EOM
