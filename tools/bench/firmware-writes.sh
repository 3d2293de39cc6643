#!/usr/bin/env bash
# The cost of safe firmware writes (issue 11): boots that write through INT 13h, timed on ioemu's
# software CPU with -drive firmware-writes=sync against firmware-writes=cache (QEMU + SeaBIOS's
# behaviour) in every cache mode, QEMU 7.2 + SeaBIOS alongside as the peer. Two workloads:
#   bulk      tests/guest/handover-bulk.asm: 1 MiB in sixteen 64 KiB INT 13h AH=43h calls
#   save_env  GRUB 2 running save_env into /boot/grub/grubenv (grub-saveenv.img from
#             tests/guest/build-workloads.sh): the few sectors a real boot writes
#
#   tools/bench/firmware-writes.sh [RUNS]          (default 3 runs per cell)
#
# Each run boots a fresh copy of the image (synced first, so a flush pays only for the guest's
# writes) until the guest ends the VM through isa-debug-exit. Runs alternate cache/sync so load
# changes hit both. Printed per workload and mode: median wall time with cache and with sync,
# the ratio sync/cache, the extra wall ms per boot, and the extra ms measured inside ioemu: what
# the firmware's flushes added to the INT 13h calls, from each write's completion to its flush's
# on the drive's I/O thread (the int13_sync events' lat_ns, summed per boot) — the wall
# difference is noise-bound on a loaded machine, the traced figure is not.
# Images live in a temporary directory on $TMPDIR's file system (default /tmp).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-3}"
for tool in python3 nasm qemu-system-x86_64; do
  command -v "$tool" >/dev/null || { echo "firmware-writes: $tool not installed (tests/setup.sh installs it)" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
nasm -f bin -o "$work/bulk.bin" "$root/tests/guest/handover-bulk.asm"
truncate -s 64M "$work/bulk.img"
dd if="$work/bulk.bin" of="$work/bulk.img" conv=notrunc status=none
bash "$root/tests/guest/build-workloads.sh" "$work/wl" >/dev/null
cp "$work/wl/grub-saveenv.img" "$work/save_env.img"
rm -rf "$work/wl"
echo "firmware-writes: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), images on $(findmnt -n -o FSTYPE -T "$work")," \
  "$runs runs per cell, $(qemu-system-x86_64 --version | head -1)"
python3 - "$root/emulator/bin/ioemu" "$work" "$runs" <<'PY'
import os, re, shutil, statistics, subprocess, sys, time
ioemu, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
modes = ["writeback", "writethrough", "none", "directsync", "unsafe", "fadvise"]
workloads = ["bulk", "save_env"]
SYNC_LAT = re.compile(r"int13_sync .* synced 1 ret 0 lat_ns (\d+)")

def boot(workload, mode, engine):
    """One boot of a fresh copy; returns (wall seconds, ms spent in firmware flushes)."""
    img = os.path.join(work, "run.img")
    shutil.copyfile(os.path.join(work, workload + ".img"), img)
    fd = os.open(img, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    trace = os.path.join(work, "trace.log")
    if os.path.exists(trace):
        os.remove(trace)
    common = ["-machine", "pc", "-nodefaults", "-display", "none", "-serial", "null",
              "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if engine == "qemu":
        cmd = ["qemu-system-x86_64", "-accel", "tcg"] + common + [
            "-drive", "file=%s,if=ide,format=raw,cache=%s" % (img, mode)]
    else:
        cmd = [ioemu, "-accel", "soft"] + common + [
            "-drive", "file=%s,if=ide,format=raw,cache=%s,firmware-writes=%s" % (img, mode, engine),
            "-trace", "int13_sync", "-D", trace]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    wall = time.monotonic() - t0
    if r.returncode != 1:
        sys.exit("firmware-writes: %s %s %s: exit %d (expected 1, the guest's success): %s"
                 % (workload, mode, engine, r.returncode, r.stderr.decode(errors="replace").strip()))
    flush_ms = 0.0
    if os.path.exists(trace):
        with open(trace) as f:
            flush_ms = sum(int(m.group(1)) for m in SYNC_LAT.finditer(f.read())) / 1e6
    return wall, flush_ms

boot("bulk", "writeback", "cache")     # warm-up: class-data sharing archive, page cache of the jars
print("%-9s %-12s %9s %9s %7s %10s %12s %9s" % ("workload", "cache mode", "cache s", "sync s", "ratio",
                                                 "+wall ms", "+flush ms", "QEMU s"))
for workload in workloads:
    for mode in modes:
        t = {"cache": [], "sync": [], "qemu": []}
        flush = []
        for i in range(runs):
            t["cache"].append(boot(workload, mode, "cache")[0])
            wall, ms = boot(workload, mode, "sync")
            t["sync"].append(wall)
            flush.append(ms)
            if mode != "fadvise":
                t["qemu"].append(boot(workload, mode, "qemu")[0])
        c, s = statistics.median(t["cache"]), statistics.median(t["sync"])
        q = "%9.2f" % statistics.median(t["qemu"]) if t["qemu"] else "%9s" % "n/a"
        print("%-9s %-12s %9.2f %9.2f %7.3f %10.0f %12.1f %s" % (workload, mode, c, s, s / c, (s - c) * 1000,
                                                                  statistics.median(flush), q), flush=True)
print("ratio = median sync / median cache wall time; +wall ms = their difference; +flush ms = median per boot of "
      "the time INT 13h writes waited for their flush (int13_sync lat_ns); QEMU s = QEMU 7.2 + SeaBIOS, same image")
PY
