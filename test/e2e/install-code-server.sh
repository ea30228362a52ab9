#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 server + workbench, runs on Node 20) into
# .cache/code-server for the in-host and UI tests. It is a test tool, never a dependency of
# the extension. Needs apt packages libkrb5-dev build-essential pkg-config (kerberos builds
# from source) and chromium; .ci/run installs them.
#
# Three traps handled here (see shared docs e2e-in-code-server.md):
#  - node-pty's install runs `npx node-gyp`, which waits for a "yes": npm_config_yes=true;
#  - @vscode/ripgrep downloads rg from GitHub in postinstall: we pre-fill its cache from the
#    npm package @vscode/ripgrep-linux-x64;
#  - as root, code-server's postinstall insists on npm_config_unsafe_perm=true.
set -euo pipefail

VERSION=4.100.3
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEST="$ROOT/.cache/code-server"
BIN="$DEST/node_modules/.bin/code-server"

if [[ -x "$BIN" && -f "$DEST/.installed-$VERSION" && "${1:-}" != "--force" ]]; then
  echo "code-server $VERSION already in $DEST"
  exit 0
fi

for pkg in libkrb5-dev pkg-config; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then
    echo "error: apt package $pkg is missing (kerberos builds from source). Run: apt-get install -y libkrb5-dev build-essential pkg-config" >&2
    exit 1
  fi
done

mkdir -p "$DEST"
WORK="$DEST/.tmp"
rm -rf "$WORK"; mkdir -p "$WORK"
export TMPDIR="$WORK"

# ripgrep: fetch the linux-x64 binary package from npm and lay it out as @vscode/ripgrep's cache.
(cd "$WORK" && npm pack --silent @vscode/ripgrep-linux-x64 >/dev/null)
mkdir -p "$WORK/rg" && tar -xzf "$WORK"/vscode-ripgrep-linux-x64-*.tgz -C "$WORK/rg"
RG="$(find "$WORK/rg" -type f -name rg | head -n1)"
[[ -n "$RG" ]] || { echo "error: no rg binary in @vscode/ripgrep-linux-x64" >&2; exit 1; }
mkdir -p "$WORK/rgtar" && cp "$RG" "$WORK/rgtar/rg" && chmod +x "$WORK/rgtar/rg"
tar -czf "$WORK/rg.tar.gz" -C "$WORK/rgtar" rg
# The cache folder is named after the @vscode/ripgrep version code-server pins (1.15.x); fill
# one for every 1.15.x release so a patch bump does not send it back to GitHub.
for v in $(npm view @vscode/ripgrep versions --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).filter(v=>/^1\.1[5-9]\./.test(v)).join(" ")))'); do
  mkdir -p "$WORK/vscode-ripgrep-cache-$v"
  for arch in x86_64-unknown-linux-musl; do
    for rgv in v13.0.0-10 v13.0.0-4 v13.0.0-8 v13.0.0-2; do
      ln -sf "$WORK/rg.tar.gz" "$WORK/vscode-ripgrep-cache-$v/ripgrep-$rgv-$arch.tar.gz"
    done
  done
done

cd "$DEST"
[[ -f package.json ]] || echo '{ "name": "code-server-cache", "private": true }' > package.json
export npm_config_yes=true
export npm_config_unsafe_perm=true
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false
npm install --no-save --foreground-scripts "code-server@$VERSION"

# npm 11 may hold back install scripts; the ones we rely on must have produced their files.
VS="$DEST/node_modules/code-server/lib/vscode"
[[ -x "$BIN" ]] || { echo "error: $BIN missing after install" >&2; exit 1; }
if ! find "$VS/node_modules/@vscode/ripgrep/bin" -name rg 2>/dev/null | grep -q .; then
  echo "error: @vscode/ripgrep has no bin/rg (its postinstall did not run)" >&2; exit 1
fi
if ! find "$VS/node_modules/node-pty/build" -name '*.node' 2>/dev/null | grep -q .; then
  echo "warning: node-pty native module missing (terminals will not work; tests do not need them)" >&2
fi
rm -rf "$WORK"
touch "$DEST/.installed-$VERSION"
echo "code-server $VERSION installed in $DEST"
