#!/usr/bin/env bash
# Installs what the build and the test suites need on a fresh Debian machine (idempotent):
# a JDK and Maven to build; QEMU (the peer of the differential suites), qemu-utils, fio (the
# benchmark peer) and util-linux (losetup for the below-cache coherence tests); the compiler,
# meson and libraries that build QEMU's own ide-test from Debian's source (tests/ide-test/run.sh,
# which also adds the deb-src entry it needs).
set -euo pipefail
need=()
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v losetup >/dev/null 2>&1 || need+=(mount)
for p in dpkg-dev meson ninja-build pkg-config gcc python3 flex bison libglib2.0-dev libpixman-1-dev zlib1g-dev \
         libfdt-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  else
    echo "setup: missing ${need[*]} and not root; tests needing them will say 'skipped'" >&2
  fi
fi
