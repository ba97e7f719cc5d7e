#!/usr/bin/env bash
# Lints the OpenAPI document (`reelplan openapi`, what /openapi.json serves) with Redocly's
# recommended rules, every problem an error, so client generators and standard tooling accept
# it. Redocly CLI comes from the npm registry through npx (REDOCLY_VERSION, default 2.77.0);
# Node.js is installed from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION="${REDOCLY_VERSION:-2.77.0}"
if ! command -v npx >/dev/null 2>&1; then
  echo "openapi-lint: installing Node.js"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cargo run --locked --quiet -- openapi >"$WORK/openapi.json"
cp .ci/redocly/redocly.yaml .ci/redocly/.redocly.lint-ignore.yaml "$WORK/"
(cd "$WORK" && npx --yes "@redocly/cli@$VERSION" lint openapi.json --config redocly.yaml \
  2>&1 | grep -vE '[║╔╚]') || { echo "openapi-lint: FAILED" >&2; exit 1; }
echo "openapi-lint: passed"
