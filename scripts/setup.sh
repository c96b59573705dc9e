#!/usr/bin/env bash
# Set up a development environment in .venv (idempotent): system libraries for the PDF
# renderer, then the package with its test tools, resolved in ONE pip command.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint renders PDFs with Pango; install it from Debian's packages when missing.
# (Read the cache into a variable first: `ldconfig -p | grep -q` under pipefail can fail
# with SIGPIPE when grep exits early, and report Pango missing when it is not.)
libs="$(ldconfig -p 2>/dev/null || true)"
if ! grep -q 'libpango-1.0.so' <<<"$libs" || ! grep -q 'libpangoft2-1.0.so' <<<"$libs"; then
    echo "setup: installing Pango for PDF rendering" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null
fi

# The Spark engine's tests run Spark in local mode, which needs Java 17 or newer.
java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1 || true)"
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
    echo "setup: installing Java 17 for the Spark engine's local mode" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.auditor-setup
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    # Every optional model library, in the same one command; xgboost-cpu is the XGBoost build
    # without the CUDA libraries (the `xgboost` extra takes PyPI's default build).
    PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q -c constraints.txt \
        -e ".[dev,torch,lightgbm,catboost,onnx,mlflow,spark]" xgboost-cpu
    echo "$want" > "$stamp"
fi
