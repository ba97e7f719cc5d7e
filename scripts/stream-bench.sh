#!/usr/bin/env bash
# Live-update stream capacity: the resident memory of one instance holding STREAMS open streams,
# and the delay from a write's 2xx on instance A to its event on the streams of instance B,
# while BENCHMARK.md's default mix runs against both.
#
#   scripts/stream-bench.sh [STREAMS, default 10000] [WRITE_SECONDS, default 30] [CONCURRENCY, default 32]
#
# Steps: `cargo build --release` (BIN=path/to/reelplan skips it); `ulimit -n` raised to its hard
# limit; a private Redis on port 6392; BENCHMARK.md's `small` seeded into a fresh PostgreSQL
# database; instances A and B (ports PORT_BASE, default 18381, and the next) on that database
# and Redis, with REELPLAN_MAX_CONNECTIONS and REELPLAN_MAX_STREAMS raised past STREAMS; the
# load test alone for WRITE_SECONDS (the baseline, and B's cache warm; BASELINE=0 skips it). Then
# `reelplan streams` opens STREAMS streams on B (the seeded users, 10 each for 10,000); once
# they are all open, `reelplan loadtest --mix default` starts against A and B (CONCURRENCY
# workers, closed loop); 5 s into its measured window the streams tool makes its timed writes
# (comments on A, 20/s for WRITE_SECONDS) and matches each one's 2xx to its event on B's
# streams. B's VmRSS (and A's, and both processes' CPU) is sampled every 0.5 s from the moment
# every stream is open until the writes' events are in. Prints one summary.
#
# HTTP2=1 opens the streams over HTTP/2 (cleartext), STREAMS_PER_CONNECTION (default 100) on
# each connection, as a proxy speaking HTTP/2 upstream holds them; HTTP/1.1 otherwise, one
# connection per stream as browsers hold them without such a proxy.
#
# Needs: PostgreSQL on 127.0.0.1:5432 (trust, user postgres), redis-server and redis-cli,
# python3, curl; a hard `ulimit -n` above STREAMS + 2048. Everything stays on 127.0.0.1.
# Reports go to OUT (default target/stream-bench/<time>). A few minutes at most.
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -le 3 ]] || usage
STREAMS=${1:-10000}
WRITE_SECS=${2:-30}
CONC=${3:-32}
for n in "$STREAMS" "$WRITE_SECS" "$CONC"; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || usage
done

