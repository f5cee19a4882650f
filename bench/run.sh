#!/usr/bin/env bash
# Runs one benchmark scenario against Copresence and its peers, side by side, with one driver.
#
#   bench/run.sh SCENARIO [options]
#
# SCENARIO: idle | fanout | churn | cursors | fanout-2nodes
#
# Options (defaults depend on the scenario, see defaults() below):
#   --systems a,b,...   systems under test: copresence copresence-2n vertx ws socketio socketio-redis socketio-2n,
#                       and copresence-b: a second Copresence (BENCH_COPRESENCE_B_JAR, BENCH_SERVER_B_JAVA_OPTS,
#                       BENCH_COPRESENCE_B_ENV="NAME=value ...", split at spaces; each defaults to the first's) for an A/B
#   --sizes n,m,...     connection counts (idle: connections; fanout: subscribers; churn: churners; cursors: members)
#   --rates r1,r2,...   fanout: broadcasts/s stepped up; churn: joins+leaves/s; cursors: updates/s per member
#   --step-seconds S    length of one rate step
#   --procs N           driver processes (default: enough to stay under the 20,000 open files of a process)
#   --observers         fanout, fanout-2nodes: the subscribers observe the document instead of joining it
#                       (Copresence: SSE /sse/documents/fan; peers: a silent room join). Results go to
#                       SCENARIO-observers-SYSTEM-SIZE.json with "observers": true
#   --out DIR           where the JSON goes (default bench/results/DATE)
#   --repeat N          run every system N times, interleaved (the order rotates from one round to the next),
#                       and write the medians (bench-driver median; every run's figures kept beside them, the
#                       runs themselves under OUT/runs/): one run's ratio is good to about a fifth on these VMs
#   --warmup-seconds S  how long the unmeasured warm-up lasts at least (default 60; 0 with --smoke and for
#                       idle): one step at the highest rate, then steps at the first rate, so that the JIT
#                       and pools are warm before anything is measured (a JVM server's C2 compiler was
#                       still at work 40-80 s after a 2,000-member join storm)
#   --warmup-steps N    the warm-up in steps instead (overrides --warmup-seconds)
#   --smoke             tiny numbers, no waiting for a quiet machine, JVMs on C1 alone: proves the scenario
#                       works, measures nothing
#   --quiet-load L      wait until the 1-minute load average is under L before each run (default 1.0)
#   --quiet-timeout S   ...but no longer than S seconds (default 120), then run anyway and say so in the JSON
#   --together          fanout: the two --systems run at the same time, both on the servers' CPU, each with
#                       its own driver, their broadcasts half a period apart (the phases swap every round), so
#                       that both are measured through the same moments of the VM; the report pairs their
#                       runs. Offer what both together leave the CPU room for (low rates)
#
# Servers (and Redis) run on CPU 0, the driver processes on CPU 1 (taskset; BENCH_SERVER_CPU and
# BENCH_LOAD_CPU change them). Java runs on
# $BENCH_JAVA (default: Temurin 25 when present, else `java`). Everything this script starts, it stops.
# BENCH_COPRESENCE_JAR runs another build of Copresence (an older commit's, for a before/after);
# otherwise target/quarkus-app is (re)built when src/main or the pom is newer. Servers listen on free
# ports from BENCH_PORT_BASE (20000), BENCH_PORT_SPAN (9000) of them: give runs at once ranges apart.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
SCENARIO="${1:-}"
[[ -n "$SCENARIO" ]] || { sed -n '2,/^set -euo pipefail/{/^set/!p}' "$0"; exit 2; }
shift

SYSTEMS="" SIZES="" RATES="" STEP="" PROCS="" OUT="" SMOKE=0 WARMUP="" WARMUP_SECONDS=60 OBSERVERS=0 QUIET_LOAD=1.0 QUIET_TIMEOUT=120 REPEAT=1 TOGETHER=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --systems) SYSTEMS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --rates) RATES="$2"; shift 2 ;;
    --step-seconds) STEP="$2"; shift 2 ;;
    --procs) PROCS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    --warmup-steps) WARMUP="$2"; shift 2 ;;
    --warmup-seconds) WARMUP_SECONDS="$2"; shift 2 ;;
    --observers) OBSERVERS=1; shift ;;
    --quiet-load) QUIET_LOAD="$2"; shift 2 ;;
    --quiet-timeout) QUIET_TIMEOUT="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --together) TOGETHER=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

