#!/bin/bash
# The cursor storm of ../cursors-syscalls/measure.sh, three runs, with the server's ephemeral write
# delay at 10 ms. Tabulate with ../cursors-syscalls/tabulate.py OUTDIR. From the repository root:
# docs/benchmarks/results/cursors-write-delay/measure.sh OUTDIR
set -euo pipefail
out="${1:?usage: measure.sh OUTDIR}"; mkdir -p "$out"
for i in 1 2 3; do
  perf stat -C 0 -I 1000 -x, -o "$out/perf-run$i.csv" \
    -e syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,sched:sched_wakeup,context-switches &
  perf_pid=$!
  BENCH_SERVER_JAVA_OPTS="-Xmx2g -Dcopresence.outbound.ephemeral-write-delay=10ms" \
    bench/run.sh cursors --systems copresence --sizes 200 --rates 20 --step-seconds 10 --warmup-seconds 30 \
    --out "$out/r$i" > "$out/log-run$i" 2>&1
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  cp "$out/r$i/cursors-copresence-200.json" "$out/run$i.json"
done
