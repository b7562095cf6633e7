#!/usr/bin/env bash
# Headless replay benchmark (issues 2 and 6): replays a generated mixed-feed scenario and reports
# messages per second and peak memory, next to a plain Python json.loads loop over the same file
# in the same run (machines here are noisy: compare ratios, not absolute times).
#
#   Benchmarks/replay-bench.sh [LINES]      default 1,000,000 lines (RUNS=3 rounds: medians)
#
# At two paces of event time: the system's real one, and issue 6's (2 million messages a week).
# Peak memory is measured on 10 x LINES (default 10,000,000 lines, 1.6 GB of input a pace,
# generated once into $OUT) against LINES: it must stay flat however long the replay.
#
# Needs: swift, python3, /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
Scripts/build-release --product urgentflow >/dev/null
BIN=.build/release/urgentflow
# Two paces of the same generated stream: the Herts system's real one (about 1,150 messages a
# day, each message most of a minute of event time from the next, so the rules run at nearly
# every message) and issue 6's own, "a week's journal (about 2 million messages)": event time
# 250 times faster (`generate bench --compress-time 250`), the same messages packed closer.
PACES=(1 250)
data_for() { [ "$2" = 1 ] && echo "$OUT/bench-$1.jsonl" || echo "$OUT/bench-$1-x$2.jsonl"; }
for pace in "${PACES[@]}"; do
  for n in "$LINES" $((LINES * 10)); do
    f=$(data_for "$n" "$pace")
    [ -f "$f" ] || "$BIN" generate bench --lines "$n" --compress-time "$pace" -o "$f"
  done
done
DATA=$(data_for "$LINES" 1)
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
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
span_days() { python3 -c "
import json, sys
from datetime import datetime
f=open(sys.argv[1]); a=json.loads(f.readline())['at']
last=None
for last in f: pass
b=json.loads(last)['at']
p=lambda s: datetime.fromisoformat(s.replace('Z','+00:00'))
print(f'{(p(b)-p(a)).total_seconds()/86400:.1f}')" "$1"; }

# Per pace: the baseline and the two replays in turn, $RUNS rounds (default 3), each figure the
# median of its rounds (these machines' speed moved by a third between consecutive runs of one
# build, and a single round's ratio moved with it); then peak memory on 10x and 1x the input.
RUNS=${RUNS:-3}
results=()
for pace in "${PACES[@]}"; do
  data=$(data_for "$LINES" "$pace"); big=$(data_for $((LINES * 10)) "$pace")
  py_t=(); full_t=(); ingest_t=()
  for _ in $(seq "$RUNS"); do
    py_t+=("$(seconds python3 -c "
import json, sys
for line in open(sys.argv[1], 'rb'): json.loads(line)
" "$data")")
    full_t+=("$(seconds "$BIN" replay "$data" --headless)")
    ingest_t+=("$(seconds "$BIN" replay "$data" --headless --config "$RULELESS")")
  done
  echo "pace x$pace rounds (s): python ${py_t[*]}; all rules ${full_t[*]}; no rules ${ingest_t[*]}"
  results+=("$pace" "$(span_days "$data")" "$(median "${py_t[@]}")" "$(median "${full_t[@]}")" "$(median "${ingest_t[@]}")"
            "$(peak_kb "$BIN" replay "$big" --headless)" "$(peak_kb "$BIN" replay "$data" --headless)")
done
decode=$(.build/release/urgentflow-bench-decode "$DATA" 2>&1 | sed -n 's/.*[^0-9,]\([0-9][0-9,]*\) lines\/s.*/\1/p' | tail -1 | tr -d ,)
bytes=$(stat -L -c %s "$DATA")

python3 - "$LINES" "$bytes" "${decode:-0}" "${results[@]}" <<'PY'
import sys
lines, nbytes, decode = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
r = sys.argv[4:]
rate = lambda s: lines / s
print(f"input: {lines:,} generated mixed-feed lines, {nbytes / lines:.0f} bytes a line; times: medians of the rounds")
print(f"{'figure':62} {'target':>12} {'measured':>12} {'ratio':>7}")
for i in range(0, len(r), 7):
    pace, days = r[i], r[i + 1]
    py, full, ingest = map(float, r[i + 2:i + 5])
    mem_big, mem_full = int(r[i + 5]), int(r[i + 6])
    name = "the system's real pace" if pace == "1" else f"issue 6's pace (x{pace})"
    print(f"-- {name}: {days} days of event time, {lines / float(days) * 7:,.0f} messages a week")
    print(f"{'  python json.loads loop (baseline), msg/s':62} {'':>12} {rate(py):>12,.0f} {'1.00':>7}")
    print(f"{'  headless replay, all rules (Herts system), msg/s':62} {'2,000,000':>12} {rate(full):>12,.0f} {py / full:>7.2f}")
    print(f"{'  decode + validate + model, no rules, msg/s':62} {'':>12} {rate(ingest):>12,.0f} {py / ingest:>7.2f}")
    print(f"{'  peak memory, replay of 10x the input (MB)':62} {'64':>12} {mem_big / 1024:>12.1f}")
    print(f"{'  peak memory, replay of the input (MB); ratio 10x / 1x':62} {'':>12} {mem_full / 1024:>12.1f} {mem_big / max(1, mem_full):>7.2f}")
print(f"{'decode + validate only (urgentflow-bench-decode), real pace, msg/s':62} {'':>12} {decode:>12,.0f}")
PY
