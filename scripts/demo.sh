#!/usr/bin/env bash
# Set up tumen, then run the demo on embedded defaults. Extra arguments go to `tumen demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/tumen demo --out demo-out "$@"
