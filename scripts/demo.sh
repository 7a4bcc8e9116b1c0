#!/usr/bin/env bash
# The main job: install what is missing, make a busybox base image with `silo import`, run
# examples/hello as a container, follow its logs, then print its layer diff — all through the real engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
silo() { dist/silo "$@"; }   # the native front; it runs dist/silo.js with node when no engine runs yet

echo "== silo import: a busybox base image from Debian's busybox-static"
bash scripts/make-busybox-rootfs.sh | silo import - busybox:latest
silo images

echo "== silo run -d: examples/hello in a container (process isolation, crun)"
silo rm -f hello >/dev/null 2>&1 || true
silo run -d --name hello -v "$PWD/examples/hello:/app:ro" busybox sh /app/hello.sh

echo "== silo logs -f hello"
silo logs -f hello

echo "== silo diff hello: what the container changed in its layer"
silo diff hello
silo ps -a
silo rm hello >/dev/null
echo "== done"
