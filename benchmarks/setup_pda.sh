#!/usr/bin/env bash
# Create benchmarks/.venv-pda with the official python-deriv-api 0.1.6 (it pins websockets==10.3,
# which conflicts with derivkit's websockets, hence its own virtualenv). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-pda"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "python-deriv-api==0.1.6"
"$venv/bin/python" -c "import deriv_api, websockets; print('python-deriv-api ready, websockets', websockets.__version__)"
