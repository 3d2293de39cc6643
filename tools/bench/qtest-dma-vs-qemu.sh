#!/usr/bin/env bash
# Side-by-side qtest benchmark (issue 4 "Benchmark"): the same qtest DMA workload — 128 KiB
# READ DMA EXT / WRITE DMA EXT at sequential LBAs, PRD table in guest memory, data moved with
# b64write/b64read, completion by polling BM status — against QEMU
#   qemu-system-x86_64 -machine pc -accel tcg -S -qtest stdio -nodefaults -display none -drive …
# (Debian's QEMU 7.2 has no qtest accelerator) and against ioemu
#   emulator/bin/ioemu -machine pc -accel qtest -qtest stdio -nodefaults -display none -drive …
# in one run, alternating (dev.ioemu.tools.bench.QtestDmaBench). Both get -qtest-log /dev/null
# and the same image and cache mode. Prints MB/s and the ratio ioemu/QEMU (goal >= 1.2).
# Not a test: numbers vary run to run, and with the load of a shared machine.
# Usage: tools/bench/qtest-dma-vs-qemu.sh [WORK-DIR]
#   env: SIZE=256M RUNTIME=2 REPEAT=3 CACHES="none writeback" TARGETS=qemu,ioemu QEMU=qemu-system-x86_64
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/target/bench}"
size="${SIZE:-256M}"
runtime="${RUNTIME:-2}"
repeat="${REPEAT:-3}"
caches="${CACHES:-none writeback}"
qemu="${QEMU:-qemu-system-x86_64}"
targets="${TARGETS:-qemu,ioemu}"

if ! command -v "$qemu" >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "qtest-dma-vs-qemu: need $qemu (run as root to install qemu-system-x86)" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq qemu-system-x86 >/dev/null
fi

. "$root/tools/bench/bench-image.sh"
img="$(bench_image qtest-bench "$work" "$size")"

# Builds the tools module (and the emulator it depends on) when needed, then runs the driver.
qtest_bench() {
  ( MODULE=tools MAIN_CLASS=dev.ioemu.tools.bench.QtestDmaBench; . "$root/emulator/bin/launch.sh" "$@" )
}
qtest_bench --help >/dev/null  # builds once, outside the measurements
case ",$targets," in
  *,ioemu,*) "$root/emulator/bin/ioemu" --help >/dev/null 2>&1 || true ;;  # its own build check, likewise
esac

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
  "kernel $(uname -r), $(df --output=fstype "$work" | tail -1) on $(df --output=source "$work" | tail -1)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $("$qemu" --version | head -1); $(java -version 2>&1 | head -1)"
for cache in $caches; do
  echo
  # Buffered modes read through the host page cache: start both sides from a warm one (an earlier
  # cache=none run's O_DIRECT writes drop the image's pages from it).
  case $cache in none|directsync) ;; *) cat "$img" >/dev/null ;; esac
  # Per-run figures go to a log; shown only when the run fails.
  if ! qtest_bench --qemu "$qemu" --ioemu "$root/emulator/bin/ioemu" --targets "$targets" --cache "$cache" \
      --runtime "$runtime" --repeat "$repeat" "$img" 2>"$work/qtest-bench-$cache.log"; then
    cat "$work/qtest-bench-$cache.log" >&2; exit 1
  fi
done
