#!/usr/bin/env bash
# boot-vs-qemu.sh: ioemu's software CPU against QEMU in one run (issue 10 "Benchmark"; not a test).
#
#   tools/bench/boot-vs-qemu.sh [--runs N] [--kvm] [--workloads DIR] [--baseline TREE]
#
# 1. The CPU-bound boot-sector loop of shared/spec/cpu.md §1 (390 M instructions): the software
#    CPU alone, in process (instructions per second; gate 50 M, target >= 100 M), then the same
#    sector booted as a disk by `ioemu -accel soft` and by `qemu-system-x86_64 -accel tcg` (with
#    SeaBIOS), whole process timed.
# 2. GRUB 2 to its grub.cfg marker (grub-marker.img) and GRUB loading Debian's kernel and a 4 MiB
#    initrd to "initrd loaded" (grub-linux.img), both built by tests/guest/build-*-workload.sh,
#    under ioemu (HLE BIOS, INT 13h) and QEMU TCG + SeaBIOS. Goal: ioemu >= 1.5x faster than
#    QEMU TCG to "initrd loaded".
# 3. With --kvm, the same two GRUB workloads under `qemu-system-x86_64 -enable-kvm` once each
#    (on a kvm_pvm host this takes minutes).
#
# Every run is a whole process from exec to exit (isa-debug-exit), so JVM start, class loading
# and JIT warm-up count for ioemu as QEMU's start counts for QEMU. Each row gives min and median
# wall time of N runs (the engines alternate, so load changes hit both) and the CPU seconds the
# process used (user+sys, median), then the ratio of medians: QEMU / ioemu, so > 1 means ioemu is
# faster. On a shared machine wall time includes waiting for a core; CPU time does not.
# --baseline TREE adds a fourth engine, "ioemu-base": TREE/emulator/bin/ioemu of another checkout
# (say, the commit before a change, from `git archive`), built first, run alternately with the
# others, so a change's before and after come from the same run under the same load.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=5
kvm=no
workloads=""
baseline=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --kvm) kvm=yes; shift ;;
    --workloads) workloads="$2"; shift 2 ;;
    --baseline) baseline="$(cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "boot-vs-qemu: unknown argument: $1 (expected: --runs N, --kvm, --workloads DIR, --baseline TREE)" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "boot-vs-qemu: --runs: $runs (expected: a positive number)" >&2; exit 2 ;; esac
command -v python3 >/dev/null || { echo "boot-vs-qemu: python3 is needed to time the runs" >&2; exit 1; }
have_qemu=yes
command -v qemu-system-x86_64 >/dev/null || have_qemu=no

cd "$root"
# Build once up front (the launcher would otherwise build inside the first timed run), and let
# the launcher make its class-data sharing archive in an unmeasured start.
mvn -B -q -o -DskipTests package -pl emulator -am >/dev/null 2>&1 || mvn -B -q -DskipTests package -pl emulator -am >/dev/null
if [ -n "$baseline" ]; then
  [ -x "$baseline/emulator/bin/ioemu" ] || { echo "boot-vs-qemu: --baseline $baseline: no emulator/bin/ioemu there (expected: an ioemu checkout)" >&2; exit 2; }
  (cd "$baseline" && { mvn -B -q -o -DskipTests package -pl emulator -am >/dev/null 2>&1 || mvn -B -q -DskipTests package -pl emulator -am >/dev/null; })
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "$workloads" ]; then
  workloads="$work/workloads"
  export IOEMU_DEB_CACHE="${IOEMU_DEB_CACHE:-$root/tests/target/guest/deb-cache}"
  if ! bash tests/guest/build-linux-workload.sh "$workloads" >/dev/null; then
    echo "boot-vs-qemu: grub-linux.img could not be built (no kernel package?); GRUB to the marker only" >&2
    [ -f "$workloads/grub-marker.img" ] || bash tests/guest/build-workloads.sh "$workloads" >/dev/null
  fi
fi
cp_cpu="cpu/target/ioemu-cpu-0.1.0-SNAPSHOT.jar:devices/target/ioemu-devices-0.1.0-SNAPSHOT.jar"
java -cp "$cp_cpu" dev.ioemu.cpu.bench.CpuLoopBenchmark --boot-sector "$work/mbr.bin"
truncate -s 1M "$work/loop.img"
dd if="$work/mbr.bin" of="$work/loop.img" conv=notrunc status=none

echo "boot-vs-qemu: $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $(java -version 2>&1 | head -1); $( [ $have_qemu = yes ] && qemu-system-x86_64 --version | head -1 || echo 'QEMU not installed')"
echo "  $runs runs per row; times are whole processes (start to isa-debug-exit)"
echo
echo "== CPU-bound boot-sector loop, software CPU in process (390 M instructions)"
java ${IOEMU_JAVA_OPTS:-} -cp "$cp_cpu" dev.ioemu.cpu.bench.CpuLoopBenchmark 1 | sed 's/^/  /'
if [ -n "$baseline" ]; then
  (cd "$baseline" && java ${IOEMU_JAVA_OPTS:-} -cp "$cp_cpu" dev.ioemu.cpu.bench.CpuLoopBenchmark 1) | sed 's/^/  baseline: /'
