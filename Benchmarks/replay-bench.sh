#!/usr/bin/env bash
# Headless replay benchmark (issues 2 and 6): replays a generated mixed-feed scenario and reports
# messages per second and peak memory, next to a plain Python json.loads loop over the same file
# in the same run (machines here are noisy: compare ratios, not absolute times).
#
#   Benchmarks/replay-bench.sh [LINES]      default 1,000,000 lines
#
# Needs: swift, python3, /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
swift build -c release --product urgentflow >/dev/null
BIN=.build/release/urgentflow
DATA="$OUT/bench-$LINES.jsonl"
[ -f "$DATA" ] || "$BIN" generate bench --lines "$LINES" -o "$DATA"
SMALL="$OUT/bench-small.jsonl"
head -n $((LINES / 10)) "$DATA" > "$SMALL"
RULELESS="$OUT/norules.yaml"
sed '/^rules:/,$d' Scenarios/herts-west-essex.yaml > "$RULELESS"

seconds() { python3 - "$@" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.3f}")
PY
}
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

py=$(seconds python3 -c "
import json, sys
for line in open(sys.argv[1], 'rb'): json.loads(line)
" "$DATA")
full=$(seconds "$BIN" replay "$DATA" --headless)
ingest=$(seconds "$BIN" replay "$DATA" --headless --config "$RULELESS")
mem_full=$(peak_kb "$BIN" replay "$DATA" --headless)
mem_small=$(peak_kb "$BIN" replay "$SMALL" --headless)
bytes=$(stat -c %s "$DATA")
days=$(python3 -c "
import json
f=open('$DATA'); a=json.loads(f.readline())['at']
last=None
for last in f: pass
b=json.loads(last)['at']
from datetime import datetime
p=lambda s: datetime.fromisoformat(s.replace('Z','+00:00'))
print(f'{(p(b)-p(a)).total_seconds()/86400:.0f}')")

python3 - "$LINES" "$bytes" "$days" "$py" "$full" "$ingest" "$mem_full" "$mem_small" <<'PY'
import sys
lines, nbytes, days = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
py, full, ingest = map(float, sys.argv[4:7])
mem_full, mem_small = int(sys.argv[7]), int(sys.argv[8])
rate = lambda s: lines / s
print(f"input: {lines:,} lines, {nbytes / lines:.0f} bytes a line, {days} days of event time")
print(f"{'figure':58} {'target':>14} {'measured':>14} {'ratio':>8}")
print(f"{'python json.loads loop (baseline), msg/s':58} {'':>14} {rate(py):>14,.0f} {'1.00':>8}")
print(f"{'headless replay, all rules (Herts system), msg/s':58} {'2,000,000':>14} {rate(full):>14,.0f} {py / full:>8.2f}")
print(f"{'decode + validate + model, no rules, msg/s':58} {'':>14} {rate(ingest):>14,.0f} {py / ingest:>8.2f}")
print(f"{'peak memory, full replay (MB)':58} {'64':>14} {mem_full / 1024:>14.1f}")
print(f"{'peak memory, 1/10 of the input (MB)':58} {'':>14} {mem_small / 1024:>14.1f} {mem_full / max(1, mem_small):>8.2f}")
PY
