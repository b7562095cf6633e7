#!/bin/sh
# Dashboard benchmark (issue 6, screen targets): frame render at 200x50, bytes per unchanged
# frame, idle CPU of the real dashboard, time to the first frame of `urgentflow`.
#
#   Benchmarks/dashboard-bench.sh [--idle-seconds N] [--frames N]
#
# Builds `urgentflow` and `urgentflow-bench-ui` in release mode (SCRATCH, default .build), then
# runs the bench from the package root. Prints a table: figure, target, measured, verdict.
set -eu
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build}"
Scripts/build-release --scratch-path "$SCRATCH" --product urgentflow >&2
Scripts/build-release --scratch-path "$SCRATCH" --product urgentflow-bench-ui >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
exec "$SCRATCH/release/urgentflow-bench-ui" --root "$PWD" --binary "$SCRATCH/release/urgentflow" "$@"