# ---- defaults per scenario -------------------------------------------------------------------------
defaults() {
  local systems sizes rates step
  case "$SCENARIO" in
    idle)          systems="copresence,vertx,ws,socketio"; sizes="5000,10000,19500"; rates="0"; step=1
                   [[ $SMOKE = 1 ]] && sizes="40" ;;
    fanout)        systems="copresence,vertx,ws,socketio"; sizes="1000,5000"; rates="10,50,100,200"; step=10
                   [[ $SMOKE = 1 ]] && { sizes="20"; rates="20"; step=1; } ;;
    churn)         systems="copresence-2n,socketio-2n"; sizes="200"; rates="100,200,400"; step=10
                   [[ $SMOKE = 1 ]] && { sizes="20"; rates="20"; step=1; } ;;
    cursors)       systems="copresence,vertx,ws,socketio"; sizes="200"; rates="20"; step=10
                   [[ $SMOKE = 1 ]] && { sizes="10"; rates="5"; step=1; } ;;
    fanout-2nodes) systems="copresence-2n,socketio-2n"; sizes="1000,5000"; rates="10,50,100,200"; step=10
                   [[ $SMOKE = 1 ]] && { sizes="20"; rates="20"; step=1; } ;;
    *) echo "unknown scenario $SCENARIO (idle, fanout, churn, cursors, fanout-2nodes)" >&2; exit 2 ;;
  esac
  SYSTEMS="${SYSTEMS:-$systems}"; SIZES="${SIZES:-$sizes}"; RATES="${RATES:-$rates}"; STEP="${STEP:-$step}"
  if [[ -z "$WARMUP" ]]; then
    if [[ $SMOKE = 1 || "$SCENARIO" == idle ]]; then WARMUP=0
    # whole steps (a step may be a fraction of a second), at least two unless no warm-up is asked for
    else WARMUP="$(awk -v w="$WARMUP_SECONDS" -v s="$STEP" 'BEGIN{n=int(w/s); if (n*s<w) n++; if (w>0 && n<2) n=2; print n}')"; fi
  fi
}
defaults
if [[ $OBSERVERS = 1 && "$SCENARIO" != fanout && "$SCENARIO" != fanout-2nodes ]]; then
  echo "--observers is for fanout and fanout-2nodes only" >&2; exit 2
fi
if [[ $TOGETHER = 1 ]]; then
  if [[ "$SCENARIO" != fanout || "$SYSTEMS" != ?*,?* || "$SYSTEMS" == *,*,* ]]; then
    echo "--together is for fanout with two --systems" >&2; exit 2
  fi
  if [[ "${SYSTEMS%,*}" == "${SYSTEMS#*,}" ]]; then
    echo "--together needs two different systems (for two of the same build: copresence,copresence-b)" >&2; exit 2
  fi
fi
OUT="${OUT:-$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
WORK="$(mktemp -d /tmp/copresence-bench.XXXXXX)"

