#!/usr/bin/env bash
# Create ./.venv and install tumen into it (idempotent). Used by the README's two commands.
#   scripts/setup.sh            runtime only
#   scripts/setup.sh test       runtime + test tools + the system packages the report tests use
#                               (and Java, for the Spark half of the detector tests)
#   scripts/setup.sh spark      runtime + the Spark engine (pyspark, and Java when missing)
#
# Every step prints one line when it starts and one with its duration when it ends; a step
# that runs longer than 30 s says so every 30 s, so nothing is silent for minutes.  The full
# output of pip and apt-get goes to .venv-setup.log (kept for when a step fails).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tumen needs Python 3.11 or newer")'

LOG=.venv-setup.log
: >"$LOG"
SETUP_START=$SECONDS

step() {  # step "what it does" command args...
  local what=$1; shift
  local start=$SECONDS
  printf 'setup: %s ...\n' "$what" >&2
  ( while sleep 30; do printf 'setup:   ... still running (%d s)\n' $((SECONDS - start)) >&2; done ) &
  local ticker=$!
  local rc=0
  "$@" >>"$LOG" 2>&1 || rc=$?
  kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    printf 'setup: FAILED after %d s: %s (exit %d); the last lines of %s:\n' \
      $((SECONDS - start)) "$what" "$rc" "$LOG" >&2
    tail -n 20 "$LOG" >&2
    exit "$rc"
  fi
  printf 'setup:   done in %d s\n' $((SECONDS - start)) >&2
}

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT_UPDATED=""
apt_install() {  # Debian packages, only when something is missing (root or sudo)
  if [ -z "$APT_UPDATED" ]; then
    step "apt-get update" $SUDO apt-get update -q
    APT_UPDATED=1
  fi
  step "apt-get install $*" $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}
pip_install() { .venv/bin/python -m pip install --progress-bar off "$@"; }

# followthemoney's name normalisation (normality) needs PyICU, which has no wheels on PyPI:
# pip compiles it against ICU's headers (pkg-config finds them).
if ! pkg-config --exists icu-uc 2>/dev/null; then
  apt_install libicu-dev pkg-config
fi
[ -x .venv/bin/python ] || step "create .venv with $("$PY" --version)" "$PY" -m venv .venv
step "upgrade pip" pip_install --upgrade pip
if ! .venv/bin/python -c "import icu" >/dev/null 2>&1; then
  # Alone, so that the one compile is named: about 2 minutes on 2 cores the first time; pip
  # keeps the built wheel in its cache, so a later set-up on the same machine takes seconds.
  step "build PyICU from source (no wheel exists; about 2 min on 2 cores, cached afterwards)" \
    pip_install "pyicu>=2.10"
fi
if [ "${1:-}" = "test" ]; then
  step "install tumen and its test tools into .venv (pip)" pip_install -e '.[test]'
  # Headless Chromium (report screenshots) and poppler (PDF pages), from Debian's packages.
  if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
    apt_install chromium poppler-utils fonts-dejavu-core
  fi
elif [ "${1:-}" = "spark" ]; then
  step "install tumen and pyspark into .venv (pip)" pip_install -e '.[spark]'
else
  step "install tumen into .venv (pip)" pip_install -e .
fi
# The Spark engine (`tumen detect --engine spark`, and the tests' Spark half) runs on a JVM:
# Java 17 or newer, from Debian's packages, only when no `java` is on the PATH.
if [ "${1:-}" = "test" ] || [ "${1:-}" = "spark" ]; then
  if ! command -v java >/dev/null 2>&1; then
    apt_install default-jre-headless
  fi
fi
# WeasyPrint (the PDF report) loads Pango through the system's shared libraries.
if ! .venv/bin/python -c "import weasyprint" >/dev/null 2>&1; then
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
fi
printf 'setup: ready in %d s (.venv %s; log in %s)\n' $((SECONDS - SETUP_START)) \
  "$(du -sh .venv 2>/dev/null | cut -f1)" "$LOG" >&2