cd "$(dirname "$0")/.."
HOST=127.0.0.1
PORT_A=${PORT_BASE:-18381}
PORT_B=$((PORT_A + 1))
REDIS_PORT=6392
REDIS_URL_L=redis://$HOST:$REDIS_PORT
PG_ADMIN=postgres://postgres@$HOST:5432/postgres
PG_DB=reelplan_bench_streams
PG_URL=postgres://postgres@$HOST:5432/$PG_DB
# The same throw-away signing secret on both instances: a token from one serves on the other.
JWT_SECRET=stream-bench-benchmark-secret-not-for-production
WRITE_RATE=20
WARMUP=5
CLK_TCK=$(getconf CLK_TCK)
PAGE_KIB=$(($(getconf PAGESIZE) / 1024))
OUT=${OUT:-target/stream-bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
WORK=$(mktemp -d)
SERVER_PIDS=()
CLIENT_PIDS=()
REDIS_STARTED=
DB_CREATED=

psql_admin() { PGOPTIONS=--client-min-messages=warning psql "$PG_ADMIN" -qAt -v ON_ERROR_STOP=1 "$@"; }

# stop PID...: TERM, a bounded wait, then KILL.
stop() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop "${CLIENT_PIDS[@]}" "${SERVER_PIDS[@]}"
  if [[ -n $REDIS_STARTED ]]; then
    redis-cli -h $HOST -p $REDIS_PORT shutdown nosave >/dev/null 2>&1 || true
  fi
  if [[ -n $DB_CREATED ]]; then
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One client process holds every stream, and B one connection per stream: both need the
# descriptors (the servers and the tools inherit this shell's limit).
NEED_FDS=$((STREAMS + 2048))
HARD_FDS=$(ulimit -Hn)
if [[ $HARD_FDS != unlimited && $HARD_FDS -lt $NEED_FDS ]]; then
  echo "STREAMS=$STREAMS needs ulimit -n >= $NEED_FDS; the hard limit is $HARD_FDS" >&2
  exit 1
fi
ulimit -n "$HARD_FDS"

if [[ -z ${BIN:-} ]]; then
  echo "=== cargo build --release"
  cargo build --release --quiet
  BIN=target/release/reelplan
fi
BIN=$(realpath "$BIN")

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
require_free_ports "$PORT_A" "$PORT_B" "$REDIS_PORT"
require_postgres
start_private_redis "$REDIS_PORT"

echo "=== seeding small into PostgreSQL ($PG_DB)"
DB_CREATED=1
psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
timeout 600 env -u REDIS_URL RUST_LOG=warn "$BIN" seed --dataset small \
  --data-dir "$WORK/seed" --database-url "$PG_URL" >"$OUT/seed.txt"

# start_server NAME PORT
start_server() {
  local name=$1 port=$2
  mkdir -p "$WORK/data-$name"
  env -u DATABASE_URL -u REDIS_URL DATABASE_URL="$PG_URL" REDIS_URL="$REDIS_URL_L" \
    PORT="$port" REELPLAN_BIND=$HOST REELPLAN_DATA_DIR="$WORK/data-$name" \
    REELPLAN_JWT_SECRET=$JWT_SECRET REELPLAN_MAX_CONNECTIONS=$((STREAMS + 2000)) \
    REELPLAN_MAX_STREAMS=$((STREAMS + 1000)) RUST_LOG=warn \
    "$BIN" serve 2>"$OUT/server-$name.log" &
  SERVER_PIDS+=($!)
}

echo "=== instances A (:$PORT_A, writes) and B (:$PORT_B, streams)"
start_server a $PORT_A
start_server b $PORT_B
PID_A=${SERVER_PIDS[0]}
PID_B=${SERVER_PIDS[1]}
wait_ready $PORT_A "$PID_A"
wait_ready $PORT_B "$PID_B"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
RSS_IDLE=$(rss_kib "$PID_B")

# wait_line FILE TEXT SECONDS PID: until a line of FILE starts with TEXT (false when PID exits
# first or time runs out).
wait_line() {
  local file=$1 text=$2 secs=$3 pid=$4
  for _ in $(seq $((secs * 5))); do
    grep -q "^$text" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -q "^$text" "$file" 2>/dev/null; return; }
    sleep 0.2
  done
  return 1
}

# The same load without streams first (BASELINE=0 skips it), for what the streams cost it.
if [[ ${BASELINE:-1} != 0 ]]; then
  echo "=== baseline: reelplan loadtest --mix default against A and B, ${WRITE_SECS}s, no streams"
  timeout $((WRITE_SECS + 300)) "$BIN" loadtest --url "http://$HOST:$PORT_A" \
    --url "http://$HOST:$PORT_B" --duration "${WRITE_SECS}s" --concurrency "$CONC" \
    --dataset small --mix default --json "$OUT/baseline.json" \
    >"$OUT/baseline.txt" 2>"$OUT/baseline.stderr" || echo "baseline load test failed: $(tail -1 "$OUT/baseline.stderr")"
fi
RSS_WARM=$(rss_kib "$PID_B")

PROTOCOL_FLAGS=()
if [[ ${HTTP2:-0} != 0 ]]; then
  PROTOCOL_FLAGS=(--http2 --streams-per-connection "${STREAMS_PER_CONNECTION:-100}")