# ---- tools ------------------------------------------------------------------------------------------
if [[ -z "${BENCH_JAVA:-}" ]]; then
  if [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then BENCH_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  else BENCH_JAVA="$(command -v java)"; fi
fi
JBIN="$(dirname "$BENCH_JAVA")"
SERVER_CPU="${BENCH_SERVER_CPU:-0}"
LOAD_CPU="${BENCH_LOAD_CPU:-1}"
CLK_TCK="$(getconf CLK_TCK)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# A smoke run measures nothing, so its JVMs compile with C1 alone: it halves what a JVM's start costs in CPU,
# and the smoke runs of ./mvnw verify share two cores. Tools that measure nothing (merge, median) always do.
SMOKE_JIT=""; [[ $SMOKE = 1 ]] && SMOKE_JIT="-XX:TieredStopAtLevel=1"
TOOL_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

mvnw() { # offline first (the cache is usually warm), then online
  (cd "$1" && shift && { "$ROOT/mvnw" -B -q -o "$@" >/dev/null 2>&1 || "$ROOT/mvnw" -B -q "$@"; })
}
build() {
  local jar="$ROOT/target/quarkus-app/quarkus-run.jar"
  if [[ -n "${BENCH_COPRESENCE_JAR:-}" ]]; then
    log "Copresence from $BENCH_COPRESENCE_JAR (BENCH_COPRESENCE_JAR)"
  elif [[ ! -f "$jar" || -n "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$jar" 2>/dev/null | head -1)" ]]; then
    log "building Copresence (./mvnw package -DskipTests)"
    mvnw "$ROOT" package -DskipTests
  fi
  NODE_OK=0
  local npm_pid=""
  if command -v node >/dev/null && command -v npm >/dev/null; then
    if [[ ! -d "$BENCH/peers/node_modules/socket.io" || ! -d "$BENCH/peers/node_modules/ws" ]]; then
      # beside the Maven builds below: it mostly waits on the network, they on the CPU
      log "installing the Node peers (npm ci, pinned by bench/peers/package-lock.json)"
      # (without the build lock's descriptor: a failed Maven build must not leave npm holding it)
      (exec 9>&-; cd "$BENCH/peers" && npm ci --no-audit --no-fund >/dev/null 2>&1 || log "npm ci failed: Node peers skipped") &
      npm_pid=$!
    fi
  fi
  for m in driver vertx-peer; do
    if [[ ! -f "$BENCH/$m/target/bench-$m.jar" || -n "$(find "$BENCH/$m/src" "$BENCH/$m/pom.xml" -newer "$BENCH/$m/target/bench-$m.jar" 2>/dev/null)" ]]; then
      log "building bench/$m"
      mvnw "$BENCH/$m" package
    fi
  done
  if [[ -n "$npm_pid" ]]; then wait "$npm_pid"; fi
  if [[ -d "$BENCH/peers/node_modules/socket.io" && -d "$BENCH/peers/node_modules/ws" ]]; then NODE_OK=1; fi
}
# one build at a time: runs started together would otherwise build the same jars, or install the
# same node_modules, over each other
if command -v flock >/dev/null; then
  mkdir -p "$ROOT/target"
  exec 9>"$ROOT/target/.bench-build.lock"
  flock 9
fi
build
if command -v flock >/dev/null; then exec 9>&-; fi

# ---- processes --------------------------------------------------------------------------------------
STARTED=()
cleanup() {
  local pid
  for pid in "${STARTED[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  sleep 0.5
  for pid in "${STARTED[@]:-}"; do
    [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  done
  STARTED=()
}
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

stop_all() { # stop what this run started, and wait for each to be gone
  local pid
  for pid in "${STARTED[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]:-}"; do
    [[ -n "$pid" ]] || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  STARTED=()
}

# a port nothing listens on, from BENCH_PORT_BASE (default 20000) on, BENCH_PORT_SPAN (default 9000) of
# them: two runs at once are given ranges apart, or both could take one port before either listens
free_port() {
  local p
  while :; do
    p=$((${BENCH_PORT_BASE:-20000} + RANDOM % ${BENCH_PORT_SPAN:-9000}))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

wait_port() {
  local port="$1" pid="$2"
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { log "process $pid died before listening on $port"; return 1; }
    sleep 0.1
  done
  log "nothing listens on $port"; return 1
}

start_redis() {
  REDIS_PORT="$(free_port)"
  taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no --loglevel warning >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!; STARTED+=("$REDIS_PID")
  wait_port "$REDIS_PORT" "$REDIS_PID" || return 1
}

# machine_check: how fast the server's CPU and the memory behind it are right now (a shared VM's
# speed moves from minute to minute), as JSON fields for the run's result, their names ending in
# $1 if given; nothing when it fails
machine_check() {
  local m
  m="$(taskset -c "$SERVER_CPU" "$BENCH_JAVA" $SMOKE_JIT -jar "$BENCH/driver/target/bench-driver.jar" machine-check \
    $([[ $SMOKE = 1 ]] && echo --quick) 2>/dev/null)" || return 0
  awk -v s="${1:-}" 'NF == 2 && $1 + 0 > 0 {printf "\"machineMemoryLatencyNs%s\":%s,\"machineL2LatencyNs%s\":%s,", s, $1, s, $2}' <<<"$m"
}

JAVA_SERVER_OPTS="${BENCH_SERVER_JAVA_OPTS:--Xmx2g}"
start_copresence() { # $1 = redis url or empty; $2 = b for copresence-b
  local port; port="$(free_port)"
  local jar="${BENCH_COPRESENCE_JAR:-$ROOT/target/quarkus-app/quarkus-run.jar}" opts="$JAVA_SERVER_OPTS" extra=""
  [[ "${2:-}" == b ]] && { jar="${BENCH_COPRESENCE_B_JAR:-$jar}"; opts="${BENCH_SERVER_B_JAVA_OPTS:-$opts}"; extra="${BENCH_COPRESENCE_B_ENV:-}"; }
  env QUARKUS_HTTP_PORT="$port" ${1:+QUARKUS_REDIS_HOSTS=$1} QUARKUS_LOG_LEVEL=WARN $extra \
    taskset -c "$SERVER_CPU" "$BENCH_JAVA" $opts $SMOKE_JIT -jar "$jar" \
    >"$WORK/copresence-$port.log" 2>&1 &
  local pid=$!; STARTED+=("$pid")
  wait_port "$port" "$pid" || return 1
  URLS+=("ws://127.0.0.1:$port/ws"); MEM_PIDS+=("$pid"); PORTS+=("$port")
}
start_vertx() {
  local port; port="$(free_port)"
  taskset -c "$SERVER_CPU" "$BENCH_JAVA" $JAVA_SERVER_OPTS $SMOKE_JIT -Dport="$port" -jar "$BENCH/vertx-peer/target/bench-vertx-peer.jar" \
    >"$WORK/vertx-$port.log" 2>&1 &
  local pid=$!; STARTED+=("$pid")
  wait_port "$port" "$pid" || return 1
  URLS+=("ws://127.0.0.1:$port/ws"); MEM_PIDS+=("$pid"); PORTS+=("$port")
}
start_node() { # $1 = script, $2 = redis url or empty
  local port; port="$(free_port)"
  env PORT="$port" ${2:+REDIS_URL=$2} taskset -c "$SERVER_CPU" node --expose-gc "$BENCH/peers/$1" \
    >"$WORK/$1-$port.log" 2>&1 &
  local pid=$!; STARTED+=("$pid")
  wait_port "$port" "$pid" || return 1
  URLS+=("ws://127.0.0.1:$port/ws"); MEM_PIDS+=("$pid"); PORTS+=("$port")
}

# start_system NAME: sets URLS, PROTO, MEM_PIDS (server processes), CPU_PIDS (those + Redis), KIND;
# returns 1 when a process of it did not start listening
start_system() {
  URLS=(); MEM_PIDS=(); PORTS=(); CPU_PIDS=(); REDIS_PID=""
  local rc=0 redis
  case "$1" in
    copresence)     PROTO=copresence; KIND=jvm; start_copresence "" || rc=1 ;;
    copresence-b)   PROTO=copresence; KIND=jvm; start_copresence "" b || rc=1 ;;
    copresence-2n)  PROTO=copresence; KIND=jvm
                    { start_redis && redis="redis://127.0.0.1:$REDIS_PORT" && start_copresence "$redis" && start_copresence "$redis"; } || rc=1 ;;
    vertx)          PROTO=raw; KIND=jvm; start_vertx || rc=1 ;;
    ws)             PROTO=raw; KIND=node; start_node ws-peer.js "" || rc=1 ;;
    socketio)       PROTO=socketio; KIND=node; start_node socketio-peer.js "" || rc=1 ;;
    socketio-redis) PROTO=socketio; KIND=node
                    { start_redis && start_node socketio-peer.js "redis://127.0.0.1:$REDIS_PORT"; } || rc=1 ;;
    socketio-2n)    PROTO=socketio; KIND=node
                    { start_redis && redis="redis://127.0.0.1:$REDIS_PORT" && start_node socketio-peer.js "$redis" && start_node socketio-peer.js "$redis"; } || rc=1 ;;
    *) log "unknown system $1"; return 1 ;;
  esac
  CPU_PIDS=("${MEM_PIDS[@]}"); if [[ -n "$REDIS_PID" ]]; then CPU_PIDS+=("$REDIS_PID"); fi
  [[ $SMOKE = 1 ]] || sleep 1 # a moment for what a server does after it listens; a smoke run measures nothing
  return $rc
}

