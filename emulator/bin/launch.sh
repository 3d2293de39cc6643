# Sourced by the launchers in emulator/bin and tools/bin: builds the project on first use (or
# when a source file is newer than the jar), then runs MAIN_CLASS from MODULE with its libraries.
# Usage (from a launcher): MODULE=emulator MAIN_CLASS=dev.ioemu.emulator.Main; . launch.sh "$@"
#
# Start-up work that every run would repeat is done once and kept in a per-user cache,
# ${XDG_CACHE_HOME:-~/.cache}/ioemu/jvm/KEY, KEY naming the build (a hash of the classpath's
# jars, paths and contents) and the Java runtime version:
#  - JNA's native stub, which JNA would otherwise unpack into a temporary file on every start,
#    and the library path JNA would otherwise learn by running `ldconfig -p` on every start;
#  - for the emulator, class-data sharing archives (-XX:ArchiveClassesAtExit, on top of the
#    JDK's default archive), one per kind of start: "qtest" (a start with -qtest: the classes
#    a start and its first qtest and QMP commands load) and "vm" (every other start: those and
#    the software CPU's, the HLE BIOS's and a boot's), each made on first use by one training
#    start (StartupTraining KIND), so later starts map them instead of reading and verifying
#    the jars; with each, the JVM options that start proved this JVM accepts (jvm-options-KIND:
#    no perf-data file). A qtest start keeps to the smaller archive: mapping and relocating the
#    larger one cost it 12-18 ms of CPU (BENCHMARKS.md "Start-up").
# Every file there is written aside, checked and renamed, so two concurrent first starts never
# see half a file; when the cache cannot be written or a file there cannot be used (another JDK
# build, changed jars), the JVM starts without it, silently. IOEMU_CDS=off starts without the
# archive.
# Few processes before the JVM: on a loaded host every fork costs more than the work it does.
ioemu_here="${BASH_SOURCE[0]%/*}"
[ "$ioemu_here" = "${BASH_SOURCE[0]}" ] && ioemu_here=.
# The project root, without a subshell where the path is plain ".../emulator/bin".
case "$ioemu_here" in /*) ioemu_root="$ioemu_here" ;; *) ioemu_root="$PWD/$ioemu_here" ;; esac
case "$ioemu_root" in
  */./*|*/../*|*/.|*/..|*//*) ioemu_root="$(cd "$ioemu_here/../.." && pwd)" ;;
  */*/bin) ioemu_root="${ioemu_root%/*/bin}" ;;
  *) ioemu_root="$(cd "$ioemu_here/../.." && pwd)" ;;
esac
ioemu_jar="$ioemu_root/$MODULE/target/ioemu-$MODULE-0.1.0-SNAPSHOT.jar"
case "$MODULE" in            # the module and the ones it depends on
  emulator) ioemu_sources="devices bios cpu emulator" ;;
  *)        ioemu_sources="devices bios cpu emulator $MODULE" ;;
esac
ioemu_stale() {
  local m dirs=()
  for m in $ioemu_sources; do dirs+=("$ioemu_root/$m/src/main"); done
  [ -n "$(find "${dirs[@]}" -newer "$ioemu_jar" -print -quit 2>/dev/null)" ]
}
if [ ! -f "$ioemu_jar" ] || [ ! -d "$ioemu_root/$MODULE/target/lib" ] || ioemu_stale; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "ioemu: Maven is needed to build ioemu; run: apt-get install -y maven" >&2
    exit 1
  fi
  ioemu_log="$(mktemp)"
  if ! (cd "$ioemu_root" && { mvn -B -q -o -DskipTests package -pl "$MODULE" -am || \
        mvn -B -q -DskipTests package -pl "$MODULE" -am; }) >"$ioemu_log" 2>&1; then
    cat "$ioemu_log" >&2; rm -f "$ioemu_log"
    echo "ioemu: build failed (see above)" >&2; exit 1
  fi
  rm -f "$ioemu_log"
fi
ioemu_cp="$ioemu_jar:$ioemu_root/$MODULE/target/lib/*"
ioemu_java="${JAVA_HOME:+$JAVA_HOME/bin/java}"
[ -x "${ioemu_java:-}" ] || ioemu_java=java

