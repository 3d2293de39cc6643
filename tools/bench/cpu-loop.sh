#!/usr/bin/env bash
# cpu-loop.sh: instructions per second of the software CPU on a fixed boot-sector loop
# (shared/spec/cpu.md "bench.img": 10 M x 7 real-mode + 40 M x 8 flat 32-bit instructions).
# A benchmark, not a test: gate 50 M instructions/s, target >= 100 M. Usage: cpu-loop.sh [ROUNDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mvn -B -q -o -DskipTests package -pl cpu -am >/dev/null 2>&1 || mvn -B -q -DskipTests package -pl cpu -am
echo "cpu-loop: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(java -version 2>&1 | head -1)"
exec java ${IOEMU_JAVA_OPTS:-} -cp "cpu/target/ioemu-cpu-0.1.0-SNAPSHOT.jar:devices/target/ioemu-devices-0.1.0-SNAPSHOT.jar" \
  dev.ioemu.cpu.bench.CpuLoopBenchmark "${1:-3}"
