#!/usr/bin/env bash
# Server-side time of a cache HIT vs a MISS for the project list and the project detail.
# Two release servers on copies of the same seeded `small` data, one with REELPLAN_CACHE=off,
# queried alternately 400 times each over keep-alive connections; the time is the server's
# own (Server-Timing db + app), so the client and the network are left out.
#
#   scripts/hit-vs-miss.sh        (needs a release build, or BIN=path/to/reelplan)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/reelplan}
D=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$D"' EXIT
"$BIN" seed --dataset small --data-dir "$D/on" >/dev/null 2>&1
cp -r "$D/on" "$D/off"
PORT=18090 REELPLAN_DATA_DIR="$D/on" RUST_LOG=warn "$BIN" serve 2>/dev/null &
PORT=18091 REELPLAN_DATA_DIR="$D/off" REELPLAN_CACHE=off RUST_LOG=warn "$BIN" serve 2>/dev/null &
for _ in $(seq 100); do
  curl -fs localhost:18090/healthz >/dev/null && curl -fs localhost:18091/healthz >/dev/null && break
  sleep 0.2
done
python3 - <<'EOF'
import http.client, json, re, statistics

def login(port):
    c = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"email": "user1@example.com", "password": "password1"})
    c.request("POST", "/api/auth/login", body, {"content-type": "application/json"})
    return c, json.loads(c.getresponse().read())["result"]["token"]

on, tok_on = login(18090)
off, tok_off = login(18091)

def server_ms(conn, path, tok):
    conn.request("GET", path, headers={"authorization": "Bearer " + tok})
    r = conn.getresponse()
    body = r.read()
    timing = r.getheader("server-timing")
    ms = sum(float(x) for x in re.findall(r"(?:db|app);dur=([\d.]+)", timing))
    return ms, r.getheader("x-cache"), body

_, _, first = server_ms(on, "/api/projects", tok_on)
pid = json.loads(first)["result"][0]["id"]
for name, path in [("list (user1: ~300 projects, first page)", "/api/projects"),
                   ("project detail", f"/api/projects/{pid}")]:
    server_ms(on, path, tok_on)  # the first read is the miss; every later one a hit
    hits, misses, outcomes = [], [], set()
    for _ in range(400):
        ms, cache, body = server_ms(on, path, tok_on)
        hits.append(ms)
        outcomes.add(cache)
        misses.append(server_ms(off, path, tok_off)[0])
    h, m = statistics.median(hits), statistics.median(misses)
    p90 = lambda xs: statistics.quantiles(xs, n=10)[-1]
    print(f"{name}: {len(body)} bytes; HIT median {h*1000:.0f} us (p90 {p90(hits)*1000:.0f}), "
          f"MISS median {m*1000:.0f} us (p90 {p90(misses)*1000:.0f}); MISS/HIT {m/h:.0f}x; X-Cache {sorted(outcomes)}")
EOF
