#!/usr/bin/env bash
# Where one embedded instance's CPU goes, by thread name, under one load mix.
#
#   scripts/embedded-threads.sh BIN [SECONDS, default 15] [MIX, default default]
#
# Seeds `small` into a temporary SQLite data dir with BIN, starts BIN on it (port PORT,
# default 18301), warms up for 5 s, then runs BIN's load test for SECONDS with 32 workers and
# prints the CPU clock ticks each thread name (tokio-rt-worker, sqlx-sqlite-worker, ...) took
# over the measured run, then the load test's overall line. Everything stays on 127.0.0.1.
set -euo pipefail
[[ $# -ge 1 && $# -le 3 ]] || { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BIN=$(realpath "$1")
SECS=${2:-15}
MIX=${3:-default}
PORT=${PORT:-18301}
HOST=127.0.0.1
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
require_free_ports "$PORT"
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [[ -n $SERVER ]] && { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# thread_ticks PID: "name ticks" per thread name (utime + stime of every thread so named).
thread_ticks() {
  local task stat fields
  for task in /proc/"$1"/task/*; do
    read -r stat <"$task/stat" || continue
    read -r -a fields <<<"${stat##*) }"
    echo "$(<"$task/comm") $((fields[11] + fields[12]))"
  done | awk '{ticks[$1] += $2} END {for (name in ticks) print name, ticks[name]}' | sort
}

env -u DATABASE_URL -u REDIS_URL RUST_LOG=warn "$BIN" seed --dataset small --data-dir "$WORK/data" >/dev/null
env -u DATABASE_URL -u REDIS_URL PORT="$PORT" REELPLAN_BIND=$HOST REELPLAN_DATA_DIR="$WORK/data" \
  REELPLAN_JWT_SECRET=embedded-threads-benchmark-secret-not-for-production RUST_LOG=warn \
  "$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
wait_ready "$PORT" "$SERVER"
url=http://$HOST:$PORT
"$BIN" loadtest --url "$url" --duration 5s --concurrency 32 --dataset small --mix "$MIX" >/dev/null 2>&1
thread_ticks "$SERVER" >"$WORK/before"
"$BIN" loadtest --url "$url" --duration "${SECS}s" --concurrency 32 --dataset small --mix "$MIX" \
  >"$WORK/report.txt" 2>/dev/null
thread_ticks "$SERVER" >"$WORK/after"
echo "CPU ticks ($(getconf CLK_TCK) a second) per thread name over ${SECS}s of the $MIX mix:"
join "$WORK/before" "$WORK/after" | awk '$3 > $2 {printf "  %-20s %d\n", $1, $3 - $2}'
grep -E "^kind|^overall" "$WORK/report.txt"
