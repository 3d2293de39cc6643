# Sourced by the launchers in emulator/bin and tools/bin: builds the project on first use (or
# when a source file is newer than the jar), then runs MAIN_CLASS from MODULE with its libraries.
# Usage (from a launcher): MODULE=emulator MAIN_CLASS=dev.ioemu.emulator.Main; . launch.sh "$@"
ioemu_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ioemu_jar="$ioemu_root/$MODULE/target/ioemu-$MODULE-0.1.0-SNAPSHOT.jar"
case "$MODULE" in            # the module and the ones it depends on
  emulator) ioemu_sources="devices bios cpu emulator" ;;
  *)        ioemu_sources="devices bios cpu emulator $MODULE" ;;
esac
ioemu_stale() {
  local m
  for m in $ioemu_sources; do
    [ -n "$(find "$ioemu_root/$m/src/main" -newer "$ioemu_jar" -print -quit 2>/dev/null)" ] && return 0
  done
  return 1
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
ioemu_cds=()
if [ "$MODULE" = emulator ] && [ "${IOEMU_CDS:-on}" = on ]; then
  # Class-data sharing: the classes a start-up loads, parsed once into an archive that later
  # starts map instead of reading the jars again. Made on first use after a build by one training
  # start (qtest on stdio, one request, SIGTERM), written aside and renamed, so concurrent starts
  # never see half an archive; any problem just means starting without it.
  ioemu_jsa="$ioemu_root/$MODULE/target/ioemu-$MODULE.jsa"
  if [ ! -f "$ioemu_jsa" ] || [ "$ioemu_jar" -nt "$ioemu_jsa" ]; then
    ioemu_tmp="$(mktemp -d)"
    truncate -s 1M "$ioemu_tmp/train.img"
    mkfifo "$ioemu_tmp/in"
    java -XX:ArchiveClassesAtExit="$ioemu_tmp/a.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off -cp "$ioemu_cp" \
        "$MAIN_CLASS" -machine pc -accel qtest -nodefaults -display none -qtest stdio \
        -drive "file=$ioemu_tmp/train.img,if=ide,format=raw" <"$ioemu_tmp/in" >"$ioemu_tmp/out" 2>/dev/null &
    ioemu_pid=$!
    exec 9>"$ioemu_tmp/in"
    echo "outb 0x1f6 0xa0" >&9
    for _ in $(seq 600); do [ -s "$ioemu_tmp/out" ] && break; sleep 0.1; done
    kill -TERM "$ioemu_pid" 2>/dev/null
    wait "$ioemu_pid" 2>/dev/null
    exec 9>&-
    [ -s "$ioemu_tmp/a.jsa" ] && mv -f "$ioemu_tmp/a.jsa" "$ioemu_jsa.$$" && mv -f "$ioemu_jsa.$$" "$ioemu_jsa"
    rm -rf "$ioemu_tmp"
  fi
  [ -f "$ioemu_jsa" ] && ioemu_cds=(-XX:SharedArchiveFile="$ioemu_jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
fi
exec java "${ioemu_cds[@]}" ${IOEMU_JAVA_OPTS:-} -cp "$ioemu_cp" "$MAIN_CLASS" "$@"
