#!/usr/bin/env bash
# What N idle joined connections cost inside one JVM server, where the idle scenario only gives the
# totals: the classes whose heap grew (jmap -histo:live before and after, per connection), then each
# thread's CPU while the connections sit idle (from /proc, SETTLE seconds after they joined, over
# WINDOW seconds), and the server's CPU second by second over that window, all of it and its event
# loops' alone (the JIT's threads may still be busy SETTLE seconds after a join storm). Server on
# CPU 0, driver on CPU 1, as bench/run.sh does (BENCH_SERVER_CPU, BENCH_LOAD_CPU change them).
#   bench/idle-inside.sh copresence|vertx [N] [SETTLE] [WINDOW]    (defaults 5000, 60, 30)
# BENCH_COPRESENCE_JAR picks the service's jar (default: target/quarkus-app, built if missing);
# PROFILE=1 also records the window with async-profiler (its agent fetched from Maven Central) and
# prints where the server's samples fell.
set -euo pipefail
SYSTEM="${1:?copresence or vertx}"; N="${2:-5000}"; SETTLE="${3:-60}"; WINDOW="${4:-30}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JDK=/usr/lib/jvm/temurin-25-jdk-amd64/bin
[[ -x $JDK/java ]] || JDK="$(dirname "$(readlink -f "$(command -v java)")")"
JAR="${BENCH_COPRESENCE_JAR:-$ROOT/target/quarkus-app/quarkus-run.jar}"
if [[ -n ${BENCH_COPRESENCE_JAR:-} && ! -f $JAR ]]; then echo "BENCH_COPRESENCE_JAR: no such file: $JAR" >&2; exit 2; fi
DRIVER="$ROOT/bench/driver/target/bench-driver.jar"
PEER="$ROOT/bench/vertx-peer/target/bench-vertx-peer.jar"
[[ -f $JAR ]] || (cd "$ROOT" && ./mvnw -q -B package -DskipTests)
[[ -f $DRIVER ]] || (cd "$ROOT/bench/driver" && ../../mvnw -q -B package -DskipTests)
[[ -f $PEER ]] || (cd "$ROOT/bench/vertx-peer" && ../../mvnw -q -B package -DskipTests)
# a port nothing listens on, below the kernel's range for outgoing connections (another run's
# driver could take an ephemeral one before the server binds it); from BENCH_PORT_BASE as bench/run.sh
while :; do
  PORT=$((${BENCH_PORT_BASE:-20000} + RANDOM % ${BENCH_PORT_SPAN:-9000}))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
OUT="$(mktemp -d)"
pids=()
# on a failure, what the server and the driver said is shown before it goes
trap 'rc=$?; kill "${pids[@]}" 2>/dev/null || true
  if [[ $rc != 0 ]]; then tail -n 20 "$OUT"/*.log >&2 2>/dev/null || true; fi; rm -rf "$OUT"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; fails if the server died or time ran out
wait_for() {
  local limit=$(( $1 * 10 )) what="$2" i=0; shift 2
  until "$@" >/dev/null 2>&1; do
    kill -0 "$SERVER" 2>/dev/null || { echo "the server exited while waiting for $what" >&2; return 1; }
    (( ++i > limit )) && { echo "gave up waiting for $what" >&2; return 1; }
    sleep 0.1
  done
}

case "$SYSTEM" in
  copresence) PROTO=copresence
    QUARKUS_HTTP_PORT="$PORT" QUARKUS_LOG_LEVEL=WARN taskset -c "${BENCH_SERVER_CPU:-0}" "$JDK/java" -Xmx2g -jar "$JAR" >"$OUT/server.log" 2>&1 & ;;
  vertx) PROTO=raw
    taskset -c "${BENCH_SERVER_CPU:-0}" "$JDK/java" -Xmx2g -Dport="$PORT" -jar "$PEER" >"$OUT/server.log" 2>&1 & ;;
  *) echo "unknown system: $SYSTEM" >&2; exit 2 ;;
esac
SERVER=$!; pids+=("$SERVER")
wait_for 120 "the server to listen" curl -s -o /dev/null "http://127.0.0.1:$PORT/"

# idle_clients COUNT NAME: COUNT connections, each joined to a document of 10 members, held until
# NAME/done; DRIVER_PID is the driver's. Fails unless every one of them joined.
idle_clients() {
  mkdir -p "$OUT/$2"
  taskset -c "${BENCH_LOAD_CPU:-1}" "$JDK/java" -Xmx1g -XX:+UseSerialGC -jar "$DRIVER" run --proc 0 --procs 1 --barrier "$OUT/$2" \
    --out "$OUT/$2.json" --scenario idle --proto "$PROTO" --urls "ws://127.0.0.1:$PORT/ws" --conns "$1" \
    --total-conns "$1" --rates 0 --step-seconds 1 --server-pids "$SERVER" >"$OUT/$2.log" 2>&1 &
  DRIVER_PID=$!; pids+=("$DRIVER_PID")
  wait_for 600 "$1 connections to join" test -s "$OUT/$2/ready.0"
  local joined; joined="$(cat "$OUT/$2/ready.0")"
  [[ $joined == "$1" ]] || { echo "only $joined of $1 connections joined" >&2; return 1; }
}
# threads: a line per thread of the server: the time (ns), its id, its name (as /proc shows it, 15
# characters, spaces as _), its run time (ns, from schedstat) and its context switches. A thread that
# ends between the glob and the reads is left out.
threads() {
  local now t run; now="$(date +%s%N)"
  for t in /proc/"$SERVER"/task/*; do
    read -r run _ 2>/dev/null <"$t/schedstat" || continue
    echo "$now ${t##*/} $(tr ' ' _ <"$t/comm" 2>/dev/null) $run $(awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s}' "$t/status" 2>/dev/null)"
  done
}

