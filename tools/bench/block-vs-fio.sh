#!/usr/bin/env bash
# Compares `ioemu-io bench` with fio on the same file in the same run (issue 3 "Benchmark"):
# psync, queue depth 1, same size, same runtime, 4096-aligned buffers on both sides.
#   1 MiB sequential read/write and 4 KiB random read/write, direct (cache=none vs fio --direct=1)
#   and buffered (cache=writeback vs fio --direct=0); then 4 KiB random writes with a flush every
#   64 writes: ioemu fadvise vs writeback vs none (fio: --fdatasync=64).
# Prints a markdown table with ioemu/fio ratios. Not a test: numbers vary run to run.
# Each pair runs REPEAT times in alternating order (the VM's disk varies ±30% run to run) and the
# table shows the median run of each side. Both sides get RAMP seconds of unmeasured I/O first
# (fio --ramp_time; the JVM compiles the hot path), buffered reads start from a warm page cache
# and write runs start after a sync, so no run pays for the dirty pages of the one before.
# Usage: tools/bench/block-vs-fio.sh [WORK-DIR]   (env: SIZE=256M RUNTIME=5 RAMP=1 REPEAT=3)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/target/bench}"
size="${SIZE:-256M}"
runtime="${RUNTIME:-5}"
repeat="${REPEAT:-3}"
ramp="${RAMP:-1}"

need=()
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "block-vs-fio: need ${need[*]} (run as root to install them)" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$work"
fstype="$(stat -f -c %T "$work")"
if [ "$fstype" = tmpfs ]; then
  echo "block-vs-fio: $work is on tmpfs; give a directory on a real filesystem" >&2; exit 1
fi
img="$work/bench.img"
size_mib=$(( $(numfmt --from=iec "$size") / 1048576 ))
if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" -lt $((size_mib * 1048576)) ]; then
  echo "creating $img ($size_mib MiB of random data, fully allocated)" >&2
  dd if=/dev/urandom of="$img" bs=1M count="$size_mib" status=none
  sync
fi
ioemu_io="$root/tools/bin/ioemu-io"
"$ioemu_io" --help >/dev/null  # builds the tool once, outside the measurements

# fio_run RW BS DIRECT [EXTRA...] -> "MBps p50us p99us"
fio_run() {
  local rw=$1 bs=$2 direct=$3; shift 3
  local dir=read; case $rw in *write) dir=write;; esac
  fio --name=bench --filename="$img" --ioengine=psync --iodepth=1 --rw="$rw" --bs="$bs" --size="$size" \
      --runtime="$runtime" --ramp_time="$ramp" --time_based --direct="$direct" --invalidate=0 --norandommap --randrepeat=0 \
      --output-format=json "$@" 2>/dev/null |
    jq -r --arg d "$dir" '.jobs[0][$d] | "\(.bw_bytes/1e6) \(.clat_ns.percentile["50.000000"]/1000) \(.clat_ns.percentile["99.000000"]/1000)"'
}

# ioemu_run RW BS CACHE [EXTRA...] -> "MBps p50us p99us"
ioemu_run() {
  local rw=$1 bs=$2 cache=$3; shift 3
  "$ioemu_io" bench --rw "$rw" --bs "$bs" --size "$size" --runtime "$runtime" --ramp-time "$ramp" --cache "$cache" --json "$@" "$img" |
    jq -r '"\(.mbps) \(.lat_us_p50) \(.lat_us_p99)"'
}

warm() { cat "$img" >/dev/null; }

# prepare KIND: what every measured run starts from (warm cache for buffered reads, no dirty pages)
prepare() { sync; [ "$1" = warm ] && warm; true; }

# median OF-LINES: the line whose first field (MB/s) is the median
median() { sort -g | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }

