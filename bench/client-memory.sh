#!/usr/bin/env bash
# What browsers' connections cost the server beyond what the load driver's do (docs/benchmarks.md,
# "What browsers bring"). The in-memory registry; the server on CPU 0, the clients (Node) on CPU 1.
#   bench/client-memory.sh token [N]    heap per joined connection, a ~1 KB JWT in the query against the same token
#                                       in the Authorization header (default N 2000)
#   bench/client-memory.sh deflate [N]  memory per joined connection of clients that offer permessage-deflate and
#                                       compress what they send (40 KB each), against clients that offer nothing
#   bench/client-memory.sh bomb         the server's peak RSS around one 50 MiB message that deflates to ~51 KB
# BENCH_COPRESENCE_JAR picks the build (default target/quarkus-app/quarkus-run.jar, built when missing).
set -euo pipefail
WHAT="${1:?token | deflate | bomb}"; N="${2:-2000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JBIN=/usr/lib/jvm/temurin-25-jdk-amd64/bin
[[ -x $JBIN/java ]] || JBIN="$(dirname "$(readlink -f "$(command -v java)")")"
JAR="${BENCH_COPRESENCE_JAR:-$ROOT/target/quarkus-app/quarkus-run.jar}"
[[ -f $JAR ]] || (cd "$ROOT" && ./mvnw -q -B package -DskipTests)
[[ -d $ROOT/bench/peers/node_modules/ws ]] || (cd "$ROOT/bench/peers" && npm ci --no-audit --no-fund >/dev/null)
CLIENTS="$ROOT/bench/peers/memory-clients.js"
# taskset execs what it runs: $! is then the process itself
CPU0=(); CPU1=(); if command -v taskset >/dev/null; then CPU0=(taskset -c 0); CPU1=(taskset -c 1); fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK="$(mktemp -d)"; SERVER=""; pids=()
trap 'kill "${pids[@]}" $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

start_server() {
  "${CPU0[@]}" "$JBIN/java" "$@" -Dquarkus.http.port="$PORT" -jar "$JAR" >"$WORK/server.log" 2>&1 & SERVER=$!
  until curl -sf "localhost:$PORT/q/health/ready" >/dev/null; do sleep 0.3; kill -0 "$SERVER" || exit 1; done
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
heap_kb() { "$JBIN/jcmd" "$SERVER" GC.run >/dev/null; sleep 1
  "$JBIN/jstat" -gc "$SERVER" | awk 'NR==1{for(i=1;i<=NF;i++)h[$i]=i} NR==2{printf "%d", $h["S0U"]+$h["S1U"]+$h["EU"]+$h["OU"]}'; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$SERVER/status"; }
# open_clients N ARGS...: opens them in the background (left open until the server stops), waits until all are in
open_clients() {
  local n="$1" out="$WORK/clients.$RANDOM"; shift
  "${CPU1[@]}" node "$CLIENTS" sockets "$PORT" "$n" "$@" >"$out" 2>&1 & pids+=($!)
  until grep -q READY "$out"; do sleep 0.3; kill -0 "${pids[-1]}" 2>/dev/null || { cat "$out"; exit 1; }; done
  LAST_READY="$(grep READY "$out")"
}
per_conn() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN{printf "%.0f", (b - a) * 1024 / n}'; }

echo "JDK: $("$JBIN/java" -version 2>&1 | head -1); build: $JAR"
case "$WHAT" in
  token)
    node "$CLIENTS" keys "$WORK"
    for auth in header query; do
      start_server -Xmx1g -Dcopresence.auth.mode=jwt -Dcopresence.auth.api-key=bench \
        -Dmp.jwt.verify.publickey.location="$WORK/public.pem" -Dmp.jwt.verify.issuer=https://copresence.bench
      open_clients 50 "$auth" off 0 "$WORK" # the path warmed and its classes loaded before the baseline
      h0="$(heap_kb)"; open_clients "$N" "$auth" off 0 "$WORK"; h1="$(heap_kb)"
      echo "token in the $auth: $(per_conn "$h0" "$h1") B of heap per connection ($LAST_READY)"
      stop_server; kill "${pids[@]}" 2>/dev/null || true; pids=()
    done ;;
  deflate)
    for deflate in off on; do
      # the heap committed and touched from the start: what RSS gains is memory outside the heap
      start_server -Xms1g -Xmx1g -XX:+AlwaysPreTouch
      open_clients 50 plain "$deflate" 40000
      h0="$(heap_kb)"; r0="$(rss_kb)"; open_clients "$N" plain "$deflate" 40000; h1="$(heap_kb)"; r1="$(rss_kb)"
      echo "compression offered and used: $deflate: $(per_conn "$r0" "$r1") B outside the heap and $(per_conn "$h0" "$h1") B of heap per connection ($LAST_READY)"
      stop_server; kill "${pids[@]}" 2>/dev/null || true; pids=()
    done ;;
  bomb)
    start_server -Xmx1g
    before="$(awk '/^VmHWM/{print $2}' "/proc/$SERVER/status")"
    result="$("${CPU1[@]}" node "$CLIENTS" bomb "$PORT" 50)"
    sleep 1; after="$(awk '/^VmHWM/{print $2}' "/proc/$SERVER/status")"
    echo "one 50 MiB message, compressed if the server lets it: $result; the server's peak RSS $before -> $after KiB"
    stop_server ;;
  *) echo "unknown: $WHAT (token, deflate, bomb)" >&2; exit 2 ;;
esac
