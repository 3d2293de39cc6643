#!/usr/bin/env bash
# ioemu's NBD client against QEMU's own NBD client (`qemu-img bench`, block/nbd.c) and libnbd
# (fio's nbd engine) on the same qemu-nbd export, over a Unix socket and over TCP, in one run:
# 4 KiB random read/write at QD1 and QD16, 1 MiB sequential read/write, and a QD2 write+flush
# barrier row that exposes qemu-nbd 7.2's 40 ms Nagle/delayed-ACK stall (shared/spec/nbd.md §3.4).
# ioemu's side is `ioemu-img bench` (qemu-img bench's options and request pattern; a 40503-block
# stride makes the 4 KiB offsets scattered, as in nbd.md §3). For every client it prints IOPS (or
# MB/s), the client's CPU time per request (user+sys of the whole process, start-up included) and
# the 1-minute load average; the ratio columns are ioemu / peer (> 1: ioemu is faster). Clients
# alternate within each row (A B C, then C B A, …); each figure is the median of REPEAT runs.
# A "STALL" mark: mean time per request ≥ 30 ms at QD ≥ 2 (Little's law), the 40 ms signature.
# Not a test: numbers vary run to run, the more so on a loaded machine (see the load column).
# BASELINE=DIR adds another ioemu build (DIR is its source root, e.g. an unpacked older commit;
# its tools/bin/ioemu-img builds it on first use) as a "before" column, run in the same rotation,
# so a change is measured before/after in one run on the same machine load.
# Usage: tools/bench/nbd-vs-qemu.sh [WORK-DIR]
#   env: SIZE=256M REPEAT=3 COUNT1=20000 COUNT16=60000 COUNTM=600 SECS=3 (fio's runtime per point)
#        BASELINE=DIR ROWS=REGEX (only the workloads whose name matches) TRANSPORTS="unix tcp"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/target/bench-nbd}"
size="${SIZE:-256M}"
repeat="${REPEAT:-3}"
count1="${COUNT1:-20000}"
count16="${COUNT16:-60000}"
countm="${COUNTM:-600}"
secs="${SECS:-3}"
for c in qemu-nbd qemu-img fio python3 /usr/bin/time; do
  command -v "$c" >/dev/null 2>&1 || { echo "nbd-vs-qemu: $c not installed (tests/setup.sh installs it)" >&2; exit 1; }
done
fio --enghelp 2>/dev/null | grep -qw nbd || { echo "nbd-vs-qemu: this fio has no nbd engine" >&2; exit 1; }
mkdir -p "$work"
img="$work/nbd-bench.img"
size_mib=$(( $(numfmt --from=iec "$size") / 1048576 ))
if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" -ne $((size_mib * 1048576)) ]; then
  dd if=/dev/urandom of="$img" bs=1M count="$size_mib" status=none
  sync
fi
ours="$root/tools/bin/ioemu-img"
"$ours" info "$img" >/dev/null   # builds ioemu on first use, outside the figures
before=""
if [ -n "${BASELINE:-}" ]; then
  before="$BASELINE/tools/bin/ioemu-img"
  "$before" info "$img" >/dev/null
fi
only="${ROWS:-.}"
transports="${TRANSPORTS:-unix tcp}"
stride=$((40503 * 4096))
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

load() { cut -d' ' -f1 /proc/loadavg; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run_bench CLIENT URI COUNT ARGS… → "IOPS CPU_US_PER_REQUEST"
run_bench() {
  local client="$1" uri="$2" count="$3"; shift 3
  local out t
  t="$(mktemp)"
  out="$(/usr/bin/time -o "$t" -f '%U %S' "$client" bench -f raw -t writeback -c "$count" "$@" "$uri")"
  local s; s="$(sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p' <<<"$out")"
  read -r u sy <"$t"; rm -f "$t"
  python3 -c "print('%.0f %.1f' % ($count / $s, ($u + $sy) * 1e6 / $count))"
}

# run_fio URI RW BS QD → "IOPS CPU_US_PER_REQUEST"
run_fio() {
  local uri="$1" rw="$2" bs="$3" qd="$4" t json
  t="$(mktemp)"; json="$(mktemp)"
  /usr/bin/time -o "$t" -f '%U %S' fio --name=nbd --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" \
    --iodepth="$qd" --size="$size" --time_based --runtime="$secs" --output-format=json >"$json" 2>/dev/null
  read -r u sy <"$t"
  python3 - "$json" "$u" "$sy" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]   # libnbd prints a line before the JSON
ios = j["read"]["total_ios"] + j["write"]["total_ios"]
iops = j["read"]["iops"] + j["write"]["iops"]
print("%.0f %.1f" % (iops, (float(sys.argv[2]) + float(sys.argv[3])) * 1e6 / max(ios, 1)))
EOF
  rm -f "$t" "$json"
}

# name | qd | bench args | fio rw | fio bs | count
rows=(
  "4 KiB random read, QD1|1|-d 1 -s 4k -S $stride|randread|4k|$count1"
  "4 KiB random read, QD16|16|-d 16 -s 4k -S $stride|randread|4k|$count16"
  "4 KiB random write, QD1|1|-d 1 -s 4k -S $stride -w|randwrite|4k|$count1"
  "4 KiB random write, QD16|16|-d 16 -s 4k -S $stride -w|randwrite|4k|$count16"
  "1 MiB sequential read, QD1|1|-d 1 -s 1M|read|1M|$countm"
  "1 MiB sequential write, QD1|1|-d 1 -s 1M -w|write|1M|$countm"
  "4 KiB write, QD2, flush after every 2 (barrier)|2|-d 2 -s 4k -S $stride -w --flush-interval=2|-|-|$((count1 / 3))"
)

