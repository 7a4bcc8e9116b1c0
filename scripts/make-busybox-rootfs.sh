#!/usr/bin/env bash
# Writes a minimal busybox root filesystem tarball to stdout: /bin/busybox (from Debian's
# busybox-static) plus a symlink per applet, and the usual empty directories.
set -euo pipefail
src=/bin/busybox
[ -x "$src" ] || { echo "make-busybox-rootfs: $src is missing: apt-get install busybox-static" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,etc,tmp,root,proc,sys,dev,var}
chmod 1777 "$dir/tmp"
cp "$src" "$dir/bin/busybox"
for applet in $("$src" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
tar -C "$dir" --numeric-owner --owner=0 --group=0 -cf - .
