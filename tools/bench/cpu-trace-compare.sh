#!/usr/bin/env bash
# cpu-trace-compare.sh: ioemu's software CPU against QEMU 7.2 TCG on the GRUB workload (issue 10's
# cross-check; shared/spec/cpu.md §1-§2). Both run with -singlestep -d ITEMS,nochain
# -dfilter GUEST into pipes that QemuCrossCheck reads side by side (guest = outside the BIOS
# regions, where ioemu's BIOS is HLE traps and SeaBIOS runs code):
#   trace  the first N guest instructions after 0000:7C00 (default 1,000,000): CS:EIP, in_asm,
#          general registers, EFLAGS and selectors, re-synchronised after int/in/rdtsc/cpuid;
#          prints the first divergence with the instructions before it
#   count  guest instructions from 0000:7C00 to the grub.cfg marker's exit, ioemu / QEMU
# A benchmark-style check, not a test (tests/.../QemuCrossCheckTest runs a short version in CI).
# Usage: tools/bench/cpu-trace-compare.sh [N] [trace|count|all]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
n="${1:-1000000}"
what="${2:-all}"
command -v qemu-system-x86_64 >/dev/null || { echo "skipped: qemu-system-x86_64 not installed (tests/setup.sh installs it)"; exit 0; }
mvn -B -q -o -DskipTests package -pl emulator,tests -am >/dev/null 2>&1 || mvn -B -q -DskipTests package -pl emulator,tests -am
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
bash tests/guest/build-workloads.sh "$work" >/dev/null
echo "cpu-trace-compare: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(qemu-system-x86_64 --version | head -1)"
if [ "$what" = all ] || [ "$what" = trace ]; then
  java -cp tests/target/test-classes dev.ioemu.tests.guest.QemuCrossCheck trace "$work/grub-marker.img" "$root/emulator/bin/ioemu" "$n"
fi
if [ "$what" = all ] || [ "$what" = count ]; then
  java -cp tests/target/test-classes dev.ioemu.tests.guest.QemuCrossCheck count "$work/grub-marker.img" "$root/emulator/bin/ioemu"
fi
