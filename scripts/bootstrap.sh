#!/usr/bin/env bash
# Set up ./.venv with everything the product needs, from the package registry only.
#   bash scripts/bootstrap.sh          # the product
#   bash scripts/bootstrap.sh llm      # the product with the local LLM (compiles llama-cpp-python once)
#   bash scripts/bootstrap.sh dev,llm  # and the test tools, with Debian's chromium for the browser test
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
# The browser test drives Debian's chromium (Playwright's own browser download needs the internet).
if [[ ",$extras," == *",dev,"* ]] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; elif command -v sudo >/dev/null 2>&1; then apt_get="sudo -n apt-get"; else apt_get=""; fi
  if [ -n "$apt_get" ]; then
    $apt_get install -y -q chromium >/dev/null || { $apt_get update -q >/dev/null && $apt_get install -y -q chromium >/dev/null; } \
      || echo "warning: could not install chromium; the browser test will be skipped (or fail under CI)" >&2
  else
    echo "warning: install Debian's chromium for the browser test (apt-get install chromium)" >&2
  fi
fi
echo "ready: .venv (extras: ${extras:-none})"
