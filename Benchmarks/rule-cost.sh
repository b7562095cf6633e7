#!/usr/bin/env bash
# What each kind of rule costs per message, in instructions: a count that does not move with
# the machine's load (the replay benchmark's times here moved by half from run to run), so a
# change to the rule engine can be judged by a single run. Counted by valgrind (cachegrind,
# no cache simulation) over a headless replay of the generated mixed-feed scenario, with the
# Herts system's rules, with none, and with each kind of rule alone; the start-up (reading the
# configuration) is counted on a one-line replay and taken off.
#
#   Benchmarks/rule-cost.sh [LINES]      default 200,000 lines (about a minute under valgrind)
#
# Needs: swift, python3, valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-200000}
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "rule-cost.sh needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
Scripts/build-release --product urgentflow >/dev/null
# valgrind cannot read the debug information of the link-time optimised build: a stripped copy.
BIN="$OUT/urgentflow-stripped"
strip -o "$BIN" .build/release/urgentflow
export URGENTFLOW_HOME="$PWD"
DATA="$OUT/bench-$LINES.jsonl"
[ -f "$DATA" ] || "$BIN" generate bench --lines "$LINES" -o "$DATA"
head -1 "$DATA" > "$OUT/bench-1.jsonl"

# The configuration variants: the rules section kept whole, emptied, or cut to one kind.
python3 - Scenarios/herts-west-essex.yaml "$OUT" <<'PY'
import re, sys
src, out = open(sys.argv[1]).read(), sys.argv[2]
head, rest = src.split('\nrules:\n', 1)
m = re.search(r'\n(?=[a-z_]+:)', rest)          # the next top-level key ends the rules
rules, tail = (rest[:m.start() + 1], rest[m.start() + 1:]) if m else (rest, '')
blocks = re.split(r'(?m)^(?=  - id: )', rules)
pre, blocks = blocks[0], blocks[1:]
kind = lambda b: re.search(r'kind: (\w+)', b).group(1)
for name, keep in [('all', lambda b: True), ('none', lambda b: False)] + \
        [(k, lambda b, k=k: kind(b) == k) for k in ('threshold', 'stale', 'trend', 'score')]:
    kept = ''.join(b for b in blocks if keep(b))
    open(f'{out}/rules-{name}.yaml', 'w').write(head + ('\nrules:\n' + pre + kept if kept else '\nrules: []\n') + tail)
PY

count() {   # instructions of a headless replay of $1 with configuration $2
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$BIN" replay "$1" --headless --config "$2" 2>&1 >/dev/null \
    | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
results=()
for v in none all threshold stale trend score; do
  c="$OUT/rules-$v.yaml"
  results+=("$v" "$(count "$DATA" "$c")" "$(count "$OUT/bench-1.jsonl" "$c")")
done
python3 - "$LINES" "${results[@]}" <<'PY'
import sys
lines, r = int(sys.argv[1]), sys.argv[2:]
per = {r[i]: (int(r[i + 1]) - int(r[i + 2])) / (lines - 1) for i in range(0, len(r), 3)}
print(f"instructions a message, headless replay of {lines:,} generated lines (start-up taken off)")
print(f"{'rules':34} {'per message':>12} {'over no rules':>14}")
labels = {'none': 'none (decode, validate, model)', 'all': 'all (Herts system)', 'threshold': 'threshold rules only',
          'stale': 'stale-feed rules only', 'trend': 'trend rules only', 'score': 'escalation score only'}
for k in ('none', 'all', 'threshold', 'stale', 'trend', 'score'):
    extra = '' if k == 'none' else f"{per[k] - per['none']:>14,.0f}"
    print(f"{labels[k]:34} {per[k]:>12,.0f} {extra}")
kinds = sum(per[k] - per['none'] for k in ('threshold', 'stale', 'trend', 'score'))
print(f"{'(the four kinds alone, summed)':34} {'':>12} {kinds:>14,.0f}")
PY
