# Pieces the benchmark scripts share; sourced, not run. They expect HOST (the address every
# process binds) and WORK (the run's scratch folder) to be set.

# require_free_ports PORT...: fails when one of the ports is taken.
require_free_ports() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
      echo "port $port on $HOST is in use" >&2
      exit 1
    fi
  done
}

# require_postgres: fails when PostgreSQL is not up on $HOST:5432.
require_postgres() {
  pg_isready -q -h "$HOST" -p 5432 || { echo "PostgreSQL is not up on $HOST:5432" >&2; exit 1; }
}

# wait_ready PORT PID: bounded poll of /readyz (30 s); fails at once if the server exited.
wait_ready() {
  local port=$1 pid=$2
  for _ in $(seq 150); do
    curl -fs "http://$HOST:$port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "server on port $port exited" >&2; return 1; }
    sleep 0.2
  done
  echo "server on port $port not ready after 30 s" >&2
  return 1
}

# start_private_redis PORT: a throwaway Redis run as the cache's should be (no persistence,
# 90 MiB with LRU eviction), its files in $WORK; sets REDIS_STARTED=1 for the caller's cleanup.
start_private_redis() {
  local port=$1
  echo "=== Redis on $HOST:$port"
  redis-server --daemonize yes --bind "$HOST" --port "$port" --save "" --appendonly no \
    --maxmemory 90mb --maxmemory-policy allkeys-lru --dir "$WORK" \
    --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
  REDIS_STARTED=1
  for _ in $(seq 50); do
    redis-cli -h "$HOST" -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h "$HOST" -p "$port" ping >/dev/null
}

# process_ticks PID...: the sum of utime + stime, in clock ticks, of the processes still alive.
process_ticks() {
  local pid stat fields total=0
  for pid in "$@"; do
    { stat=$(<"/proc/$pid/stat"); } 2>/dev/null || continue
    read -r -a fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}