is_node_system() { [[ "$1" == ws || "$1" == socketio* ]]; }

# ---- measurement helpers ----------------------------------------------------------------------------
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

wait_quiet() {
  [[ $SMOKE = 1 ]] && return 0
  local waited=0
  while awk -v l="$QUIET_LOAD" '{exit !($1 >= l)}' /proc/loadavg; do
    if (( waited >= QUIET_TIMEOUT )); then log "machine not quiet after ${QUIET_TIMEOUT}s (load $(loadavg)): running anyway"; return 0; fi
    sleep 5; waited=$((waited + 5))
  done
}

cpu_ticks() { # utime+stime in clock ticks, summed over the given processes (fields 14 and 15 of /proc/PID/stat)
  local t=0 pid; for pid in "$@"; do t=$((t + $(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo "$t"
}

rss_kb() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0))); done; echo "$t"; }

heap_kb() { # used heap after a full GC, summed over the server processes (KiB)
  local t=0 pid port i=0 v
  for pid in "${MEM_PIDS[@]}"; do
    port="${PORTS[$i]}"; i=$((i + 1))
    if [[ "$KIND" = jvm ]]; then
      "$JBIN/jcmd" "$pid" GC.run >/dev/null 2>&1 || true
      v="$("$JBIN/jstat" -gc "$pid" 2>/dev/null | awk 'NR==1{for(i=1;i<=NF;i++)h[$i]=i} NR==2{printf "%d", $h["S0U"]+$h["S1U"]+$h["EU"]+$h["OU"]}')"
    else
      v="$(curl -s "http://127.0.0.1:$port/stats" | sed -n 's/.*"heapUsed":\([0-9]*\).*/\1/p')"
      v=$(( ${v:-0} / 1024 ))
    fi
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

DRIVER_OPTS="${BENCH_DRIVER_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC}"
# run_drivers NPROCS ARGS...: one driver process per share, all on the load CPU, meeting at $BARRIER,
# each writing $WORK/$PART-i.json; sets DRIVER_PIDS
PART=part
run_drivers() {
  local n="$1"; shift
  local pids=() i
  for ((i = 0; i < n; i++)); do
    taskset -c "$LOAD_CPU" "$BENCH_JAVA" $DRIVER_OPTS $SMOKE_JIT -jar "$BENCH/driver/target/bench-driver.jar" run \
      --proc "$i" --procs "$n" --barrier "$BARRIER" --out "$WORK/$PART-$i.json" "$@" \
      >"$WORK/driver-$PART-$i.log" 2>&1 &
    pids+=($!); STARTED+=($!)
  done
  DRIVER_PIDS=("${pids[@]}")
}

wait_drivers() {
  local pid rc=0
  for pid in "${DRIVER_PIDS[@]}"; do wait "$pid" || rc=$?; done
  return $rc
}

json_escape() { sed 's/\\/\\\\/g; s/"/\\"/g'; }

# the rates the driver plays: WARMUP steps, then the measured ones. The first warm-up step plays the
# highest rate, so that every path of the run has been compiled by the JIT before anything is measured
# (at the first rate alone, per-event code stayed interpreted into the measured steps); the others play
# the first rate, which also lets a system that fell behind at the highest one catch up unmeasured.
warmup_rates() {
  local first="${RATES%%,*}" r="$RATES" i
  local highest; highest="$(tr , '\n' <<<"$RATES" | sort -g | tail -1)"
  for ((i = WARMUP - 1; i >= 1; i--)); do r="$first,$r"; done
  ((WARMUP >= 1)) && r="$highest,$r"
  echo "$r"
}

# ---- one run ----------------------------------------------------------------------------------------
# observer runs get their own file: a results directory can hold both kinds at one size
result_name() { echo "$SCENARIO$([[ $OBSERVERS = 1 ]] && echo -observers)-$1-$2"; }

# stub_result SYSTEM SIZE RESULT FIELD: a result that measured nothing, saying why in FIELD ("skipped" or "failed")
stub_result() {
  printf '{"scenario":"%s","system":"%s","size":%s,"observers":%s,%s}\n' "$SCENARIO" "$1" "$2" \
    "$([[ $OBSERVERS = 1 ]] && echo true || echo false)" "$4" >"$3"
}

# not_run SYSTEM SIZE RESULT PARTNER [WHY]: a system of a --together pair whose partner was skipped (or failed to
# start) did not run either
not_run() {
  stub_result "$1" "$2" "$3" "\"skipped\":\"not run: its partner $4 ${5:-was skipped}\""
}

# result_file SYSTEM SIZE [ROUND]: $OUT/$SCENARIO-$SYSTEM-$SIZE.json, or with a round (--repeat)
# $OUT/runs/$SCENARIO-$SYSTEM-$SIZE.rROUND.json
result_file() {
  if [[ -n "${3:-}" ]]; then echo "$OUT/runs/$(result_name "$1" "$2").r$3.json"; else echo "$OUT/$(result_name "$1" "$2").json"; fi
}

# skip_node SYSTEM SIZE RESULT: a Node peer without its packages gets a result that says so (returns 0)
skip_node() {
  is_node_system "$1" && [[ $NODE_OK != 1 ]] || return 1
  log "skipping $1: Node peers not installed"
  stub_result "$1" "$2" "$3" '"skipped":"Node peers not installed"'
}

# launch SYSTEM SIZE [DRIVER OPTIONS...]: starts the system and its drivers (meeting at $BARRIER, writing
# $WORK/$PART-i.json); sets PROCS_USED and DRIVER_PIDS (and for idle RSS0 and HEAP0, the memory before), and
# leaves the system's MEM_PIDS, CPU_PIDS, PORTS. Returns 1, with no driver started, when the system did not start
launch() {
  local system="$1" size="$2"; shift 2
  rm -rf "$BARRIER"; mkdir -p "$BARRIER"
  rm -f "$WORK/$PART"-[0-9]*.json
  DRIVER_PIDS=(); PROCS_USED=0
  start_system "$system" || { log "$system did not start"; return 1; }
  local urls; urls="$(IFS=,; echo "${URLS[*]}")"
  local cpu_pids; cpu_pids="$(IFS=,; echo "${CPU_PIDS[*]}")"
  local procs="$PROCS"
  [[ -n "$procs" ]] || procs=$(( (size + 8999) / 9000 ))
  local per=$(( (size + procs - 1) / procs ))
  local scen="$SCENARIO" extra=()
  [[ "$SCENARIO" == fanout-2nodes ]] && scen=fanout
  local max_rate; max_rate="$(tr , '\n' <<<"$RATES" | sort -g | tail -1)"
  case "$scen" in
    # Copresence limits a connection to 100 messages/s: one publisher per 50 broadcasts/s
    fanout) extra=(--publishers "$(awk -v r="$max_rate" 'BEGIN{p=int((r+49)/50); print p<1?1:p}')")
            if [[ $OBSERVERS = 1 ]]; then extra+=(--observers); fi ;;
    churn) extra=(--docs 10 --watchers 2) ;;
  esac
  # idle: the server's memory before the first connection
  [[ "$SCENARIO" == idle ]] && { RSS0="$(rss_kb "${MEM_PIDS[@]}")"; HEAP0="$(heap_kb)"; }
  log "$SCENARIO$([[ $OBSERVERS = 1 ]] && echo ' (observers)') / $system / $size: $procs driver process(es), load $(loadavg)"
  run_drivers "$procs" --scenario "$scen" --proto "$PROTO" --urls "$urls" --conns "$per" --total-conns $((per * procs)) \
    --rates "$(warmup_rates)" --step-seconds "$STEP" --server-pids "$cpu_pids" "${extra[@]}" \
    $([[ $SMOKE = 1 ]] && echo "--drain-seconds 1 --go-delay-ms 200") "$@"
  PROCS_USED="$procs"
}

