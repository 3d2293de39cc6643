#!/usr/bin/env bash
# What tracing costs on the DMA path (issue 12 "zero cost when off"): JMH times one 64 KiB
# WRITE DMA EXT + READ DMA EXT through the PIIX3 model (dev.ioemu.tools.bench.trace.TraceCostBenchmark)
# in three variants of the same classes: "removed" (every trace call site taken out by rewriting
# the class files: the baseline), "off" (as shipped, every event off) and "on" (every event on,
# lines formatted and discarded). Prints each variant's time per operation and its ratio to
# "removed"; the goal is off/removed within 1 %. The variants run ROUNDS times in turn so a change
# in the machine's load hits all of them. Not a test: numbers vary with the load of a shared machine.
# Last, the paired run (TraceCostPaired): "removed" and "off" in one JVM, timed in alternating 20 ms
# slices, median of the per-pair ratios: the figure to quote on a loaded machine, where load moves
# more between JMH forks than the 1 % being measured.
# Usage: tools/bench/trace-cost.sh [WORK-DIR]
#   env: ROUNDS=2 WARMUP=3 ITERATIONS=5 SECONDS_PER_ITERATION=2 PAIRS=400 PAIRED_ONLY=0
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/target/bench}"
rounds="${ROUNDS:-2}"
warmup="${WARMUP:-3}"
iterations="${ITERATIONS:-5}"
seconds="${SECONDS_PER_ITERATION:-2}"

. "$root/tools/bench/bench-image.sh"
img="$(bench_image trace-cost "$work" 64M)"
img2="$(bench_image trace-cost-off "$work" 64M)"

# Builds the tools module when needed (emulator/bin/launch.sh prepares target/lib), outside the measurements.
( MODULE=tools MAIN_CLASS=dev.ioemu.tools.trace.TraceTool; . "$root/emulator/bin/launch.sh" --help ) >/dev/null
cp="$root/tools/target/ioemu-tools-0.1.0-SNAPSHOT.jar:$root/tools/target/lib/*"

echo "Machine: $(nproc) cores, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at start;" \
  "$(java -version 2>&1 | head -1); JMH ${warmup}x${seconds}s warm-up, ${iterations}x${seconds}s measured, $rounds rounds"
paired() {
  echo
  echo "paired, one JVM, alternating slices (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  java -cp "$cp" dev.ioemu.tools.bench.trace.TraceCostPaired "$img" "$img2" "${PAIRS:-400}" 20 10
}
if [ "${PAIRED_ONLY:-0}" = 1 ]; then
  paired
  echo "Load average $(cut -d' ' -f1-3 /proc/loadavg) at end."
  exit 0
fi
results="$work/trace-cost.csv"
: > "$results"
for round in $(seq 1 "$rounds"); do
  for variant in removed off on; do
    csv="$work/trace-cost-$round-$variant.csv"
    java -cp "$cp" org.openjdk.jmh.Main 'TraceCostBenchmark' -p image="$img" -p variant="$variant" \
      -f 1 -wi "$warmup" -w "${seconds}s" -i "$iterations" -r "${seconds}s" -rf csv -rff "$csv" >/dev/null
    # "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit","Param: image","Param: variant"
    awk -F, -v r="$round" -v v="$variant" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $7); n = split($1, p, ".");
      print r "," v "," p[n] "," $5 "," $6 "," $7 }' "$csv" >> "$results"
  done
done
for bench in dmaWriteThenRead taskFileRegisters; do
  echo
  case "$bench" in
    dmaWriteThenRead) echo "$bench: a 64 KiB WRITE DMA EXT + READ DMA EXT through the IDE model" ;;
    taskFileRegisters) echo "$bench: the task file of a READ DMA EXT, BM status and alternate status (the register half, no I/O thread)" ;;
  esac
  echo "| round | variant | time/op | ±99.9 % | unit | ratio to removed |"
  echo "| --- | --- | --- | --- | --- | --- |"
  awk -F, -v b="$bench" '
    $3 == b { score[$1 "," $2] = $4; err[$1 "," $2] = $5; unit = $6; sum[$2] += $4 }
    END {
      for (r = 1; (r "," "removed") in score; r++)
        for (i = 1; i <= 3; i++) {
          v = (i == 1 ? "removed" : i == 2 ? "off" : "on")
          printf "| %d | %s | %.3f | %.3f | %s | %.4f |\n", r, v, score[r "," v], err[r "," v], unit, score[r "," v] / score[r "," "removed"]
        }
      printf "all rounds: off/removed = %.4f (%+.2f %%), on/removed = %.4f (%+.1f %%)\n",
        sum["off"] / sum["removed"], (sum["off"] / sum["removed"] - 1) * 100,
        sum["on"] / sum["removed"], (sum["on"] / sum["removed"] - 1) * 100
    }' "$results"
done
paired
echo "Load average $(cut -d' ' -f1-3 /proc/loadavg) at end."
