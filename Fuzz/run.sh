#!/usr/bin/env bash
# Builds the libFuzzer targets (the core instrumented with -sanitize=fuzzer,address) and runs each
# for a while, seeded from the bundled scenarios and configuration. Any crash is saved into
# Tests/FlowCoreTests/FuzzRegressions/ (replayed by the test suite from then on) and fails the run.
#
#   Fuzz/run.sh [SECONDS_PER_TARGET]     default 30
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-30}
ROOT=$(cd .. && pwd)
SCRATCH="$ROOT/.build-fuzz"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export ASAN_OPTIONS=detect_leaks=0   # the engine keeps state across inputs by design

build() { swift build --scratch-path "$SCRATCH" --product "$1" -Xswiftc -sanitize=fuzzer,address >"$WORK/build-$1.log" 2>&1; }
for target in FuzzFeedDecoder FuzzConfigLoader; do
  # A source file added to the package since the last fuzz build is not seen through the
  # `urgentflow` link by an incremental build ("cannot find type ... in scope"): once more from
  # an empty scratch directory.
  if ! build "$target"; then
    echo "building $target failed; building again from scratch (a stale $SCRATCH)"
    rm -rf "$SCRATCH"
  fi
  if [ ! -x "$SCRATCH/debug/$target" ] && ! build "$target"; then
    echo "building $target FAILED:"; grep -E "error|Error" "$WORK/build-$target.log" | head -20; tail -5 "$WORK/build-$target.log"
    exit 1
  fi
done

mkdir -p "$WORK/feed" "$WORK/config" "$WORK/artifacts"
i=0
for f in "$ROOT"/Scenarios/*.jsonl; do
  head -n 40 "$f" | while IFS= read -r line; do i=$((i + 1)); printf '%s' "$line" > "$WORK/feed/$(basename "$f" .jsonl)-$RANDOM$RANDOM"; done
done
cp "$ROOT"/Tests/FlowCoreTests/FuzzRegressions/* "$WORK/feed/" 2>/dev/null || true
cp "$ROOT"/Scenarios/*.yaml "$WORK/config/"

status=0
run() {
  local target=$1 corpus=$2 maxlen=$3
  echo "fuzzing $target for ${SECONDS_EACH}s"
  if ! (cd "$WORK/artifacts" && "$SCRATCH/debug/$target" "$corpus" -max_total_time="$SECONDS_EACH" -max_len="$maxlen" \
          -detect_leaks=0 -print_final_stats=1 2>"$WORK/$target.log"); then
    status=1
    echo "$target FAILED:"; grep -E "ERROR|Fatal|panic" "$WORK/$target.log" | head -5
  fi
  grep -E "stat::number_of_executed_units|cov:" "$WORK/$target.log" | tail -2
}
run FuzzFeedDecoder "$WORK/feed" 4096
run FuzzConfigLoader "$WORK/config" 16384

shopt -s nullglob
for a in "$WORK"/artifacts/crash-* "$WORK"/artifacts/timeout-* "$WORK"/artifacts/oom-*; do
  dest="$ROOT/Tests/FlowCoreTests/FuzzRegressions/$(basename "$a")"
  cp "$a" "$dest"
  echo "saved $dest: add it to git; the test suite now replays it"
  status=1
done
exit $status
