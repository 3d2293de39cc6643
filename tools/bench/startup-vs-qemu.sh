#!/usr/bin/env bash
# First-reply latency of `ioemu -qtest stdio` against QEMU 7.2 in the same run: spawn the
# emulator, send one qtest line at once, time until its reply arrives; then SIGTERM. Runs the two
# alternately (back-to-back pairs, so load changes hit both), prints each run, the medians and
# the ratio ioemu/QEMU. Each run also reports the CPU time the process used from start to exit
# (user + system, all threads): on a loaded host it varies far less than the elapsed time.
#
#   tools/bench/startup-vs-qemu.sh [RUNS]          (default 20)
#
# QEMU runs as the differential suite runs it (-accel tcg -S: Debian's build has no qtest
# accelerator); ioemu with -accel qtest as libqtest starts it. Both get the same machine and a
# 64 MiB raw disk. The first ioemu run after a build also creates the class-data sharing archive;
# one unmeasured warm-up run of each goes first.
#
# Then the fixed cost of a software-CPU boot (issue 10): a boot sector whose first instruction
# ends the VM through isa-debug-exit (mov al,0; out 0xf4,al), booted RUNS times alternately by
# `ioemu -accel soft` (HLE BIOS) and `qemu-system-x86_64 -accel tcg` (SeaBIOS): wall time from
# spawn to exit and CPU time, i.e. what a VM costs before its guest's first instruction.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-20}"
command -v python3 >/dev/null || { echo "startup-vs-qemu: python3 is needed to time the runs" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "startup-vs-qemu: qemu-system-x86_64 not installed" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
truncate -s 64M "$work/disk.img"
exec python3 - "$root/emulator/bin/ioemu" "$work/disk.img" "$runs" "$work/exit.img" <<'PY'
import os, resource, signal, statistics, subprocess, sys, time
ioemu, disk, runs, exit_disk = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
common = ["-machine", "pc", "-nodefaults", "-display", "none", "-qtest", "stdio",
          "-drive", "file=%s,if=ide,format=raw,cache=writeback" % disk]
cmds = {"ioemu": [ioemu] + common + ["-accel", "qtest"],
        "qemu": ["qemu-system-x86_64"] + common + ["-accel", "tcg", "-S"]}

def cpu_of_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def first_reply(cmd):
    c0 = cpu_of_children()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdin.write(b"outb 0x80 0\n")
    p.stdin.flush()
    line = p.stdout.readline()
    t = time.monotonic() - t0
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    if not line.startswith(b"OK"):
        sys.exit("startup-vs-qemu: %s answered %r" % (cmd[0], line))
    return t, cpu_of_children() - c0

for name in ("ioemu", "qemu"):
    first_reply(cmds[name])       # warm-up (builds the CDS archive on ioemu's first start)
print("load average at the start: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
times = {"ioemu": [], "qemu": []}
cpu = {"ioemu": [], "qemu": []}
for i in range(runs):
    for name in ("ioemu", "qemu"):
        t, c = first_reply(cmds[name])
        times[name].append(t)
        cpu[name].append(c)
    print("run %2d: ioemu %.3f s (cpu %.3f s)  qemu %.3f s (cpu %.3f s)"
          % (i + 1, times["ioemu"][-1], cpu["ioemu"][-1], times["qemu"][-1], cpu["qemu"][-1]))
mi, mq = statistics.median(times["ioemu"]), statistics.median(times["qemu"])
print("median first reply: ioemu %.3f s (min %.3f, max %.3f), qemu %.3f s (min %.3f, max %.3f)"
      % (mi, min(times["ioemu"]), max(times["ioemu"]), mq, min(times["qemu"]), max(times["qemu"])))
print("ratio ioemu/qemu: %.1f" % (mi / mq))
ci, cq = statistics.median(cpu["ioemu"]), statistics.median(cpu["qemu"])
print("median cpu time per run (start to exit): ioemu %.3f s, qemu %.3f s, ratio %.1f" % (ci, cq, ci / cq))

# The software CPU's fixed cost: a boot sector that exits at its first instruction.
with open(exit_disk, "wb") as f:
    sector = bytearray(512)
    sector[0:5] = bytes([0xB0, 0x00, 0xE6, 0xF4, 0xF4])   # mov al, 0; out 0xf4, al; hlt
    sector[510:512] = b"\x55\xaa"
    f.write(sector)
    f.truncate(1 << 20)
boot_common = ["-machine", "pc", "-nodefaults", "-display", "none", "-no-reboot",
               "-drive", "file=%s,if=ide,format=raw" % exit_disk,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
boots = {"ioemu": [ioemu, "-accel", "soft"] + boot_common,
         "qemu": ["qemu-system-x86_64", "-accel", "tcg"] + boot_common}

def exit_boot(cmd):
    c0 = cpu_of_children()
    t0 = time.monotonic()
    status = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    if status != 1:
        sys.exit("startup-vs-qemu: %s exited %d (expected: isa-debug-exit status 1)" % (cmd[0], status))
    return time.monotonic() - t0, cpu_of_children() - c0

for name in ("ioemu", "qemu"):
    exit_boot(boots[name])        # warm-up
print("software-CPU boot that exits at its first instruction (ioemu -accel soft vs qemu -accel tcg + SeaBIOS):")
btimes = {"ioemu": [], "qemu": []}
bcpu = {"ioemu": [], "qemu": []}
for i in range(runs):
    for name in ("ioemu", "qemu"):
        t, c = exit_boot(boots[name])
        btimes[name].append(t)
        bcpu[name].append(c)
mi, mq = statistics.median(btimes["ioemu"]), statistics.median(btimes["qemu"])
ci, cq = statistics.median(bcpu["ioemu"]), statistics.median(bcpu["qemu"])
print("median spawn to exit: ioemu %.3f s (min %.3f), qemu %.3f s (min %.3f), ratio %.1f"
      % (mi, min(btimes["ioemu"]), mq, min(btimes["qemu"]), mi / mq))
print("median cpu time per boot: ioemu %.3f s, qemu %.3f s, ratio %.1f" % (ci, cq, ci / cq))
print("load average at the end: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
PY
