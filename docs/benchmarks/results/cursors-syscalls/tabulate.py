"""The measured step of each run (the last 10 s of the storm) beside what perf counted on the
server's CPU in its whole seconds. Usage: tabulate.py DIR (of measure.sh: runN.json, perf-runN.csv).

The storm is the one stretch of seconds with over 500 sends; its measured step is its last ten
seconds, of which the last straddles the step's end and is left out."""
import collections, json, os, sys

d = sys.argv[1] if len(sys.argv) > 1 else '.'
# a send is a sendto or a writev; a read a recvfrom
print("| run | delivered/s | server CPU | µs/delivery | p50 / p99 ms | sends/s | "
      "deliveries per send | reads/s | wakeups/s | context switches/s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
runs = sorted(int(f[3:-5]) for f in os.listdir(d) if f.startswith('run') and f.endswith('.json'))
for i in runs:
    seconds = collections.OrderedDict()
    for line in open(f'{d}/perf-run{i}.csv'):
        f = line.strip().split(',')
        if line.startswith('#') or len(f) < 4 or not f[1].isdigit():
            continue
        seconds.setdefault(round(float(f[0])), {})[f[3].split(':')[-1]] = int(f[1])
    storm = [s for s in seconds.values() if s.get('sys_enter_sendto', 0) + s.get('sys_enter_writev', 0) > 500]
    window = storm[-10:-1]
    total = collections.Counter()
    for s in window:
        total.update(s)
    n = len(window)
    step = json.load(open(f'{d}/run{i}.json'))['steps'][0]
    sends = (total['sys_enter_sendto'] + total['sys_enter_writev']) / n
    delivered = step['deliveredPerSec']
    print(f"| {i} | {delivered:,.0f} | {step['serverCpuPercent']} % | {step['serverCpuUsPerDelivery']} | "
          f"{step['p50ms']:.1f} / {step['p99ms']:.1f} | {sends:,.0f} | {delivered / sends:.1f} | "
          f"{total['sys_enter_recvfrom'] / n:,.0f} | {total['sched_wakeup'] / n:,.0f} | {total['context-switches'] / n:,.0f} |")
