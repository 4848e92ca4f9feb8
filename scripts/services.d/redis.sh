# Redis: the one already answering on 127.0.0.1:PORT, else Debian's redis-server started here.

redis_ping() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'PING\r\n' >&3 && head -c 5 <&3" 2>/dev/null | grep -q PONG; }

redis_start() {
  local dir=$1 port=$2
  if redis_ping "$port"; then say "redis ready on 127.0.0.1:$port"; return 0; fi
  if ! command -v redis-server >/dev/null; then
    say "installing redis-server from Debian"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2 \
      || die "redis-server is not installed and apt-get could not install it"
  fi
  mkdir -p "$dir"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null
  for _ in $(seq 1 50); do redis_ping "$port" && { say "redis started on 127.0.0.1:$port"; return 0; }; sleep 0.1; done
  die "redis did not answer on 127.0.0.1:$port: see $dir/redis.log"
}

redis_stop() {
  local dir=$1
  # Only a Redis this script started is stopped; a machine's own service is left alone.
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -f "$dir/redis.pid"; say "redis stopped"; fi
}