idle_clients 200 warm # the path once, so that the classes it loads are not counted as the connections'
touch "$OUT/warm/done"
wait "$DRIVER_PID" || true # its connections closed: none of them in the first histogram
sleep 2                    # and the server's side of those closes done
"$JDK/jmap" -histo:live "$SERVER" >"$OUT/before"
idle_clients "$N" idle
sleep 3
"$JDK/jmap" -histo:live "$SERVER" >"$OUT/after"
sleep "$SETTLE"
"$JDK/jmap" -histo:live "$SERVER" >"$OUT/settled"
AGENT=""
if [[ "${PROFILE:-0}" = 1 ]]; then
  (cd "$ROOT" && ./mvnw -q -B dependency:copy -Dartifact=tools.profiler:async-profiler:4.2:jar:linux-x64 \
    -DoutputDirectory="$OUT/ap" -Dmdep.useBaseVersion=true)
  (cd "$OUT/ap" && unzip -q -o ./*.jar)
  AGENT="$(find "$OUT/ap" -name libasyncProfiler.so | head -1)"
  "$JDK/jcmd" "$SERVER" JVMTI.agent_load "$AGENT" '"start,event=cpu,interval=1ms,cstack=vm"' >/dev/null
fi
# every second of the window: each thread's totals come from the first and the last reading, and the
# server's CPU second by second from the others, where a burst once a ping period, which the window's
# total averages away, shows
for ((s = 0; s <= WINDOW; s++)); do
  ((s == 0)) || sleep 1
  kill -0 "$SERVER" 2>/dev/null || { echo "the server exited during the window" >&2; exit 1; }
  threads >>"$OUT/seconds"
done
if [[ -n $AGENT ]]; then
  "$JDK/jcmd" "$SERVER" JVMTI.agent_load "$AGENT" "\"stop,file=$OUT/profile.collapsed,collapsed\"" >/dev/null
fi
touch "$OUT/idle/done"

echo "$SYSTEM, $N idle joined connections; JDK: $("$JDK/java" -version 2>&1 | head -1)"
python3 - "$OUT" "$N" "$WINDOW" "$SETTLE" <<'PY'
import collections, os, re, sys
out, n, window = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def histo(path):
    rows = collections.defaultdict(lambda: [0, 0])
    for line in open(path):
        m = re.match(r'\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)', line)
        if m:  # lambdas' and hidden classes' addresses differ from run to run: summed under one name
            row = rows[re.sub(r'0x[0-9a-f]+', '', m.group(3))]
            row[0] += int(m.group(1)); row[1] += int(m.group(2))
    return rows
def grown(before, after):
    rows = []
    for name in set(before) | set(after):
        if 'FillerElement' in name:  # the collector's filler arrays: free space, not objects
            continue
        b, a = before.get(name, (0, 0)), after.get(name, (0, 0))
        rows.append(((a[1] - b[1]) / n, (a[0] - b[0]) / n, name))
    return sorted(rows, reverse=True)
before = histo(out + '/before')
joined, settled = grown(before, histo(out + '/after')), grown(before, histo(out + '/settled'))
print(f"heap per connection (jmap -histo:live, filler arrays left out): {sum(g[0] for g in joined):.0f} B "
      f"3 s after the last joined, {sum(g[0] for g in settled):.0f} B after {sys.argv[4]} s more; "
      "bytes and instances per connection of the classes that grew, at each:")
later = {name: (size, count) for size, count, name in settled}
for size, count, name in joined:
    if size >= 16 or abs(later.get(name, (0, 0))[0]) >= 16:
        s2, c2 = later.get(name, (0, 0))
        print(f"  {size:7.1f} B {count:5.2f} | {s2:7.1f} B {c2:5.2f}  {name}")
readings = collections.defaultdict(dict)  # time -> thread id -> (name, ns run, context switches)
for line in open(out + '/seconds'):
    p = line.split()
    if len(p) == 5:
        readings[int(p[0])][p[1]] = (p[2], int(p[3]), int(p[4]))
times = sorted(readings)
if len(times) > 1:  # the window as it was, a little over WINDOW seconds of one-second sleeps
    window = (times[-1] - times[0]) / 1e9
def between(a, b, keep=lambda name: True):
    """(name, ns run, context switches) of each thread in both readings: one that began or ended meanwhile is left out"""
    return [(readings[b][t][0], readings[b][t][1] - readings[a][t][1], readings[b][t][2] - readings[a][t][2])
            for t in readings[b] if t in readings[a] and keep(readings[b][t][0])]
if len(times) > 1:
    cpu = collections.defaultdict(lambda: [0, 0])  # by name: ns run, context switches
    for name, ns, switches in between(times[0], times[-1]):
        cpu[name][0] += ns; cpu[name][1] += switches
    print(f"CPU while idle, {window:.0f} s: {sum(ns for ns, _ in cpu.values()) / 1e6 / window:.1f} ms/s")
    for name, (ns, switches) in sorted(cpu.items(), key=lambda kv: -kv[1][0]):
        if ns >= 1e7 or switches > window:  # ran for a clock tick (10 ms) or more, or woke more than once a second
            print(f"  {name:16s} {ns / 1e6 / window:6.2f} ms/s  {switches / window:7.1f} switches/s")
def by_second(keep):
    """ms of CPU a second between readings"""
    return [sum(ns for _, ns, _ in between(a, b, keep)) / (b - a) * 1000 for a, b in zip(times, times[1:])]
for label, keep in (("the whole server", lambda name: True),
                    ("its event loops", lambda name: name.startswith("vert.x-eventloo"))):
    series = by_second(keep)
    if series:
        ranked = sorted(series)
        median = (ranked[(len(ranked) - 1) // 2] + ranked[len(ranked) // 2]) / 2
        print(f"CPU second by second over the window, {label} (ms/s): lowest {ranked[0]:.1f}, "
              f"median {median:.1f}, highest {ranked[-1]:.1f}; {sum(v > 2 * median for v in series)} of "
              f"{len(series)} seconds over twice the median; in order:")
        print("  " + " ".join(f"{v:.0f}" for v in series))
profile = out + '/profile.collapsed'
if os.path.exists(profile):
    # Copresence's frames first; a peer's samples fall under the later, generic ones
    where = [('writing pings', 'pingNow'), ('reading what clients send (pongs)', 'epollInReady'),
             ('the liveness tick', 'Liveness.closeIdle'), ('the JIT', 'CompileBroker'),
             ('the event loops otherwise (waiting, tasks)', 'EpollEventLoop.run'), ('the collector', 'G1')]
    counts, total = collections.Counter(), 0
    for line in open(profile):
        stack, _, samples = line.rstrip().rpartition(' ')
        total += int(samples)
        counts[next((label for label, frame in where if frame in stack), 'other')] += int(samples)
    print(f"async-profiler, {total} samples of 1 ms of CPU:")
    for label, samples in counts.most_common():
        print(f"  {samples * 100 / total:5.1f} %  {label}")
PY
