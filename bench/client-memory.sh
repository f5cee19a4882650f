#!/usr/bin/env bash
# What browsers' connections cost the server beyond what the load driver's do (docs/benchmarks.md,
# "What browsers bring"). The in-memory registry; the server on CPU 0, the clients (Node) on CPU 1.
#   bench/client-memory.sh token [N]    heap per joined connection, a ~1 KB JWT in the query against the same token
#                                       in the Authorization header (default N 2000)
#   bench/client-memory.sh deflate [N]  memory per joined connection of clients that offer permessage-deflate and
#                                       compress what they send (40 KB each), against clients that offer nothing
#   bench/client-memory.sh bomb         the server's peak RSS around one 50 MiB message that deflates to ~51 KB
#   bench/client-memory.sh pings        the server's peak RSS and direct buffers while one client sends up to 300,000
#                                       pings (125 bytes each) and reads nothing
# BENCH_COPRESENCE_JAR picks the build (default target/quarkus-app/quarkus-run.jar, built when missing).
set -euo pipefail
shopt -s inherit_errexit
WHAT="${1:?token | deflate | bomb | pings}"; N="${2:-2000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JBIN=/usr/lib/jvm/temurin-25-jdk-amd64/bin
if [[ ! -x $JBIN/java ]]; then
  command -v java >/dev/null || { echo "no java on the PATH" >&2; exit 1; }
  JBIN="$(dirname "$(readlink -f "$(command -v java)")")"
fi
if [[ -n ${BENCH_COPRESENCE_JAR:-} ]]; then
  JAR="$BENCH_COPRESENCE_JAR"; [[ -f $JAR ]] || { echo "no such build: $JAR" >&2; exit 1; }
else
  JAR="$ROOT/target/quarkus-app/quarkus-run.jar"; [[ -f $JAR ]] || (cd "$ROOT" && ./mvnw -q -B package -DskipTests)
fi
[[ -d $ROOT/bench/peers/node_modules/ws ]] || (cd "$ROOT/bench/peers" && npm ci --no-audit --no-fund >/dev/null)
CLIENTS="$ROOT/bench/peers/memory-clients.js"
# taskset execs what it runs: $! is then the process itself
CPU0=(); CPU1=(); if command -v taskset >/dev/null; then CPU0=(taskset -c 0); CPU1=(taskset -c 1); fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK="$(mktemp -d)"; SERVER=""; pids=()
trap 'kill "${pids[@]}" $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

