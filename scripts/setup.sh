#!/usr/bin/env bash
# Create ./.venv and install tumen into it (idempotent). Used by the README's two commands.
#   scripts/setup.sh            runtime only
#   scripts/setup.sh test       runtime + test tools + the system packages the report tests use
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tumen needs Python 3.11 or newer")'

apt_install() {  # Debian packages, only when something is missing (root or sudo)
  local SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# followthemoney's name normalisation builds PyICU, which needs ICU's headers and pkg-config.
if ! pkg-config --exists icu-uc 2>/dev/null; then
  apt_install libicu-dev pkg-config
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  # Headless Chromium (report screenshots) and poppler (PDF pages), from Debian's packages.
  if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
    apt_install chromium poppler-utils fonts-dejavu-core
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
# WeasyPrint (the PDF report) loads Pango through the system's shared libraries.
if ! .venv/bin/python -c "import weasyprint" >/dev/null 2>&1; then
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
fi
