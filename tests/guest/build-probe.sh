#!/usr/bin/env bash
# Builds the INT 13h probe images into OUTDIR (default ./probe-out) from tests/guest/int13probe.asm:
#   probe-64m.img   64 MiB, no partition table (LCHS 130/16/63, no translation)
#   probe-10g.img   10 GiB sparse (LBA-assisted translation, LCHS 1024/255/63)
#   probe-part.img  64 MiB whose MBR partition ends at head 15, sector 32: QEMU guesses PCHS
#                   256/16/32 from it, so the BIOS geometry differs from the 16/63 default
#                   (shared/spec/int13.md §5.2, §5.8)
# Needs nasm and truncate/dd. Idempotent: images are rebuilt from scratch on every run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-probe-out}"
mkdir -p "$out"
command -v nasm >/dev/null || { echo "build-probe: nasm not installed (tests/setup.sh installs it)" >&2; exit 2; }
nasm -f bin -o "$out/int13probe.bin" "$here/int13probe.asm"

image() {   # image FILE SIZE
  rm -f "$1"
  truncate -s "$2" "$1"
  dd if="$out/int13probe.bin" of="$1" conv=notrunc status=none
}
image "$out/probe-64m.img" 64M
image "$out/probe-10g.img" 10G
image "$out/probe-part.img" 64M
# Partition 1: active, type 06h, LBA 2048 + 129024 sectors, CHS 4/0/1 .. 255/15/32 in a
# 16-head, 32-sector geometry (the end head and sector are what the geometry guess reads).
printf '\x80\x00\x01\x04\x06\x0f\x20\xff\x00\x08\x00\x00\x00\xf8\x01\x00' |
  dd of="$out/probe-part.img" bs=1 seek=446 conv=notrunc status=none
echo "$out"
