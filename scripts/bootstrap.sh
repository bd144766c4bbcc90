#!/usr/bin/env bash
# Set up ./.venv with everything the product needs, from the package registry only.
#   bash scripts/bootstrap.sh          # the product
#   bash scripts/bootstrap.sh dev      # the product and the test tools
# torch is installed first and pinned to the CPU build (2.13.0): any other torch
# requirement would pull gigabytes of CUDA libraries. Re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=".venv/bin/python -m pip"
$pip install --quiet --disable-pip-version-check torch==2.13.0
$pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
echo "ready: .venv (extras: ${extras:-none})"
