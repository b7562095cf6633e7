#!/bin/sh
# Rewrites Scenarios/*.jsonl from the generator (Sources/FlowScenarios) with the default seed.
# The scenario tests then check that the files equal a fresh generation.
set -e
cd "$(dirname "$0")/.."
URGENTFLOW_REGENERATE=1 swift test --scratch-path "${SCRATCH:-.build-scen}" --filter 'ScenarioTests.GeneratorTests/checkedInFilesMatch'