# pair NAME IOEMU-CMD FIO-CMD [WARM]: runs both REPEAT times, alternating which goes first
pair() {
  local name=$1 icmd=$2 fcmd=$3 kind=${4:-cold}
  local is=() fs=()
  for ((r = 0; r < repeat; r++)); do
    if ((r % 2 == 0)); then
      prepare "$kind"; fs+=("$(eval "$fcmd")")
      prepare "$kind"; is+=("$(eval "$icmd")")
    else
      prepare "$kind"; is+=("$(eval "$icmd")")
      prepare "$kind"; fs+=("$(eval "$fcmd")")
    fi
  done
  row "$name" "$(printf '%s\n' "${is[@]}" | median)" "$(printf '%s\n' "${fs[@]}" | median)"
}

rows=()
row() {  # name ioemu-result fio-result
  local name=$1; read -r im ip50 ip99 <<<"$2"; read -r fm fp50 fp99 <<<"$3"
  local ratio; ratio=$(awk -v a="$im" -v b="$fm" 'BEGIN { printf "%.2f", a / b }')
  rows+=("$(printf '| %s | %.1f | %.1f | %.1f / %.1f | %.1f / %.1f | **%s** |' "$name" "$im" "$fm" "$ip50" "$fp50" "$ip99" "$fp99" "$ratio")")
  echo "${rows[-1]}" >&2
}

for d in direct buffered; do
  if [ $d = direct ]; then cache=none; fd=1; else cache=writeback; fd=0; fi
  for job in "read 1M" "write 1M" "randread 4k" "randwrite 4k"; do
    set -- $job
    w=cold; [ $d = buffered ] && case $1 in *read) w=warm;; esac
    pair "$1 $2 $d (ioemu cache=$cache)" "ioemu_run $1 $2 $cache" "fio_run $1 $2 $fd" "$w"
  done
done

# 4 KiB random writes with a flush every 64: fadvise vs writeback vs none, with fio's buffered and
# direct runs (--fdatasync=64) as references; all five rotate order each repetition.
declare -A flush_runs
flush_jobs=(writeback fadvise none fio-buffered fio-direct)
for ((r = 0; r < repeat; r++)); do
  for ((k = 0; k < ${#flush_jobs[@]}; k++)); do
    job=${flush_jobs[$(((k + r) % ${#flush_jobs[@]}))]}
    prepare cold
    case $job in
      fio-buffered) out=$(fio_run randwrite 4k 0 --fdatasync=64);;
      fio-direct) out=$(fio_run randwrite 4k 1 --fdatasync=64);;
      *) out=$(ioemu_run randwrite 4k "$job" --flush-every 64);;
    esac
    flush_runs[$job]+="$out"$'\n'
  done
done
wb_line=$(printf '%s' "${flush_runs[writeback]}" | median)
fa_line=$(printf '%s' "${flush_runs[fadvise]}" | median)
no_line=$(printf '%s' "${flush_runs[none]}" | median)
fio_wb=$(printf '%s' "${flush_runs[fio-buffered]}" | median)
fio_none=$(printf '%s' "${flush_runs[fio-direct]}" | median)
row "randwrite 4k flush/64, ioemu writeback vs fio buffered" "$wb_line" "$fio_wb"
row "randwrite 4k flush/64, ioemu fadvise vs fio buffered" "$fa_line" "$fio_wb"
row "randwrite 4k flush/64, ioemu none vs fio direct" "$no_line" "$fio_none"
read -r wb _ <<<"$wb_line"; read -r fa _ <<<"$fa_line"; read -r no _ <<<"$no_line"

echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(df --output=fstype "$work" | tail -1) on $(df --output=source "$work" | tail -1); fio $(fio --version | sed 's/fio-//'); size $size, ${runtime}s per run after ${ramp}s ramp, median of $repeat alternating runs, QD1 psync"
echo
echo "| job | ioemu MB/s | fio MB/s | p50 µs ioemu / fio | p99 µs ioemu / fio | ioemu/fio |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
awk -v wb="$wb" -v fa="$fa" -v no="$no" 'BEGIN {
  printf "4 KiB random writes, flush every 64: writeback %.1f MB/s, fadvise %.1f MB/s, none %.1f MB/s; fadvise/writeback **%.2f**, fadvise/none **%.2f**\n", wb, fa, no, fa / wb, fa / no }'