# Sets ioemu_key to the build's key: computed once per build (when a jar is newer than the key file).
ioemu_build_key() {
  local keyfile="$ioemu_root/$MODULE/target/ioemu-launch.key" f tmp
  if [ -s "$keyfile" ]; then
    local fresh=1
    for f in "$ioemu_jar" "$ioemu_root/$MODULE"/target/lib/*.jar; do
      [ "$f" -nt "$keyfile" ] && { fresh=0; break; }
    done
    if [ $fresh = 1 ]; then read -r ioemu_key <"$keyfile" && return 0; fi
  fi
  tmp="$(mktemp "$keyfile.XXXXXX" 2>/dev/null)" || return 1
  # Paths and contents: an archive records the classpath it was made with.
  sha256sum "$ioemu_jar" "$ioemu_root/$MODULE"/target/lib/*.jar 2>/dev/null | sha256sum | cut -c1-24 >"$tmp" \
    && [ -s "$tmp" ] && mv -f "$tmp" "$keyfile" && read -r ioemu_key <"$keyfile" && return 0
  rm -f "$tmp"; return 1
}

# Sets ioemu_jv to the Java runtime's version as its release file states it (no JVM start needed).
# The runtime found last time is remembered in target/ (home and version), so a start forks no
# readlink while `java` still is that runtime's binary and its release file is not newer.
ioemu_java_version() {
  local bin="$ioemu_java" home line memo="$ioemu_root/$MODULE/target/ioemu-launch.java"
  if [ "$bin" = java ]; then
    hash java 2>/dev/null || return 1
    bin="${BASH_CMDS[java]}"
  fi
  if [ -s "$memo" ] && { read -r home && read -r ioemu_jv; } <"$memo" && [ -n "$ioemu_jv" ] \
      && [ "$bin" -ef "$home/bin/java" ] && [ ! "$home/release" -nt "$memo" ]; then
    return 0
  fi
  bin="$(readlink -f "$bin" 2>/dev/null)" || return 1
  home="${bin%/bin/java}"
  [ -f "$home/release" ] || return 1
  while IFS= read -r line; do
    case "$line" in JAVA_RUNTIME_VERSION=*) line="${line#*=}"; line="${line//\"/}"; ioemu_jv="${line//[^A-Za-z0-9._+-]/_}"
      ioemu_put "$memo" printf '%s\n%s\n' "$home" "$ioemu_jv" || true
      return 0 ;;
    esac
  done <"$home/release"
  return 1
}

# Writes the output of command "$@" to file $1 aside first, then renames it into place.
ioemu_put() {
  local dest="$1" tmp; shift
  tmp="$(mktemp "$dest.XXXXXX" 2>/dev/null)" || return 1
  if "$@" >"$tmp" 2>/dev/null && [ -s "$tmp" ]; then
    chmod 0644 "$tmp"; mv -f "$tmp" "$dest" && return 0
  fi
  rm -f "$tmp"; return 1
}

ioemu_jvm_opts=()
ioemu_cache=""
if ioemu_build_key && ioemu_java_version; then
  ioemu_cache="${XDG_CACHE_HOME:-$HOME/.cache}/ioemu/jvm/$MODULE-$ioemu_key-java$ioemu_jv"
  if [ ! -d "$ioemu_cache" ]; then
    # A new build: caches of builds made more than a week ago go (a build still in use just
    # makes its cache again).
    find "${ioemu_cache%/*}" -mindepth 1 -maxdepth 1 -name "$MODULE-*" -mtime +7 -exec rm -rf {} + 2>/dev/null || true
    mkdir -p "$ioemu_cache" 2>/dev/null || ioemu_cache=""
  fi
fi
if [ -n "$ioemu_cache" ]; then
  # JNA's stub, taken from the very jar JNA checks its version against.
  ioemu_jna_so="$ioemu_cache/libjnidispatch.so"
  ioemu_jna_jar=("$ioemu_root/$MODULE"/target/lib/jna-[0-9]*.jar)
  if [ ! -s "$ioemu_jna_so" ] && [ -f "$ioemu_jna_jar" ] && [ "$HOSTTYPE" = x86_64 ]; then
    if command -v unzip >/dev/null 2>&1; then
      ioemu_put "$ioemu_jna_so" unzip -p "$ioemu_jna_jar" com/sun/jna/linux-x86-64/libjnidispatch.so || true
    elif command -v python3 >/dev/null 2>&1; then
      ioemu_put "$ioemu_jna_so" python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("com/sun/jna/linux-x86-64/libjnidispatch.so"))' "$ioemu_jna_jar" || true
    fi
  fi
  [ -s "$ioemu_jna_so" ] && ioemu_jvm_opts+=(-Djna.boot.library.path="$ioemu_cache")
fi
# The directories JNA would find through `ldconfig -p` for the libraries ioemu loads (libc).
ioemu_libdirs=""
for ioemu_d in "/usr/lib/$HOSTTYPE-linux-gnu" "/lib/$HOSTTYPE-linux-gnu" /usr/lib64 /lib64 /usr/lib /lib; do
  [ -d "$ioemu_d" ] && ioemu_libdirs="${ioemu_libdirs:+$ioemu_libdirs:}$ioemu_d"
done
ioemu_jvm_opts+=(-Djna.platform.library.path="$ioemu_libdirs")

# The kind of emulator start: "qtest" (-qtest: the guest CPU never runs, a test drives the
# machine line by line) or "vm".
ioemu_kind=vm
if [ "$MODULE" = emulator ]; then
  for ioemu_a in "$@"; do
    case "$ioemu_a" in -qtest|--qtest) ioemu_kind=qtest; break ;; esac
  done
fi

if [ "$MODULE" = emulator ] && [ "${IOEMU_CDS:-on}" = on ] && [ -n "$ioemu_cache" ]; then
  ioemu_jsa="$ioemu_cache/ioemu-emulator-$ioemu_kind.jsa"
  ioemu_jsa_opts="$ioemu_cache/jvm-options-$ioemu_kind"
  # JVM options for a start, kept only if this JVM takes them: -XX:-UsePerfData, no hsperfdata
  # file created per VM (jps and jstat do not list it). Not ArchiveRelocationMode=0: mapping the
  # archives at fixed addresses gives up their address-space randomisation for no gain measured
  # consistently (BENCHMARKS.md). jvm-options holds "wanted: LIST" and then the options the check accepted; an
  # archive made for another list (this script changed, the jars did not) is made again.
  ioemu_fast=(-XX:-UsePerfData)
  ioemu_wanted="wanted: ${ioemu_fast[*]}"
  if [ -s "$ioemu_jsa" ] && { ! read -r ioemu_line <"$ioemu_jsa_opts" || [ "$ioemu_line" != "$ioemu_wanted" ]; } 2>/dev/null; then
    rm -f "$ioemu_jsa" "$ioemu_jsa_opts"
  fi
  if [ ! -s "$ioemu_jsa" ]; then
    # Training start (dev.ioemu.emulator.qtest.StartupTraining KIND): for "vm", a boot on the
    # software CPU that ends through isa-debug-exit; for both, one VM started and driven as
    # libqtest drives one (QMP and qtest sockets, IDE PIO, DMA and flush), ended by QMP quit; the
    # JVM writes the archive as it exits, and only a clean exit makes the archive count.
    if ioemu_train="$(mktemp "$ioemu_jsa.XXXXXX" 2>/dev/null)"; then
      if "$ioemu_java" -XX:ArchiveClassesAtExit="$ioemu_train" -Xlog:cds=off -Xlog:cds+dynamic=off \
            "${ioemu_jvm_opts[@]}" -cp "$ioemu_cp" dev.ioemu.emulator.qtest.StartupTraining "$ioemu_kind" \
            </dev/null >/dev/null 2>&1 && [ -s "$ioemu_train" ]; then
        # The JVM does not check an archive's contents when it maps one (that would cost every
        # start a tenth of a second), so a new archive is checked once, here, before it is used.
        ioemu_check() {
          "$ioemu_java" -XX:SharedArchiveFile="$ioemu_train" -Xshare:on -XX:+VerifySharedSpaces "$@" \
            -Xlog:cds=off -Xlog:cds+dynamic=off -cp "$ioemu_cp" -version >/dev/null 2>&1
        }
        if ioemu_check "${ioemu_fast[@]}"; then
          ioemu_put "$ioemu_jsa_opts" printf '%s\n' "$ioemu_wanted" "${ioemu_fast[@]}" \
            && chmod 0644 "$ioemu_train" && mv -f "$ioemu_train" "$ioemu_jsa"
        elif ioemu_check; then
          ioemu_put "$ioemu_jsa_opts" printf '%s\n' "$ioemu_wanted" \
            && chmod 0644 "$ioemu_train" && mv -f "$ioemu_train" "$ioemu_jsa"
        fi
      fi
      rm -f "$ioemu_train"
    fi
  fi
  # -Xshare:auto: an archive this JVM cannot use (another JDK build, changed jars, damage it
  # detects) is ignored without a word.
  if [ -s "$ioemu_jsa" ]; then
    mapfile -t -s 1 ioemu_fast <"$ioemu_jsa_opts" 2>/dev/null && ioemu_jvm_opts+=("${ioemu_fast[@]}")
    ioemu_jvm_opts+=(-XX:SharedArchiveFile="$ioemu_jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
  fi
fi
# A qtest start (-qtest: the guest CPU never runs, the test drives the machine line by line)
# stops at the JIT's first tier: C2 compiling costs a libqtest-length session more CPU than it
# saves (BENCHMARKS.md "Start-up"). Every other start keeps C2, which the software CPU needs.
[ "$ioemu_kind" = qtest ] && ioemu_jvm_opts+=(-XX:TieredStopAtLevel=1)
exec "$ioemu_java" "${ioemu_jvm_opts[@]}" ${IOEMU_JAVA_OPTS:-} -cp "$ioemu_cp" "$MAIN_CLASS" "$@"
