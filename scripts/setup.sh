#!/usr/bin/env bash
# Set up a development environment in .venv (idempotent): system libraries for the PDF
# renderer, then the package with its test tools, resolved in ONE pip command.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint renders PDFs with Pango; install it from Debian's packages when missing.
if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so'; then
    echo "setup: installing Pango for PDF rendering" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.auditor-setup
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
    echo "$want" > "$stamp"
fi
