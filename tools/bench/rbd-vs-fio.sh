#!/usr/bin/env bash
# ioemu's librbd backend against fio's rbd engine and QEMU's rbd driver (qemu-img bench) on a
# one-node Ceph cluster this script starts (tests/ceph/cluster.sh) and stops, in one run.
# Each row runs the three in rotating order REPEAT times on the same 256 MiB image, all with
# librbd's cache off (rbd_cache=false: a completed write is on the OSD; ioemu and qemu-img with
# -t none, fio through a ceph.conf that says so), and prints the median IOPS (MB/s for 1 MiB)
# of each and the ratios ioemu/fio and ioemu/qemu-img (> 1: ioemu is faster), the CPU time
# (user+sys of the whole process, JVM start-up included) per request of the median run, and the
# 1-minute load average after each repetition.
#
# ioemu's tools: QD1 rows run `ioemu-io bench` (one thread, uniformly random offsets, RUNTIME
# seconds after 1 s of ramp: fio's randread/randwrite at iodepth 1), the other rows
# `ioemu-img bench -d 16` (16 requests in flight, submitted with rbd_aio_* and completed by
# librbd's callback, which issues the next request: no thread per request), as qemu-img bench.
# Access pattern: qemu-img bench and ioemu-img bench have no random mode; their 4 KiB rows use a
# stride of 4 MiB + 4 KiB (every request lands in another 4 MiB object; offsets wrap modulo the
# image size, so each 4 KiB block is visited once in 64 Ki requests), fio's are uniformly random
# (randread/randwrite). The 1 MiB rows are sequential for all three.
# Not a test: on a loaded 2-core machine the OSD shares the CPUs with the client, so figures
# vary run to run; only the same-run ratios mean anything.
# BASELINE=DIR adds another ioemu build (its source root, e.g. an unpacked older commit) as a
# "before" column, run next to ioemu's in every repetition, for before/after in one run.
# Usage: tools/bench/rbd-vs-fio.sh [WORK-DIR]   (env: REPEAT=3 RUNTIME=5 BASELINE=DIR)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
repeat="${REPEAT:-3}"
runtime="${RUNTIME:-5}"
for b in fio jq qemu-img rbd; do
  command -v "$b" >/dev/null 2>&1 || { echo "rbd-vs-fio: $b not installed (tests/setup.sh installs it)" >&2; exit 1; }
done
fio --enghelp 2>/dev/null | grep -qw rbd || { echo "rbd-vs-fio: this fio has no rbd engine" >&2; exit 1; }

mkdir -p "$work"
cluster="$work/ceph"
trap 'bash "$root/tests/ceph/cluster.sh" down "$cluster"' EXIT
echo "starting the one-node cluster in $cluster" >&2
conf="$(bash "$root/tests/ceph/cluster.sh" up "$cluster")"
bconf="$work/bench.conf"
{ cat "$conf"; printf '[client]\nrbd_cache = false\n'; } > "$bconf"
export CEPH_CONF="$bconf"
rbd create rbd/bench --size 256M
rbd bench --io-type write --io-size 4M --io-total 256M rbd/bench >/dev/null   # allocate every object
image="rbd:rbd/bench:conf=$bconf"
ioemu_img="$root/tools/bin/ioemu-img"
ioemu_io="$root/tools/bin/ioemu-io"
"$ioemu_img" info "$image" >/dev/null   # builds the tools once, outside the measurements
"$ioemu_io" -c "read 0 4k" "$image" >/dev/null
before=""
if [ -n "${BASELINE:-}" ]; then
  before="$BASELINE/tools/bin"
  "$before/ioemu-img" info "$image" >/dev/null
fi

TIMEFORMAT='%R %U %S'
# Each runner prints "IOPS MBps cpu_seconds requests".
run_ioemu() {  # COUNT ARGS...
  local count=$1; shift
  local out t
  { t=$( { time "$ioemu_img" bench -c "$count" -t none "$@" "$image" > "$work/out" 2>&1; } 2>&1 ); } || {
    cat "$work/out" >&2; return 1; }
  seconds "$count" "$t" "$@"
}
run_ioemu_io() {  # RW: one thread, random, time-based
  local t
  { t=$( { time "$ioemu_io" bench --rw "$1" --bs 4k --size 256M --runtime "$runtime" --ramp-time 1 --cache none \
        --json "$image" > "$work/out" 2>&1; } 2>&1 ); } || { cat "$work/out" >&2; return 1; }
  jq -r --arg t "$t" '"\(.iops|floor) \(.mbps) \($t|split(" ")|(.[1]|tonumber)+(.[2]|tonumber)) \(.ops)"' "$work/out"
}
run_qemu() {
  local count=$1; shift
  local t
  { t=$( { time qemu-img bench -f raw -c "$count" -t none "$@" "$image" > "$work/out" 2>&1; } 2>&1 ); } || {
    cat "$work/out" >&2; return 1; }
  seconds "$count" "$t" "$@"
}
# COUNT "real user sys" BENCH-ARGS: figures from a bench's "Run completed in S seconds."
seconds() {
  local count=$1 t=$2; shift 2
  local s size=4096 prev=""
  for a in "$@"; do [ "$prev" = -s ] && size=$(numfmt --from=iec "${a^^}"); prev=$a; done
  s=$(sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p' "$work/out")
  awk -v c="$count" -v s="$s" -v t="$t" -v b="$size" 'BEGIN { split(t, x, " ");
    printf "%.0f %.1f %.3f %d\n", c / s, c * b / s / 1e6, x[2] + x[3], c }'
}
run_fio() {  # RW BS DEPTH
  local rw=$1 bs=$2 depth=$3 dir=read t
  case $rw in *write) dir=write ;; esac
  { t=$( { time fio --name=bench --ioengine=rbd --clientname=admin --pool=rbd --rbdname=bench --rw="$rw" \
        --bs="$bs" --iodepth="$depth" --size=256M --norandommap --randrepeat=0 --runtime="$runtime" --time_based --output-format=json \
        > "$work/fio.json" 2>"$work/fio.err"; } 2>&1 ); } || { cat "$work/fio.err" >&2; return 1; }
  jq -r --arg d "$dir" --arg t "$t" '.jobs[0][$d] | "\(.iops|floor) \(.bw_bytes/1e6*10|floor/10) \($t|split(" ")|(.[1]|tonumber)+(.[2]|tonumber)) \(.total_ios)"' \
    "$work/fio.json"
}
median() { sort -g | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }

