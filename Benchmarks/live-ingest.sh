#!/usr/bin/env bash
# Live ingest benchmark (issues 5 and 6), release build, loopback only, bounded in time.
#
#  1. Sustained TCP ingest with the journal on (fdatasync per group commit), full core
#     validation: 2 producers each send LINES messages (~130 bytes) and read every ack.
#  2. Latency at 1,000 msg/s: from a line written to the socket to its transition in the alert
#     log (median, 99th percentile; a triggering line every 0.1 s), with a 1 s rule tick.
#
# Usage: Benchmarks/live-ingest.sh            (LINES=500000 RATE=1000 SECONDS_LAT=30 by default)
#        SCRATCH=.build Benchmarks/live-ingest.sh   to reuse another build directory
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build-live-release}
LINES=${LINES:-500000}
RATE=${RATE:-1000}
SECONDS_LAT=${SECONDS_LAT:-30}

Scripts/build-release --scratch-path "$SCRATCH" --product urgentflow >&2
BIN="$SCRATCH/release/urgentflow"
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start_server() {   # $1 config, $2 journal dir -> sets SERVER, PORT
  "$BIN" run --no-ui --config "$1" --journal "$2" --listen tcp://127.0.0.1:0 2> "$2.err" &
  SERVER=$!
  for _ in $(seq 1 300); do grep -q "urgentflow: live:" "$2.err" 2>/dev/null && break; sleep 0.1; done
  PORT=$(sed -n 's/.*listening on tcp:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$2.err" | head -1)
  [ -n "$PORT" ] || { cat "$2.err" >&2; exit 1; }
}
stop_server() {
  kill -TERM "$SERVER"
  for _ in $(seq 1 300); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER" 2>/dev/null || true
  SERVER=""
}

echo "machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# 1. Throughput, the bundled system (60 s tick), journal with fdatasync per group commit.
start_server Scenarios/herts-west-essex.yaml "$WORK/tput"
timeout 600 "$BIN" loadgen throughput --port "$PORT" --connections 2 --lines "$LINES"
stop_server
echo "  journal: $(du -sh "$WORK/tput" | cut -f1), $(cat "$WORK"/tput/journal-*.jsonl | wc -l) lines"

# Restart on that journal: recovery time.
start_server Scenarios/herts-west-essex.yaml "$WORK/tput"
grep -o "recovered [0-9].*" "$WORK/tput.err" | tail -1 | sed 's/^/  restart: /'
stop_server

# 2. Latency at RATE msg/s with a 1 s tick and an occupancy rule without delays.
cat > "$WORK/lat.yaml" <<'YAML'
system:
  name: Latency benchmark
  timezone: Europe/London
  tick: 1s
units:
  - {code: RWH, name: Lister Hospital, kind: acute, beds: 700}
  - {code: HUC, name: Herts Urgent Care, kind: nhs111}
rules:
  - id: ga_occupancy
    kind: threshold
    metric: ga_occupancy_pct
    units: [acute]
    direction: above
    warning: 92
    critical: 95
    clear: 90
    for: 0m
    clear_for: 0m
    source: "benchmark"
YAML
start_server "$WORK/lat.yaml" "$WORK/lat"
timeout 120 "$BIN" loadgen latency --port "$PORT" --rate "$RATE" --seconds "$SECONDS_LAT" --alert-log "$WORK/lat/alerts.jsonl"
stop_server
