#!/usr/bin/env bash
# Install everything and run the checks: ruff, mypy (with the local extra, then as if it were
# absent), the default test tier, then the local-model tier once. Exit non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "dev,local"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "chromium could not be installed; browser tests will be skipped"
fi
ruff check src tests evals bench
ruff format --check src tests evals bench
mypy
# the same check with llama-cpp-python hidden (a symlinked shadow venv, seconds to build):
# warn_unused_ignores must hold both ways
python scripts/mypy_without_local.py
python -m pytest -q "$@"
python -m pytest -q -m local_model