figure() {  # figure IOPS BS → "12 345 IOPS" or "456 MB/s"
  if [ "$2" = "1M" ]; then python3 -c "print('%.0f MB/s' % ($1 * 1.048576))"; else echo "$1 IOPS"; fi
}
stall() {   # stall IOPS QD → " STALL" when the mean time per request is ≥ 30 ms
  python3 -c "print(' STALL' if $2 >= 2 and $1 > 0 and $2 / $1 >= 0.030 else '')"
}

echo "# ioemu vs QEMU's NBD client vs libnbd — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)"
echo
echo "Server: \`qemu-nbd -f raw -t -e 16\` $(qemu-nbd --version | head -1 | awk '{print $2}') on a $size image; clients:"
echo "\`ioemu-img bench\` (ioemu), \`qemu-img bench -t writeback\` (QEMU $(qemu-img --version | head -1 | awk '{print $3}')),"
echo "fio $(fio --version) \`--ioengine=nbd\` (libnbd, ${secs} s per point). CPU = client user+sys µs per request."
echo "Median of $repeat alternating runs per client.${before:+ Before: $BASELINE.}"
echo
if [ -n "$before" ]; then
  echo "| transport | workload | ioemu | CPU µs | before | CPU µs | QEMU | CPU µs | fio/libnbd | CPU µs | ioemu/QEMU | before/QEMU | ioemu/fio | load |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
else
  echo "| transport | workload | ioemu | CPU µs | QEMU | CPU µs | fio/libnbd | CPU µs | ioemu/QEMU | ioemu/fio | load |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
fi
for transport in $transports; do
  if [ "$transport" = unix ]; then
    sock="$work/nbd-bench.sock"; rm -f "$sock"
    qemu-nbd -f raw -t -e 16 -x disk0 -k "$sock" "$img" & server_pid=$!
    uri="nbd+unix:///disk0?socket=$sock"
  else
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    qemu-nbd -f raw -t -e 16 -x disk0 -b 127.0.0.1 -p "$port" "$img" & server_pid=$!
    uri="nbd://127.0.0.1:$port/disk0"
  fi
  for _ in $(seq 1 100); do qemu-img info "$uri" >/dev/null 2>&1 && break; sleep 0.1; done
  for row in "${rows[@]}"; do
    IFS='|' read -r name qd args rw bs count <<<"$row"
    [[ "$name" =~ $only ]] || continue
    if [ "$transport" = tcp ] && [ "$qd" -ge 2 ]; then
      count=$((count / 10))   # QEMU's client stalls 40 ms per burst here (§3.4): keep its runs bounded
    fi
    o=(); q=(); f=(); b=()
    for ((i = 0; i < repeat; i++)); do
      # shellcheck disable=SC2086
      if ((i % 2 == 0)); then
        o+=("$(run_bench "$ours" "$uri" "$count" $args)")
        [ -z "$before" ] || b+=("$(run_bench "$before" "$uri" "$count" $args)")
        q+=("$(run_bench qemu-img "$uri" "$count" $args)")
        [ "$rw" = - ] || f+=("$(run_fio "$uri" "$rw" "$bs" "$qd")")
      else
        [ "$rw" = - ] || f+=("$(run_fio "$uri" "$rw" "$bs" "$qd")")
        q+=("$(run_bench qemu-img "$uri" "$count" $args)")
        [ -z "$before" ] || b+=("$(run_bench "$before" "$uri" "$count" $args)")
        o+=("$(run_bench "$ours" "$uri" "$count" $args)")
      fi
    done
    oi=$(printf '%s\n' "${o[@]}" | cut -d' ' -f1 | median); oc=$(printf '%s\n' "${o[@]}" | cut -d' ' -f2 | median)
    qi=$(printf '%s\n' "${q[@]}" | cut -d' ' -f1 | median); qc=$(printf '%s\n' "${q[@]}" | cut -d' ' -f2 | median)
    if [ "$rw" = - ]; then
      fcol="— | —"; fratio="—"
    else
      fi_=$(printf '%s\n' "${f[@]}" | cut -d' ' -f1 | median); fc=$(printf '%s\n' "${f[@]}" | cut -d' ' -f2 | median)
      fcol="$(figure "$fi_" "$bs")$(stall "$fi_" "$qd") | $fc"
      fratio=$(python3 -c "print('%.2f' % ($oi / $fi_))")
    fi
    if [ -n "$before" ]; then
      bi=$(printf '%s\n' "${b[@]}" | cut -d' ' -f1 | median); bc=$(printf '%s\n' "${b[@]}" | cut -d' ' -f2 | median)
      printf '| %s | %s | %s%s | %s | %s%s | %s | %s%s | %s | %s | %s | %s | %s | %s |\n' "$transport" "$name" \
        "$(figure "$oi" "$bs")" "$(stall "$oi" "$qd")" "$oc" "$(figure "$bi" "$bs")" "$(stall "$bi" "$qd")" "$bc" \
        "$(figure "$qi" "$bs")" "$(stall "$qi" "$qd")" "$qc" "$fcol" "$(python3 -c "print('%.2f' % ($oi / $qi))")" \
        "$(python3 -c "print('%.2f' % ($bi / $qi))")" "$fratio" "$(load)"
      continue
    fi
    printf '| %s | %s | %s%s | %s | %s%s | %s | %s | %s | %s | %s |\n' "$transport" "$name" \
      "$(figure "$oi" "$bs")" "$(stall "$oi" "$qd")" "$oc" "$(figure "$qi" "$bs")" "$(stall "$qi" "$qd")" "$qc" \
      "$fcol" "$(python3 -c "print('%.2f' % ($oi / $qi))")" "$fratio" "$(load)"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
done
