#!/usr/bin/env bash
# Set up and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1
# lint first (ruff, configured in pyproject.toml): a finding fails the run before the tests start
.venv/bin/ruff check
exec .venv/bin/python -m pytest -q "$@"
