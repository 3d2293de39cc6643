#!/usr/bin/env bash
# Reference figures of the guest workloads under QEMU TCG + Debian's SeaBIOS (not a test; the
# method is shared/spec/cpu.md §1-§2, with QEMU's own exec log instead of a plugin):
#   * dynamic instruction counts: QEMU runs with -singlestep (one instruction per translation
#     block) and -d exec,nochain, so every executed instruction is one "Trace" line, a REP
#     iteration included; the lines are counted from a pipe, never stored. "BIOS" = linear
#     addresses C0000-FFFFF, FFF00000+ and the range SeaBIOS relocates its init code to (its
#     0x402 log says where); "POST" = instructions before the first one at 0x7C00.
#   * wall time of the whole QEMU process to the workload's own exit (isa-debug-exit), and its
#     CPU time (user + system, less sensitive to a loaded machine), medians of RUNS runs without
#     logging; grub-linux (build-linux-workload.sh) is timed too when its package can be fetched.
# Usage: tests/guest/reference-figures.sh [OUTDIR] [RUNS] [times]   (prints a Markdown table;
# "times" skips the instruction counts)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-reference-out}"
runs="${2:-5}"
mode="${3:-all}"
bash "$here/build-workloads.sh" "$out" >/dev/null
linux=grub-linux
bash "$here/build-linux-workload.sh" "$out" >/dev/null 2>&1 || linux=
out="$(cd "$out" && pwd)"

qemu() {   # qemu IMAGE EXTRA...   (an hour at most: counting single-steps on a loaded machine is slow)
  local img="$1"; shift
  timeout 3600 qemu-system-x86_64 -machine pc -accel tcg -nodefaults -display none \
    -drive file="$img",if=ide,format=raw -serial null \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" || true
}

# count IMAGE: prints "total post bios"
count() {
  local img="$1" fifo="$out/exec.fifo" log="$out/seabios.log"
  rm -f "$fifo"; mkfifo "$fifo"
  qemu "$img" -singlestep -d exec,nochain -D "$fifo" \
    -chardev file,id=seabios,path="$log" -device isa-debugcon,iobase=0x402,chardev=seabios &
  local pid=$!
  # Per 4 KiB page: how many instructions ran there; and the count before 0x7C00 first ran.
  awk -F'[/[]' '/^Trace/ {
      n++; pc = $3; page = substr(pc, 1, 13); per[page]++
      if (!booted && pc == "0000000000007c00") { booted = 1; post = n - 1 }
    }
    END { print "total", n, post; for (p in per) print p, per[p] }' "$fifo" > "$out/pages.txt"
  wait "$pid" || true
  rm -f "$fifo"
  # SeaBIOS: "Relocating init from 0x000e... to 0x07fa... (size 79104)"
  local reloc
  reloc=$(sed -n 's/.*Relocating init from 0x[0-9a-f]* to 0x\([0-9a-f]*\) (size \([0-9]*\)).*/\1 \2/p' "$log" | head -1)
  awk -v reloc="$reloc" '
    function hex(s,   i, v, c) { v = 0; s = tolower(s)
      for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
      return v }
    BEGIN { split(reloc, r, " "); rlo = hex(r[1]); rhi = rlo + r[2] }
    $1 == "total" { total = $2; post = $3; next }
    { a = hex($1) * 4096
      if ((a >= 786432 && a < 1048576) || a >= 4293918720 || (rlo > 0 && a + 4096 > rlo && a < rhi)) bios += $2 }
    END { printf "%d %d %d\n", total, post, bios }' "$out/pages.txt"
}

# seconds IMAGE: "wall cpu", the medians of RUNS runs
seconds() {
  local img="$1" i
  for i in $(seq "$runs"); do
    cp --sparse=always "$img" "$out/timing.img"
    { /usr/bin/time -f "%e %U %S" bash -c "$(declare -f qemu); qemu '$out/timing.img'" >/dev/null; } 2>&1 | tail -1
  done | awk '{ w[NR] = $1; c[NR] = $2 + $3 }
    function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return a[int((n + 1) / 2)] }
    END { printf "%.2f %.2f\n", median(w, NR), median(c, NR) }'
}

fmt() { printf "%'d" "$1"; }
echo "| workload (to its exit) | instructions, total | SeaBIOS POST (before 0x7C00) | BIOS code, total | guest code | wall / CPU time, medians of $runs |"
echo "| --- | --- | --- | --- | --- | --- |"
for w in demo hook syslinux grub-marker grub $linux; do
  read -r wall cpu < <(seconds "$out/$w.img")
  s="$wall s / $cpu s"
  if [ "$mode" = times ] || [ "$w" = grub ] || [ "$w" = grub-linux ]; then
    # GRUB's md5sum and its kernel load read MiBs through SeaBIOS's PIO loop: hundreds of
    # millions of single-stepped instructions, too slow to count this way; times only.
    echo "| $w | – | – | – | – | $s |"
    continue
  fi
  cp --sparse=always "$out/$w.img" "$out/count.img"
  read -r total post bios < <(count "$out/count.img")
  echo "| $w | $(fmt "$total") | $(fmt "$post") | $(fmt "$bios") | $(fmt $((total - bios))) | $s s |"
done
