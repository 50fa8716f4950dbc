#!/usr/bin/env bash
# Side-by-side benchmark: Kannel (bearerbox + smsbox, SMPP) against dlrgate (serve, SMPP), the
# same load (bench/loadgen.mjs) through each to its own `dlrgate smsc-sim`, the same status
# callback receiver (bench/receiver.mjs). Everything on 127.0.0.1. See bench/README.md.
#
#   bash bench/compare.sh [--messages 20000] [--concurrency 64] [--only kannel|dlrgate]
#                         [--timeout 120] [--kannel-smsboxes 2] [--smpp-binds 1] [--window 64]
#                         [--dlr-mask 31] [--no-results-file]
# Environment: SIM_SPEED (default 1000000), SIM_ARGS (extra smsc-sim flags, both simulators),
# KANNEL_LOG_LEVEL (default 4), KEEP_WORK=1 keeps the temporary directory with all logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
MESSAGES=20000
CONCURRENCY=64
ONLY=""
TIMEOUT=120          # seconds to wait for final callbacks after the last send
SMSBOXES=2           # Kannel smsbox processes (load generator spreads its connections over them)
BINDS=1              # SMPP transceiver binds per gateway (Kannel: instances, dlrgate: binds); see README:
                     # with 2, Kannel loses receipts that arrive on the other bind before its submit_sm_resp
WINDOW=64            # outstanding submit_sm per bind (Kannel: max-pending-submits, dlrgate: window)
SIM_SPEED=${SIM_SPEED:-1000000}    # smsc-sim delays divided by this: receipts follow within microseconds
DLR_MASK=31          # Kannel dlr-mask; with bit 4 (intermediate) dlrgate asks for intermediate receipts too
RESULTS_FILE=1

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) MESSAGES="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --kannel-smsboxes) SMSBOXES="$2"; shift 2 ;;
    --smpp-binds) BINDS="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --dlr-mask) DLR_MASK="$2"; shift 2 ;;
    --no-results-file) RESULTS_FILE=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
INTERMEDIATE=false; (( DLR_MASK & 4 )) && INTERMEDIATE=true
case "$ONLY" in ""|kannel|dlrgate) ;; *) echo "--only must be kannel or dlrgate" >&2; exit 2 ;; esac

