#!/bin/bash
# Four runs of Copresence alone, 5,000 SSE observers at 1, 2 and 10 msg/s, each under
# `perf stat` counting, once a second, the system calls, wakeups and context switches on CPU 0
# (bench/run.sh runs the server there and nothing else). Needs perf with the syscalls tracepoints
# (root). Usage, from the repository root: docs/benchmarks/results/observers-syscalls/measure.sh OUTDIR
set -euo pipefail
out="${1:?usage: measure.sh OUTDIR}"; mkdir -p "$out"
for i in 1 2 3 4; do
  perf stat -C 0 -I 1000 -x, -o "$out/perf-run$i.csv" \
    -e syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait,sched:sched_wakeup,context-switches &
  perf_pid=$!
  bench/run.sh fanout --systems copresence --observers --sizes 5000 --rates 1,2,10 --step-seconds 8 \
    --quiet-timeout 60 --out "$out/r$i" > "$out/log-run$i" 2>&1
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  cp "$out/r$i/fanout-observers-copresence-5000.json" "$out/run$i.json"
done
