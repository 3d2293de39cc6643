#!/usr/bin/env bash
# Runs `ioemu-img bench` and `qemu-img bench` with the same options on the same file in the same
# run and prints a markdown table of their "Run completed in" times and the ratio qemu/ioemu
# (> 1: ioemu is faster). Each row runs REPEAT times per side in alternating order; the table
# shows each side's median. Process start-up is inside both figures (each side is one process),
# so COUNT is large enough for the I/O to dominate. Not a test: numbers vary run to run.
# Usage: tools/bench/img-bench-vs-qemu.sh [WORK-DIR]   (env: SIZE=256M COUNT=20000 REPEAT=3)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/target/bench}"
size="${SIZE:-256M}"
count="${COUNT:-20000}"
repeat="${REPEAT:-3}"
command -v qemu-img >/dev/null 2>&1 || { echo "img-bench-vs-qemu: qemu-img not installed" >&2; exit 1; }
mkdir -p "$work"
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
  echo "img-bench-vs-qemu: $work is on tmpfs; give a directory on a real filesystem" >&2; exit 1
fi
img="$work/img-bench.img"
size_mib=$(( $(numfmt --from=iec "$size") / 1048576 ))
if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" -ne $((size_mib * 1048576)) ]; then
  dd if=/dev/urandom of="$img" bs=1M count="$size_mib" status=none
  sync
fi
ours="$root/tools/bin/ioemu-img"

# Prints the seconds one bench run reports.
seconds() { "$@" | sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

rows=(
  "4 KiB read, QD1, cache=none|-c $count -d 1 -t none"
  "4 KiB read, QD16, cache=none|-c $count -d 16 -t none"
  "4 KiB write, QD1, cache=none|-c $count -d 1 -w -t none"
  "4 KiB write, QD16, cache=writeback, flush every 64|-c $count -d 16 -w --flush-interval=64"
  "64 KiB read, QD4, cache=writeback|-c $count -d 4 -s 64k"
  "1 MiB sequential write, QD1, cache=none|-c $((count / 40)) -d 1 -s 1M -w -t none"
)
echo "# ioemu-img bench vs qemu-img bench — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), image $size, $count requests"
echo
echo "| workload | qemu-img s | ioemu-img s | qemu/ioemu |"
echo "| --- | --- | --- | --- |"
for row in "${rows[@]}"; do
  name="${row%%|*}"; opts="${row#*|}"
  q=(); o=()
  for ((i = 0; i < repeat; i++)); do
    # shellcheck disable=SC2086
    q+=("$(seconds qemu-img bench -f raw $opts "$img")")
    # shellcheck disable=SC2086
    o+=("$(seconds "$ours" bench $opts "$img")")
  done
  qm=$(printf '%s\n' "${q[@]}" | median); om=$(printf '%s\n' "${o[@]}" | median)
  printf '| %s | %s | %s | %.2f |\n' "$name" "$qm" "$om" "$(echo "$qm / $om" | bc -l)"
done
