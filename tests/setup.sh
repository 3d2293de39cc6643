#!/usr/bin/env bash
# Installs what the build and the test suites need on a fresh Debian machine (idempotent):
# a JDK and Maven to build; QEMU (the peer of the differential suites), qemu-utils, fio (the
# benchmark peer), util-linux (losetup for the below-cache coherence tests), the guest
# workloads' tools (nasm, seabios, syslinux, mtools, dosfstools, GRUB 2 for i386-pc), and the
# compiler, meson and libraries that build QEMU's own ide-test from Debian's source
# (tests/ide-test/run.sh, which also adds the deb-src entry it needs).
set -euo pipefail
need=()
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v losetup >/dev/null 2>&1 || need+=(mount)
# Guest workloads (tests/guest): nasm for our boot code; Debian's SeaBIOS for the peer; syslinux
# and GRUB 2 images built with mtools and dosfstools.
command -v nasm >/dev/null 2>&1 || need+=(nasm)
[ -e /usr/share/seabios/bios-256k.bin ] || need+=(seabios)
command -v syslinux >/dev/null 2>&1 || need+=(syslinux)
[ -e /usr/lib/syslinux/mbr/mbr.bin ] || need+=(syslinux-common)
command -v mcopy >/dev/null 2>&1 || need+=(mtools)
[ -x /sbin/mkfs.fat ] || command -v mkfs.fat >/dev/null 2>&1 || need+=(dosfstools)
[ -e /usr/lib/grub/i386-pc/boot.img ] || need+=(grub-pc-bin)
command -v grub-mkimage >/dev/null 2>&1 || need+=(grub-common)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
# sfdisk: the peer that checks ioemu-img info's partition tables (MBR, logical, GPT).
command -v sfdisk >/dev/null 2>&1 || need+=(fdisk)
# NBD servers the remote-disk tests run against (qemu-nbd comes with qemu-utils).
command -v nbdkit >/dev/null 2>&1 || need+=(nbdkit)
# nbd-server 3.24 (simple replies only) for NbdServersTest; fio (above) also has the nbd engine
# tools/bench/nbd-vs-qemu.sh compares with.
command -v nbd-server >/dev/null 2>&1 || [ -x /usr/bin/nbd-server ] || need+=(nbd-server)
# Ceph (tests/ceph/cluster.sh, RbdCephTest, tools/bench/rbd-vs-fio.sh): a one-node cluster's
# daemons, the rbd tool and librbd, uuidgen, and QEMU's rbd driver for qemu-storage-daemon.
command -v ceph-mon >/dev/null 2>&1 || need+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || need+=(ceph-osd)
command -v ceph-mgr >/dev/null 2>&1 || need+=(ceph-mgr)
command -v rbd >/dev/null 2>&1 || need+=(ceph-common)
command -v uuidgen >/dev/null 2>&1 || need+=(uuid-runtime)
dpkg-query -W -f='${Status}' qemu-block-extra 2>/dev/null | grep -q "install ok installed" || need+=(qemu-block-extra)
# ioemu-trace plot: its test opens the HTML in headless Chromium.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
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
