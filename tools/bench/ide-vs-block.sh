#!/usr/bin/env bash
# The in-process IDE benchmark (issue 4 "Benchmark"): MB/s of 128 KiB READ/WRITE DMA EXT and of
# READ/WRITE MULTIPLE EXT (PIO, rep insw/outsw) through the PIIX3 IDE device model, driven like a
# guest driver, versus the block layer alone doing the same requests on the same image into the
# same guest-memory buffer, in the same JVM, alternating (dev.ioemu.tools.bench.IdeBench).
# Prints one markdown table per cache mode with overhead = 1 - model/block (target for DMA: <= 5%).
# Not a test: numbers vary run to run, and with the load of a shared machine.
# Usage: tools/bench/ide-vs-block.sh [WORK-DIR]
#   env: SIZE=256M RUNTIME=2 REPEAT=3 CACHES="none writeback" CASES=dma-read,dma-write,pio-read,pio-write
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/target/bench}"
size="${SIZE:-256M}"
runtime="${RUNTIME:-2}"
repeat="${REPEAT:-3}"
caches="${CACHES:-none writeback}"
cases="${CASES:-dma-read,dma-write,pio-read,pio-write}"

. "$root/tools/bench/bench-image.sh"
img="$(bench_image ide-bench "$work" "$size")"

# Builds the tools module when needed (emulator/bin/launch.sh), then runs the benchmark.
ide_bench() {
  ( MODULE=tools MAIN_CLASS=dev.ioemu.tools.bench.IdeBench; . "$root/emulator/bin/launch.sh" "$@" )
}
ide_bench --help >/dev/null  # builds once, outside the measurements

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
  "kernel $(uname -r), $(df --output=fstype "$work" | tail -1) on $(df --output=source "$work" | tail -1)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $(java -version 2>&1 | head -1)"
for cache in $caches; do
  echo
  # Buffered modes read through the host page cache: start both sides from a warm one (an earlier
  # cache=none run's O_DIRECT writes drop the image's pages from it).
  case $cache in none|directsync) ;; *) cat "$img" >/dev/null ;; esac
  # Per-run figures go to a log; shown only when the run fails.
  if ! ide_bench --cache "$cache" --runtime "$runtime" --repeat "$repeat" --cases "$cases" "$img" \
      2>"$work/ide-bench-$cache.log"; then
    cat "$work/ide-bench-$cache.log" >&2; exit 1
  fi
done