fi

exec python3 - "$root/emulator/bin/ioemu" "$work" "$workloads" "$runs" "$kvm" "$have_qemu" "$baseline" <<'PY'
import os, resource, statistics, subprocess, sys, time

ioemu, work, workloads, runs, kvm, have_qemu = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "yes", sys.argv[6] == "yes"
baseline = sys.argv[7]
EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]

def command(engine, disk, serial):
    common = ["-machine", "pc", "-nodefaults", "-display", "none", "-no-reboot",
              "-drive", "file=%s,if=ide,format=raw" % disk, "-serial", "file:" + serial] + EXIT
    if engine == "ioemu":
        return [ioemu, "-accel", "soft"] + common
    if engine == "ioemu-base":
        return [os.path.join(baseline, "emulator", "bin", "ioemu"), "-accel", "soft"] + common
    if engine == "qemu-tcg":
        return ["qemu-system-x86_64", "-accel", "tcg"] + common
    return ["qemu-system-x86_64", "-enable-kvm"] + common

def run(engine, disk, marker, copy):
    """One whole run; returns (wall s, cpu s). The disk is a fresh copy (GRUB may write)."""
    image = os.path.join(work, "run.img")
    if copy:
        subprocess.run(["cp", "--sparse=always", disk, image], check=True)
    else:
        image = disk
    serial = os.path.join(work, "serial.txt")
    if os.path.exists(serial):
        os.remove(serial)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(command(engine, image, serial), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = open(serial, "rb").read() if os.path.exists(serial) else b""
    # isa-debug-exit: OUT 0xF4 with 0 exits with (0 << 1) | 1.
    if p.returncode != 1 or (marker and marker.encode() not in out):
        sys.exit("boot-vs-qemu: %s on %s: exit status %d, marker %r %s\n%s" % (
            engine, os.path.basename(disk), p.returncode, marker,
            "missing" if marker and marker.encode() not in out else "seen", p.stderr.decode(errors="replace")[-2000:]))
    return wall, cpu

rows = []
def measure(title, disk, marker, engines, n, copy=True, instructions=None):
    if not os.path.exists(disk):
        print("%-34s skipped: %s not built" % (title, os.path.basename(disk)))
        return
    for e in engines:
        run(e, disk, marker, copy)          # unmeasured warm-up: page cache, CDS archive
    times = {e: [] for e in engines}
    for _ in range(n):
        for e in engines:
            times[e].append(run(e, disk, marker, copy))
    med = {}
    for e in engines:
        walls = [w for w, _ in times[e]]
        cpus = [c for _, c in times[e]]
        med[e] = statistics.median(walls)
        rate = "" if instructions is None else ", %.0f M instructions/s (median)" % (instructions / med[e] / 1e6)
        print("  %-9s wall min %6.2f s  median %6.2f s   CPU median %6.2f s%s" % (
            e, min(walls), med[e], statistics.median(cpus), rate))
    for e in engines[1:]:
        r = med[e] / med["ioemu"]
        rc = statistics.median(c for _, c in times[e]) / statistics.median(c for _, c in times["ioemu"])
        print("  ratio %s / ioemu: wall %.2f (ioemu %.2fx %s), CPU %.2f (ioemu %.2fx %s)" % (
            e, r, r if r >= 1 else 1 / r, "faster" if r >= 1 else "slower",
            rc, rc if rc >= 1 else 1 / rc, "faster" if rc >= 1 else "slower"))
    rows.append((title, med))

peers = ["ioemu"] + (["ioemu-base"] if baseline else []) + (["qemu-tcg"] if have_qemu else [])
if not have_qemu:
    print("  (QEMU rows skipped: qemu-system-x86_64 not installed)")
print()
print("== the same loop booted as a disk (390 M instructions + firmware)")
measure("boot-sector loop", os.path.join(work, "loop.img"), None, peers, runs, copy=False, instructions=390e6)
print()
print("== GRUB 2 to its grub.cfg marker (grub-marker.img)")
measure("GRUB to marker", os.path.join(workloads, "grub-marker.img"), "IOEMU-GRUB-MARKER", peers, runs)
print()
print("== GRUB 2 loading kernel + initrd to \"initrd loaded\" (grub-linux.img)")
measure("GRUB to initrd loaded", os.path.join(workloads, "grub-linux.img"), "IOEMU-GRUB-INITRD-LOADED", peers, runs)
if kvm:
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("\n== KVM: skipped: /dev/kvm not usable")
    else:
        for title, img, marker in (("GRUB to marker", "grub-marker.img", "IOEMU-GRUB-MARKER"),
                                   ("GRUB to initrd loaded", "grub-linux.img", "IOEMU-GRUB-INITRD-LOADED")):
            disk = os.path.join(workloads, img)
            if not os.path.exists(disk):
                continue
            wall, cpu = run("qemu-kvm", disk, marker, True)
            base = dict(rows).get(title, {}).get("ioemu")
            ratio = " -> ioemu is %.1fx faster" % (wall / base) if base else ""
            print("\n== %s under qemu-system-x86_64 -enable-kvm (1 run): wall %.2f s, CPU %.2f s%s" % (title, wall, cpu, ratio))
print()
print("load average at the end: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
PY
