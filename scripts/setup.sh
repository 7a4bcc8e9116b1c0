#!/usr/bin/env bash
# Installs what Silo needs on Debian 12 (as root) and builds it. Idempotent: a second run does nothing new.
#   bash scripts/setup.sh          the engine's needs (crun, busybox-static, a C compiler, ISA-L), npm packages, build
#   bash scripts/setup.sh --test   plus what the test suite uses (runc, Docker's daemon, skopeo, a registry)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'silo setup: %s\n' "$*" >&2; }
if [ "$(id -u)" != 0 ]; then say "run this as root (sudo bash $0): it installs packages and runs containers"; exit 1; fi
if ! command -v node >/dev/null || ! node -e "process.exit(Number(process.versions.node.split('.')[0]) < 20 ? 1 : 0)"; then
  say "Node.js 20 or newer is needed: install it, then run this again"; exit 1
fi

# Debian packages, by the command each provides.
want=(crun:crun busybox:busybox-static cc:gcc)
if [ "${1:-}" = "--test" ]; then
  want+=(runc:runc dockerd:docker.io skopeo:skopeo docker-registry:docker-registry htpasswd:apache2-utils ip:iproute2)
fi
missing=()
for pair in "${want[@]}"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
# ISA-L's header and library (no command): pulls inflate layers through it (engine/gunzip/), 3-4x
# faster than zlib; without it the build leaves it out and pulls use zlib.
if ! dpkg -s libisal-dev >/dev/null 2>&1; then missing+=(libisal-dev); fi
# Debian's debugpy (a library, no command): the Python debugging test debugs through it.
if [ "${1:-}" = "--test" ] && ! dpkg -s python3-debugpy >/dev/null 2>&1; then missing+=(python3-debugpy); fi
# busybox-static provides /bin/busybox; the dynamic busybox package does not make a standalone rootfs.
if ! dpkg -s busybox-static >/dev/null 2>&1; then missing+=(busybox-static); fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    say "could not install ${missing[*]} with apt-get: install them by hand, then run this again"; exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
node scripts/build.mjs
# The editor end-to-end tools (code-server, Node 24, Chromium, playwright-core), cached outside the clone.
# koffi's binaries for the other VSIX targets (the packaging test), cached outside the clone too.
if [ "${1:-}" = "--test" ]; then bash scripts/e2e-setup.sh; node scripts/package.mjs --fetch; fi