fi
echo "=== reelplan streams: $STREAMS streams on B ${PROTOCOL_FLAGS[*]}"
: >"$OUT/streams.stderr"
timeout $((WRITE_SECS + 600)) "$BIN" streams --url "http://$HOST:$PORT_B" \
  --write-url "http://$HOST:$PORT_A" --streams "$STREAMS" --dataset small \
  --duration "${WRITE_SECS}s" --rate $WRITE_RATE --go-file "$WORK/go" "${PROTOCOL_FLAGS[@]}" \
  --json "$OUT/streams.json" >"$OUT/streams.txt" 2>"$OUT/streams.stderr" &
STREAMS_PID=$!
CLIENT_PIDS+=("$STREAMS_PID")
# The streams client itself (a child of `timeout`), for its CPU time.
for _ in $(seq 50); do
  CLIENT_PID=$(pgrep -P "$STREAMS_PID" || true)
  [[ -n $CLIENT_PID ]] && break
  sleep 0.1
done
if ! wait_line "$OUT/streams.stderr" "streams: open " 300 "$STREAMS_PID"; then
  cat "$OUT/streams.stderr" >&2
  echo "the streams did not open" >&2
  exit 1
fi
grep "^streams: open " "$OUT/streams.stderr"
RSS_OPEN=$(rss_kib "$PID_B")

# Samples until the timed writes' events are in: time, B's and A's VmRSS (KiB), B's, A's and
# the streams client's CPU ticks.
(
  while ! grep -q "^streams: written" "$OUT/streams.stderr" && kill -0 "$STREAMS_PID" 2>/dev/null; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%s.%N)" "$(rss_kib "$PID_B")" "$(rss_kib "$PID_A")" \
      "$(process_ticks "$PID_B")" "$(process_ticks "$PID_A")" "$(process_ticks "${CLIENT_PID:-$STREAMS_PID}")"
    sleep 0.5
  done
) >"$OUT/samples.tsv" &
CLIENT_PIDS+=($!)

LOAD_SECS=$((WRITE_SECS + WARMUP + 12))
echo "=== reelplan loadtest --mix default against A and B, ${LOAD_SECS}s, $CONC workers"
timeout $((LOAD_SECS + 300)) "$BIN" loadtest --url "http://$HOST:$PORT_A" \
  --url "http://$HOST:$PORT_B" --duration "${LOAD_SECS}s" --concurrency "$CONC" \
  --dataset small --mix default --redis-url "$REDIS_URL_L" --json "$OUT/loadtest.json" \
  >"$OUT/loadtest.txt" 2>"$OUT/loadtest.stderr" &
LOAD_PID=$!
CLIENT_PIDS+=("$LOAD_PID")
if ! wait_line "$OUT/loadtest.stderr" "loadtest: measuring" 120 "$LOAD_PID"; then
  cat "$OUT/loadtest.stderr" >&2
  echo "the load test did not start" >&2
  exit 1
fi
sleep $WARMUP
echo "=== timed writes on A: ${WRITE_RATE}/s for ${WRITE_SECS}s"
touch "$WORK/go"

STREAMS_STATUS=0
wait "$STREAMS_PID" || STREAMS_STATUS=$?
LOAD_STATUS=0
wait "$LOAD_PID" || LOAD_STATUS=$?
cat "$OUT/streams.txt"
[[ $STREAMS_STATUS -eq 0 ]] || echo "reelplan streams exited with status $STREAMS_STATUS: $(tail -1 "$OUT/streams.stderr")"
[[ $LOAD_STATUS -eq 0 ]] || echo "reelplan loadtest exited with status $LOAD_STATUS: $(tail -1 "$OUT/loadtest.stderr")"

echo
python3 - "$OUT" "$RSS_IDLE" "$RSS_WARM" "$RSS_OPEN" "$CLK_TCK" "$STREAMS" <<'EOF'
import json, os, sys

out = sys.argv[1]
rss_idle, rss_warm, rss_open, clk_tck, asked = (int(a) for a in sys.argv[2:7])

