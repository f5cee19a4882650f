#!/usr/bin/env bash
# Every scenario with the sizes published in docs/benchmarks.md, then the tables and charts.
#   bench/run-all.sh [OUT_DIR]        (about 30 minutes on the 2-core machine)
# Extra options for run.sh can be given in BENCH_OPTS, e.g. BENCH_OPTS="--quiet-load 1.5".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
R="$ROOT/bench/run.sh"
opts=(--out "$OUT" ${BENCH_OPTS:-})
uptime >"$OUT/uptime-start.txt"
# 1,000 subscribers: 5k to 50k deliveries/s; past ~100k/s the driver, not the server, is measured
"$R" fanout --sizes 1000 --rates 5,10,20,50 --step-seconds 8 "${opts[@]}"
"$R" fanout --sizes 5000 --rates 1,2,5,10 --step-seconds 8 "${opts[@]}"
"$R" fanout-2nodes --sizes 1000 --rates 5,10,20 --step-seconds 8 "${opts[@]}"
"$R" churn --sizes 200 --rates 50,100,200 --step-seconds 8 "${opts[@]}"
"$R" cursors --sizes 200 --rates 20 --step-seconds 10 "${opts[@]}"
"$R" idle --sizes "${IDLE_SIZES:-5000,10000,19500}" "${opts[@]}"
uptime >"$OUT/uptime-end.txt"
node "$ROOT/bench/report.js" "$OUT" "$ROOT/docs" || true
echo "$OUT"
