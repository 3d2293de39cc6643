#!/usr/bin/env bash
# QEMU's own IDE test suite (tests/qtest/ide-test.c of QEMU 7.2, unmodified) against ioemu.
#
#   tests/ide-test/run.sh [--peer qemu] [-- GTEST-ARGS...]
#
# Gets Debian's qemu 7.2 source package (apt-get source; a deb-src entry for the configured
# Debian mirror is added if missing), configures it for x86_64 and compiles only the objects
# ide-test links (ide-test.c, libqtest, libqos's PC parts, the utility code they call), then runs it with
# QTEST_QEMU_BINARY pointing at emulator/bin/ioemu. The build is kept in $IOEMU_IDE_TEST_CACHE
# (default ~/.cache/ioemu/qemu-ide-test) and reused.
#
# Output ends with one summary line: "ide-test: P/T passed (TARGET)".
# Exit status: 0 all passed, 1 a test failed, 77 skipped (the line "skipped: REASON" says why).
#
# --peer qemu runs the same binary against the installed qemu-system-x86_64 as a sanity check.
# Debian's build has no qtest accelerator, so it runs with -accel tcg -S instead; the tests that
# need the qtest accelerator (clock_set: cdrom/*) or a running VM (flush/retry_pci waits for the
# STOP of a werror=stop, which a paused VM does not send) are skipped there and counted apart.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${IOEMU_IDE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioemu/qemu-ide-test}"
peer=ioemu
if [ "${1:-}" = "--peer" ]; then peer="${2:-}"; shift 2; fi
[ "${1:-}" = "--" ] && shift
case "$peer" in ioemu|qemu) ;; *) echo "run.sh: --peer $peer (expected: qemu)" >&2; exit 2 ;; esac

skip() { echo "skipped: $*"; exit 77; }
log="$cache/build.log"
binary="$cache/build/tests/qtest/ide-test"

need_packages() {
  local missing=() p
  for p in dpkg-dev meson ninja-build pkg-config gcc python3 flex bison libglib2.0-dev libpixman-1-dev \
           zlib1g-dev libfdt-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || skip "packages missing (${missing[*]}) and not root to install them"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 \
    || skip "apt-get install ${missing[*]} failed (see $log)"
}

# A deb-src entry for every deb entry of the configured Debian mirror (deb822 or one-line style).
enable_deb_src() {
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || skip "no deb-src entry in the apt sources and not root to add one"
  local src=/etc/apt/sources.list.d/ioemu-deb-src.sources
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    awk 'BEGIN{RS=""; ORS="\n\n"} /Types:[ \t]*deb/ && /deb\.debian\.org\/debian\n|debian\n/ {
           sub(/Types:[ \t]*deb/, "Types: deb-src"); print }' /etc/apt/sources.list.d/*.sources > "$src"
  fi
  if [ ! -s "$src" ] && [ -f /etc/apt/sources.list ]; then
    rm -f "$src"
    sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/ioemu-deb-src.list
  fi
  apt-get update -qq >>"$log" 2>&1 || skip "apt-get update failed after adding deb-src (see $log)"
}

