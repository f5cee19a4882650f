#!/usr/bin/env bash
# Heap per open /sse/status stream: jmap -histo:live of the service (in-memory registry) before and
# after N streams of two users each, the difference divided by N, and the classes that grew most.
#   bench/sse-status-heap.sh [N]      (default 2000; builds the jar if it is missing)
set -euo pipefail
N="${1:-2000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JDK=/usr/lib/jvm/temurin-25-jdk-amd64/bin
[[ -x $JDK/java ]] || JDK="$(dirname "$(readlink -f "$(command -v java)")")"
JAR="$ROOT/target/quarkus-app/quarkus-run.jar"
[[ -f $JAR ]] || (cd "$ROOT" && ./mvnw -q -B package -DskipTests)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
OUT="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

"$JDK/java" -Dquarkus.http.port="$PORT" -jar "$JAR" >"$OUT/server.log" 2>&1 & SERVER=$!; pids+=("$SERVER")
until curl -sf "localhost:$PORT/q/health/ready" >/dev/null; do sleep 0.5; done
# warm the path once, so the classes it loads are not counted as the streams'
node "$ROOT/bench/peers/sse-streams.js" "$PORT" 50 >"$OUT/warm" & W=$!
until grep -q READY "$OUT/warm"; do sleep 0.2; done; kill $W; wait $W 2>/dev/null || true
"$JDK/jmap" -histo:live "$SERVER" >"$OUT/before"
node "$ROOT/bench/peers/sse-streams.js" "$PORT" "$N" >"$OUT/open" & pids+=($!)
until grep -q READY "$OUT/open"; do sleep 0.5; done
"$JDK/jmap" -histo:live "$SERVER" >"$OUT/after"
echo "JDK: $("$JDK/java" -version 2>&1 | head -1)"
python3 - "$OUT/before" "$OUT/after" "$N" <<'PY'
import sys
def load(path):
    rows = {}
    for line in open(path):
        p = line.split()
        if len(p) >= 4 and p[0].endswith(':'):
            rows[p[3]] = (int(p[1]), int(p[2]))
    return rows
before, after, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
grown = sorted(((a[1] - before.get(k, (0, 0))[1], a[0] - before.get(k, (0, 0))[0], k) for k, a in after.items()), reverse=True)
print(f"heap per /sse/status stream: {sum(g[0] for g in grown) // n} B ({n} streams, 2 users each)")
for size, count, name in grown[:12]:
    print(f"  {size // n:6d} B  {count / n:6.2f}  {name}")
PY
