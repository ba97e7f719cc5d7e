#!/usr/bin/env bash
# Cache performance of two binaries side by side (old vs new), on identical fresh data.
#
#   scripts/cache-side-by-side.sh BASE_BIN NEW_BIN [SECONDS, default 20] [CONCURRENCY, default 32]
#
# For each configuration, BASE then NEW (interleaved, so that both see the same machine load):
#   embedded  one instance, SQLite data dir + in-process cache (the defaults)
#   pg-redis  two instances on different ports sharing PostgreSQL and a Redis on port 6391
# each server start gets a fresh copy of BENCHMARK.md's `small` dataset, is polled on /readyz,
# warmed up for 5 s, then measured with NEW_BIN's load test, `--mix default` then
# `--mix read-only` (always the NEW binary's load test, so the client side is the same), with
# the servers' CPU time (utime + stime from /proc/PID/stat) over each measured window alone
# (bracketed by the load test's "loadtest: measuring" / "loadtest: measured" lines on stderr,
# so the logins before it and the clean-up after it are left out).
#
# Seeding: each binary seeds its own template once (`reelplan seed --dataset small`), so that a
# binary that adds a migration still finds its own schema; the generator is deterministic, so
# the rows are the same. SEED_WITH=new seeds one template with NEW_BIN for both. CONFIGS=embedded
# (or pg-redis) measures one configuration only. Every server
# start then gets a fresh copy of the template: `cp -r` of the SQLite data dir, and
# `CREATE DATABASE reelplan_bench_cache TEMPLATE ...` for PostgreSQL.
#
# Needs: PostgreSQL on 127.0.0.1:5432 (trust, user postgres), redis-server and redis-cli,
# python3, curl. Port 6391 and the server ports (PORT_BASE, default 18281, and the next one)
# must be free. Everything stays on 127.0.0.1. Reports go to OUT (default
# target/cache-side-by-side/<time>): per run the load test's text report, JSON and stderr.
set -euo pipefail

