#!/usr/bin/env bash
# pg.sh — a private PostgreSQL for vidid (tests and `make run`), no system service.
#
#   scripts/pg.sh start    initdb if needed, start, create database "vidid", print the URL
#   scripts/pg.sh stop     stop the server (no-op when it is not running)
#   scripts/pg.sh status   print "running URL" (exit 0) or "stopped" (exit 3)
#   scripts/pg.sh url      print the URL of the running server (exit 1 when stopped)
#
# Environment:
#   VIDID_PGDIR    state directory (default <repo>/var/pg, git-ignored). Layout:
#                    data/          the cluster (PGDATA)
#                    sock/          the Unix socket directory
#                    postgres.log   the server log
#                    url            postgres://postgres@127.0.0.1:PORT/vidid?sslmode=disable
#                    port           last port used (reused on the next start when free)
#   VIDID_PG_PORT  TCP port on 127.0.0.1 (default: the last one used, else a free one)
#   VIDID_PG_FAST=1  fsync/synchronous_commit/full_page_writes off (tests only: a crash can
#                    lose or corrupt data)
#
# Run as root, the state directory is owned by the "postgres" user and the server runs as
# that user (runuser). PostgreSQL must be able to traverse every parent directory of
# VIDID_PGDIR: as root this script adds the search (x) bit for "others" to parents that
# lack it, and says so. As a normal user everything runs as that user.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pgdir=${VIDID_PGDIR:-$here/var/pg}
case $pgdir in /*) ;; *) pgdir=$PWD/$pgdir ;; esac
data=$pgdir/data
sock=$pgdir/sock
logfile=$pgdir/postgres.log
urlfile=$pgdir/url
portfile=$pgdir/port
dbname=vidid

die() { echo "pg.sh: $*" >&2; exit 1; }
note() { echo "pg.sh: $*" >&2; }

find_bindir() {
  local d best=
  # Newest major version present (sort -V handles 9.6 < 15 < 16).
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && best=$d
  done
  [ -n "$best" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; install the Debian package 'postgresql' (apt-get install postgresql) or run 'make deps'"
  echo "$best"
}

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (it comes with the Debian package 'postgresql')"
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { (cd / && "$@"); }
fi

# make_traversable lets the postgres user reach $pgdir: each parent directory it cannot
# search gets o+x (search only, not read). Only needed, and only done, as root.
make_traversable() {
  [ "$(id -u)" = 0 ] || return 0
  local d=$pgdir
  local parents=()
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    parents=("$d" "${parents[@]}")
  done
  for d in "${parents[@]}"; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
      note "made $d searchable (o+x) so the postgres user can reach $pgdir"
    fi
  done
}

prepare_dirs() {
  mkdir -p "$pgdir"
  make_traversable
  if [ "$(id -u)" = 0 ]; then
    if [ -n "$(find "$pgdir" ! -user postgres -print -quit)" ]; then
      chown -R postgres:postgres "$pgdir"
    fi
  elif [ -e "$data" ] && [ ! -O "$data" ]; then
    die "$data belongs to $(stat -c %U "$data"), not to $(id -un); run as that user (or as root), or set VIDID_PGDIR"
  fi
  as_pg mkdir -p "$sock"
  as_pg chmod 0700 "$sock"
}

# cluster_pids lists live (non-zombie) processes of this cluster: the postmaster and any
# backends it left behind, recognised by "-D <data>" on the postmaster's command line or
# by their working directory (every backend runs with cwd = the data directory).
cluster_pids() {
  local p st
  for p in /proc/[0-9]*; do
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$p/status" 2>/dev/null) || continue
    [ -n "$st" ] && [ "$st" != Z ] || continue
    [ "$(cat "$p/comm" 2>/dev/null)" = postgres ] || continue
    if [ "$(readlink "$p/cwd" 2>/dev/null)" = "$data" ] ||
      tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-D $data "; then
      echo "${p#/proc/}"
    fi
  done
}

# is_running: the PID in postmaster.pid is a live (not zombie) postgres serving $data.
# pg_ctl status alone counts a killed-but-unreaped postmaster (zombie) as running.
is_running() {
  local pid st
  [ -f "$data/PG_VERSION" ] || return 1
  pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
  as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# running_port reads the port from postmaster.pid (line 4) of the running server.
running_port() { sed -n 4p "$data/postmaster.pid" 2>/dev/null; }

url_for() { echo "postgres://postgres@127.0.0.1:$1/$dbname?sslmode=disable"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  local p i
  if [ -n "${VIDID_PG_PORT:-}" ]; then
    [[ $VIDID_PG_PORT =~ ^[0-9]+$ ]] && [ "$VIDID_PG_PORT" -ge 1 ] && [ "$VIDID_PG_PORT" -le 65535 ] ||
      die "VIDID_PG_PORT=$VIDID_PG_PORT is not a port number"
    port_in_use "$VIDID_PG_PORT" && die "VIDID_PG_PORT=$VIDID_PG_PORT: 127.0.0.1:$VIDID_PG_PORT is already in use"
    echo "$VIDID_PG_PORT"; return
  fi
  if [ -f "$portfile" ]; then
    p=$(cat "$portfile")
    if [[ $p =~ ^[0-9]+$ ]] && ! port_in_use "$p"; then echo "$p"; return; fi
  fi
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    port_in_use "$p" || { echo "$p"; return; }
  done
  die "could not find a free TCP port on 127.0.0.1; set VIDID_PG_PORT"
}

# clear_stale removes a postmaster.pid (and socket lock files) left by a crashed server,
# once is_running has said no server is running. It first waits for backends orphaned by
# a killed postmaster to exit: starting a new postmaster while they still hold the old
# shared memory could corrupt the cluster, which is what the pid file guards against.
clear_stale() {
  local i left
  [ -f "$data/postmaster.pid" ] || return 0
  for i in $(seq 1 20); do
    left=$(cluster_pids)
    [ -z "$left" ] && break
    sleep 0.5
  done
  [ -z "$left" ] || die "the server in $data is not running but its processes remain (pids: $(echo $left)); wait or stop them, then retry"
  note "removing stale $data/postmaster.pid (the server it names is gone)"
  rm -f "$data/postmaster.pid" "$sock"/.s.PGSQL.*.lock
}

cmd_start() {
  prepare_dirs
  if is_running; then
    local p; p=$(running_port)
    url_for "$p" >"$urlfile"
    url_for "$p"
    return
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    [ -d "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ] &&
      die "$data exists but is not a PostgreSQL cluster (no PG_VERSION); move it away or set VIDID_PGDIR"
    as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 ||
      { cat "$pgdir/initdb.log" >&2; die "initdb failed (log above, also in $pgdir/initdb.log)"; }
  fi
  clear_stale

  local opts port sockopt attempt
  opts="-c listen_addresses=127.0.0.1 -c max_connections=200"
  if [ "${VIDID_PG_FAST:-0}" = 1 ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  # Unix socket paths are limited to 107 bytes; past that, TCP only.
  if [ ${#sock} -le 90 ]; then sockopt="-c unix_socket_directories='$sock'"; else
    sockopt="-c unix_socket_directories=''"
    note "$sock is too long for a Unix socket path; serving on TCP only"
  fi
  for attempt in 1 2 3; do
    port=$(pick_port)
    # 9>&-: the server must not inherit the flock descriptor, or it would hold the
    # lock for its whole life.
    if as_pg "$bindir/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
        -o "$opts $sockopt -c port=$port" start >/dev/null 9>&-; then
      break
    fi
    # Lost a race for the port (or a real failure): retry with another port, unless fixed.
    if [ -n "${VIDID_PG_PORT:-}" ] || [ "$attempt" = 3 ]; then
      tail -n 20 "$logfile" >&2 || true
      die "pg_ctl start failed (log: $logfile)"
    fi
    rm -f "$portfile"
  done
  echo "$port" >"$portfile"

  local psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" != 1 ]; then
    # Another start racing us may create it first: tolerate "already exists".
    "${psql[@]}" -c "CREATE DATABASE $dbname" 2>"$pgdir/createdb.err" ||
      grep -q 'already exists' "$pgdir/createdb.err" ||
      { cat "$pgdir/createdb.err" >&2; die "could not create database $dbname"; }
    rm -f "$pgdir/createdb.err"
  fi
  url_for "$port" >"$urlfile"
  url_for "$port"
}

cmd_stop() {
  if is_running; then
    as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  fi
  rm -f "$urlfile"
}

cmd_status() {
  if is_running; then
    echo "running $(url_for "$(running_port)")"
  else
    echo "stopped"
    exit 3
  fi
}

cmd_url() {
  is_running || die "no server running in $pgdir; run scripts/pg.sh start"
  url_for "$(running_port)"
}

bindir=$(find_bindir)

case "${1:-}" in
  start | stop)
    mkdir -p "$pgdir"
    # One start/stop at a time per state directory.
    exec 9>>"$pgdir/.lock"
    flock 9
    "cmd_$1"
    ;;
  status | url) "cmd_$1" ;;
  *)
    echo "usage: $0 start|stop|status|url" >&2
    exit 2
    ;;
esac
