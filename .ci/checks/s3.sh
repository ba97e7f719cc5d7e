#!/usr/bin/env bash
# The file story against an S3-compatible server: moto's emulator (from PyPI), started by
# .ci/s3-emulator.sh, and crates/reelplan-server/tests/s3.rs pointed at it.
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(bash .ci/s3-emulator.sh)"
cargo test --locked -p reelplan-server --test s3 -- --nocapture
