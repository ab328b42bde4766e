#!/usr/bin/env bash
# End-to-end test of the `cairn` CLI against a real server on a free port:
# human and --json output, and exit codes (0 ok, 1 refused, 2 usage, 3 unreachable).
set -uo pipefail
BIN="${1:-${CAIRN_BIN:-build/cairn}}"
WORK="$(mktemp -d)"
FAILS=0; PASSES=0
cleanup() { [[ -n "${PID:-}" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

check() {  # check NAME EXPECTED_EXIT COMMAND... ; output kept in $OUT
  local name="$1" want="$2"; shift 2
  OUT="$("$@" 2>&1)"; local got=$?
  if [[ "$got" == "$want" ]]; then PASSES=$((PASSES+1)); else
    FAILS=$((FAILS+1)); echo "FAIL $name: exit $got, want $want"; echo "$OUT" | head -20; fi
}
contains() {  # contains NAME NEEDLE (in $OUT)
  if grep -qF -- "$2" <<<"$OUT"; then PASSES=$((PASSES+1)); else
    FAILS=$((FAILS+1)); echo "FAIL $1: output lacks '$2'"; echo "$OUT" | head -20; fi
}

"$BIN" server --workspace "$WORK/ws" --port 0 --port-file "$WORK/port" --python /usr/bin/python3 \
  >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [[ -s "$WORK/port" ]] && break; sleep 0.05; done
[[ -s "$WORK/port" ]] || { echo "server did not start"; cat "$WORK/server.log"; exit 1; }
export CAIRN_URL="http://127.0.0.1:$(cat "$WORK/port")"

check "experiment create" 0 "$BIN" experiment create cli-exp --tag team=ml
contains "create says id" "created experiment 1"
check "experiment create duplicate refused" 1 "$BIN" experiment create cli-exp
contains "duplicate message" "RESOURCE_ALREADY_EXISTS"
check "experiment list" 0 "$BIN" experiment list
contains "list shows name" "cli-exp"
contains "list shows default" "Default"
check "experiment show by name" 0 "$BIN" experiment show cli-exp
contains "show tag" "tag team = ml"
check "experiment list --json" 0 "$BIN" --json experiment list
contains "json list" '"experiments"'

check "run create" 0 "$BIN" run create -e cli-exp --name first
RUN="$OUT"
check "log-param" 0 "$BIN" run log-param "$RUN" lr 0.1
check "log-metric" 0 "$BIN" run log-metric "$RUN" auc 0.91 --step 3
check "set-tag" 0 "$BIN" run set-tag "$RUN" stage dev
check "bad metric name refused" 1 "$BIN" run log-metric "$RUN" ../evil 1
contains "bad name message" "INVALID_PARAMETER_VALUE"
check "param change refused" 1 "$BIN" run log-param "$RUN" lr 0.2
check "run show" 0 "$BIN" run show "$RUN"
contains "show param" "lr = 0.1"
contains "show metric" "auc = 0.91  (step 3)"
contains "show tag" "stage = dev"
check "run show --json" 0 "$BIN" --json run show "$RUN"
contains "json run id" "\"run_id\": \"$RUN\""
check "run end" 0 "$BIN" run end "$RUN"
check "run create second" 0 "$BIN" run create -e cli-exp --name second
RUN2="$OUT"
check "log-metric second" 0 "$BIN" run log-metric "$RUN2" auc 0.5
check "run search" 0 "$BIN" run search -e cli-exp --filter "metrics.auc > 0.8" --order-by "metrics.auc DESC"
contains "search finds first" "$RUN"
if grep -qF "$RUN2" <<<"$OUT"; then FAILS=$((FAILS+1)); echo "FAIL search: second run should be filtered out"; else PASSES=$((PASSES+1)); fi
check "run list" 0 "$BIN" run list -e cli-exp
contains "list has second" "$RUN2"
check "bad filter refused" 1 "$BIN" run search -e cli-exp --filter "metrics.auc >> 1"
contains "filter message" "Invalid filter"
check "run artifacts (empty)" 0 "$BIN" run artifacts "$RUN"
contains "artifact root" "mlflow-artifacts:/1/$RUN/artifacts"
check "unknown run" 1 "$BIN" run show 0123456789abcdef0123456789abcdef
contains "unknown run message" "RESOURCE_DOES_NOT_EXIST"
check "usage error" 2 "$BIN" run log-metric
# Artifact store maintenance: verify (fsck) and gc over the content-addressed store.
ART="$CAIRN_URL/api/2.0/mlflow-artifacts/artifacts/1/$RUN/artifacts"
curl -sf -X PUT --data-binary "model bytes" "$ART/model.bin" >/dev/null || { FAILS=$((FAILS+1)); echo "FAIL artifact upload"; }
curl -sf -X PUT --data-binary "model bytes" "$ART/copy.bin" >/dev/null
curl -sf -X PUT --data-binary "scratch" "$ART/scratch.txt" >/dev/null
check "artifacts verify clean" 0 "$BIN" artifacts verify
contains "verify counts" "checked 3 artifact files and 2 blobs"
check "run artifacts lists files" 0 "$BIN" run artifacts "$RUN"
contains "artifact listed" "model.bin"
curl -sf -X DELETE "$ART/scratch.txt" >/dev/null
check "artifacts gc" 0 "$BIN" artifacts gc --grace 0
contains "gc removed the orphan" "removed 1 unreferenced blobs"
check "shared blob survives gc" 0 "$BIN" artifacts verify
BLOB="$(find "$WORK/ws/artifacts/blobs" -type f -path '*/blobs/??/*' | head -1)"
printf 'bit rot' > "$BLOB"
check "artifacts verify finds corruption" 1 "$BIN" artifacts verify
contains "corrupt reported" "corrupt blob"
check "artifacts verify --json" 1 "$BIN" --json artifacts verify
contains "json ok false" '"ok": false'

check "experiment delete" 0 "$BIN" experiment delete cli-exp
check "deleted hidden" 0 "$BIN" experiment list
if grep -qF "cli-exp" <<<"$OUT"; then FAILS=$((FAILS+1)); echo "FAIL: deleted experiment still listed"; else PASSES=$((PASSES+1)); fi
# ---- versioned assets: data, code, datastores, lineage, environments ----------------------------
# The CLI's hash cache lives in the test's temp dir, never in the user's ~/.cache.
export CAIRN_CACHE_DIR="$WORK/cli-cache"
jsonok() {  # jsonok NAME PYTHON_EXPR_ON_j (in $OUT): the output parses as JSON and the check holds
  if /usr/bin/python3 -c 'import json,sys; j=json.loads(sys.stdin.read()); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" <<<"$OUT"; then
    PASSES=$((PASSES+1)); else FAILS=$((FAILS+1)); echo "FAIL $1: JSON check '$2' failed"; echo "$OUT" | head -20; fi
}
lacks() {  # lacks NAME NEEDLE (in $OUT)
  if grep -qF -- "$2" <<<"$OUT"; then FAILS=$((FAILS+1)); echo "FAIL $1: output has '$2'"; echo "$OUT" | head -20
  else PASSES=$((PASSES+1)); fi
}
mkdir -p "$WORK/data/folder/sub"
printf 'a,b\n1,2\n' > "$WORK/data/flights.csv"
printf 'x\n1\n' > "$WORK/data/folder/part-0.csv"
printf 'x\n2\n' > "$WORK/data/folder/sub/part-1.csv"
check "data create --path FILE" 0 "$BIN" data create --name flights --path "$WORK/data/flights.csv"
contains "data create registered v1" "registered data flights:1"
check "data create same content again" 0 "$BIN" data create --name flights --version 1 --path "$WORK/data/flights.csv"
contains "data create unchanged" "unchanged data flights:1"
printf 'a,b\n9,9\n' > "$WORK/data/changed.csv"
# A file above 16 MiB that the hash cache does not know is hashed while sent.
head -c $((20 << 20)) /dev/urandom > "$WORK/data/large.bin"
check "data create large file (hashed while sent)" 0 "$BIN" data create --name large --path "$WORK/data/large.bin"
contains "large registered" "registered data large:1"
check "data create large again (hash cache, no upload)" 0 "$BIN" data create --name large --path "$WORK/data/large.bin"
contains "large second version" "registered data large:2"
check "data download large" 0 "$BIN" data download large:2 -o "$WORK/large-dl"
check "large bytes identical" 0 cmp "$WORK/data/large.bin" "$WORK/large-dl/large.bin"
printf 'n,city\n1,Berlin\n2.5,Paris\n,Berlin\n' > "$WORK/data/stats.csv"
check "data stats FILE" 0 "$BIN" data stats "$WORK/data/stats.csv"
contains "stats numeric table" "numeric features"
contains "stats top values" "Berlin (2), Paris (1)"
check "data stats --json" 0 "$BIN" data stats "$WORK/data/stats.csv" --json --threads 1
jsonok "stats json parses" 'j["format"]=="cairn.stats/1" and j["num_rows"]==3 and j["features"][0]["numeric"]["mean"]==1.75 and j["features"][1]["string"]["top_k"][0]=={"value":"Berlin","count":2}'
check "data stats DATA_REF" 0 "$BIN" data stats flights:1
contains "stats of a data version names it" "flights:1: 1 rows"
printf 'a,b\n1,"x\n' > "$WORK/data/bad.csv"
check "data stats malformed -> 2" 2 "$BIN" data stats "$WORK/data/bad.csv"
contains "stats error has file:line:column" "bad.csv:2:3: unterminated quoted field"
check "data stats missing file -> 2" 2 "$BIN" data stats "$WORK/data/none.csv"
check "data schema infer FILE -o yml" 0 "$BIN" data schema infer "$WORK/data/stats.csv" -o "$WORK/data/schema.yml"
contains "schema infer wrote" "wrote the schema of 2 features"
check "data schema show" 0 "$BIN" data schema show "$WORK/data/schema.yml"
contains "schema show domain" "Berlin, Paris"
check "data validate clean -> 0" 0 "$BIN" data validate "$WORK/data/stats.csv" --schema "$WORK/data/schema.yml"
contains "validate clean" "no anomalies"
printf 'n,city\n1,Rome\n2,Berlin\n' > "$WORK/data/new.csv"
check "data validate anomalies -> 1" 1 "$BIN" data validate "$WORK/data/new.csv" --schema "$WORK/data/schema.yml" --json
jsonok "validate json" 'j["errors"]==1 and j["anomalies"][0]["type"]=="ENUM_TYPE_UNEXPECTED_STRING_VALUES" and j["anomalies"][0]["examples"]==[{"value":"Rome","count":1}]'
check "data validate of a data version" 1 "$BIN" data validate flights:1 --schema "$WORK/data/schema.yml"
contains "validate names the missing column" "SCHEMA_MISSING_COLUMN"
check "data validate bad schema -> 2" 2 "$BIN" data validate "$WORK/data/new.csv" --schema "$WORK/data/none.yml"
check "data create immutable conflict" 1 "$BIN" data create --name flights --version 1 --path "$WORK/data/changed.csv"
contains "immutable message" "RESOURCE_ALREADY_EXISTS"
check "data create --path DIR --json" 0 "$BIN" --json data create --name flights --path "$WORK/data/folder" --tag team=ml
jsonok "folder is v2 uri_folder" 'j["created"] and j["asset"]["version"]=="2" and j["asset"]["type"]=="uri_folder" and j["asset"]["file_count"]==2 and j["asset"]["tags"]=={"team":"ml"}'
check "data stats of a two-table folder version -> 2" 2 "$BIN" data stats flights@latest
contains "stats folder message" "holds 2 table files"
check "data stats unknown version -> 1" 1 "$BIN" data stats flights:99
# data compare: files (CSV vs JSON Lines) and data versions; A is the reference.
printf 'x,c,old\n1,a,1\n2,a,1\n3,b,1\n4,b,1\n5,a,1\n6,b,1\n' > "$WORK/data/cmp-a.csv"
: > "$WORK/data/cmp-b.jsonl"
for v in 21 22 23 24 25 26; do printf '{"x":%s,"c":"c","new":1}\n' "$v" >> "$WORK/data/cmp-b.jsonl"; done
check "data compare FILE FILE" 0 "$BIN" data compare "$WORK/data/cmp-a.csv" "$WORK/data/cmp-b.jsonl" --html "$WORK/report.html"
contains "compare numeric table" "numeric features"
contains "compare categorical table" "categorical features"
contains "compare flags drift" "DRIFT"
contains "compare column only in A" "only in A"
contains "compare column only in B" "only in B"
contains "compare wrote html" "wrote $WORK/report.html"
OUT="$(cat "$WORK/report.html" 2>&1)"
contains "html has charts" "<svg"
contains "html names B" "cmp-b.jsonl"
lacks "html without http://" "http://"
lacks "html without https://" "https://"
lacks "html without external scripts" "<script src"
lacks "html without links" "<link"
check "data compare --json" 0 "$BIN" data compare "$WORK/data/cmp-a.csv" "$WORK/data/cmp-b.jsonl" --json
jsonok "compare json" 'j["format"]=="cairn.compare/1" and [f["name"] for f in j["features"]]==["x","c","old","new"] and j["features"][0]["drifted"] and j["features"][0]["drift"]["ks"]["statistic"]==1.0 and j["features"][1]["drift"]["l_infinity"]==1.0 and j["features"][2]["b"] is None and j["drifted_features"]==2'
check "data create compare reference" 0 "$BIN" data create --name cmpref --path "$WORK/data/cmp-a.csv"
check "data compare DATA_REF FILE (identical)" 0 "$BIN" --json data compare cmpref:1 "$WORK/data/cmp-a.csv"
jsonok "compare ref names the version, no drift" 'j["a"]["source"]=="cmpref:1" and j["drifted_features"]==0 and j["features"][0]["drift"]["jensen_shannon"]==0'
check "data compare DATA_REF DATA_REF" 0 "$BIN" data compare cmpref@latest cmpref:1
contains "compare of versions names them" "A: cmpref:1"
check "data compare missing file -> 2" 2 "$BIN" data compare "$WORK/data/none.csv" "$WORK/data/cmp-a.csv"
check "data compare malformed -> 2" 2 "$BIN" data compare "$WORK/data/cmp-a.csv" "$WORK/data/bad.csv"
contains "compare error has file:line" "bad.csv:2:3"
check "data compare unknown version -> 1" 1 "$BIN" data compare cmpref:9 "$WORK/data/cmp-a.csv"
check "data compare missing B -> 2" 2 "$BIN" data compare "$WORK/data/cmp-a.csv"
check "data create missing --path" 2 "$BIN" data create --name flights
check "data create missing local path" 2 "$BIN" data create --name flights --path "$WORK/data/absent.csv"
cat > "$WORK/data/data.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
name: trips
version: 3
type: uri_folder
description: trips from yaml
path: ./folder
tags:
  source: yaml
YML
check "data create -f data.yml" 0 "$BIN" data create -f "$WORK/data/data.yml"
contains "yaml version kept" "registered data trips:3"
printf 'name: bad\npath: ./folder\nunknown: 1\n' > "$WORK/data/bad.yml"
check "data create -f with unknown field" 2 "$BIN" data create -f "$WORK/data/bad.yml"
contains "yaml error names the line" "bad.yml:3:"
check "data list" 0 "$BIN" data list
contains "list has flights" "flights"
contains "list has trips" "trips"
check "data list --name --json" 0 "$BIN" --json data list --name flights
jsonok "versions newest first" '[a["version"] for a in j["assets"]]==["2","1"]'
check "data show" 0 "$BIN" data show trips@latest
contains "show version" "data trips:3"
contains "show description" "trips from yaml"
contains "show file" "sub/part-1.csv"
check "data show --json azureml ref" 0 "$BIN" --json data show azureml:flights:1
jsonok "show json files" '[f["path"] for f in j["files"]]==["flights.csv"]'
check "data show unknown" 1 "$BIN" data show flights:99
contains "unknown version message" "RESOURCE_DOES_NOT_EXIST"
check "data download" 0 "$BIN" data download trips:3 -o "$WORK/dl-trips"
contains "download count" "(2 file(s))"
if cmp -s "$WORK/data/folder/sub/part-1.csv" "$WORK/dl-trips/sub/part-1.csv"; then PASSES=$((PASSES+1)); else FAILS=$((FAILS+1)); echo "FAIL download: bytes differ"; fi
check "data archive" 0 "$BIN" data archive flights:2
contains "archive says" "archived data flights:2"
check "latest skips archived" 0 "$BIN" --json data show flights@latest
jsonok "latest is v1" 'j["asset"]["version"]=="1"'
check "archive needs exact version" 1 "$BIN" data archive flights@latest
check "data restore" 0 "$BIN" data restore flights:2
check "latest after restore" 0 "$BIN" --json data show flights@latest
jsonok "latest is v2 again" 'j["asset"]["version"]=="2"'
check "data archive usage" 2 "$BIN" data archive
# An unusable hash cache only costs a rehash.
printf 'not a dir' > "$WORK/cache-file"
check "data create without a usable hash cache" 0 env CAIRN_CACHE_DIR="$WORK/cache-file/sub" "$BIN" data create --name nocache --path "$WORK/data/flights.csv"
contains "registered without cache" "registered data nocache:1"

# Code snapshots honour .gitignore and .amlignore.
mkdir -p "$WORK/proj/src" "$WORK/proj/logs"
printf 'print(1)\n' > "$WORK/proj/train.py"
printf 'X = 1\n' > "$WORK/proj/src/util.py"
printf 'noise\n' > "$WORK/proj/logs/run.log"
printf 'secret\n' > "$WORK/proj/creds.env"
printf 'logs/\n' > "$WORK/proj/.gitignore"
printf '*.env\n' > "$WORK/proj/.amlignore"
check "code snapshot" 0 "$BIN" code snapshot "$WORK/proj"
CODE="$(tail -1 <<<"$OUT")"
if [[ "$CODE" =~ ^[0-9a-f]{64}$ ]]; then PASSES=$((PASSES+1)); else FAILS=$((FAILS+1)); echo "FAIL code snapshot prints a hash, got '$CODE'"; fi
check "code snapshot again, same hash" 0 "$BIN" code snapshot "$WORK/proj"
contains "same content same hash" "$CODE"
check "code show" 0 "$BIN" code show "$CODE"
contains "code has train.py" "train.py"
contains "code has src/util.py" "src/util.py"
lacks "gitignored file left out" "run.log"
lacks "amlignored file left out" "creds.env"
check "code show --json" 0 "$BIN" --json code show "$CODE"
jsonok "code json files" 'sorted(f["path"] for f in j["files"]) == [".amlignore", ".gitignore", "src/util.py", "train.py"]'
check "code download" 0 "$BIN" code download "$CODE" -o "$WORK/dl-code"
if cmp -s "$WORK/proj/src/util.py" "$WORK/dl-code/src/util.py" && [[ ! -e "$WORK/dl-code/creds.env" ]]; then PASSES=$((PASSES+1)); else FAILS=$((FAILS+1)); echo "FAIL code download content"; fi
check "code show bad hash" 1 "$BIN" code show not-a-hash
check "code snapshot of a file" 2 "$BIN" code snapshot "$WORK/proj/train.py"

# Datastores.
mkdir -p "$WORK/lake/daily"
printf 'd1\n' > "$WORK/lake/daily/2024-01-01.csv"
check "datastore create" 0 "$BIN" datastore create --name lake --path "$WORK/lake" -d "the lake"
contains "datastore uri hint" "azureml://datastores/lake/paths/"
check "datastore create duplicate" 1 "$BIN" datastore create --name lake --path "$WORK/lake"
check "datastore create missing dir" 1 "$BIN" datastore create --name gone --path "$WORK/no-such-dir"
check "datastore create usage" 2 "$BIN" datastore create --name x
check "datastore list" 0 "$BIN" datastore list
contains "datastore listed" "lake"
check "datastore show --json" 0 "$BIN" --json datastore show lake
jsonok "datastore json" 'j["datastore"]["name"]=="lake" and j["datastore"]["type"]=="local"'
check "data from datastore" 0 "$BIN" data create --name daily --path azureml://datastores/lake/paths/daily
contains "datastore data registered" "registered data daily:1"
check "datastore traversal refused" 1 "$BIN" data create --name esc --path 'azureml://datastores/lake/paths/../..'

# Lineage.
check "run for lineage" 0 "$BIN" run create -e Default --name lineage
LRUN="$OUT"
check "lineage link data -> run" 0 "$BIN" lineage link flights:1 "run:$LRUN"
check "lineage link @latest -> run" 0 "$BIN" lineage link data:trips@latest "run:$LRUN"
check "lineage link to a model not registered refused" 1 "$BIN" lineage link "run:$LRUN" model:churn:1
mkdir -p "$WORK/churn-model" && echo '{"weights": [1, 2]}' > "$WORK/churn-model/model.json"
check "model create for lineage" 0 "$BIN" model create --name churn --path "$WORK/churn-model"
check "lineage link run -> model" 0 "$BIN" lineage link "run:$LRUN" model:churn:1 --relation produced
check "lineage link model -> deployment" 0 "$BIN" lineage link model:churn:1 deployment:web/blue --relation deployed
check "lineage link unknown data" 1 "$BIN" lineage link flights:99 "run:$LRUN"
contains "unknown end message" "RESOURCE_DOES_NOT_EXIST"
check "lineage link usage" 2 "$BIN" lineage link flights:1
check "lineage show upstream" 0 "$BIN" lineage show model:churn:1 --upstream
contains "upstream has the run" "<- run:$LRUN"
contains "upstream has trips canonical" "data:trips:3"
lacks "upstream only" "deployment:web/blue"
check "lineage show downstream depth 1" 0 "$BIN" --json lineage show flights:1 --downstream --depth 1
jsonok "depth 1 stops at the run" 'j["entity"]=="data:flights:1" and [e["to"] for e in j["downstream"]]==["run:'"$LRUN"'"] and "upstream" not in j'
check "lineage show downstream depth 3" 0 "$BIN" --json lineage show flights:1 --downstream --depth 3
jsonok "depth 3 reaches the deployment" 'sorted(e["to"] for e in j["downstream"])==sorted(["run:'"$LRUN"'","model:churn:1","deployment:web/blue"])'
check "lineage show both" 0 "$BIN" lineage show "run:$LRUN"
contains "both: upstream" "upstream:"
contains "both: downstream" "-> model:churn:1"

# Environments: the second build of the same spec is a cache hit.
cat > "$WORK/env.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
name: cli-env
version: 1
description: system python in a venv
python:
  system_site_packages: true
variables:
  MODE: test
YML
check "environment create" 0 "$BIN" environment create -f "$WORK/env.yml"
contains "environment registered" "registered environment cli-env:1"
check "environment create again" 0 "$BIN" environment create -f "$WORK/env.yml"
contains "environment unchanged" "unchanged environment cli-env:1"
check "environment build" 0 "$BIN" environment build cli-env:1
contains "first build builds" "built: "
check "environment build again" 0 "$BIN" environment build cli-env@latest
contains "second build cached" "cached: "
check "environment show --json" 0 "$BIN" --json environment show cli-env:1
jsonok "environment spec" 'j["asset"]["spec"]["variables"]=={"MODE":"test"}'
check "environment build unknown" 1 "$BIN" environment build cli-env:9
check "data list no server" 3 "$BIN" --server http://127.0.0.1:1 data list
check "unreachable server" 3 "$BIN" --server http://127.0.0.1:1 experiment list

echo "cli: $PASSES passed, $FAILS failed"
[[ $FAILS -eq 0 ]]