def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

s, l, base = load("streams.json"), load("loadtest.json"), load("baseline.json")
samples = []
with open(os.path.join(out, "samples.tsv")) as f:
    for line in f:
        cells = line.split()
        if len(cells) == 6 and all(cells):
            samples.append([float(cells[0])] + [int(c) for c in cells[1:]])
mib = lambda kib: kib / 1024
peak_b = max((x[1] for x in samples), default=rss_open)
peak_a = max((x[2] for x in samples), default=0)
cpu = lambda i: ((samples[-1][i] - samples[0][i]) / clk_tck / (samples[-1][0] - samples[0][0])
                 if len(samples) > 1 and samples[-1][0] > samples[0][0] else None)
fmt = lambda v, spec="": "n/a" if v is None else format(v, spec)

opened = s["opened"] if s else None
d = s["deliveries"] if s else None
every = d["every"] if d else None
rows = [
    ("streams open on B", f"{fmt(opened)} of {asked}" + (f" (failures: {s['open_failures'] or 'none'}, dropped {s['dropped']})" if s else "")),
    ("B RSS idle / warm / all open / peak", f"{mib(rss_idle):.1f} / {mib(rss_warm):.1f} / {mib(rss_open):.1f} / {mib(peak_b):.1f} MiB"),
    ("B RSS per stream", f"{(rss_open - rss_warm) / max(opened or 1, 1):.1f} KiB ((all open - warm) / streams)"),
    ("A RSS peak", f"{mib(peak_a):.1f} MiB"),
    ("CPU B / A / streams client (cores)", f"{fmt(cpu(3), '.2f')} / {fmt(cpu(4), '.2f')} / {fmt(cpu(5), '.2f')} (sampled window)"),
    ("timed writes", f"{s['writes']['acked']} of {s['writes']['sent']} acknowledged" if s else "n/a"),
    ("deliveries (writer's own missed)", f"{d['deliveries']} ({d['own_missed']} of {d['own_expected']})" if d else "n/a"),
    ("delay 2xx A -> event B, every delivery", f"p50 {every['p50_ms']:.1f}  p90 {every['p90_ms']:.1f}  p99 {every['p99_ms']:.1f}  max {every['max_ms']:.1f} ms" if every else "n/a"),
    ("delay, first stream per write", f"p50 {d['first']['p50_ms']:.1f}  p90 {d['first']['p90_ms']:.1f}  p99 {d['first']['p99_ms']:.1f}  max {d['first']['max_ms']:.1f} ms" if d else "n/a"),
    ("delay, send on A -> first stream", f"p50 {d['first_from_send']['p50_ms']:.1f}  p90 {d['first_from_send']['p90_ms']:.1f}  p99 {d['first_from_send']['p99_ms']:.1f}  max {d['first_from_send']['max_ms']:.1f} ms" if d else "n/a"),
    ("loadtest default mix (A + B)", f"{l['overall']['throughput']:.0f} req/s, p99 {l['overall']['p99_ms']:.1f} ms, {l['stale_reads']} stale, {l['server_errors']} 5xx" if l else "n/a"),
    ("same, before the streams opened", f"{base['overall']['throughput']:.0f} req/s, p99 {base['overall']['p99_ms']:.1f} ms" if base else "n/a (BASELINE=0)"),
]
width = max(len(k) for k, _ in rows)
print("summary")
for k, v in rows:
    print(f"  {k.ljust(width)}  {v}")
target_rss = peak_b <= 256 * 1024 and opened == asked
target_delay = every is not None and every["count"] > 0 and every["p99_ms"] < 50
print(f"  {'target: all open within 256 MiB'.ljust(width)}  {'PASS' if target_rss else 'FAIL'}")
print(f"  {'target: p99 delay < 50 ms'.ljust(width)}  {'PASS' if target_delay else 'FAIL'}")
print(f"reports in {out}")
EOF
