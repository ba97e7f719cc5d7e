#!/usr/bin/env bash
# Property-based API fuzzing of the live server with schemathesis, against its own
# /openapi.json: every operation gets a bounded number of generated requests (valid and
# invalid), and the run fails on any 5xx or on any response that does not match the document.
#
# Expects target/release/reelplan to be built (`cargo build --release`). Installs schemathesis
# once into target/schemathesis-venv. The server runs on the embedded SQLite in a temporary
# data folder on a free local port, whatever DATABASE_URL / REDIS_URL say, so a CI run never
# writes into a shared database.
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 25 per operation), SCHEMATHESIS_SEED (for
# a reproducible run), SCHEMATHESIS_VERSION (pip requirement, default "schemathesis>=4,<5"),
# SCHEMATHESIS_DATABASE_URL (a scratch database to run on instead of SQLite).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=target/release/reelplan
VENV=target/schemathesis-venv
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
REQUIREMENT="${SCHEMATHESIS_VERSION:-schemathesis>=4,<5}"

[ -x "$BIN" ] || { echo "schemathesis: $BIN is missing; run cargo build --release first" >&2; exit 1; }

# Install once; later runs only check the import (quiet, and no network when present).
if ! "$VENV/bin/python" -c 'import schemathesis' >/dev/null 2>&1; then
  echo "schemathesis: installing into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$REQUIREMENT"
fi
echo "schemathesis: $("$VENV/bin/schemathesis" --version)"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    # Bounded wait for the graceful shutdown, then make sure.
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A free port: bind port 0 and read what the kernel picked. A tiny race with other programs
# remains; the health poll below fails fast if someone else took it.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"

# Cheap password hashing and a small upload limit: this is a throwaway instance and the fuzzer
# signs up and uploads a lot. The login limiter stays on (its 429 is part of the contract).
# SCHEMATHESIS_DATABASE_URL runs it on another database instead (a scratch one: it is
# migrated and filled with fuzz data), e.g. to fuzz the PostgreSQL store.
db=()
[ -n "${SCHEMATHESIS_DATABASE_URL:-}" ] && db=(DATABASE_URL="$SCHEMATHESIS_DATABASE_URL")
env -u DATABASE_URL -u REDIS_URL "${db[@]}" \
  REELPLAN_DATA_DIR="$WORK/data" \
  REELPLAN_BIND=127.0.0.1 PORT="$PORT" \
  REELPLAN_JWT_SECRET="schemathesis-only-$(date +%s%N)-secret-padding" \
  REELPLAN_ARGON2_MEMORY_KIB=1024 REELPLAN_ARGON2_ITERATIONS=1 \
  REELPLAN_MAX_UPLOAD_BYTES=1048576 \
  REELPLAN_SHUTDOWN_GRACE_SECS=2 \
  "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

# Bounded readiness poll (at most ~30 s), failing at once if the server died.
ready=""
for _ in $(seq 300); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "schemathesis: the server did not answer /healthz; its log:" >&2
  tail -n 50 "$WORK/server.log" >&2
  exit 1
fi

SIGNUP='{"email":"fuzzer@example.com","password":"password-fuzzer","nickname":"fuzzer"}'
TOKEN="$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$SIGNUP" "$BASE/api/auth/signup" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["token"])')"
[ -n "$TOKEN" ] || { echo "schemathesis: signup returned no token" >&2; exit 1; }

# One project of the fuzzer's own, so that `{id}` = 1 reaches past the membership check.
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $TOKEN" -d '{"name":"fuzzed"}' "$BASE/api/projects"

# The video upload's body is documented as `video/*`, a media range that schemathesis has no
# serializer for; send generated bodies as raw bytes under video/mp4 (which the range matches).
cat >"$WORK/reelplan_hooks.py" <<'HOOKS'
import schemathesis


@schemathesis.serializer("video/mp4")
def raw_video(ctx, value):
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode()
HOOKS

# Aim project-scoped operations at the fuzzer's own project (id 1), so generated bodies get
# past the membership check into validation and storage; random ids only ever reach the 404.
# Deleting it is aimed elsewhere, or it would send every later case back to 404.
cat >"$WORK/schemathesis.toml" <<'CONFIG'
[parameters]
"path.id" = 1

[[operations]]
include-name = "DELETE /api/projects/{id}"
parameters = { "path.id" = 424242 }

# A live-update stream's 200 never ends, so a fuzzer would wait on it to its timeout;
# tests/events.rs drives it over a socket instead.
[[operations]]
include-name = "GET /api/events"
enabled = false
CONFIG

seed=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed=(--seed "$SCHEMATHESIS_SEED")
status=0
# Run from the temporary folder: schemathesis keeps a crash cache (.schemathesis/) in the
# working directory, which must not land in the checkout.
ROOT="$PWD"
(cd "$WORK" && PYTHONPATH="$WORK" SCHEMATHESIS_HOOKS=reelplan_hooks \
  "$ROOT/$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" \
  run "$BASE/openapi.json" \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --workers 2 \
  --request-timeout 15 \
  --no-color "${seed[@]}" \
  >"$WORK/schemathesis.log" 2>&1) || status=$?

# Errors, failures and the summary; the whole log only when the run failed.
if [ "$status" -ne 0 ]; then cat "$WORK/schemathesis.log"; else tail -n "${SCHEMATHESIS_TAIL:-25}" "$WORK/schemathesis.log"; fi
# schemathesis's own count, from its summary ("Test cases: N generated, M passed ...").
CASES="$(grep -A1 '^Test cases:' "$WORK/schemathesis.log" | tail -n 1 | sed 's/^ *//')"
echo "schemathesis: test cases: ${CASES:-none counted} (at most $MAX_EXAMPLES examples per operation in the fuzzing phase)"

if grep -q "panicked" "$WORK/server.log"; then
  echo "schemathesis: the server panicked:" >&2
  grep -A3 "panicked" "$WORK/server.log" | head -n 40 >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "schemathesis: passed" || echo "schemathesis: FAILED (exit $status)" >&2
exit "$status"
