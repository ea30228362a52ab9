#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, builds, and runs every
# suite — unit and engine tests in plain mocha, then the extension inside real VS Code
# (code-server + Debian chromium). Safe to run again; skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
# Every suite's output also goes to $LOG, so the last line can count all tests together.
suite() { "$@" 2>&1 | tee -a "$LOG"; }

DEBS=(chromium libkrb5-dev build-essential pkg-config python3 fonts-dejavu-core git)
missing=()
for p in "${DEBS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "Debian packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

step "npm ci"
# onnxruntime-node's install script would fetch CUDA files from NuGet (unreachable); .npmrc skips it.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund

step "build"
npm run build

step "typecheck"
npm run typecheck

step "lint"
npm run lint

step "unit and engine tests (mocha)"
suite npm run test:unit

step "packaging: VSIXs for linux-x64, win32-x64 and darwin-arm64, each opened and checked"
suite npm run test:package

if npm run | grep -q '^  test:e2e$'; then
  step "extension tests in real VS Code (code-server + chromium)"
  suite npm run test:e2e
fi
count() { grep -Eo "^ +[0-9]+ $1" "$LOG" | awk '{ n += $1 } END { print n + 0 }'; }
step "all suites passed"
echo "$(count passing) passed, $(count failing) failed, $(count pending) skipped"