log() { printf '[compare] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- processes and clean-up
PIDS=()
WORK="$(mktemp -d /tmp/dlrgate-compare.XXXXXX)"
KEEP_WORK=${KEEP_WORK:-0}
cleanup() {
  local status=$?
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
  if [[ $status -ne 0 || $KEEP_WORK -eq 1 ]]; then
    log "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Stops the given pids (TERM, then KILL after 10 s) and forgets them.
stop() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local keep=() p
  for p in "${PIDS[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

# wait_for FILE REGEX SECONDS PID: until a line of FILE matches (prints it), or fail.
wait_for() {
  local file="$1" regex="$2" seconds="$3" pid="$4" line
  for _ in $(seq $((seconds * 10))); do
    if line="$(grep -m1 -E "$regex" "$file" 2>/dev/null)"; then printf '%s\n' "$line"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then log "process $pid exited; $file:"; tail -20 "$file" >&2; return 1; fi
    sleep 0.1
  done
  log "timed out waiting for /$regex/ in $file"; tail -20 "$file" >&2; return 1
}

# A TCP port on 127.0.0.1 that is free now (chosen by the kernel).
free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Peak resident memory (VmHWM) of the given pids, summed, in MiB.
peak_rss_mib() {
  local kib=0 pid v
  for pid in "$@"; do
    v="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    kib=$((kib + ${v:-0}))
  done
  awk -v k="$kib" 'BEGIN { printf "%.0f\n", k / 1024 }'
}

# CPU seconds (user + system) the given pids have used so far, summed.
cpu_seconds() {
  local ticks=0 pid t hz
  hz="$(getconf CLK_TCK)"
  for pid in "$@"; do
    t="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true)"
    ticks=$((ticks + ${t:-0}))
  done
  awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.1f\n", t / hz }'
}

# ---------------------------------------------------------------- prerequisites
if [[ "$ONLY" != dlrgate ]] && ! command -v bearerbox >/dev/null 2>&1 && [[ ! -x /usr/sbin/bearerbox ]]; then
  log "installing Kannel (apt-get install -y kannel) without starting its service"
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y kannel >&2 || {
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y kannel >&2; }
  [[ $created_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  # Should a service have started anyway, stop and disable it (it would use ports 13000-13013).
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl disable --now kannel >&2 || true
  fi
  [[ -x /etc/init.d/kannel ]] && /etc/init.d/kannel stop >/dev/null 2>&1 || true
fi
PATH="$PATH:/usr/sbin"

command -v node >/dev/null || { echo "node (20 or later) is needed" >&2; exit 1; }
npm ci --prefix "$BENCH" --no-audit --no-fund --loglevel=error >&2

DLRGATE="$ROOT/target/release/dlrgate"
if [[ ! -x "$DLRGATE" ]]; then
  log "building $DLRGATE"
  (cd "$ROOT" && cargo build --release -p dlrgate) >&2
fi

# ---------------------------------------------------------------- shared pieces
# start_sim NAME SYSTEM_ID: starts an smsc-sim on a free port; sets SIM_PID and SIM_PORT.
start_sim() {
  local name="$1" system_id="$2" line
  "$DLRGATE" smsc-sim --listen 127.0.0.1:0 --system-id "$system_id" --password secret \
    --speed "$SIM_SPEED" ${SIM_ARGS:-} > "$WORK/sim-$name.log" 2>&1 &
  SIM_PID=$!; PIDS+=("$SIM_PID")
  line="$(wait_for "$WORK/sim-$name.log" 'listening on smpp://' 10 "$SIM_PID")"
  SIM_PORT="${line##*:}"; SIM_PORT="${SIM_PORT%% *}"
}

# start_receiver NAME: sets RECV_PID and RECV (its base URL).
start_receiver() {
  local name="$1" line
  node "$BENCH/receiver.mjs" --port 0 > "$WORK/receiver-$name.log" 2>&1 &
  RECV_PID=$!; PIDS+=("$RECV_PID")
  line="$(wait_for "$WORK/receiver-$name.log" '^receiver listening on ' 10 "$RECV_PID")"
  RECV="${line#receiver listening on }"
}

sim_stats() { grep -m1 -o 'SimStats {.*}' "$WORK/sim-$1.log" || echo "(no stats in $WORK/sim-$1.log)"; }

ROWS=()

# ---------------------------------------------------------------- Kannel
run_kannel() {
  local version; version="$(bearerbox --version 2>&1 | sed -n "1s/.*version \`\(.*\)'.*/\1/p")"
  log "Kannel $version: bearerbox + $SMSBOXES smsbox, $BINDS SMPP transceiver instances, window $WINDOW, dlr-mask $DLR_MASK"
  start_sim kannel kannel
  start_receiver kannel
  local admin box conf="$WORK/kannel.conf" i
  admin="$(free_port)"; box="$(free_port)"
  local send_ports=()
  for i in $(seq "$SMSBOXES"); do send_ports+=("$(free_port)"); done
  # One config per smsbox (only the smsbox group differs); bearerbox reads the first.
  for i in $(seq "$SMSBOXES"); do
    cat > "$WORK/kannel-$i.conf" <<EOF
group = core
admin-port = $admin
admin-interface = 127.0.0.1
admin-password = bench
admin-allow-ip = 127.0.0.1
smsbox-port = $box
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "$WORK/bearerbox.log"
log-level = ${KANNEL_LOG_LEVEL:-4}
# delivery reports in RAM only (no DB); no message store (store-file) either
dlr-storage = internal
sms-resend-freq = 1
sms-resend-retry = -1
smsbox-max-pending = 1024
sms-incoming-queue-limit = -1
sms-outgoing-queue-limit = -1

group = smsc
smsc = smpp
smsc-id = sim
instances = $BINDS
host = 127.0.0.1
port = $SIM_PORT
transceiver-mode = true
smsc-username = kannel
smsc-password = secret
system-type = "VMA"
max-pending-submits = $WINDOW
enquire-link-interval = 30
reconnect-delay = 1
wait-ack = 60
wait-ack-expire = 0x02

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box
sendsms-port = ${send_ports[$((i - 1))]}
sendsms-interface = 127.0.0.1
log-file = "$WORK/smsbox-$i.log"
log-level = ${KANNEL_LOG_LEVEL:-4}
max-pending-requests = 1024
http-request-retry = 3
http-queue-delay = 1

group = sendsms-user
username = bench
password = bench
max-messages = 1
EOF
  done
  cp "$WORK/kannel-1.conf" "$conf"
  bearerbox -v 4 "$conf" > "$WORK/bearerbox.out" 2>&1 &
  local bb=$!; PIDS+=("$bb")
  local gw_pids=("$bb") status=""
  for _ in $(seq 200); do
    status="$(curl -s "http://127.0.0.1:$admin/status.txt?password=bench" || true)"
    [[ "$(grep -c 'online' <<<"$status" || true)" -ge "$BINDS" ]] && break
    kill -0 "$bb" 2>/dev/null || { log "bearerbox exited:"; cat "$WORK/bearerbox.out" >&2; return 1; }
    sleep 0.1
  done
  [[ "$(grep -c 'online' <<<"$status" || true)" -ge "$BINDS" ]] || {
    log "Kannel's SMPP binds did not come online:"; printf '%s\n' "$status" >&2; return 1; }
  local urls=()
  for i in $(seq "$SMSBOXES"); do
    smsbox -v 4 "$WORK/kannel-$i.conf" > "$WORK/smsbox-$i.out" 2>&1 &
    local sb=$!; PIDS+=("$sb"); gw_pids+=("$sb")
    urls+=("http://127.0.0.1:${send_ports[$((i - 1))]}")
  done
  for i in $(seq "$SMSBOXES"); do
    for _ in $(seq 100); do
      curl -s -o /dev/null "${urls[$((i - 1))]}/" && break
      sleep 0.1
    done
  done
  for _ in $(seq 100); do
    status="$(curl -s "http://127.0.0.1:$admin/status.txt?password=bench" || true)"
    [[ "$(grep -cE '^ *smsbox:' <<<"$status" || true)" -ge "$SMSBOXES" ]] && break
    sleep 0.1
  done
  log "Kannel up: sendsms at ${urls[*]}, SMSC sim on :$SIM_PORT, receiver $RECV"
  local row="$WORK/kannel.json"
  node "$BENCH/loadgen.mjs" --gateway kannel --label "Kannel $version" \
    --url "$(IFS=,; echo "${urls[*]}")" --receiver "$RECV" --kannel-user bench --kannel-pass bench --dlr-mask "$DLR_MASK" \
    --messages "$MESSAGES" --concurrency "$CONCURRENCY" --timeout "$TIMEOUT" --out "$row" > /dev/null
  peak_rss_mib "${gw_pids[@]}" > "$WORK/kannel.rss"
  log "Kannel CPU seconds: bearerbox+smsbox $(cpu_seconds "${gw_pids[@]}"), smsc-sim $(cpu_seconds "$SIM_PID"), receiver $(cpu_seconds "$RECV_PID"), loadgen $(node -p "require('$row').loadgen_cpu_s.toFixed(1)")"
  curl -s "http://127.0.0.1:$admin/status.txt?password=bench" > "$WORK/kannel-status.txt" || true
  stop "${gw_pids[@]}"
  stop "$RECV_PID" "$SIM_PID"
  log "Kannel simulator: $(sim_stats kannel)"
  ROWS+=("$row")
}

# ---------------------------------------------------------------- dlrgate
run_dlrgate() {
  log "dlrgate ($("$DLRGATE" --version)): serve, fsync on, $BINDS SMPP transceiver binds, window $WINDOW, intermediate receipts $INTERMEDIATE"
  start_sim dlrgate dlrgate
  start_receiver dlrgate
  local data="$WORK/dlrgate-data" conf="$WORK/dlrgate.toml" line base key
  mkdir -p "$data"
  cat > "$conf" <<EOF
[store]
synchronous_full = true

[workers]
tick = "5ms"

[log]
level = "warn"

[webhook]
allow_cidrs = ["127.0.0.0/8"]

# One key sends everything: the comparison measures the gateway, not its abuse limits (the
# defaults, 1,000 messages/s per account, refused most of a full-speed run).
[limits]
requests_per_second = 0
messages_per_second = 0

[[connectors]]
name = "smsc-sim"
type = "smpp"
host = "127.0.0.1"
port = $SIM_PORT
system_id = "dlrgate"
password = "secret"
bind = "transceiver"
binds = $BINDS
window = $WINDOW
submit_id_format = "hex"
receipt_id_format = "hex"
intermediate_receipts = $INTERMEDIATE

[routing]
default = "smsc-sim"
EOF
  env -u RUST_LOG "$DLRGATE" serve --listen 127.0.0.1:0 --data "$data" --config "$conf" \
    > "$WORK/dlrgate.out" 2>&1 &
  local gw=$!; PIDS+=("$gw")
  line="$(wait_for "$WORK/dlrgate.out" '^dlrgate listening on ' 30 "$gw")"
  base="${line#dlrgate listening on }"
  key="$(awk '$1 == "api_key:" {print $2; exit}' "$WORK/dlrgate.out")"
  [[ -n "$key" ]] || { log "no bootstrap api_key in $WORK/dlrgate.out"; return 1; }
  local hook
  hook="$(curl -s "$base/api/hooks" -H "X-Api-Key: $key" -H 'Accept: application/json' \
    --data-urlencode "target_url=$RECV/dlrgate" -d event_type=dlr -d request_method=JSON)"
  grep -q '"success":true' <<<"$hook" || { log "subscribing the hook failed: $hook"; return 1; }
  # Wait until the SMPP binds are up (dlrgate_smpp_binds_up in /metrics).
  local up=0
  for _ in $(seq 200); do
    up="$(curl -s "$base/metrics" | awk '/^dlrgate_smpp_binds_up/ {print $2}' | head -1)"
    [[ "${up:-0}" -ge "$BINDS" ]] && break
    sleep 0.1
  done
  [[ "${up:-0}" -ge "$BINDS" ]] || { log "dlrgate's SMPP binds did not come up ($up)"; return 1; }
  log "dlrgate up: $base, SMSC sim on :$SIM_PORT, receiver $RECV"
  local row="$WORK/dlrgate.json"
  node "$BENCH/loadgen.mjs" --gateway dlrgate --label "dlrgate $("$DLRGATE" --version | awk '{print $2}')" \
    --url "$base" --key "$key" --receiver "$RECV" \
    --messages "$MESSAGES" --concurrency "$CONCURRENCY" --timeout "$TIMEOUT" --out "$row" > /dev/null
  peak_rss_mib "$gw" > "$WORK/dlrgate.rss"
  log "dlrgate CPU seconds: serve $(cpu_seconds "$gw"), smsc-sim $(cpu_seconds "$SIM_PID"), receiver $(cpu_seconds "$RECV_PID"), loadgen $(node -p "require('$row').loadgen_cpu_s.toFixed(1)")"
  curl -s "$base/metrics" > "$WORK/dlrgate-metrics.txt" || true
  stop "$gw"
  stop "$RECV_PID" "$SIM_PID"
  log "dlrgate simulator: $(sim_stats dlrgate)"
  ROWS+=("$row")
}

# ---------------------------------------------------------------- run
[[ "$ONLY" != dlrgate ]] && run_kannel
[[ "$ONLY" != kannel ]] && run_dlrgate

TABLE="$(node "$BENCH/report.mjs" "${ROWS[@]}")"
for row in "${ROWS[@]}"; do
  node -e 'const r=require(process.argv[1]); if (r.first_errors.length) console.error(`[compare] ${r.label} send errors (first): ${r.first_errors.join(" | ")}`); console.error(`[compare] ${r.label}: outcomes ${JSON.stringify(r.outcomes)}, receiver ${JSON.stringify(r.receiver)}`)' "$row"
done
echo
echo "$TABLE"
if [[ $RESULTS_FILE -eq 1 ]]; then
  out="$BENCH/results-$(date -u +%F).md"
  {
    env_prefix=""
    [[ -n "${SIM_ARGS:-}" ]] && env_prefix+="SIM_ARGS=\"$SIM_ARGS\" "
    [[ "$SIM_SPEED" != 1000000 ]] && env_prefix+="SIM_SPEED=$SIM_SPEED "
    echo "## $(date -u '+%F %T') UTC, $(nproc) cores, \`${env_prefix}bash bench/compare.sh --messages $MESSAGES --concurrency $CONCURRENCY --smpp-binds $BINDS --window $WINDOW --dlr-mask $DLR_MASK --kannel-smsboxes $SMSBOXES${ONLY:+ --only $ONLY}\`"
    echo
    echo "$TABLE"
    echo
  } >> "$out"
  log "table appended to $out"
fi

# dlrgate must lose nothing and refuse nothing (Kannel's losses are its own, see README): a run
# where it did fails, after the table has been printed and kept.
if [[ "$ONLY" != kannel ]] \
  && ! node -e 'const r=require(process.argv[1]); process.exit(r.lost === 0 && r.send_errors === 0 ? 0 : 1)' "$WORK/dlrgate.json"; then
  log "dlrgate lost messages or had send errors (table above)"
  exit 1
fi
