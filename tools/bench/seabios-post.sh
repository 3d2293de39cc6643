#!/usr/bin/env bash
# Debian's SeaBIOS as -bios: POST-to-boot time on ioemu's software CPU against
# qemu-system-x86_64 -accel tcg in the same run (issue 10; goal: ioemu <= 0.5 s).
#
#   tools/bench/seabios-post.sh [RUNS]          (default 10)
#
# Both boot the same 1 MiB disk whose boot sector exits at once through isa-debug-exit, with the
# same command line (-m 128, -nodefaults, SeaBIOS's log on a debugcon at 0x402 read through
# stdio). Two figures per run: "POST" from SeaBIOS's first log byte (its banner, the first thing
# after the reset vector) to the process exit at the boot sector, so process and JVM start-up are
# left out; "process" from spawn to exit; "cpu" the process's user+sys time (all its threads:
# for ioemu the JIT compilers too), which a loaded host inflates far less than wall time. The two
# engines alternate (back-to-back pairs, so load changes hit both); one unmeasured warm-up run of
# each goes first. Prints each run, the medians, the ratios ioemu/QEMU and the load average.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-10}"
bios=/usr/share/seabios/bios-256k.bin
command -v python3 >/dev/null || { echo "seabios-post: python3 is needed to time the runs" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "seabios-post: qemu-system-x86_64 not installed" >&2; exit 1; }
[ -e "$bios" ] || { echo "seabios-post: $bios missing (Debian package seabios)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
truncate -s 1M "$work/exit.img"
# xor al,al; out 0xf4,al; hlt, and the boot signature
printf '\x30\xc0\xe6\xf4\xf4' | dd of="$work/exit.img" conv=notrunc status=none
printf '\x55\xaa' | dd of="$work/exit.img" bs=1 seek=510 conv=notrunc status=none
exec python3 - "$root/emulator/bin/ioemu" "$work/exit.img" "$bios" "$runs" <<'PY'
import os, resource, statistics, subprocess, sys, time
ioemu, disk, bios, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
common = ["-nodefaults", "-display", "none", "-m", "128", "-no-reboot", "-bios", bios,
          "-drive", "file=%s,if=ide,format=raw" % disk,
          "-chardev", "stdio,id=seabios", "-device", "isa-debugcon,iobase=0x402,chardev=seabios",
          "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
cmds = {"ioemu": [ioemu, "-machine", "pc", "-accel", "soft"] + common,
        "qemu": ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg"] + common}

def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def boot(name):
    cpu0 = children_cpu()
    t0 = time.monotonic()
    p = subprocess.Popen(cmds[name], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.read(1)
    t_first = time.monotonic()
    log = first + p.stdout.read()
    status = p.wait(timeout=120)
    t_end = time.monotonic()
    if status != 1 or b"Booting from Hard Disk" not in log:
        sys.exit("seabios-post: %s exited %d without booting; stderr: %s; log tail: %r"
                 % (name, status, p.stderr.read().decode(errors="replace"), log[-300:]))
    return t_end - t_first, t_end - t0, children_cpu() - cpu0

for name in ("ioemu", "qemu"):
    boot(name)        # warm-up (ioemu's first start after a build also makes its CDS archive)
print("load average at the start: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
post = {"ioemu": [], "qemu": []}
proc = {"ioemu": [], "qemu": []}
cpu = {"ioemu": [], "qemu": []}
for i in range(runs):
    for name in ("ioemu", "qemu"):
        a, b, c = boot(name)
        post[name].append(a)
        proc[name].append(b)
        cpu[name].append(c)
    print("run %2d: POST ioemu %.3f s  qemu %.3f s   process ioemu %.3f s  qemu %.3f s   cpu ioemu %.3f s  qemu %.3f s"
          % (i + 1, post["ioemu"][-1], post["qemu"][-1], proc["ioemu"][-1], proc["qemu"][-1],
             cpu["ioemu"][-1], cpu["qemu"][-1]))
med = {k: statistics.median(v) for k, v in post.items()}
medp = {k: statistics.median(v) for k, v in proc.items()}
print("median POST (first SeaBIOS log byte -> boot sector): ioemu %.3f s (min %.3f), qemu %.3f s (min %.3f)"
      % (med["ioemu"], min(post["ioemu"]), med["qemu"], min(post["qemu"])))
print("median process (spawn -> exit): ioemu %.3f s, qemu %.3f s" % (medp["ioemu"], medp["qemu"]))
medc = {k: statistics.median(v) for k, v in cpu.items()}
print("median process cpu (user+sys, whole process): ioemu %.3f s, qemu %.3f s" % (medc["ioemu"], medc["qemu"]))
print("ratio ioemu/qemu: POST %.1f, process %.1f, cpu %.1f"
      % (med["ioemu"] / med["qemu"], medp["ioemu"] / medp["qemu"], medc["ioemu"] / medc["qemu"]))
print("goal: ioemu POST <= 0.5 s: %s" % ("met" if med["ioemu"] <= 0.5 else "not met"))
print("load average at the end: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
PY
