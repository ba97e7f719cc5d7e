#!/usr/bin/env bash
# BENCHMARKS.md's figures for the `small` dataset, side by side in one run:
# embedded (SQLite + L1) and PostgreSQL + Redis, each with the cache on and off.
#
#   scripts/bench-small.sh [seconds per run, default 30] [concurrency, default 32]
#
# Needs a release build (`cargo build --release`, or BIN=path/to/reelplan), PostgreSQL on
# 127.0.0.1:5432 (trust, user postgres) and Redis on 127.0.0.1:6379. Writes the JSON reports to
# target/bench/ and prints each run's report.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
CONC=${2:-32}
BIN=${BIN:-target/release/reelplan}
OUT=target/bench
PORT=18080
PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres
PG_DB=reelplan_bench_small
REDIS=redis://127.0.0.1:6379
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Bounded poll until the server answers /healthz.
wait_ready() {
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server did not start" >&2
  return 1
}

# run NAME [env...]: serve with the given environment, load-test it, stop it.
run() {
  local name=$1
  shift
  env "$@" PORT=$PORT REELPLAN_DATA_DIR="$WORK/data" RUST_LOG=warn "$BIN" serve \
    2>"$OUT/$name.server.log" &
  local server=$!
  wait_ready
  local redis_flag=()
  [[ " $* " == *" REDIS_URL="* ]] && redis_flag=(--redis-url "$REDIS")
  echo "=== $name"
  "$BIN" loadtest --url "http://127.0.0.1:$PORT" --duration "${SECS}s" --concurrency "$CONC" \
    --dataset small "${redis_flag[@]}" --json "$OUT/$name.json"
  kill -TERM "$server"
  wait "$server" || true
}

echo "=== seeding small into SQLite and PostgreSQL"
/usr/bin/time -f "seed sqlite: %e s, max RSS %M KiB" \
  "$BIN" seed --dataset small --data-dir "$WORK/data"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
PG_URL=postgres://postgres@127.0.0.1:5432/$PG_DB
/usr/bin/time -f "seed postgres: %e s, max RSS %M KiB" \
  "$BIN" seed --dataset small --database-url "$PG_URL"

# Start Redis's figure from this run alone: drop what earlier runs left in the namespace.
redis-cli -u "$REDIS" --scan --pattern 'rp:*' | xargs -r -n 500 redis-cli -u "$REDIS" del >/dev/null

run embedded-cache-on REELPLAN_CACHE=on
run embedded-cache-off REELPLAN_CACHE=off
run pg-redis-cache-on REELPLAN_CACHE=on DATABASE_URL="$PG_URL" REDIS_URL="$REDIS"
run pg-cache-off REELPLAN_CACHE=off DATABASE_URL="$PG_URL"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB"
