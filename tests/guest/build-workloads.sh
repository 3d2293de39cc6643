#!/usr/bin/env bash
# Builds the guest workloads into OUTDIR (default ./workloads-out), each a 64 MiB raw disk:
#   demo.img      our boot sector (demodisk.asm): INT 13h AH=03h/43h writes, COM1 + 0xE9 progress
#   hook.img      our DOS-style boot sector that hooks INT 13h and chains to the BIOS (int13hook.asm)
#   syslinux.img  Debian's syslinux mbr.bin + a FAT16 partition (mkfs.fat) with syslinux in its VBR;
#                 syslinux.cfg turns on the COM1 console (syslinux's banner appears there) and
#                 chain-loads exit.bs (exit.asm), whose marker line ends the run. (SAY and DISPLAY
#                 text is printed while the file is parsed, before the serial console opens, so it
#                 never reaches COM1.)
#   grub.img      GRUB 2 boot.img + grub-mkimage core.img after the MBR + grub.cfg on a FAT16
#                 partition: marker on COM1, md5sum of a 4 MiB file, then outb 0xf4 (exit)
#   grub-marker.img    the same GRUB, whose grub.cfg exits right after the marker
#   grub-saveenv.img   the same GRUB, whose grub.cfg runs save_env into /boot/grub/grubenv
#                      (INT 13h writes; tools/bench/firmware-writes.sh), then exits
#   big.bin, big.md5   the hashed file and its md5 as the host computes it
# Needs nasm, mtools, dosfstools, syslinux + syslinux-common, grub-pc-bin + grub-common
# (tests/setup.sh installs them). Idempotent: every image is rebuilt from scratch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-workloads-out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
mkfs_fat="$(command -v mkfs.fat || echo /sbin/mkfs.fat)"
MBR=/usr/lib/syslinux/mbr/mbr.bin
GRUB_DIR=/usr/lib/grub/i386-pc
PART_START=2048                      # LBA of the FAT16 partition
PART_SECTORS=129024                  # to the end of the 64 MiB disk
MARKER_GRUB=IOEMU-GRUB-MARKER

for tool in nasm mcopy mmd syslinux grub-mkimage grub-editenv; do
  command -v "$tool" >/dev/null || { echo "build-workloads: $tool not installed (tests/setup.sh installs it)" >&2; exit 2; }
done
for file in "$MBR" "$GRUB_DIR/boot.img" "$mkfs_fat"; do
  [ -e "$file" ] || { echo "build-workloads: $file missing (tests/setup.sh installs it)" >&2; exit 2; }
done

# disk FILE: a 64 MiB disk with one active FAT16 (type 06h) partition at PART_START; CHS fields
# say 1023/254/63 ("use LBA"), as partitioning tools write for large disks.
disk() {
  rm -f "$1"
  truncate -s 64M "$1"
  printf '\x80\xfe\xff\xff\x06\xfe\xff\xff\x00\x08\x00\x00\x00\xf8\x01\x00' |
    dd of="$1" bs=1 seek=446 conv=notrunc status=none
  printf '\x55\xaa' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
}
# fat FILE LABEL: a FAT16 file system the size of the partition, hidden sectors = PART_START.
fat() {
  rm -f "$1"
  "$mkfs_fat" -F 16 -n "$2" -h "$PART_START" -C "$1" $((PART_SECTORS / 2)) >/dev/null
}
# place FS DISK: the file system into the disk's partition.
place() {
  dd if="$1" of="$2" bs=512 seek="$PART_START" conv=notrunc status=none
  rm -f "$1"
}

# (c) demo disk: our boot sector only
nasm -f bin -o "$out/demodisk.bin" "$here/demodisk.asm"
rm -f "$out/demo.img"
truncate -s 64M "$out/demo.img"
dd if="$out/demodisk.bin" of="$out/demo.img" conv=notrunc status=none

# DOS-style INT 13h hook that chains to the BIOS (int13hook.asm)
nasm -f bin -o "$out/int13hook.bin" "$here/int13hook.asm"
rm -f "$out/hook.img"
truncate -s 64M "$out/hook.img"
dd if="$out/int13hook.bin" of="$out/hook.img" conv=notrunc status=none

# (a) syslinux
nasm -f bin -o "$out/exit.bs" "$here/exit.asm"
disk "$out/syslinux.img"
dd if="$MBR" of="$out/syslinux.img" bs=440 count=1 conv=notrunc status=none
fat "$out/syslinux.fat" SYSLINUX
cat > "$out/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT exit
PROMPT 0
TIMEOUT 0
LABEL exit
  KERNEL exit.bs
CFG
mcopy -i "$out/syslinux.fat" "$out/syslinux.cfg" ::/syslinux.cfg
mcopy -i "$out/syslinux.fat" "$out/exit.bs" ::/exit.bs
syslinux --install "$out/syslinux.fat"
place "$out/syslinux.fat" "$out/syslinux.img"

# (b) GRUB 2: core.img (diskboot + kernel + modules) at LBA 1, its blocklist's default start
seq 1 700000 > "$out/big.bin"
truncate -s 4M "$out/big.bin"
( cd "$out" && md5sum big.bin | cut -d' ' -f1 > big.md5 )
grub-mkimage -O i386-pc -d "$GRUB_DIR" -o "$out/core.img" -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos fat normal echo serial iorw terminal hashsum gcry_md5 crypto loadenv
core_sectors=$(( ($(stat -c %s "$out/core.img") + 511) / 512 ))
[ "$core_sectors" -lt "$PART_START" ] || { echo "build-workloads: core.img does not fit before the partition" >&2; exit 1; }
# grub_image NAME CFG-FILE [GRUBENV]: the GRUB disk with its own grub.cfg (and /big.bin).
grub_image() {
  disk "$out/$1.img"
  dd if="$GRUB_DIR/boot.img" of="$out/$1.img" bs=440 count=1 conv=notrunc status=none
  dd if="$out/core.img" of="$out/$1.img" bs=512 seek=1 conv=notrunc status=none
  fat "$out/$1.fat" GRUB
  mmd -i "$out/$1.fat" ::/boot ::/boot/grub
  mcopy -i "$out/$1.fat" "$2" ::/boot/grub/grub.cfg
  mcopy -i "$out/$1.fat" "$out/big.bin" ::/big.bin
  [ -z "${3:-}" ] || mcopy -i "$out/$1.fat" "$3" ::/boot/grub/grubenv
  place "$out/$1.fat" "$out/$1.img"
}
cat > "$out/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
echo $MARKER_GRUB
md5sum /big.bin
echo IOEMU-GRUB-HASHED
outb 0xf4 0
CFG
grub_image grub "$out/grub.cfg"
# grub-marker.img: exits right after the marker (the reference instruction count stops there)
cat > "$out/grub-marker.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_output serial
echo $MARKER_GRUB
outb 0xf4 0
CFG
grub_image grub-marker "$out/grub-marker.cfg"
# grub-saveenv.img: GRUB's save_env, the few-sector write a boot makes through the firmware
grub-editenv "$out/grubenv" create
cat > "$out/grub-saveenv.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_output serial
set ioemu_saved=yes
save_env ioemu_saved
echo IOEMU-GRUB-SAVED
outb 0xf4 0
CFG
grub_image grub-saveenv "$out/grub-saveenv.cfg" "$out/grubenv"
echo "$out"
