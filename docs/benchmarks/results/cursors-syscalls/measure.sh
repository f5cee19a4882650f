#!/bin/bash
# Six runs of Copresence alone in the cursor storm (200 members, each updating its state at 20 Hz),
# each under `perf stat` counting, once a second, the system calls, wakeups and context switches on
# CPU 0 (bench/run.sh runs the server there and nothing else). Needs perf with the syscalls
# tracepoints (root). From the repository root: docs/benchmarks/results/cursors-syscalls/measure.sh OUTDIR
set -euo pipefail
out="${1:?usage: measure.sh OUTDIR}"; mkdir -p "$out"
for i in 1 2 3 4 5 6; do
  perf stat -C 0 -I 1000 -x, -o "$out/perf-run$i.csv" \
    -e syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,sched:sched_wakeup,context-switches &
  perf_pid=$!
  bench/run.sh cursors --systems copresence --sizes 200 --rates 20 --step-seconds 10 --warmup-seconds 30 \
    --out "$out/r$i" > "$out/log-run$i" 2>&1
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  cp "$out/r$i/cursors-copresence-200.json" "$out/run$i.json"
done
