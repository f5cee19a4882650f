#!/usr/bin/env bash
# Every scenario with the sizes published in docs/benchmarks.md, then the tables and charts.
#   bench/run-all.sh [OUT_DIR]        (about 50 minutes on the 2-core machine: every run warms up for a minute)
# Extra options for run.sh can be given in BENCH_OPTS, e.g. BENCH_OPTS="--quiet-load 1.5", or
# BENCH_OPTS="--repeat 3" for medians of three interleaved runs (about two and a half hours);
# SCENARIOS picks some of: fanout-1000 fanout-2000 fanout-5000 fanout-2nodes churn cursors idle;
# IDLE_SIZES overrides the idle sizes (5000,10000,19500).
#
# Sizes are scaled down from the issue where the 2-core machine cannot do them many times: every
# subscriber of a member fanout document is a member, so joining N of them costs N^2/2 presence
# events and N^2/2 member entries in `joined` (5,000 subscribers: 12.5M events before the first
# broadcast). fanout-5000 reaches 5,000 with observers instead (run.sh --observers: SSE for
# Copresence, a silent room join for the peers), which cost N, not N^2/2.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
R="$ROOT/bench/run.sh"
opts=(--out "$OUT" ${BENCH_OPTS:-})
SCENARIOS="${SCENARIOS:-fanout-1000 fanout-2000 fanout-5000 fanout-2nodes churn cursors idle}"
uptime >>"$OUT/uptime.txt"
for s in $SCENARIOS; do
  case "$s" in
    # 1,000 subscribers: 5k to 50k deliveries/s; past ~100k/s the driver, not the server, is measured
    fanout-1000) "$R" fanout --sizes 1000 --rates 5,10,20,50 --step-seconds 8 "${opts[@]}" ;;
    fanout-2000) "$R" fanout --sizes 2000 --rates 1,2,5,10 --step-seconds 8 "${opts[@]}" ;;
    # 5,000 observers in one document (not members): the issue's size, up to 50k deliveries/s
    fanout-5000) "$R" fanout --observers --sizes 5000 --rates 1,2,5,10 --step-seconds 8 "${opts[@]}" ;;
    fanout-2nodes) "$R" fanout-2nodes --sizes 1000 --rates 5,10,20 --step-seconds 8 "${opts[@]}" ;;
    # two nodes' JIT is still compiling the join and leave paths 80-90 s after the start: two minutes
    churn) "$R" churn --sizes 200 --rates 50,100,200 --step-seconds 8 --warmup-seconds 120 "${opts[@]}" ;;
    cursors) "$R" cursors --sizes 200 --rates 20 --step-seconds 10 "${opts[@]}" ;;
    idle) "$R" idle --sizes "${IDLE_SIZES:-5000,10000,19500}" "${opts[@]}" ;;
    *) echo "unknown scenario $s" >&2 ;;
  esac
  uptime >>"$OUT/uptime.txt"
done
node "$ROOT/bench/report.js" "$OUT" "$ROOT/docs" || true
echo "$OUT"