# wait_ready "BARRIER COUNT"... -- PIDS...: until every BARRIER holds COUNT ready files (each driver process
# writes one once it has connected and joined); fails when one of PIDS exited first, or after 600 s
wait_ready() {
  local barriers=() t=0 pid spec
  while [[ $1 != -- ]]; do barriers+=("$1"); shift; done; shift
  while :; do
    local all=1
    for spec in "${barriers[@]}"; do
      (( $(find "${spec% *}" -name 'ready.*' | wc -l) >= ${spec##* } )) || all=0
    done
    [[ $all = 1 ]] && return 0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null || { log "a driver exited before it was ready"; return 1; }; done
    (( ++t > 1200 )) && { log "drivers did not get ready"; return 1; }
    sleep 0.5
  done
}

# meta_json SYSTEM SIZE LOAD_BEFORE MACHINE [EXTRA JSON FIELDS]: what run.sh knows of a run that the driver does not
meta_json() {
  printf '{"system":"%s","size":%s,"loadBefore":"%s","loadAfter":"%s",%s%s"java":"%s","smoke":%s}\n' \
    "$1" "$2" "$3" "$(loadavg)" "$4" "${5:-}" "$("$BENCH_JAVA" -version 2>&1 | head -1 | json_escape)" \
    "$([[ $SMOKE = 1 ]] && echo true || echo false)"
}

# fold_parts SYSTEM SIZE RESULT META OK: the drivers' JSON ($WORK/$PART-*.json) and META into RESULT, or a
# failed result with the logs when a driver failed (returns 1)
fold_parts() {
  local system="$1" size="$2" result="$3" meta="$4" ok="$5"
  local parts; parts="$(ls "$WORK/$PART"-[0-9]*.json 2>/dev/null | paste -sd, -)"
  if [[ -z "$parts" || $ok != 1 ]]; then
    log "run failed: $SCENARIO / $system / $size (driver logs follow)"
    tail -n 20 "$WORK"/*.log >&2 || true
    stub_result "$system" "$size" "$result" '"failed":true'
    return 1
  fi
  if ! "$BENCH_JAVA" $TOOL_OPTS -jar "$BENCH/driver/target/bench-driver.jar" merge --in "$parts" --meta "$meta" --warmup-steps "$WARMUP" \
    --out "$result" --clk-tck "$CLK_TCK" --step-seconds "$STEP"; then
    log "merge failed: $SCENARIO / $system / $size"; return 1
  fi
  # the scenario name as asked (fanout-2nodes runs the fanout driver)
  sed -i "s/\"scenario\" : \"fanout\"/\"scenario\" : \"$SCENARIO\"/" "$result"
  log "wrote $result"
}

# run_one SYSTEM SIZE [ROUND]: one system alone on the servers' CPU; writes result_file SYSTEM SIZE ROUND
run_one() {
  local system="$1" size="$2" round="${3:-}"
  local result; result="$(result_file "$system" "$size" "$round")"
  skip_node "$system" "$size" "$result" && return 0
  wait_quiet
  local load_before; load_before="$(loadavg)"
  local machine; machine="$(machine_check)"
  BARRIER="$WORK/barrier-$system-$size"; PART=part
  if ! launch "$system" "$size"; then stop_all; fold_parts "$system" "$size" "$result" /dev/null 0; return 1; fi
  local procs="$PROCS_USED"
  local meta="$WORK/meta.json" ok=1
  if [[ "$SCENARIO" == idle ]]; then
    local rss0="$RSS0" heap0="$HEAP0"
    # wait until every driver process has joined all of its connections, let the server settle, measure
    wait_ready "$BARRIER $procs" -- "${DRIVER_PIDS[@]}" || ok=0
    sleep $([[ $SMOKE = 1 ]] && echo 1 || echo 5)
    local rss1 heap1; rss1="$(rss_kb "${MEM_PIDS[@]}")"; heap1="$(heap_kb)"; rss1b="$(rss_kb "${MEM_PIDS[@]}")"
    # then the server CPU while the connections sit idle (pings, timers, what the runtime does by
    # itself), after the full GCs of the heap measurement have settled (IDLE_CPU_DELAY seconds, default 5;
    # longer lets a JIT finish compiling what the joins ran, IDLE_CPU_SECONDS the window, default 20)
    local idle_s=$([[ $SMOKE = 1 ]] && echo 1 || echo "${IDLE_CPU_SECONDS:-20}") c0 c1
    sleep $([[ $SMOKE = 1 ]] && echo 0 || echo "${IDLE_CPU_DELAY:-5}")
    c0="$(cpu_ticks "${CPU_PIDS[@]}")"; sleep "$idle_s"; c1="$(cpu_ticks "${CPU_PIDS[@]}")"
    touch "$BARRIER/done"
    wait_drivers || ok=0
    meta_json "$system" "$size" "$load_before" "$machine" "$(printf '"serverRssBeforeKiB":%s,"serverRssLoadedKiB":%s,"serverRssAfterGcKiB":%s,"serverHeapBeforeKiB":%s,"serverHeapLoadedKiB":%s,"rssPerConnectionKiB":%s,"heapPerConnectionKiB":%s,"idleCpuSeconds":%s,"idleServerCpuMsPerSec":%s,' \
      "$rss0" "$rss1" "$rss1b" "$heap0" "$heap1" \
      "$(awk -v a="$rss0" -v b="$rss1" -v n="$size" 'BEGIN{printf "%.2f", (b-a)/n}')" \
      "$(awk -v a="$heap0" -v b="$heap1" -v n="$size" 'BEGIN{printf "%.2f", (b-a)/n}')" \
      "$idle_s" "$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" -v s="$idle_s" 'BEGIN{printf "%.2f", (b-a)*1000/t/s}')")" >"$meta"
  else
    wait_drivers || ok=0
    meta_json "$system" "$size" "$load_before" "$machine" >"$meta"
  fi
  stop_all
  # and again once everything has stopped: a run between two slow checks probably ran on a slow VM
  local after; after="$(machine_check After)"
  [[ -n "$after" ]] && sed -i "1s/^{/{$after/" "$meta"
  fold_parts "$system" "$size" "$result" "$meta" "$ok"
}

# run_together A B SIZE [ROUND]: both systems at once on the servers' CPU (--together), A's broadcasts at
# the start of each period and B's half a period later; both drivers start at one moment that this
# script gives them. Writes a result for each, each saying with which system and in which phase it ran.
run_together() {
  local a="$1" b="$2" size="$3" round="${4:-}"
  local ra rb; ra="$(result_file "$a" "$size" "$round")"; rb="$(result_file "$b" "$size" "$round")"
  if skip_node "$a" "$size" "$ra"; then
    skip_node "$b" "$size" "$rb" || not_run "$b" "$size" "$rb" "$a"; return 0
  fi
  if skip_node "$b" "$size" "$rb"; then not_run "$a" "$size" "$ra" "$b"; return 0; fi
  wait_quiet
  local load_before; load_before="$(loadavg)"
  local machine; machine="$(machine_check)"
  local cpu_a cpu_b pids_a pids_b procs_a procs_b
  local ok=1
  BARRIER="$WORK/barrier-$a-$size"; PART="part-a"
  if ! launch "$a" "$size" --go-from-outside --phase 0; then
    stop_all; fold_parts "$a" "$size" "$ra" /dev/null 0; not_run "$b" "$size" "$rb" "$a" "failed to start"; return 1
  fi
  pids_a=("${DRIVER_PIDS[@]}"); procs_a="$PROCS_USED"; cpu_a="$(IFS=,; echo "${CPU_PIDS[*]}")"
  BARRIER="$WORK/barrier-$b-$size"; PART="part-b"
  launch "$b" "$size" --go-from-outside --phase 0.5 || ok=0
  pids_b=("${DRIVER_PIDS[@]}"); procs_b="$PROCS_USED"; cpu_b="$(IFS=,; echo "${CPU_PIDS[*]}")"
  # the go: once every driver of both has connected (and joined), one start time for both
  [[ $ok = 1 ]] && { wait_ready "$WORK/barrier-$a-$size $procs_a" "$WORK/barrier-$b-$size $procs_b" -- \
    "${pids_a[@]}" "${pids_b[@]}" || ok=0; }
  DRIVER_PIDS=("${pids_a[@]}" "${pids_b[@]}")
  if [[ $ok = 1 ]]; then
    local go=$(( $(date +%s%3N) + 1000 )) dir
    for dir in "$WORK/barrier-$a-$size" "$WORK/barrier-$b-$size"; do
      echo "$go" >"$dir/go.tmp"; mv "$dir/go.tmp" "$dir/go"
    done
    wait_drivers || ok=0
  fi
  meta_json "$a" "$size" "$load_before" "$machine" "\"together\":\"$b\",\"phase\":0,\"serverPids\":\"$cpu_a\"," >"$WORK/meta-a.json"
  meta_json "$b" "$size" "$load_before" "$machine" "\"together\":\"$a\",\"phase\":0.5,\"serverPids\":\"$cpu_b\"," >"$WORK/meta-b.json"
  stop_all
  local after; after="$(machine_check After)"
  [[ -n "$after" ]] && sed -i "1s/^{/{$after/" "$WORK/meta-a.json" "$WORK/meta-b.json"
  local failed=0
  PART="part-a"; fold_parts "$a" "$size" "$ra" "$WORK/meta-a.json" "$ok" || failed=1
  PART="part-b"; fold_parts "$b" "$size" "$rb" "$WORK/meta-b.json" "$ok" || failed=1
  return $failed
}

# ---- main -------------------------------------------------------------------------------------------
log "scenario $SCENARIO$([[ $OBSERVERS = 1 ]] && echo ' with observers'); systems $SYSTEMS; sizes $SIZES; rates $RATES; step ${STEP}s; java $BENCH_JAVA; out $OUT"
FAILED=0
IFS=, read -ra SYS_LIST <<<"$SYSTEMS"
IFS=, read -ra SIZE_LIST <<<"$SIZES"
for size in "${SIZE_LIST[@]}"; do
  if (( REPEAT <= 1 )) && [[ $TOGETHER = 1 ]]; then
    run_together "${SYS_LIST[0]}" "${SYS_LIST[1]}" "$size" || FAILED=1
    continue
  fi
  if (( REPEAT <= 1 )); then
    for system in "${SYS_LIST[@]}"; do
      run_one "$system" "$size" || FAILED=1
    done
    continue
  fi
  mkdir -p "$OUT/runs"
  for ((round = 1; round <= REPEAT; round++)); do
    log "round $round of $REPEAT"
    if [[ $TOGETHER = 1 ]]; then
      # the phases (and which starts first) swap from one round to the next
      if (( round % 2 == 1 )); then run_together "${SYS_LIST[0]}" "${SYS_LIST[1]}" "$size" "$round" || FAILED=1
      else run_together "${SYS_LIST[1]}" "${SYS_LIST[0]}" "$size" "$round" || FAILED=1; fi
      continue
    fi
    # rotate the order, so that no system always runs first after a build or last in a drifting hour
    for ((i = 0; i < ${#SYS_LIST[@]}; i++)); do
      run_one "${SYS_LIST[$(( (i + round - 1) % ${#SYS_LIST[@]} ))]}" "$size" "$round" || FAILED=1
    done
  done
  for system in "${SYS_LIST[@]}"; do
    name="$(result_name "$system" "$size")"
    runs="$(ls "$OUT/runs/$name".r*.json | paste -sd, -)"
    if [[ -z "$(grep -L '"skipped"' "$OUT/runs/$name".r*.json)" ]]; then # every run skipped: say so as one run would
      cp "$OUT/runs/$name.r1.json" "$OUT/$name.json"
    elif ! "$BENCH_JAVA" $TOOL_OPTS -jar "$BENCH/driver/target/bench-driver.jar" median --in "$runs" --out "$OUT/$name.json"; then
      cp "$OUT/runs/$name.r1.json" "$OUT/$name.json"; FAILED=1 # every run failed: say so as one run would
    fi
  done
done
echo "$OUT"
exit $FAILED