stride=$((4 * 1048576 + 4096))
# name | ioemu/qemu-img count and bench args | fio rw bs depth | ioemu-io bench --rw (QD1 rows)
rows=(
  "4 KiB random read, QD1|3000 -d 1 -S $stride|randread 4k 1|randread"
  "4 KiB random read, QD16|20000 -d 16 -S $stride|randread 4k 16"
  "4 KiB random write, QD1|2000 -d 1 -w -S $stride|randwrite 4k 1|randwrite"
  "4 KiB random write, QD16|8000 -d 16 -w -S $stride|randwrite 4k 16"
  "1 MiB sequential read, QD16|1500 -d 16 -s 1M|read 1M 16"
  "1 MiB sequential write, QD16|600 -d 16 -s 1M -w|write 1M 16"
)

echo "# ioemu librbd vs fio rbd engine vs qemu-img bench (QEMU's rbd driver) — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, Ceph $(ceph-osd --version | awk '{print $3}'), one OSD on a file, rbd_cache=false"
echo
if [ -n "$before" ]; then
  echo "Before: $BASELINE (ioemu-img/ioemu-io of that build, run next to ioemu's in every repetition)."
  echo
  echo "| workload | ioemu | before | fio | qemu-img | ioemu/fio | ioemu/qemu-img | before/fio | CPU µs/request ioemu · before · fio · qemu-img | load avg |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
else
  echo "| workload | ioemu | fio | qemu-img | ioemu/fio | ioemu/qemu-img | CPU µs/request ioemu · fio · qemu-img | load avg |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
fi
for row in "${rows[@]}"; do
  IFS='|' read -r name bench frow iorw <<< "$row"
  read -r count bargs <<< "$bench"
  read -r frw fbs fdepth <<< "$frow"
  is=() bs=() fs=() qs=() loads=()
  ours() { if [ -n "$iorw" ]; then run_ioemu_io "$iorw"; else run_ioemu "$count" $bargs; fi; }
  theirs() {   # the BASELINE build, same runner
    [ -n "$before" ] || return 0
    local img_saved="$ioemu_img" io_saved="$ioemu_io"
    ioemu_img="$before/ioemu-img"; ioemu_io="$before/ioemu-io"
    bs+=("$(ours)")
    ioemu_img="$img_saved"; ioemu_io="$io_saved"
  }
  for ((r = 0; r < repeat; r++)); do
    case $((r % 3)) in
      0) is+=("$(ours)"); theirs; fs+=("$(run_fio "$frw" "$fbs" "$fdepth")"); qs+=("$(run_qemu "$count" $bargs)") ;;
      1) fs+=("$(run_fio "$frw" "$fbs" "$fdepth")"); qs+=("$(run_qemu "$count" $bargs)"); theirs; is+=("$(ours)") ;;
      2) qs+=("$(run_qemu "$count" $bargs)"); is+=("$(ours)"); theirs; fs+=("$(run_fio "$frw" "$fbs" "$fdepth")") ;;
    esac
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  done
  i=$(printf '%s\n' "${is[@]}" | median)
  f=$(printf '%s\n' "${fs[@]}" | median)
  q=$(printf '%s\n' "${qs[@]}" | median)
  col=1; unit=" IOPS"
  case $name in 1\ MiB*) col=2; unit=" MB/s" ;; esac
  if [ -n "$before" ]; then
    b=$(printf '%s\n' "${bs[@]}" | median)
    awk -v n="$name" -v i="$i" -v bb="$b" -v f="$f" -v q="$q" -v c="$col" -v u="$unit" -v l="${loads[*]}" 'BEGIN {
      split(i, a, " "); split(bb, e, " "); split(f, b, " "); split(q, d, " ");
      printf "| %s | %s%s | %s%s | %s%s | %s%s | %.2f | %.2f | %.2f | %.0f · %.0f · %.0f · %.0f | %s |\n", n, a[c], u, e[c], u,
        b[c], u, d[c], u, a[c] / b[c], a[c] / d[c], e[c] / b[c], 1e6 * a[3] / a[4], 1e6 * e[3] / e[4], 1e6 * b[3] / b[4],
        1e6 * d[3] / d[4], l }'
    continue
  fi
  awk -v n="$name" -v i="$i" -v f="$f" -v q="$q" -v c="$col" -v u="$unit" -v l="${loads[*]}" 'BEGIN {
    split(i, a, " "); split(f, b, " "); split(q, d, " ");
    printf "| %s | %s%s | %s%s | %s%s | %.2f | %.2f | %.0f · %.0f · %.0f | %s |\n", n, a[c], u, b[c], u, d[c], u,
      a[c] / b[c], a[c] / d[c], 1e6 * a[3] / a[4], 1e6 * b[3] / b[4], 1e6 * d[3] / d[4], l }'
done
