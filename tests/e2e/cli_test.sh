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

"$BIN" server --workspace "$WORK/ws" --port 0 --port-file "$WORK/port" >"$WORK/server.log" 2>&1 &
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
check "unreachable server" 3 "$BIN" --server http://127.0.0.1:1 experiment list

echo "cli: $PASSES passed, $FAILS failed"
[[ $FAILS -eq 0 ]]
