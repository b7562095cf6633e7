#!/usr/bin/env bash
# Headless replay benchmark (issues 2 and 6): replays a generated mixed-feed scenario and reports
# messages per second and peak memory, next to a plain Python json.loads loop over the same file
# in the same run (machines here are noisy: compare ratios, not absolute times).
#
#   Benchmarks/replay-bench.sh [LINES]      default 1,000,000 lines (RUNS=3 rounds: medians)
#
# Peak memory is measured on 10 x LINES (default 10,000,000 lines, 1.6 GB of input, generated
# once into $OUT) against LINES: it must stay flat however long the replay.
#
# Needs: swift, python3, /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
Scripts/build-release --product urgentflow >/dev/null
BIN=.build/release/urgentflow
DATA="$OUT/bench-$LINES.jsonl"
[ -f "$DATA" ] || "$BIN" generate bench --lines "$LINES" -o "$DATA"
BIG="$OUT/bench-$((LINES * 10)).jsonl"
[ -f "$BIG" ] || "$BIN" generate bench --lines $((LINES * 10)) -o "$BIG"
Scripts/build-release --product urgentflow-bench-decode >/dev/null
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

# The baseline and the two replays in turn, $RUNS rounds (default 3), each figure the median of
# its rounds: these machines' speed moved by a third between consecutive runs of one build, and
# a single round's ratio moved with it.
RUNS=${RUNS:-3}
py_t=(); full_t=(); ingest_t=()
for _ in $(seq "$RUNS"); do
  py_t+=("$(seconds python3 -c "
import json, sys
for line in open(sys.argv[1], 'rb'): json.loads(line)
" "$DATA")")
  full_t+=("$(seconds "$BIN" replay "$DATA" --headless)")
  ingest_t+=("$(seconds "$BIN" replay "$DATA" --headless --config "$RULELESS")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
py=$(median "${py_t[@]}"); full=$(median "${full_t[@]}"); ingest=$(median "${ingest_t[@]}")
echo "rounds (s): python ${py_t[*]}; all rules ${full_t[*]}; no rules ${ingest_t[*]}"
mem_big=$(peak_kb "$BIN" replay "$BIG" --headless)
mem_full=$(peak_kb "$BIN" replay "$DATA" --headless)
decode=$(.build/release/urgentflow-bench-decode "$DATA" 2>&1 | sed -n 's/.*[^0-9,]\([0-9][0-9,]*\) lines\/s.*/\1/p' | tail -1 | tr -d ,)
bytes=$(stat -L -c %s "$DATA")
days=$(python3 -c "
import json
f=open('$DATA'); a=json.loads(f.readline())['at']
last=None
for last in f: pass
b=json.loads(last)['at']
from datetime import datetime
p=lambda s: datetime.fromisoformat(s.replace('Z','+00:00'))
print(f'{(p(b)-p(a)).total_seconds()/86400:.0f}')")

python3 - "$LINES" "$bytes" "$days" "$py" "$full" "$ingest" "$mem_big" "$mem_full" "${decode:-0}" <<'PY'
import sys
lines, nbytes, days = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
py, full, ingest = map(float, sys.argv[4:7])
mem_big, mem_full, decode = int(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9])
rate = lambda s: lines / s
print(f"input: {lines:,} lines, {nbytes / lines:.0f} bytes a line, {days} days of event time; times: medians of the rounds")
print(f"{'figure':58} {'target':>14} {'measured':>14} {'ratio':>8}")
print(f"{'python json.loads loop (baseline), msg/s':58} {'':>14} {rate(py):>14,.0f} {'1.00':>8}")
print(f"{'headless replay, all rules (Herts system), msg/s':58} {'2,000,000':>14} {rate(full):>14,.0f} {py / full:>8.2f}")
print(f"{'decode + validate + model, no rules, msg/s':58} {'':>14} {rate(ingest):>14,.0f} {py / ingest:>8.2f}")
print(f"{'decode + validate only (urgentflow-bench-decode), msg/s':58} {'':>14} {decode:>14,.0f} {decode / rate(py):>8.2f}")
print(f"{'peak memory, replay of 10x the input (MB)':58} {'64':>14} {mem_big / 1024:>14.1f}")
print(f"{'peak memory, replay of the input (MB); ratio 10x / 1x':58} {'':>14} {mem_full / 1024:>14.1f} {mem_big / max(1, mem_full):>8.2f}")
PY
