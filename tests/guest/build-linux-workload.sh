#!/usr/bin/env bash
# Optional workload: GRUB 2 loading Debian's kernel and an initrd through INT 13h.
# Builds OUTDIR/grub-linux.img (default ./workloads-out): the GRUB disk of build-workloads.sh with
# a core.img that also holds the linux module, /vmlinuz from Debian's current linux-image-amd64
# package (fetched with apt-get download, kept in OUTDIR/cache), and /initrd.img, a 4 MiB newc
# cpio archive of big.bin. grub.cfg prints IOEMU-GRUB-LINUX-START, runs linux and initrd, prints
# IOEMU-GRUB-INITRD-LOADED and exits through isa-debug-exit: the kernel is loaded, not started.
# OUTDIR/linux.txt records the package and the file sizes. IOEMU_DEB_CACHE names another
# directory to keep the package in (the tests use one under tests/target).
# Exit status 3 when the kernel package cannot be fetched (no network or no such package).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-workloads-out}"
bash "$here/build-workloads.sh" "$out" >/dev/null
out="$(cd "$out" && pwd)"
GRUB_DIR=/usr/lib/grub/i386-pc
PART_START=2048
mkfs_fat="$(command -v mkfs.fat || echo /sbin/mkfs.fat)"

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$pkg" ] || { echo "build-linux-workload: no linux-image-amd64 dependency known to apt" >&2; exit 3; }
cache="${IOEMU_DEB_CACHE:-$out/cache}"
mkdir -p "$cache"
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  ( cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1 ) || { echo "build-linux-workload: apt-get download $pkg failed" >&2; exit 3; }
  deb=$(ls "$cache/${pkg}_"*.deb | head -1)
fi
rm -rf "$out/kernel"
mkdir -p "$out/kernel"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$out/kernel" --wildcards './boot/vmlinuz-*'
cp "$out/kernel"/boot/vmlinuz-* "$out/vmlinuz"
( cd "$out" && echo big.bin | cpio --quiet -o -H newc > initrd.img )

grub-mkimage -O i386-pc -d "$GRUB_DIR" -o "$out/core-linux.img" -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos fat normal echo serial iorw terminal linux
cat > "$out/grub-linux.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_output serial
echo IOEMU-GRUB-LINUX-START
linux /vmlinuz console=ttyS0
initrd /initrd.img
echo IOEMU-GRUB-INITRD-LOADED
outb 0xf4 0
CFG
img="$out/grub-linux.img"
rm -f "$img"
truncate -s 64M "$img"
printf '\x80\xfe\xff\xff\x06\xfe\xff\xff\x00\x08\x00\x00\x00\xf8\x01\x00' | dd of="$img" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none
dd if="$GRUB_DIR/boot.img" of="$img" bs=440 count=1 conv=notrunc status=none
dd if="$out/core-linux.img" of="$img" bs=512 seek=1 conv=notrunc status=none
rm -f "$out/linux.fat"
"$mkfs_fat" -F 16 -n LINUX -h "$PART_START" -C "$out/linux.fat" 64512 >/dev/null
mmd -i "$out/linux.fat" ::/boot ::/boot/grub
mcopy -i "$out/linux.fat" "$out/grub-linux.cfg" ::/boot/grub/grub.cfg
mcopy -i "$out/linux.fat" "$out/vmlinuz" ::/vmlinuz
mcopy -i "$out/linux.fat" "$out/initrd.img" ::/initrd.img
dd if="$out/linux.fat" of="$img" bs=512 seek="$PART_START" conv=notrunc status=none
rm -f "$out/linux.fat"
printf '%s %s vmlinuz=%d initrd=%d\n' "$pkg" "$(basename "$deb")" "$(stat -c %s "$out/vmlinuz")" "$(stat -c %s "$out/initrd.img")" > "$out/linux.txt"
echo "$out"
