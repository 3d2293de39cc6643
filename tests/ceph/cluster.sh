#!/usr/bin/env bash
# A throwaway one-node Ceph cluster for the RBD tests and benchmark (shared/spec/nbd.md §4.1):
# one mon, one mgr and one BlueStore OSD on a plain file, no systemd, no cephx, 127.0.0.1,
# everything (config, data, sockets, logs, pid files) under one directory.
#
#   cluster.sh up DIR      start it (idempotent: a cluster already up in DIR is left alone),
#                          create pool "rbd"; prints the ceph.conf path on stdout
#   cluster.sh env DIR     prints CEPH_CONF=DIR/ceph.conf (for eval)
#   cluster.sh down DIR    stop every daemon started in DIR (by its pid file) and delete DIR
#
# Ports: the mon needs a fixed address in the monmap, so "up" picks a free port pair (msgr v2
# and v1) at random above 20000; OSD and mgr bind to ephemeral ports. Installs nothing
# (tests/setup.sh does); exits 2 with "skipped: …" on stderr when the ceph daemons are missing.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: cluster.sh up|env|down DIR" >&2
  exit 1
fi

conf="$dir/ceph.conf"

down() {
  [ -d "$dir" ] || return 0
  local pids=()
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f" 2>/dev/null || true)
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && pids+=("$p")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  fi
  rm -rf "$dir"
}

healthy() {
  timeout 10 ceph -c "$conf" health 2>/dev/null | grep -q HEALTH_OK
}

free_port() {
  # A port pair nobody listens on (v2 = p, v1 = p + 1).
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Hltn "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null | grep -q .; then
      echo "$p"
      return 0
    fi
  done
  echo "cluster.sh: no free port pair found" >&2
  return 1
}

up() {
  for b in ceph-mon ceph-osd ceph-mgr ceph ceph-authtool monmaptool rbd uuidgen; do
    if ! command -v "$b" >/dev/null 2>&1; then
      echo "skipped: $b not installed (tests/setup.sh installs the ceph packages as root)" >&2
      exit 2
    fi
  done
  if [ -f "$conf" ] && healthy; then
    echo "$conf"
    return 0
  fi
  down
  mkdir -p "$dir"/{run,log,mon,osd,mgr}
  dir=$(cd "$dir" && pwd)
  conf="$dir/ceph.conf"
  local fsid port
  fsid=$(uuidgen)
  port=$(free_port)
  cat > "$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$port/0
public_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_autoscale_mode = off
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 5
auth_allow_insecure_global_id_reclaim = false
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
mon_data = $dir/mon/\$id
osd_data = $dir/osd/\$id
mgr_data = $dir/mgr/\$id
keyring = $dir/keyring
ms_bind_port_min = 20000
ms_bind_port_max = 60000
[osd]
osd_objectstore = bluestore
bluestore_block_size = 4294967296
bluestore_block_create = true
osd_memory_target = 1073741824
EOF
  local c=(-c "$conf")
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))]" \
    "$dir/monmap" >/dev/null
  # The daemons' own chatter ("Falling back to public interface", …) goes to log/daemons.err.
  local err="$dir/log/daemons.err"
  ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" 2>>"$err"
  ceph-mon "${c[@]}" -i a 2>>"$err"
  ceph-mgr "${c[@]}" -i x 2>>"$err"
  local uuid id
  uuid=$(uuidgen)
  id=$(timeout 60 ceph "${c[@]}" osd new "$uuid")
  mkdir -p "$dir/osd/$id"
  ceph-osd "${c[@]}" -i "$id" --mkfs --osd-uuid "$uuid" 2>>"$err"
  ceph-osd "${c[@]}" -i "$id" 2>>"$err"
  timeout 60 ceph "${c[@]}" osd pool create rbd 8 8 >/dev/null 2>&1
  timeout 60 ceph "${c[@]}" osd pool set rbd size 1 --yes-i-really-mean-it >/dev/null 2>&1
  timeout 60 rbd "${c[@]}" pool init rbd
  for _ in $(seq 1 120); do
    if healthy; then
      echo "$conf"
      return 0
    fi
    sleep 0.5
  done
  echo "cluster.sh: the cluster in $dir did not reach HEALTH_OK in 60 s:" >&2
  timeout 10 ceph "${c[@]}" -s >&2 || true
  exit 1
}

case "$cmd" in
  up) up ;;
  down) down ;;
  env) echo "CEPH_CONF=$conf" ;;
  *) echo "cluster.sh: unknown command '$cmd' (expected: up, env, down)" >&2; exit 1 ;;
esac
