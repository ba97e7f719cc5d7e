#!/usr/bin/env bash
# Supply-chain policy of deny.toml: licenses, banned/duplicate crates and sources, with
# cargo-deny. Offline-safe: the advisories check (a database cloned from GitHub) is not run.
#
# When cargo-deny is not installed the check is skipped with a clear line, unless
# REELPLAN_CI_INSTALL_DENY=1, which installs it first (`cargo install cargo-deny --locked`,
# about 10 minutes on 2 cores; needs crates.io).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! cargo deny --version >/dev/null 2>&1; then
  if [ "${REELPLAN_CI_INSTALL_DENY:-0}" = "1" ]; then
    echo "cargo-deny: installing (cargo install cargo-deny --locked)"
    cargo install cargo-deny --locked --quiet
  else
    echo "cargo-deny: skipped: cargo-deny not installed (set REELPLAN_CI_INSTALL_DENY=1 to install it)"
    exit 0
  fi
fi

echo "cargo-deny: $(cargo deny --version)"
# --locked: check the tree Cargo.lock pins, without touching the lock file.
cargo deny --locked check --hide-inclusion-graph licenses bans sources
