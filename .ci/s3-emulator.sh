#!/usr/bin/env bash
# Starts an S3-compatible emulator (moto's server, from PyPI) in the background for
# crates/reelplan-server/tests/s3.rs, and prints on stdout the environment that test reads:
#
#   eval "$(bash .ci/s3-emulator.sh)"
#   cargo test -p reelplan-server --test s3 -- --nocapture
#
# Idempotent: an emulator already answering on the port is reused, and moto is installed only
# when it is missing. Bounded: gives up (exit 1) when the install fails or the server does not
# answer within 30 s. Progress goes to stderr, so only the exports reach `eval`.
# Port: REELPLAN_S3_PORT (default 9327). Log: ${TMPDIR:-/tmp}/reelplan-s3-emulator.log.
set -euo pipefail

PORT="${REELPLAN_S3_PORT:-9327}"
ENDPOINT="http://127.0.0.1:${PORT}"
LOG="${TMPDIR:-/tmp}/reelplan-s3-emulator.log"
PYTHON="$(command -v python3 || command -v python || true)"

say() { printf 's3-emulator: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# An S3 server lists the buckets at `/`: that answer, not an open port, is what counts.
answers() {
  curl -fsS --max-time 2 "${ENDPOINT}/" 2>/dev/null | grep -q "ListAllMyBucketsResult"
}

if answers; then
  say "already answering at ${ENDPOINT}"
else
  [ -n "$PYTHON" ] || die "no python3 to run moto's server"
  if ! "$PYTHON" -c "import moto.server, flask, flask_cors" >/dev/null 2>&1; then
    say "installing moto[server] from PyPI"
    # Bounded too: a registry that hangs must not hold CI.
    timeout 300 "$PYTHON" -m pip install --quiet --disable-pip-version-check \
      'moto[server]>=5,<6' >&2 || die "pip install 'moto[server]' failed"
  fi
  # Port taken by something that is not an S3 server: say so rather than wait in vain.
  if command -v ss >/dev/null && ss -ltn "sport = :${PORT}" | grep -q LISTEN; then
    die "port ${PORT} is taken by something that does not answer as S3; set REELPLAN_S3_PORT"
  fi
  say "starting moto's server on ${ENDPOINT} (log: ${LOG})"
  # setsid + nohup: the server outlives this script and the shell that ran it.
  setsid nohup "$PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 60); do
    answers && break
    sleep 0.5
  done
  answers || die "moto's server did not answer at ${ENDPOINT} within 30 s; see ${LOG}"
  say "up at ${ENDPOINT}"
fi

# The test creates its bucket and sets the AWS_* variables the object store reads (any
# credentials do for moto) from this one variable.
echo "export REELPLAN_TEST_S3_ENDPOINT=${ENDPOINT}"
