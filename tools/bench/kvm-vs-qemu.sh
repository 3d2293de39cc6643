#!/usr/bin/env bash
# kvm-vs-qemu.sh: ioemu -accel kvm against its peer qemu-system-x86_64 -enable-kvm + SeaBIOS, and
# ioemu's software CPU, in one run on the same freshly built images (issue 13):
#   probe    wall time from process start to the INT 13h probe's isa-debug-exit (64 MiB image)
#   syslinux wall time to syslinux's exit.bs (mbr.bin -> FAT16 VBR -> ldlinux -> exit.bs)
#   start    process start to the first boot-sector instruction (a sector whose first
#            instruction writes isa-debug-exit), i.e. start-up + firmware POST
#   rss      peak RSS minus guest RAM (-m 16M: at most 16 MiB of it can be resident)
# With --long it adds GRUB (boot.img, core.img, grub.cfg: md5sum of a 4 MiB file) — minutes on
# kvm_pvm, so never in CI. Columns a host cannot run print "n/a" with the reason (no /dev/kvm,
# no QEMU). Ratios are against qemu-kvm when both KVM columns ran, else against QEMU TCG.
# Usage: kvm-vs-qemu.sh [--long] [RUNS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
long=0
if [ "${1:-}" = "--long" ]; then long=1; shift; fi
runs="${1:-3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
ioemu="$root/emulator/bin/ioemu"
"$ioemu" -version >/dev/null   # builds the jar once, outside the timings

echo "kvm-vs-qemu: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
kvm_reason=""
if [ ! -e /dev/kvm ]; then
  kvm_reason="no /dev/kvm"
  [ -d /sys/module/kvm_pvm ] && kvm_reason="no /dev/kvm (kvm_pvm loaded, not bound)"
elif [ -d /sys/module/kvm_pvm ] && ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
  echo "host: /dev/kvm is kvm_pvm (software virtualisation, ~1.5 M guest instructions/s at CPL 0)"
else
  echo "host: /dev/kvm is hardware-assisted"
fi
seabios=/usr/share/seabios/bios-256k.bin
qemu_reason=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || qemu_reason="qemu-system-x86_64 not installed"
[ -z "$qemu_reason" ] && [ ! -f "$seabios" ] && qemu_reason="no SeaBIOS ($seabios)"

bash "$root/tests/guest/build-probe.sh" "$work/probe" >/dev/null
bash "$root/tests/guest/build-workloads.sh" "$work/wl" >/dev/null
# The start-up sector: its first instruction is the exit (mov al, 0; out 0xf4, al).
python3 - "$work/first.img" <<'PY'
import sys
s = bytearray(1 << 20)
s[0:4] = b"\xb0\x00\xe6\xf4"; s[4:6] = b"\xeb\xfe"; s[510:512] = b"\x55\xaa"
open(sys.argv[1], "wb").write(s)
PY

# engine -> command prefix
cmd_of() {
  case "$1" in
    ioemu-kvm)  echo "$ioemu -accel kvm" ;;
    ioemu-soft) echo "$ioemu -accel soft" ;;
    qemu-kvm)   echo "qemu-system-x86_64 -enable-kvm -bios $seabios" ;;
    qemu-tcg)   echo "qemu-system-x86_64 -accel tcg -bios $seabios" ;;
  esac
}
why_not() {
  case "$1" in
    ioemu-kvm) echo "$kvm_reason" ;;
    qemu-kvm)  [ -n "$qemu_reason" ] && echo "$qemu_reason" || echo "$kvm_reason" ;;
    qemu-tcg)  echo "$qemu_reason" ;;
    *) echo "" ;;
  esac
}

# one ENGINE IMAGE EXPECTED-STATUS -> "seconds rss_kib" (median of $runs by seconds) or "fail"
measure() {
  local engine="$1" img="$2" want="$3" i out=() status
  for i in $(seq "$runs"); do
    cp --sparse=always "$img" "$work/run.img"
    status=0
    /usr/bin/time -f "%e %M" -o "$work/time" timeout 600 $(cmd_of "$engine") -machine pc -m 16M -nodefaults \
      -display none -drive "file=$work/run.img,if=ide,format=raw" -serial "file:$work/serial" \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 >/dev/null 2>"$work/stderr" || status=$?
    if [ "$status" != "$want" ]; then
      echo "fail(status $status: $(head -c 150 "$work/stderr" | tr '\n' ' '))"; return
    fi
    out+=("$(tail -1 "$work/time")")
  done
  printf '%s\n' "${out[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

engines="ioemu-kvm qemu-kvm ioemu-soft qemu-tcg"
workloads="start:$work/first.img:1 probe:$work/probe/probe-64m.img:1 syslinux:$work/wl/syslinux.img:67"
[ "$long" = 1 ] && workloads="$workloads grub:$work/wl/grub.img:1"
declare -A sec rss
printf '%-10s' "workload"; for e in $engines; do printf ' %-14s' "$e"; done; echo
for w in $workloads; do
  name="${w%%:*}"; rest="${w#*:}"; img="${rest%%:*}"; want="${rest##*:}"
  printf '%-10s' "$name"
  for e in $engines; do
    reason="$(why_not "$e")"
    if [ -n "$reason" ]; then printf ' %-14s' "n/a"; continue; fi
    r="$(measure "$e" "$img" "$want")"
    case "$r" in
      fail*) printf ' %-14s' "FAIL"; echo; echo "  $e $name: $r" ;;
      *) sec[$e.$name]="${r%% *}"; rss[$e.$name]="${r##* }"; printf ' %-14s' "${r%% *} s" ;;
    esac
  done
  echo
done
printf '%-10s' "rss-16MiB"
for e in $engines; do
  k="${rss[$e.probe]:-}"
  if [ -n "$k" ]; then printf ' %-14s' "$(( k / 1024 - 16 )) MiB"; else printf ' %-14s' "n/a"; fi
done
echo
for e in $engines; do
  reason="$(why_not "$e")"; [ -n "$reason" ] && echo "n/a $e: $reason"
done
peer=qemu-kvm; [ -z "${sec[qemu-kvm.probe]:-}" ] && peer=qemu-tcg
for e in ioemu-kvm ioemu-soft; do
  for w in start probe syslinux grub; do
    a="${sec[$e.$w]:-}"; b="${sec[$peer.$w]:-}"
    [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" -v e="$e" -v p="$peer" -v w="$w" \
      'BEGIN { if (a > 0) printf "ratio %s: %s is %.2fx as fast as %s (%.2f s vs %.2f s)\n", w, e, b / a, p, a, b }'
  done
done
echo "goal (issue 13): ioemu-kvm >= 3x qemu-kvm on the probe and syslinux where /dev/kvm exists"
