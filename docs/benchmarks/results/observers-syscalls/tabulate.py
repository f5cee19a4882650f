"""Per measured step: the driver's CPU per delivery beside what perf counted on the server's CPU
in the step's whole seconds. Usage: tabulate.py DIR (of measure.sh).

The steps are found in perf's timeline as its last three plateaus of sendto calls (the measured
1, 2 and 10 msg/s come last, in that order, after the warm-up); a plateau ends where the count
per second changes by more than a third, and lasts at least 5 s."""
import collections, json, sys

d = sys.argv[1] if len(sys.argv) > 1 else '.'
print("| run | msg/s | µs/delivery | `sendto` per second (min-max) | deliveries per second (nominal) | "
      "wakeups/delivery | context switches/delivery | `epoll_wait`/delivery |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for i in (1, 2, 3, 4):
    seconds = collections.OrderedDict()
    for line in open(f'{d}/perf-run{i}.csv'):
        f = line.strip().split(',')
        if line.startswith('#') or len(f) < 4 or not f[1].isdigit():
            continue
        seconds.setdefault(round(float(f[0])), {})[f[3].split(':')[-1]] = int(f[1])
    plateaus, cur = [], []
    for s in seconds.values():
        n = s.get('sys_enter_sendto', 0)
        if n < 1000 or (cur and abs(n - cur[-1]['sys_enter_sendto']) > cur[-1]['sys_enter_sendto'] / 3):
            if cur:
                plateaus.append(cur)
            cur = [s] if n >= 1000 else []
        else:
            cur.append(s)
    if cur:
        plateaus.append(cur)
    plateaus = [p for p in plateaus if len(p) >= 5]  # a step lasts 8 s; shorter runs are its edges
    steps = json.load(open(f'{d}/run{i}.json'))['steps']
    for step, plateau in zip(steps, plateaus[-3:]):
        whole = plateau[1:-1]  # the first and last seconds straddle the step's edges
        sends = [s['sys_enter_sendto'] for s in whole]
        deliveries = 5000 * step['rate'] * len(whole)  # every observer gets every message
        total = collections.Counter()
        for s in whole:
            total.update(s)
        print(f"| {i} | {step['rate']:g} | {step['serverCpuUsPerDelivery']} | {min(sends):,}-{max(sends):,} | "
              f"{5000 * step['rate']:,.0f} | {total['sched_wakeup'] / deliveries:.3f} | "
              f"{total['context-switches'] / deliveries:.3f} | {total['sys_enter_epoll_wait'] / deliveries:.4f} |")
