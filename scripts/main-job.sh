#!/usr/bin/env bash
# Install, then run the scenario library on the offline default model, writing logs and an HTML
# report under results/. No API key and no network beyond the package registries.
# By default the run is a seeded, stratified sample (12 scenarios per category, seed 0), so the
# job stays quick as the library grows; its output and the report's first lines say so.
# Pass --all to run every scenario, or --sample N / --sample-seed S to change the sample.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "local"
equanimity run --log-dir results/logs --report results/report.html "$@"
