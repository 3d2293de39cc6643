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
exec java ${IOEMU_JAVA_OPTS:-} -cp "$ioemu_jar:$ioemu_root/$MODULE/target/lib/*" "$MAIN_CLASS" "$@"