usage() {
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 2 && $# -le 4 ]] || usage
BASE_BIN=$(realpath "$1")
NEW_BIN=$(realpath "$2")
SECS=${3:-20}
CONC=${4:-32}
for bin in "$BASE_BIN" "$NEW_BIN"; do
  [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 2; }
done
[[ $SECS =~ ^[0-9]+$ && $SECS -gt 0 ]] || { echo "SECONDS must be a positive integer" >&2; exit 2; }
[[ $CONC =~ ^[0-9]+$ && $CONC -gt 0 ]] || { echo "CONCURRENCY must be a positive integer" >&2; exit 2; }
SEED_WITH=${SEED_WITH:-each}
CONFIGS=${CONFIGS:-embedded pg-redis}
for config in $CONFIGS; do
  [[ $config == embedded || $config == pg-redis ]] || { echo "CONFIGS holds embedded and pg-redis" >&2; exit 2; }
done
[[ $SEED_WITH == each || $SEED_WITH == new ]] || { echo "SEED_WITH is each or new" >&2; exit 2; }

cd "$(dirname "$0")/.."
WARMUP=5
HOST=127.0.0.1
PORT_A=${PORT_BASE:-18281}
PORT_B=$((PORT_A + 1))
REDIS_PORT=6391
REDIS_URL_L=redis://$HOST:$REDIS_PORT
PG_ADMIN=postgres://postgres@$HOST:5432/postgres
PG_DB=reelplan_bench_cache
PG_URL=postgres://postgres@$HOST:5432/$PG_DB
# A fixed throw-away signing secret, the same for every instance: a token issued by one
# instance must be accepted by the other.
JWT_SECRET=cache-side-by-side-benchmark-secret-not-for-production
CLK_TCK=$(getconf CLK_TCK)
OUT=${OUT:-target/cache-side-by-side/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
WORK=$(mktemp -d)
SERVER_PIDS=()
REDIS_STARTED=
TEMPLATE_DBS=()

psql_admin() { PGOPTIONS=--client-min-messages=warning psql "$PG_ADMIN" -qAt -v ON_ERROR_STOP=1 "$@"; }

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_servers
  # Any load test still running (our own background jobs only).
  local job
  for job in $(jobs -p); do kill -TERM "$job" 2>/dev/null || true; done
  if [[ -n $REDIS_STARTED ]]; then
    redis-cli -h $HOST -p $REDIS_PORT shutdown nosave >/dev/null 2>&1 || true
  fi
  psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  local db
  for db in "${TEMPLATE_DBS[@]}"; do
    psql_admin -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
require_free_ports "$PORT_A" "$PORT_B" "$REDIS_PORT"
require_postgres
start_private_redis "$REDIS_PORT"

# seed_templates LABEL BIN: the SQLite data dir $WORK/seed-LABEL and the database
# reelplan_bench_cache_seed_LABEL, seeded by BIN.
seed_templates() {
  local label=$1 bin=$2 db=${PG_DB}_seed_$1
  echo "=== seeding small with $bin ($label)"
  timeout 900 env -u DATABASE_URL -u REDIS_URL RUST_LOG=warn \
    "$bin" seed --dataset small --data-dir "$WORK/seed-$label" >"$OUT/seed-$label-sqlite.txt"
  TEMPLATE_DBS+=("$db")
  psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  timeout 900 env -u REDIS_URL RUST_LOG=warn "$bin" seed --dataset small \
    --data-dir "$WORK/seed-$label-pg" --database-url "postgres://postgres@$HOST:5432/$db" \
    >"$OUT/seed-$label-postgres.txt"
}

# Which template each binary uses: its own (SEED_WITH=each; one template when both paths are
# the same binary), or NEW's for both (SEED_WITH=new).
if [[ $SEED_WITH == new || $BASE_BIN == "$NEW_BIN" ]]; then
  seed_templates new "$NEW_BIN"
  TEMPLATE_BASE=new
else
  seed_templates base "$BASE_BIN"
  seed_templates new "$NEW_BIN"
  TEMPLATE_BASE=base
fi
TEMPLATE_NEW=new

# CPU clock ticks so far, as four columns: the running servers, every PostgreSQL process
# (its backends live as long as the servers' pooled connections), the private Redis, and the
# whole machine's busy time (everything but idle and iowait, from /proc/stat).
cpu_ticks() {
  local postgres=() comm pid
  for comm in /proc/[0-9]*/comm; do
    [[ $(<"$comm") == postgres ]] 2>/dev/null || continue
    pid=${comm#/proc/}
    postgres+=("${pid%/comm}")
  done 2>/dev/null
  local cpu user nice system idle iowait irq softirq steal
  read -r cpu user nice system idle iowait irq softirq steal _ </proc/stat
  echo "$(process_ticks "${SERVER_PIDS[@]}") $(process_ticks "${postgres[@]}")" \
    "$(process_ticks "$(<"$WORK/redis.pid")") $((user + nice + system + irq + softirq + steal))"
}

# start_server LOG PORT [env...]
start_server() {
  local log=$1 port=$2
  shift 2
  env -u DATABASE_URL -u REDIS_URL "$@" PORT="$port" REELPLAN_BIND=$HOST \
    REELPLAN_JWT_SECRET=$JWT_SECRET RUST_LOG=warn "${SERVE_BIN:?}" serve 2>"$log" &
  SERVER_PIDS+=($!)
}

# loadtest NAME MIX DURATION URL_FLAGS...: NEW_BIN's load test; the CPU ticks (cpu_ticks) at
# the start and the end of the measured window go to NAME.cpu.
loadtest() {
  local name=$1 mix=$2 duration=$3
  shift 3
  : >"$RUN/$name.cpu"
  {
    timeout $((duration + 300)) "$NEW_BIN" loadtest "$@" --duration "${duration}s" \
      --concurrency "$CONC" --dataset small --mix "$mix" --json "$RUN/$name.json" \
      2>&1 >"$RUN/$name.txt" || echo "loadtest: exited with status $?"
  } | while IFS= read -r line; do
    printf '%s\n' "$line" >>"$RUN/$name.stderr"
    case $line in
      "loadtest: measuring"*) echo "start $(cpu_ticks)" >>"$RUN/$name.cpu" ;;
      "loadtest: measured"*) echo "end $(cpu_ticks)" >>"$RUN/$name.cpu" ;;
    esac
  done
  grep -h "exited with status" "$RUN/$name.stderr" 2>/dev/null | sed "s/^/  $name: /" >&2 || true
}

: >"$OUT/runs.tsv"
# measure CONFIG LABEL BIN
measure() {
  local config=$1 label=$2 template
  SERVE_BIN=$3
  [[ $label == base ]] && template=$TEMPLATE_BASE || template=$TEMPLATE_NEW
  RUN=$OUT/$config-$label
  mkdir -p "$RUN"
  echo "=== $config, $label ($SERVE_BIN): ${WARMUP}s warm-up, then ${SECS}s default, ${SECS}s read-only"
  redis-cli -h $HOST -p $REDIS_PORT flushall >/dev/null
  local urls=(--url "http://$HOST:$PORT_A") redis_flag=()
  case $config in
    embedded)
      rm -rf "$WORK/run"
      cp -r "$WORK/seed-$template" "$WORK/run"
      start_server "$RUN/server-a.log" $PORT_A REELPLAN_DATA_DIR="$WORK/run"
      ;;
    pg-redis)
      psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" \
        -c "CREATE DATABASE $PG_DB TEMPLATE ${PG_DB}_seed_$template"
      rm -rf "$WORK/run-a" "$WORK/run-b"
      mkdir -p "$WORK/run-a" "$WORK/run-b"
      local shared=(DATABASE_URL="$PG_URL" REDIS_URL="$REDIS_URL_L")
      start_server "$RUN/server-a.log" $PORT_A REELPLAN_DATA_DIR="$WORK/run-a" "${shared[@]}"
      start_server "$RUN/server-b.log" $PORT_B REELPLAN_DATA_DIR="$WORK/run-b" "${shared[@]}"
      urls+=(--url "http://$HOST:$PORT_B")
      redis_flag=(--redis-url "$REDIS_URL_L")
      ;;
  esac
  wait_ready $PORT_A "${SERVER_PIDS[0]}"
  [[ $config == pg-redis ]] && wait_ready $PORT_B "${SERVER_PIDS[1]}"
  loadtest warmup default $WARMUP "${urls[@]}"
  loadtest default default "$SECS" "${urls[@]}" "${redis_flag[@]}"
  loadtest read-only read-only "$SECS" "${urls[@]}" "${redis_flag[@]}"
  stop_servers
  printf '%s\t%s\t%s\n' "$config" "$label" "$RUN" >>"$OUT/runs.tsv"
}