build() {
  mkdir -p "$cache" && : > "$log"
  local t0 t1 t2 t3 t4
  t0=$(date +%s)
  need_packages
  enable_deb_src
  rm -rf "$cache/src" "$cache/build" "$cache"/qemu_*
  (cd "$cache" && apt-get source -qq qemu >>"$log" 2>&1) || skip "apt-get source qemu failed (see $log)"
  local dir
  dir=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'qemu-[0-9]*' | head -1)
  [ -n "$dir" ] || skip "apt-get source qemu left no source tree (see $log)"
  mv "$dir" "$cache/src"
  grep -q '^7\.2' "$cache/src/VERSION" || skip "the source package is QEMU $(cat "$cache/src/VERSION"), not 7.2"
  t1=$(date +%s)
  # Debian's dfsg tarball drops the firmware blobs; meson still lists the EDK2 images as inputs
  # of targets ide-test never builds, so empty stand-ins let configure finish.
  for f in aarch64-code arm-code arm-vars i386-code i386-secure-code i386-vars x86_64-code x86_64-secure-code; do
    [ -e "$cache/src/pc-bios/edk2-$f.fd.bz2" ] || : > "$cache/src/pc-bios/edk2-$f.fd.bz2"
  done
  # A private TMPDIR: meson runs helper scripts from there, and Python would import any stray
  # module another program left in /tmp (a bisect.py there broke configure).
  mkdir -p "$cache/build" "$cache/tmp"
  export TMPDIR="$cache/tmp"
  (cd "$cache/build" && ../src/configure --target-list=x86_64-softmmu --without-default-features \
      --without-default-devices --disable-docs --disable-werror --disable-debug-info --disable-install-blobs) \
      >>"$log" 2>&1 || skip "QEMU's configure failed (see $log)"
  t2=$(date +%s)
  # Only the objects ide-test links: about a third of the ide-test target's ninja steps, which
  # also builds the whole of QEMU's utility, QOM and libqos libraries. Should QEMU's layout
  # differ, the full target.
  local how=objects
  if ! (cd "$cache/build" && ninja -j"$(nproc)" "${ide_test_objects[@]}" \
          && cc -o tests/qtest/ide-test "${ide_test_objects[@]}" $(pkg-config --libs glib-2.0 gthread-2.0) -lm -pthread) \
          >>"$log" 2>&1; then
    how="full target"
    (cd "$cache/build" && ninja -j"$(nproc)" tests/qtest/ide-test) >>"$log" 2>&1 \
      || skip "building ide-test failed (see $log)"
  fi
  t3=$(date +%s)
  echo "ide-test build: source $((t1 - t0)) s, configure $((t2 - t1)) s, ninja ($how) $((t3 - t2)) s" | tee -a "$log"
}

# What QEMU 7.2's link of tests/qtest/ide-test takes from its libraries (the members the linker
# pulls from libqos, libqom and libqemuutil), so that only these are compiled.
ide_test_objects=(
  tests/qtest/ide-test.p/ide-test.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-builtin-types.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-builtin-visit.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-authz.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-block-core.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-common.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-crypto.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-job.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-misc.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-qom.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-types-sockets.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-authz.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-block-core.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-common.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-crypto.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-job.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-misc.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-qom.c.o
  libqemuutil.a.p/meson-generated_.._qapi_qapi-visit-sockets.c.o
  libqemuutil.a.p/meson-generated_.._trace_trace-qapi.c.o
  libqemuutil.a.p/meson-generated_.._trace_trace-qom.c.o
  libqemuutil.a.p/meson-generated_.._trace_trace-root.c.o
  libqemuutil.a.p/meson-generated_.._trace_trace-util.c.o
  libqemuutil.a.p/qapi_qapi-dealloc-visitor.c.o
  libqemuutil.a.p/qapi_qapi-forward-visitor.c.o
  libqemuutil.a.p/qapi_qapi-util.c.o
  libqemuutil.a.p/qapi_qapi-visit-core.c.o
  libqemuutil.a.p/qapi_qobject-input-visitor.c.o
  libqemuutil.a.p/qapi_qobject-output-visitor.c.o
  libqemuutil.a.p/qapi_string-input-visitor.c.o
  libqemuutil.a.p/qapi_string-output-visitor.c.o
  libqemuutil.a.p/qobject_block-qdict.c.o
  libqemuutil.a.p/qobject_json-lexer.c.o
  libqemuutil.a.p/qobject_json-parser.c.o
  libqemuutil.a.p/qobject_json-streamer.c.o
  libqemuutil.a.p/qobject_json-writer.c.o
  libqemuutil.a.p/qobject_qbool.c.o
  libqemuutil.a.p/qobject_qdict.c.o
  libqemuutil.a.p/qobject_qjson.c.o
  libqemuutil.a.p/qobject_qlist.c.o
  libqemuutil.a.p/qobject_qnull.c.o
  libqemuutil.a.p/qobject_qnum.c.o
  libqemuutil.a.p/qobject_qobject.c.o
  libqemuutil.a.p/qobject_qstring.c.o
  libqemuutil.a.p/stubs_error-printf.c.o
  libqemuutil.a.p/stubs_fdset.c.o
  libqemuutil.a.p/stubs_iothread-lock.c.o
  libqemuutil.a.p/stubs_is-daemonized.c.o
  libqemuutil.a.p/stubs_monitor-core.c.o
  libqemuutil.a.p/stubs_trace-control.c.o
  libqemuutil.a.p/trace_control.c.o
  libqemuutil.a.p/util_bitops.c.o
  libqemuutil.a.p/util_cutils.c.o
  libqemuutil.a.p/util_error-report.c.o
  libqemuutil.a.p/util_error.c.o
  libqemuutil.a.p/util_id.c.o
  libqemuutil.a.p/util_keyval.c.o
  libqemuutil.a.p/util_log.c.o
  libqemuutil.a.p/util_memalign.c.o
  libqemuutil.a.p/util_mmap-alloc.c.o
  libqemuutil.a.p/util_module.c.o
  libqemuutil.a.p/util_notify.c.o
  libqemuutil.a.p/util_osdep.c.o
  libqemuutil.a.p/util_oslib-posix.c.o
  libqemuutil.a.p/util_qdist.c.o
  libqemuutil.a.p/util_qemu-config.c.o
  libqemuutil.a.p/util_qemu-option.c.o
  libqemuutil.a.p/util_qemu-print.c.o
  libqemuutil.a.p/util_qemu-thread-posix.c.o
  libqemuutil.a.p/util_qemu-timer-common.c.o
  libqemuutil.a.p/util_qht.c.o
  libqemuutil.a.p/util_qsp.c.o
  libqemuutil.a.p/util_range.c.o
  libqemuutil.a.p/util_rcu.c.o
  libqemuutil.a.p/util_thread-context.c.o
  libqemuutil.a.p/util_unicode.c.o
  libqom.fa.p/qom_container.c.o
  libqom.fa.p/qom_object.c.o
  libqom.fa.p/qom_object_interfaces.c.o
  libqom.fa.p/qom_qom-qobject.c.o
  tests/qtest/libqos/libqos.fa.p/.._libqmp.c.o
  tests/qtest/libqos/libqos.fa.p/.._libqtest.c.o
  tests/qtest/libqos/libqos.fa.p/fw_cfg.c.o
  tests/qtest/libqos/libqos.fa.p/libqos-malloc.c.o
  tests/qtest/libqos/libqos.fa.p/libqos.c.o
  tests/qtest/libqos/libqos.fa.p/malloc-pc.c.o
  tests/qtest/libqos/libqos.fa.p/pci-pc.c.o
  tests/qtest/libqos/libqos.fa.p/pci.c.o
  tests/qtest/libqos/libqos.fa.p/qgraph.c.o
)

