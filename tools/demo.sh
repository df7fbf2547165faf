#!/usr/bin/env bash
# make demo: start the local stack — Temporal dev server (UI on :8233), the
# worker, `starter serve`, the codec server (so the UI shows payloads
# decrypted) and the sandbox — declare a demo incident modelled on seed 000
# (53 wrong recipients), print where to look, and run until Ctrl-C, then stop
# every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/bin
# Ports and folders can be moved (the demo's own smoke test does):
# DEMO_DATA, DEMO_LOGS, TEMPORAL_PORT, UI_PORT, SERVE_PORT, SANDBOX_PORT, CODEC_PORT.
DATA=${DEMO_DATA:-$ROOT/data}
LOGS=${DEMO_LOGS:-$ROOT/.demo}
mkdir -p "$DATA/lists" "$LOGS"
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${UI_PORT:-8233}
SERVE_PORT=${SERVE_PORT:-8080}
SANDBOX_PORT=${SANDBOX_PORT:-8090}
CODEC_PORT=${CODEC_PORT:-8081}

# The demo runs in sandbox mode: the public sandbox secrets of this
# repository, on 127.0.0.1 only (SECURITY.md).
export BREACHFLOW_SANDBOX=1
export TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_PORT
export TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
export BREACHFLOW_LIST_DIR=$DATA/lists
export BREACHFLOW_PUBLIC_URL=http://127.0.0.1:$SERVE_PORT
export BREACHFLOW_LISTEN_ADDR=127.0.0.1:$SERVE_PORT
export BREACHFLOW_SANDBOX_URL=http://127.0.0.1:$SANDBOX_PORT
export BREACHFLOW_SANDBOX_ADDR=127.0.0.1:$SANDBOX_PORT
TIME_SCALE=${TIME_SCALE:-60}
# Who holds the runbooks' roles and who the organisation is: fictitious
# (example.co.jp), answered by the sandbox's SendGrid. The reminders and
# escalations go to them, and the approvers get a broadcast's test send,
# so `starter broadcast start/approve` can be tried on the demo incident.
export BREACHFLOW_ROLES=${BREACHFLOW_ROLES:-"incident-lead=lead@example.co.jp;privacy-officer=dpo@example.co.jp;legal=counsel@example.co.jp;management=ceo@example.co.jp;support=desk@example.co.jp;security=soc@example.co.jp;it-ops=itops@example.co.jp;communications=pr@example.co.jp"}
export BREACHFLOW_ORG_NAME=${BREACHFLOW_ORG_NAME:-"株式会社サンプル (demo)"}
export BREACHFLOW_ORG_POSTAL_CODE=${BREACHFLOW_ORG_POSTAL_CODE:-"100-0005"}
export BREACHFLOW_ORG_ADDRESS=${BREACHFLOW_ORG_ADDRESS:-"東京都千代田区丸の内1-1-1"}
export BREACHFLOW_CONTACT_EMAIL=${BREACHFLOW_CONTACT_EMAIL:-privacy@example.co.jp}
export BREACHFLOW_CONTACT_PHONE=${BREACHFLOW_CONTACT_PHONE:-0120-123-456}
export BREACHFLOW_CONTACT_HOURS=${BREACHFLOW_CONTACT_HOURS:-"平日 10:00-17:00"}
export BREACHFLOW_RECORD_DIR=${BREACHFLOW_RECORD_DIR:-$DATA/records}
export BREACHFLOW_LETTER_DIR=${BREACHFLOW_LETTER_DIR:-$DATA/letters}
# The codec server decrypts payloads for the UI. For this local demo only it
# runs without a token (BREACHFLOW_CODEC_INSECURE_NO_AUTH) on 127.0.0.1, and
# answers the dev server's UI only (CORS). Never do this with real data: see
# docs/encryption.md and SECURITY.md.
CODEC_URL=http://localhost:$CODEC_PORT

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "stopping the demo stack..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "stopped. Logs are in $LOGS/; dev-server state in $DATA/temporal.db"
}
trap cleanup EXIT INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$TEMPORAL_PORT" "$UI_PORT" "$SERVE_PORT" "$SANDBOX_PORT" "$CODEC_PORT"; do
  if port_busy "$p"; then
    echo "port $p is already in use: stop what uses it (an earlier demo?) and run 'make demo' again" >&2
    exit 1
  fi
done

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$name did not come up; see $LOGS/" >&2
  exit 1
}

echo "starting the Temporal dev server (SQLite: $DATA/temporal.db, UI: http://localhost:$UI_PORT)..."
# shellcheck disable=SC2046
"$BIN/temporal" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$UI_PORT" \
  --db-filename "$DATA/temporal.db" --log-level warn --ui-codec-endpoint "$CODEC_URL" \
  $("$BIN/starter" search-attributes) >"$LOGS/temporal.log" 2>&1 &
pids+=($!)
wait_for "the Temporal dev server" "$BIN/temporal" operator cluster health --address "$TEMPORAL_ADDRESS"

"$BIN/worker" >"$LOGS/worker.log" 2>&1 &
pids+=($!)
# serve offers the demo runbook in Slack beside the built-ins.
BREACHFLOW_RUNBOOKS_DIR=runbooks/examples "$BIN/starter" serve >"$LOGS/serve.log" 2>&1 &
pids+=($!)
"$BIN/starter" sandbox --scenario demo --time-scale "$TIME_SCALE" >"$LOGS/sandbox.log" 2>&1 &
pids+=($!)
BREACHFLOW_CODEC_LISTEN_ADDR=127.0.0.1:$CODEC_PORT BREACHFLOW_CODEC_TOKEN= BREACHFLOW_CODEC_INSECURE_NO_AUTH=true \
  BREACHFLOW_CODEC_ORIGINS=http://localhost:$UI_PORT,http://127.0.0.1:$UI_PORT \
  "$BIN/starter" codec-server >"$LOGS/codec-server.log" 2>&1 &
pids+=($!)
http_ok() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3 && head -1 <&3 | grep -q ' 200') 2>/dev/null; }
wait_for "starter serve" http_ok "$SERVE_PORT" /healthz
wait_for "the sandbox" http_ok "$SANDBOX_PORT" /sim/stats
wait_for "the codec server" http_ok "$CODEC_PORT" /healthz

# Declared as a responder does: /breach declare in Slack, then the modal,
# sent by the sandbox's Slack user and signed exactly as Slack signs them.
id=$("$BIN/starter" sandbox declare --runbook missend-demo --recipients runbooks/examples/missend-53.csv \
  --title "会員データファイルの誤送信 (demo)" --what "member data file (demo)" --user U0LEAD --channel C0INCIDENT)

cat <<MSG

  breachflow demo is running: incident $id (runbook missend-demo: seed 000 with minutes for days; 53 wrong recipients)

  Temporal UI:   http://localhost:$UI_PORT/namespaces/$TEMPORAL_NAMESPACE/workflows/$id
  All recalls:   http://localhost:$UI_PORT/namespaces/$TEMPORAL_NAMESPACE/workflows?query=BreachIncidentID%3D%22$id%22
  Status:        bin/starter status $id --json
  Slack:         $BREACHFLOW_SANDBOX_URL/sim/slack   (the incident message in #incident-response, updated in place)
  Payloads:      decrypted in the UI by the codec server at $CODEC_URL (demo only: no token)
                 bin/temporal workflow show -w $id --codec-endpoint '$CODEC_URL/{namespace}'
  Sandbox:       $BREACHFLOW_SANDBOX_URL/sim/stats   (what the simulated providers received)
  Logs:          $LOGS/

  Press Ctrl-C to stop everything.
MSG
wait
