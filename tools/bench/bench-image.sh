# Sourced by the benchmark scripts: bench_image NAME WORK-DIR SIZE prints the path of a fully
# allocated image of random data in WORK-DIR (made once, reused while its size matches), and
# refuses tmpfs, where O_DIRECT cache modes cannot be measured.
bench_image() {
  local name="$1" work="$2" size="$3" img size_mib
  mkdir -p "$work"
  if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
    echo "$name: $work is on tmpfs (no O_DIRECT); give a directory on a real filesystem" >&2; return 1
  fi
  img="$work/$name.img"
  size_mib=$(( $(numfmt --from=iec "$size") / 1048576 ))
  if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" -ne $((size_mib * 1048576)) ]; then
    echo "creating $img ($size_mib MiB of random data, fully allocated)" >&2
    dd if=/dev/urandom of="$img" bs=1M count="$size_mib" status=none
    sync
  fi
  echo "$img"
}