fail() { echo "$1" >&2; [[ -f $WORK/server.log ]] && tail -20 "$WORK/server.log" >&2; exit 1; }
# await SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds, or fail
await() {
  local limit=$(( $1 * 5 )) what="$2" i=0; shift 2
  until "$@" 2>/dev/null; do
    sleep 0.2; i=$((i + 1)); (( i < limit )) || fail "timed out: $what"
    [[ -z $SERVER ]] || kill -0 "$SERVER" 2>/dev/null || fail "the server died: $what"
  done
}
start_server() {
  "${CPU0[@]}" "$JBIN/java" "$@" -Dquarkus.http.port="$PORT" -jar "$JAR" >"$WORK/server.log" 2>&1 & SERVER=$!
  await 60 "the server's start" curl -sf "localhost:$PORT/q/health/ready" -o /dev/null
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
heap_kb() {
  "$JBIN/jcmd" "$SERVER" GC.run >/dev/null || fail "jcmd GC.run failed"
  sleep 1
  "$JBIN/jstat" -gc "$SERVER" | awk 'NR==1{for(i=1;i<=NF;i++)h[$i]=i} NR==2{printf "%d", $h["S0U"]+$h["S1U"]+$h["EU"]+$h["OU"]}'
}
proc_kb() { awk -v k="$1:" '$1==k{print $2}' "/proc/$SERVER/status"; }
# open_clients N ARGS...: opens them in the background (left open until the server stops), waits until all are in
open_clients() {
  local n="$1" out="$WORK/clients.${#pids[@]}"; shift
  "${CPU1[@]}" node "$CLIENTS" sockets "$PORT" "$n" "$@" >"$out" 2>&1 & pids+=($!)
  await 120 "$n clients ($(head -c 300 "$out" 2>/dev/null))" grep -q READY "$out"
  LAST_READY="$(grep READY "$out")"
}
stop_clients() { kill "${pids[@]}" 2>/dev/null || true; pids=(); }
# restart_peak ARGS...: one client (memory-clients.js sockets ARGS) runs the path first, so that its classes and
# JIT are not what is measured; then the server's peak RSS starts again from here, in PEAK_BEFORE (KiB)
restart_peak() {
  open_clients 1 "$@" warm; stop_clients
  echo 5 >"/proc/$SERVER/clear_refs"
  PEAK_BEFORE="$(proc_kb VmHWM)"
}
kib_per_conn() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN{printf "%.2f", (b - a) / n}'; }

echo "JDK: $("$JBIN/java" -version 2>&1 | head -1); build: $JAR"
case "$WHAT" in
  token)
    node "$CLIENTS" keys "$WORK"
    for auth in header query; do
      start_server -Xmx1g -Dcopresence.auth.mode=jwt -Dcopresence.auth.api-key=bench \
        -Dmp.jwt.verify.publickey.location="$WORK/public.pem" -Dmp.jwt.verify.issuer=https://copresence.bench
      open_clients 50 "$auth" off 0 "$WORK" warm # the path run and its classes loaded before the baseline
      h0="$(heap_kb)"; open_clients "$N" "$auth" off 0 "$WORK"; h1="$(heap_kb)"
      echo "token in the $auth: $(kib_per_conn "$h0" "$h1") KiB of heap per connection ($LAST_READY)"
      stop_server; stop_clients
    done ;;
  deflate)
    for deflate in off on; do
      # the heap committed and touched from the start: what RSS gains is memory outside the heap
      start_server -Xms1g -Xmx1g -XX:+AlwaysPreTouch
      open_clients 50 plain "$deflate" 40000 "" warm
      h0="$(heap_kb)"; r0="$(proc_kb VmRSS)"; open_clients "$N" plain "$deflate" 40000; h1="$(heap_kb)"; r1="$(proc_kb VmRSS)"
      echo "compression offered and used: $deflate: $(kib_per_conn "$r0" "$r1") KiB outside the heap and $(kib_per_conn "$h0" "$h1") KiB of heap per connection ($LAST_READY)"
      stop_server; stop_clients
    done ;;
  bomb)
    start_server -Xmx1g
    restart_peak plain on 40000 "" # a first connection's own cost is not the bomb's
    result="$(timeout 60 "${CPU1[@]}" node "$CLIENTS" bomb "$PORT" 50)" || fail "the bomb client did not finish"
    sleep 1; after="$(proc_kb VmHWM)"
    echo "one 50 MiB message, compressed if the server lets it: $result; the server's peak RSS $((PEAK_BEFORE / 1024)) -> $((after / 1024)) MiB"
    stop_server ;;
  pings)
    start_server -Xmx1g
    restart_peak plain off 0 ""
    # the pongs waiting for the client are direct buffers: their most, sampled while it pings
    echo 0 >"$WORK/direct-max"
    ( max=0; while sleep 0.5; do
        v="$(curl -sf --max-time 2 "localhost:$PORT/q/metrics" | awk '/^jvm_buffer_memory_used_bytes\{id="direct"/{printf "%d", $NF; exit}')" || continue
        if (( ${v:-0} > max )); then max=$v; echo "$max" >"$WORK/direct-max"; fi
      done ) & pids+=($!)
    result="$(timeout 60 "${CPU1[@]}" node "$CLIENTS" pings "$PORT" 300000)" || fail "the pinging client did not finish"
    sleep 1; after="$(proc_kb VmHWM)"
    echo "a client that pings and reads nothing: $result; the server's peak RSS $((PEAK_BEFORE / 1024)) -> $((after / 1024)) MiB, direct buffers at most $(awk '{printf "%.1f", $1 / 1048576}' "$WORK/direct-max") MiB (sampled every 0.5 s)"
    stop_server ;;
  *) echo "unknown: $WHAT (token, deflate, bomb, pings)" >&2; exit 2 ;;
esac
