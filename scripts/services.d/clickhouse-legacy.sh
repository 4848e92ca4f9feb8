#!/usr/bin/env bash
# Debian's clickhouse-server (18.16, far older than OllyStack supports) as a private instance:
# the server a test points createStore at to see it refused as too old. Never the system
# service: its own folder, config and HTTP port on 127.0.0.1, no native-protocol port, so
# nothing else (8123, 9000, a real ClickHouse) is touched.
#
#   clickhouse-legacy.sh install          apt-get install clickhouse-server if missing
#                                         (about 15 MB to download, 104 MB installed with its libraries)
#   clickhouse-legacy.sh start DIR [PORT] start one on DIR (config, data, logs) and a free port
#                                         (or PORT); prints the port once it answers
#   clickhouse-legacy.sh stop DIR         stop the one started on DIR
#
# Also sourced by scripts/services, which then provides say/die.
CLICKHOUSE_LEGACY_BIN=/usr/sbin/clickhouse-server

if ! declare -F say >/dev/null; then say() { echo "clickhouse-legacy: $*" >&2; }; fi
if ! declare -F die >/dev/null; then die() { echo "clickhouse-legacy: error: $*" >&2; exit 1; }; fi

clickhouse_legacy_port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# GET /ping answers "Ok." on every ClickHouse version.
clickhouse_legacy_ping() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET /ping HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>/dev/null | grep -q '^Ok\.'
}

clickhouse_legacy_install() {
  if [ -x "$CLICKHOUSE_LEGACY_BIN" ]; then return 0; fi
  command -v apt-get >/dev/null || die "clickhouse-server is not installed and there is no apt-get (Debian/Ubuntu) to install it"
  apt-get update -qq >&2 || die "apt-get update failed"
  # What it costs, before installing it (apt-get prints the download and disk sizes, then stops).
  apt-get install --assume-no clickhouse-server 2>/dev/null | grep -E '^(Need to get|After this operation)' | while read -r line; do say "clickhouse-server: $line"; done || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server >&2 || die "apt-get could not install clickhouse-server"
  [ -x "$CLICKHOUSE_LEGACY_BIN" ] || die "clickhouse-server installed but $CLICKHOUSE_LEGACY_BIN is missing"
  say "installed $(dpkg-query -W -f '${Package} ${Version}' clickhouse-server)"
}

# A port nothing listens on, from a range away from the well-known ones.
clickhouse_legacy_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    clickhouse_legacy_port_open "$port" || { echo "$port"; return 0; }
  done
  die "no free port found"
}

clickhouse_legacy_running() {
  local dir=$1
  [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

clickhouse_legacy_start() {
  local dir=$1 port=${2:-}
  [ -x "$CLICKHOUSE_LEGACY_BIN" ] || die "clickhouse-server (Debian's 18.16) is not installed: run scripts/services.d/clickhouse-legacy.sh install (apt-get install clickhouse-server)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if clickhouse_legacy_running "$dir"; then die "a server already runs from $dir (pid $(cat "$dir/pid")): stop it first"; fi
  [ -n "$port" ] || port=$(clickhouse_legacy_free_port)
  if clickhouse_legacy_port_open "$port"; then die "port $port is taken by another process"; fi
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
  # 18.16's config root is <yandex>. Only the HTTP port is opened: no tcp_port, no interserver port.
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/server.err.log</errorlog></logger>
  <http_port>$port</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
</yandex>
XML
  cat >"$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default/></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default/></quotas>
</yandex>
XML
  echo "$port" >"$dir/port"
  nohup "$CLICKHOUSE_LEGACY_BIN" --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  local deadline=$((SECONDS + 30))
  until clickhouse_legacy_ping "$port"; do
    if ! clickhouse_legacy_running "$dir"; then
      tail -20 "$dir/stdout.log" "$dir/server.err.log" >&2 2>/dev/null
      rm -f "$dir/pid"
      die "clickhouse-server exited while starting: see $dir/server.err.log"
    fi
    if [ $SECONDS -ge $deadline ]; then
      clickhouse_legacy_stop "$dir"
      die "clickhouse-server did not answer on 127.0.0.1:$port within 30 s: see $dir/server.err.log"
    fi
    sleep 0.2
  done
  say "clickhouse-server $(dpkg-query -W -f '${Version}' clickhouse-server 2>/dev/null) ready on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
  echo "$port"
}

clickhouse_legacy_stop() {
  local dir=$1
  if clickhouse_legacy_running "$dir"; then
    local pid; pid=$(cat "$dir/pid")
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    say "clickhouse-server stopped (pid $pid)"
  fi
  rm -f "$dir/pid"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    install) clickhouse_legacy_install ;;
    start) [ $# -ge 2 ] && [ $# -le 3 ] || die "usage: start DIR [PORT]"; clickhouse_legacy_start "$2" "${3:-}" ;;
    stop) [ $# -eq 2 ] || die "usage: stop DIR"; clickhouse_legacy_stop "$2" ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
fi