for config in $CONFIGS; do
  measure "$config" base "$BASE_BIN"
  measure "$config" new "$NEW_BIN"
done

echo
echo "BASE $BASE_BIN"
echo "NEW  $NEW_BIN"
echo "${SECS}s per measured run, $CONC workers, dataset small; load test: NEW's; reports in $OUT"
python3 - "$OUT/runs.tsv" "$CLK_TCK" <<'EOF'
import json, os, sys

runs_tsv, clk_tck = sys.argv[1], int(sys.argv[2])

def load(run, name):
    try:
        with open(os.path.join(run, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def cpu_seconds(run, name):
    """CPU seconds over the measured window: (servers, PostgreSQL, Redis, machine busy)."""
    marks = {}
    try:
        with open(os.path.join(run, name + ".cpu")) as f:
            for line in f:
                key, *values = line.split()
                marks[key] = [int(v) for v in values]
    except (OSError, ValueError):
        return None
    if "start" not in marks or "end" not in marks:
        return None
    return tuple((e - s) / clk_tck for s, e in zip(marks["start"], marks["end"]))

def fmt(value, spec, suffix=""):
    return "n/a" if value is None else format(value, spec) + suffix

rows, throughput, splits = [], {}, []
with open(runs_tsv) as f:
    for line in f:
        config, label, run = line.rstrip("\n").split("\t")
        d, r = load(run, "default"), load(run, "read-only")
        d_rps = d["overall"]["throughput"] if d else None
        r_rps = r["overall"]["throughput"] if r else None
        throughput[(config, label)] = (d_rps, r_rps)
        share = d_rps / r_rps * 100 if d_rps is not None and r_rps else None
        cpu = cpu_seconds(run, "read-only")
        r_requests = r["overall"]["requests"] + r["read_back"]["requests"] if r else 0
        cpu_us = cpu[0] * 1e6 / r_requests if cpu is not None and r_requests else None
        split = cpu_seconds(run, "default")
        if split is not None and split[3] > 0:
            servers, postgres, redis, busy = split
            rest = max(busy - servers - postgres - redis, 0.0)
            splits.append(f"  {config:<10} {label:<5} " + "  ".join(
                f"{name} {part / busy * 100:4.1f}%" for name, part in
                (("servers", servers), ("postgres", postgres), ("redis", redis), ("rest", rest))))
        trips = lambda rep: rep.get("redis_round_trips_per_hit") if rep else None
        stale = sum(rep["stale_reads"] for rep in (d, r) if rep) if d or r else None
        errors = sum(rep["server_errors"] for rep in (d, r) if rep) if d or r else None
        rows.append([
            config, label, fmt(d_rps, ".0f"), fmt(r_rps, ".0f"), fmt(share, ".1f", "%"),
            fmt(d["overall"]["cache_hit_ratio"] * 100 if d and d["overall"]["cache_hit_ratio"] is not None else None, ".1f", "%"),
            fmt(d["overall"]["mean_statements"] if d else None, ".2f"),
            fmt(cpu_us, ".0f"),
            fmt(trips(d), ".2f") + " / " + fmt(trips(r), ".2f"),
            fmt(stale, "d"), fmt(errors, "d"),
        ])

head = ["config", "binary", "default req/s", "read-only req/s", "default/RO", "hit (def)",
        "stmts/call (def)", "CPU us/req (RO)", "redis RT/hit (def / RO)", "stale", "5xx"]
widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(cells, widths)))
print()
print(line(head))
print("  ".join("-" * w for w in widths))
for row in rows:
    print(line(row))
print()
print("NEW / BASE throughput")
for config in dict.fromkeys(c for c, _ in throughput):
    base, new = throughput.get((config, "base")), throughput.get((config, "new"))
    ratio = lambda i: (fmt(new[i] / base[i], ".3f") if base and new and base[i] and new[i] is not None else "n/a")
    print(f"  {config:<10} default {ratio(0)}   read-only {ratio(1)}")
print()
print("Where the machine's busy CPU went during the default mix (rest: the load generator and "
      "everything else)")
for split in splits:
    print(split)
print()
print("stale and 5xx: both measured runs together (5xx includes transport errors); CPU: all "
      "server processes of the configuration over the read-only run's measured window; redis "
      "RT/hit: growth of reelplan_redis_round_trips_total over the run / X-Cache hits (n/a: "
      "the binary does not expose it)")
EOF
