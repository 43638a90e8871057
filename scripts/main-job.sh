#!/usr/bin/env bash
# Install, then run the full scenario library on the offline default model, writing logs and
# an HTML report under results/. No API key and no network beyond the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "local"
equanimity run --log-dir results/logs --report results/report.html "$@"