if [ ! -x "$binary" ]; then
  build
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
extra=()
if [ "$peer" = ioemu ]; then
  # libqtest wants QTEST_QEMU_BINARY to end in -system-<arch>; the launcher must be exec'ed
  # so that libqtest's SIGTERM reaches the JVM.
  printf '#!/bin/sh\nexec %q "$@"\n' "$root/emulator/bin/ioemu" > "$bin/ioemu-system-x86_64"
  export QTEST_QEMU_BINARY="$bin/ioemu-system-x86_64"
  # Build the emulator once here, not inside the first test's start-up timeout.
  "$root/emulator/bin/ioemu" -version >/dev/null 2>&1 || true
else
  command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 installed"
  real="$(command -v qemu-system-x86_64)"
  cat > "$bin/qemu-system-x86_64" <<WRAP
#!/bin/sh
# libqtest passes -accel qtest; Debian's QEMU has no qtest accelerator.
n=\$#
for a in "\$@"; do
  [ "\$a" = qtest ] && [ "\${prev:-}" = -accel ] && a=tcg
  prev="\$a"
  set -- "\$@" "\$a"
done
shift \$n
exec $real "\$@" -S
WRAP
  export QTEST_QEMU_BINARY="$bin/qemu-system-x86_64"
  extra=(-s /x86_64/ide/flush/retry_pci -s /x86_64/ide/cdrom/pio -s /x86_64/ide/cdrom/pio_large
         -s /x86_64/ide/cdrom/dma)
fi
chmod +x "$bin"/*
chmod 0755 "$bin"
out="$bin/tap.log"
(cd "$bin" && "$binary" --tap "${extra[@]}" "$@" 2>&1) | tee "$out" | grep -E '^(ok|not ok|Bail out|# )' \
  | grep -v '^# starting'
total=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out" | head -1)
passed=$(grep -cE '^ok [0-9]+ ' "$out" | head -1)
skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' "$out" | head -1)
passed=$((passed - skipped))
echo "ide-test: $passed/${total:-?} passed${skipped:+, $skipped skipped} ($peer)"
if [ "${total:-0}" -gt 0 ] && [ "$passed" -eq $((total - skipped)) ] && ! grep -q '^Bail out' "$out"; then
  exit 0
fi
exit 1
