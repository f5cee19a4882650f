#!/usr/bin/env node
'use strict';
// Turns a results directory of bench/run.sh into the tables and SVG charts of docs/benchmarks.md.
//   node bench/report.js RESULTS_DIR [DOCS_DIR]
// Writes DOCS_DIR/benchmarks/*.svg, copies the JSON to DOCS_DIR/benchmarks/results/, and replaces
// the part of DOCS_DIR/benchmarks.md between <!-- tables:start --> and <!-- tables:end -->.
// No packages: plain Node.
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
const docs = process.argv[3] || path.join(__dirname, '..', 'docs');
if (!dir) {
  console.error('usage: node bench/report.js RESULTS_DIR [DOCS_DIR]');
  process.exit(2);
}
const outDir = path.join(docs, 'benchmarks');
fs.mkdirSync(path.join(outDir, 'results'), { recursive: true });

const results = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  if (j.skipped || j.failed || !j.steps) continue;
  results.push(j);
  fs.copyFileSync(path.join(dir, f), path.join(outDir, 'results', f));
}

const OURS = new Set(['copresence', 'copresence-2n', 'copresence-b']);
const ORDER = ['copresence', 'copresence-b', 'copresence-2n', 'vertx', 'ws', 'socketio', 'socketio-redis', 'socketio-2n'];
const COLORS = { copresence: '#d62728', 'copresence-b': '#ff7f0e', 'copresence-2n': '#d62728', vertx: '#1f77b4', ws: '#2ca02c', socketio: '#9467bd', 'socketio-redis': '#8c564b', 'socketio-2n': '#9467bd' };
const bySystem = (a, b) => ORDER.indexOf(a.system) - ORDER.indexOf(b.system);

// a NaN that a run's JSON holds as the string "NaN" (a value one run lacked) prints as a dash too
const fmt = (v, d = 1) => (v === undefined || v === null || Number.isNaN(Number(v)) ? '–' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: 0 }));
const ratio = (ours, peer) => (ours > 0 && peer > 0 ? (ours / peer).toFixed(2) : '–');
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

// observers: the fanout runs whose subscribers observed the document instead of joining it
// (bench/run.sh --observers); they are tables of their own, never mixed with the member runs.
function of(scenario, size, observers = false) {
  return results.filter((r) => r.scenario === scenario && !!r.observers === observers && (size === undefined || r.size === size)).sort(bySystem);
}
function sizes(scenario, observers = false) {
  return [...new Set(of(scenario, undefined, observers).map((r) => r.size))].sort((a, b) => a - b);
}

// ---- SVG --------------------------------------------------------------------------------------------
function svgFrame(w, h, title, body) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
${body}
</svg>
`;
}

// groups: [{label, values: [{system, value}]}]; grouped bars, linear scale from 0
function barChart(file, title, yLabel, groups) {
  const systems = [...new Set(groups.flatMap((g) => g.values.map((v) => v.system)))].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values.map((v) => v.value || 0)));
  const W = 760, H = 380, L = 70, R = 150, T = 35, B = 50;
  const pw = W - L - R, ph = H - T - B;
  const gw = pw / Math.max(1, groups.length);
  const bw = Math.min(40, (gw * 0.8) / Math.max(1, systems.length));
  let body = '';
  for (let i = 0; i <= 4; i++) {
    const y = T + ph - (ph * i) / 4;
    body += `<line x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${fmt((max * i) / 4, max < 10 ? 2 : 0)}</text>\n`;
  }
  groups.forEach((g, gi) => {
    const x0 = L + gi * gw + (gw - bw * systems.length) / 2;
    systems.forEach((s, si) => {
      const v = g.values.find((x) => x.system === s);
      if (!v || v.value === undefined || v.value === null) return;
      const h = (ph * v.value) / max;
      const x = x0 + si * bw;
      body += `<rect x="${x}" y="${T + ph - h}" width="${bw - 2}" height="${h}" fill="${COLORS[s] || '#777'}"><title>${esc(s)}: ${fmt(v.value, 2)}</title></rect>\n`;
      body += `<text x="${x + bw / 2 - 1}" y="${T + ph - h - 3}" text-anchor="middle" font-size="9">${fmt(v.value, v.value < 10 ? 2 : 0)}</text>\n`;
    });
    body += `<text x="${L + gi * gw + gw / 2}" y="${T + ph + 18}" text-anchor="middle">${esc(g.label)}</text>\n`;
  });
  body += `<line x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}" stroke="#333"/><line x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}" stroke="#333"/>\n`;
  body += `<text transform="translate(16 ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>\n`;
  systems.forEach((s, i) => {
    body += `<rect x="${L + pw + 20}" y="${T + 10 + i * 20}" width="12" height="12" fill="${COLORS[s] || '#777'}"/><text x="${L + pw + 38}" y="${T + 20 + i * 20}">${esc(s)}</text>\n`;
  });
  fs.writeFileSync(path.join(outDir, file), svgFrame(W, H, title, body));
  return `benchmarks/${file}`;
}

// series: [{system, points: [{x, y}]}]; log y
function lineChart(file, title, xLabel, yLabel, series, hline) {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0);
  if (!xs.length || !ys.length) return null;
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...ys, hline || Infinity))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys, hline || 0))));
  const W = 760, H = 380, L = 70, R = 150, T = 35, B = 50;
  const pw = W - L - R, ph = H - T - B;
  const X = (x) => L + (xs.length === 1 ? pw / 2 : (pw * xs.indexOf(x)) / (xs.length - 1));
  const Y = (y) => T + ph - (ph * (Math.log10(Math.max(y, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  let body = '';
  for (let e = Math.log10(lo); e <= Math.log10(hi); e++) {
    const y = Y(Math.pow(10, e));
    body += `<line x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${fmt(Math.pow(10, e), 3)}</text>\n`;
  }
  if (hline) {
    body += `<line x1="${L}" x2="${L + pw}" y1="${Y(hline)}" y2="${Y(hline)}" stroke="#f90" stroke-dasharray="6 4"/><text x="${L + pw - 4}" y="${Y(hline) - 4}" text-anchor="end" fill="#c60">${hline} ms</text>\n`;
  }
  xs.forEach((x) => {
    body += `<text x="${X(x)}" y="${T + ph + 18}" text-anchor="middle">${fmt(x)}</text>\n`;
  });
  series.sort((a, b) => ORDER.indexOf(a.system) - ORDER.indexOf(b.system)).forEach((s, i) => {
    const c = COLORS[s.system] || '#777';
    const pts = s.points.filter((p) => p.y > 0);
    body += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${X(p.x)},${Y(p.y)}`).join(' ')}"/>\n`;
    pts.forEach((p) => {
      body += `<circle cx="${X(p.x)}" cy="${Y(p.y)}" r="3" fill="${c}"><title>${esc(s.system)} ${p.x}: ${fmt(p.y, 2)}</title></circle>\n`;
    });
    body += `<rect x="${L + pw + 20}" y="${T + 10 + i * 20}" width="12" height="12" fill="${c}"/><text x="${L + pw + 38}" y="${T + 20 + i * 20}">${esc(s.system)}</text>\n`;
  });
  body += `<line x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}" stroke="#333"/><line x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}" stroke="#333"/>\n`;
  body += `<text x="${L + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>\n`;
  body += `<text transform="translate(16 ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>\n`;
  fs.writeFileSync(path.join(outDir, file), svgFrame(W, H, title, body));
  return `benchmarks/${file}`;
}

// ---- tables -----------------------------------------------------------------------------------------
const md = [];
const table = (head, rows) => {
  md.push('| ' + head.join(' | ') + ' |');
  md.push('|' + head.map(() => ' --- ').join('|') + '|');
  rows.forEach((r) => md.push('| ' + r.join(' | ') + ' |'));
  md.push('');
};
const ours = (rs) => rs.find((r) => OURS.has(r.system));
// a median of several runs (bench/run.sh --repeat) shows every run's range beside it
const spread = (s, key, d = 2) => {
  const runs = s.runs && s.runs[key] && s.runs[key].filter((v) => v !== null && !Number.isNaN(v));
  if (!runs || runs.length < 2) return fmt(s[key], d);
  return `${fmt(s[key], d)} (${fmt(Math.min(...runs), d)}–${fmt(Math.max(...runs), d)})`;
};
// how much of a step's server CPU was the JVM's JIT compiler still at work (Node's is not split out).
// Over several runs, the median of each run's own share: the median of the compiler's CPU and the
// median of the whole are, as a rule, two different runs' figures, and their ratio no run's share.
const jitShare = (s, key = 'serverCpuUsPerDelivery') => {
  const whole = s.runs && s.runs[key];
  const exJit = s.runs && s.runs[key + 'ExJit'];
  if (whole && exJit && whole.length > 1 && whole.length === exJit.length) {
    const shares = whole.map((w, i) => (w > 0 && typeof exJit[i] === 'number' ? 1 - exJit[i] / w : null)).filter((v) => v !== null);
    if (shares.length) return `${Math.round(100 * median(shares))} %`;
  }
  return s.serverJitCpuSeconds === undefined || !(s.serverCpuSeconds > 0) ? '–' : `${Math.round((100 * s.serverJitCpuSeconds) / s.serverCpuSeconds)} %`;
};
const median = (vs) => {
  const v = [...vs].sort((x, y) => x - y);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
// the driver processes' own CPU (they share one): near 100 %, a latency is the driver's queue, not the server's
const driverCpu = (s) => (s.driverCpuPercent === undefined ? '–' : `${fmt(s.driverCpuPercent, 0)} %`);
const repeated = (rs) => Math.max(1, ...rs.map((r) => r.repeats || 1));
const img = (p, alt) => p && md.push(`![${alt}](${p})`, '');

// Run by run: the machine check each run took on the server's CPU just before it (bench/run.sh), beside
// what the run cost, so that a dear run on a slow moment of the VM can be told from a dear build.
function machineRuns(rs, key, rates, unit, what) {
  const checked = rs.filter((r) => r.runs && r.runs.machineMemoryLatencyNs);
  if (!checked.length || repeated(rs) < 2) return;
  // the check after a run exists since bench/run.sh took it: older results show the one before only
  const hasAfter = checked.some((r) => r.runs.machineMemoryLatencyNsAfter);
  md.push(`Run by run (numbered among the runs that completed): the machine check before each run${hasAfter ? ' and after it' : ''} (a random walk through 32 MiB and through 256 KiB, ns a load, on the server's CPU) beside its ${what}.`, '');
  const checks = [['memory ns before', 'machineMemoryLatencyNs', 1], ['memory ns after', 'machineMemoryLatencyNsAfter', 1],
    ['L2 ns before', 'machineL2LatencyNs', 2], ['L2 ns after', 'machineL2LatencyNsAfter', 2]].filter(([, k]) => hasAfter || !k.endsWith('After'));
  const at = (list, i, d) => fmt(list && list[i], d);
  const rows = [];
  for (const r of checked) {
    r.runs.machineMemoryLatencyNs.forEach((_, i) => {
      rows.push([r.system, String(i + 1), ...checks.map(([, k, d]) => at(r.runs[k], i, d)), ...r.steps.map((s) => at(s.runs && s.runs[key], i, 2))]);
    });
  }
  table(['system', 'run', ...checks.map(([heading]) => heading), ...rates.map((rate) => `${fmt(rate)} ${unit}`)], rows);
}

// Where a step's server CPU went, for runs whose driver read the server's threads (the event loops,
// the collector) and both sides' context switches: a dear step shows whether the loops did more work,
// the collector ran, or the processes were woken more often (on a VM, each wake-up an interrupt).
function threadsTable(rs, rates, unit, key = 'serverCpuUsPerDelivery') {
  if (!rs.some((r) => r.steps.some((s) => s[key + 'Loops'] !== undefined))) return;
  const per = key === 'serverCpuUsPerOp' ? 'operation' : 'delivery';
  md.push(`Where the server's CPU per ${per} went (medians; in brackets, the lowest and highest run): its event loops (Vert.x's, or Node's main thread), its collector (a JVM's VM Thread and GC threads; Node's is not split out), and context switches per 1,000 ${per === 'delivery' ? 'deliveries' : 'operations'} of the server's and of the driver's threads.`, '');
  const rows = [];
  rates.forEach((rate, k) => {
    for (const r of rs) {
      const s = r.steps[k];
      if (!s) continue;
      rows.push([fmt(rate), OURS.has(r.system) ? '**' + r.system + '**' : r.system, spread(s, key), spread(s, key + 'Loops'), spread(s, key + 'Gc'),
        spread(s, 'serverCtxSwitchesPer1000', 0), spread(s, 'driverCtxSwitchesPer1000', 0)]);
    }
  });
  table([unit, 'system', `CPU µs/${per}`, 'of it event loops', 'of it collector', 'server switches /1,000', 'driver switches /1,000'], rows);
}

// The warm-up of a long-warmed run (--warmup-seconds 240) is minutes of steps at one rate: per run,
// the median of its steps after the first minute is a steady figure that a few slow seconds of a
// shared VM, which can make one measured step dear for any system, hardly move. Read from RESULTS_DIR/runs/.
const runsDir = path.join(dir, 'runs');
const singleRuns = fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((f) => /\.r\d+\.json$/.test(f)).sort()
  .map((f) => ({ n: Number(f.match(/\.r(\d+)\.json$/)[1]), j: JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8')) }))
  .filter(({ j }) => !j.failed && !j.skipped && j.warmup) : [];
function steadyOf(j) {
  const w = j.warmup.filter((s) => s.deliveredPerSec > 0 && s.serverCpuUsPerDelivery > 0);
  if (w.length < 8) return null;
  const seconds = w[0].received / w[0].deliveredPerSec;
  const later = w.slice(Math.ceil(60 / seconds)).filter((s) => s.rate === w[w.length - 1].rate);
  if (later.length < 5) return null;
  const whole = later.map((s) => s.serverCpuUsPerDelivery);
  const exJit = later.map((s) => s.serverCpuUsPerDeliveryExJit).filter((v) => typeof v === 'number');
  return { rate: later[0].rate, steps: later.length, seconds, whole: median(whole), exJit: exJit.length ? median(exJit) : undefined,
    low: Math.min(...whole), high: Math.max(...whole), p99: median(later.map((s) => s.p99ms)) };
}
function steadyTable(scenario, size, observers) {
  const runs = singleRuns.filter(({ j }) => j.scenario === scenario && j.size === size && !!j.observers === observers)
    .map(({ n, j }) => ({ n, system: j.system, st: steadyOf(j) })).filter((x) => x.st)
    .sort((a, b) => a.n - b.n || ORDER.indexOf(a.system) - ORDER.indexOf(b.system));
  if (!runs.length) return;
  md.push(`The warm-up's steps after its first minute, run by run (${fmt(runs[0].st.seconds, 0)} s steps at ${fmt(runs[0].st.rate)} msg/s): the median step's CPU per delivery, whole and without the JIT's threads, the cheapest and dearest step, and the median step's p99. A slow minute of the VM moves one measured step; it moves the median of many little.`, '');
  const oursOf = (n) => runs.find((x) => x.n === n && OURS.has(x.system));
  table(['run', 'system', 'steps', 'µs/delivery, median step', 'without the JIT', 'cheapest–dearest step', 'p99 ms, median step', 'ratio ours/peer (median steps)', 'the same without the JIT'],
    runs.map(({ n, system, st }) => [String(n), OURS.has(system) ? '**' + system + '**' : system, String(st.steps), fmt(st.whole, 2), fmt(st.exJit, 2),
      `${fmt(st.low, 2)}–${fmt(st.high, 2)}`, fmt(st.p99, 1), OURS.has(system) ? '' : ratio(oursOf(n) && oursOf(n).st.whole, st.whole),
      OURS.has(system) ? '' : ratio(oursOf(n) && oursOf(n).st.exJit, st.exJit)]));
}

// Two systems measured at once (bench/run.sh --together): each round's two runs saw the same moments
// of the VM, so the ratio within a round is the figure to read, and the spread of those ratios says
// how far it can be trusted. The numerator is the system listed first in ORDER (ours before a peer).
function togetherTable(scenario, size, observers) {
  const fits = (j) => j.together && j.scenario === scenario && j.size === size && !!j.observers === observers && !j.failed && !j.skipped;
  const alone = results.filter(fits).map((j) => ({ n: 1, j }));
  const runs = singleRuns.some(({ j }) => fits(j)) ? singleRuns.filter(({ j }) => fits(j)) : alone;
  // a round is a pair of runs of one results file name's round number; a round whose other run failed is left out, and says so
  const numbers = [...new Set(runs.map((x) => x.n))].sort((a, b) => a - b);
  const byPair = new Map();
  for (const n of numbers) {
    const pair = runs.filter((x) => x.n === n).map((x) => x.j).sort(bySystem);
    if (pair.length !== 2) continue;
    const key = pair.map((j) => j.system).join(' / ');
    if (!byPair.has(key)) byPair.set(key, []);
    byPair.get(key).push({ n, pair });
  }
  for (const [key, rounds] of byPair) {
    const systems = key.split(' / ');
    const missing = numbers.filter((n) => !rounds.some((r) => r.n === n) && runs.some((x) => x.n === n && systems.includes(x.j.system)));
    md.push(`Measured together (\`--together\`): ${key.replace(' / ', ' and ')} ran at the same time on the server's CPU, their broadcasts half a period apart${rounds.length > 1 ? ' (the phases swapping from round to round)' : ''}; ${key}, round by round (rounds ${rounds.map((r) => r.n).join(', ')}${missing.length ? `; left out, its other run failed: ${missing.join(', ')}` : ''}), and the median of the rounds' ratios.`, '');
    const rows = [];
    rounds[0].pair[0].steps.forEach((step, k) => {
      for (const [field, what] of [['serverCpuUsPerDelivery', 'CPU µs/delivery'], ['serverCpuUsPerDeliveryExJit', 'without the JIT'], ['p99ms', 'p99 ms']]) {
        const at = (j) => j.steps[k] && j.steps[k][field];
        // a round without the figure shows a dash in both columns, so that they stay in the rounds' order
        const ratios = rounds.map(({ pair: [x, y] }) => (at(x) > 0 && at(y) > 0 ? at(x) / at(y) : null));
        const known = ratios.filter((v) => v !== null);
        if (!known.length) continue;
        rows.push([fmt(step.rate), what, rounds.map(({ pair: [x, y] }) => `${fmt(at(x), 2)} / ${fmt(at(y), 2)}`).join('; '),
          ratios.map((v) => (v === null ? '–' : v.toFixed(2))).join(', '), `**${median(known).toFixed(2)}**`]);
      }
    });
    table(['msg/s', 'what', `${key}, round by round`, 'ratio by round', 'median ratio'], rows);
  }
}

function fanoutSection(scenario, heading, observers = false) {
  // file names: fanout-5000-observers-p99.svg next to fanout-1000-p99.svg
  const key = (size) => `${scenario}-${size}${observers ? '-observers' : ''}`;
  const who = observers ? 'observers' : 'subscribers';
  for (const size of sizes(scenario, observers)) {
    const rs = of(scenario, size, observers);
    if (!rs.length) continue;
    md.push(observers ? `### ${heading}: ${fmt(size)} observers (SSE for Copresence, silent room join for the peers)`
      : `### ${heading}: ${fmt(size)} subscribers`, '');
    if (repeated(rs) > 1) md.push(`Medians of ${repeated(rs)} runs of each system, ${rs.some((r) => r.together) ? 'two at a time (`--together`)' : 'interleaved'}; in brackets, the lowest and highest run. Lost and closes are added up over the runs.`, '');
    const o = ours(rs);
    const rows = [];
    const rates = rs[0].steps.map((s) => s.rate);
    rates.forEach((rate, k) => {
      for (const r of rs) {
        const s = r.steps[k];
        const os = o && o.steps[k];
        rows.push([fmt(rate), (OURS.has(r.system) ? '**' + r.system + '**' : r.system), fmt(s.deliveredPerSec, 0), fmt(s.p50ms, 1), fmt(s.p99ms, 1),
          fmt(s.p999ms, 1), fmt(s.lost, 0), fmt(s.serverCpuPercent, 0) + ' %', spread(s, 'serverCpuUsPerDelivery'), jitShare(s),
          OURS.has(r.system) ? '' : ratio(os && os.serverCpuUsPerDelivery, s.serverCpuUsPerDelivery),
          OURS.has(r.system) ? '' : ratio(os && os.p99ms, s.p99ms), driverCpu(s), r.loadBefore]);
      }
    });
    table(['msg/s', 'system', 'deliveries/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'lost', 'server CPU', 'CPU µs/delivery', 'of it JIT', 'µs ratio ours/peer', 'p99 ratio ours/peer', 'driver CPU', 'load avg before'], rows);
    table(['system', 'highest rate with p99 < 100 ms and nothing lost (msg/s)', 'connect rate (conn/s)', 'unexpected closes'],
      rs.map((r) => [r.system, fmt(r.highestRateP99Under100ms), fmt(r.connectRate, 0), `${r.unexpectedCloses} ${JSON.stringify(r.closeCodes)}`]));
    threadsTable(rs, rates, 'msg/s');
    steadyTable(scenario, size, observers);
    togetherTable(scenario, size, observers);
    machineRuns(rs, 'serverCpuUsPerDelivery', rates, 'msg/s', 'CPU µs per delivery');
    img(lineChart(`${key(size)}-p99.svg`, `${heading}, ${size} ${who}: p99 publish-to-receive latency`, 'broadcasts per second', 'p99 latency (ms, log)',
      rs.map((r) => ({ system: r.system, points: r.steps.map((s) => ({ x: s.rate, y: s.p99ms })) })), 100), `${observers ? key(size) : scenario} p99`);
    img(barChart(`${key(size)}-cpu.svg`, `${heading}, ${size} ${who}: server CPU per delivery`, 'µs of server CPU per delivery',
      rates.map((rate, k) => ({ label: `${rate} msg/s`, values: rs.map((r) => ({ system: r.system, value: r.steps[k].serverCpuUsPerDelivery })) }))), `${observers ? key(size) : scenario} cpu`);
  }
}

md.push('<!-- generated by bench/report.js from ' + path.basename(path.resolve(dir)) + '; do not edit by hand -->', '');

if (of('idle').length) {
  md.push('### idle', '');
  if (repeated(of('idle')) > 1) md.push(`Medians of ${repeated(of('idle'))} runs of each system, interleaved; in brackets, the lowest and highest run.`, '');
  const rows = [];
  for (const size of sizes('idle')) {
    const rs = of('idle', size);
    const o = ours(rs);
    for (const r of rs) {
      rows.push([fmt(size), OURS.has(r.system) ? '**' + r.system + '**' : r.system, `${fmt(r.opened, 0)}/${fmt(r.connections, 0)}`, fmt(r.connectRate, 0), fmt(r.serverRssLoadedKiB / 1024, 0),
        spread(r, 'rssPerConnectionKiB', 1), spread(r, 'heapPerConnectionKiB', 1), OURS.has(r.system) ? '' : ratio(o && o.rssPerConnectionKiB, r.rssPerConnectionKiB),
        OURS.has(r.system) ? '' : ratio(o && o.heapPerConnectionKiB, r.heapPerConnectionKiB), spread(r, 'idleServerCpuMsPerSec', 1),
        OURS.has(r.system) ? '' : ratio(o && o.idleServerCpuMsPerSec, r.idleServerCpuMsPerSec), r.loadBefore]);
    }
  }
  table(['connections', 'system', 'joined', 'connect rate (conn/s, incl. join)', 'server RSS MiB', 'RSS KiB/conn', 'heap KiB/conn (after GC)', 'RSS ratio ours/peer', 'heap ratio ours/peer', 'server CPU while idle (ms/s)', 'idle CPU ratio ours/peer', 'load avg before'], rows);
  img(barChart('idle-rss.svg', 'idle: server RSS per joined connection', 'KiB per connection',
    sizes('idle').map((size) => ({ label: `${fmt(size)} conns`, values: of('idle', size).map((r) => ({ system: r.system, value: r.rssPerConnectionKiB })) }))), 'idle rss');
}

if (of('fanout').length) fanoutSection('fanout', 'fanout');
if (of('fanout', undefined, true).length) fanoutSection('fanout', 'fanout', true);

if (of('churn').length) {
  md.push('### churn (over Redis)', '');
  if (repeated(of('churn')) > 1) md.push(`Medians of ${repeated(of('churn'))} runs of each system, interleaved; in brackets, the lowest and highest run.`, '');
  const rows = [];
  for (const size of sizes('churn')) {
    const rs = of('churn', size);
    const o = ours(rs);
    rs[0].steps.forEach((_, k) => {
      for (const r of rs) {
        const s = r.steps[k];
        const os = o && o.steps[k];
        rows.push([fmt(size), fmt(s.rate), OURS.has(r.system) ? '**' + r.system + '**' : r.system, fmt(s.opsPerSec, 0), fmt(s.joinsSeen, 0), fmt(s.joinsNotSeen, 0), fmt(s.p50ms, 1), fmt(s.p99ms, 1),
          spread(s, 'serverCpuUsPerOp', 0), jitShare(s, 'serverCpuUsPerOp'), OURS.has(r.system) ? '' : ratio(os && os.serverCpuUsPerOp, s.serverCpuUsPerOp),
          OURS.has(r.system) ? '' : ratio(os && os.p99ms, s.p99ms), r.loadBefore]);
      }
    });
  }
  table(['churners', 'offered joins+leaves/s', 'system', 'completed/s', 'joins seen', 'joins not seen', 'p50 join→presence ms', 'p99 ms', 'server+Redis CPU µs/op', 'of it JIT', 'µs ratio ours/peer', 'p99 ratio ours/peer', 'load avg before'], rows);
  for (const size of sizes('churn')) {
    threadsTable(of('churn', size), of('churn', size)[0].steps.map((s) => s.rate), 'ops/s', 'serverCpuUsPerOp');
    machineRuns(of('churn', size), 'serverCpuUsPerOp', of('churn', size)[0].steps.map((s) => s.rate), 'ops/s',
      `server and Redis CPU µs per operation (${fmt(size)} churners)`);
  }
  const rs = of('churn');
  img(lineChart('churn-p99.svg', 'churn: p99 join-to-presence latency', 'offered joins+leaves per second', 'p99 latency (ms, log)',
    rs.map((r) => ({ system: r.system, points: r.steps.map((s) => ({ x: s.rate, y: s.p99ms })) })), 100), 'churn p99');
}

if (of('cursors').length) {
  md.push('### cursors', '');
  const rows = [];
  for (const size of sizes('cursors')) {
    const rs = of('cursors', size);
    const o = ours(rs);
    for (const r of rs) {
      const s = r.steps[0];
      const os = o && o.steps[0];
      rows.push([fmt(size), OURS.has(r.system) ? '**' + r.system + '**' : r.system, fmt(s.updatesSentPerSec, 0), fmt(s.expected / 10, 0), fmt(s.deliveredPerSec, 0),
        (100 * s.conflationSaved).toFixed(1) + ' %', fmt(s.p50ms, 1), fmt(s.p99ms, 1), fmt(s.serverCpuUsPerDelivery, 2),
        OURS.has(r.system) ? '' : ratio(os && os.p99ms, s.p99ms), `${r.unexpectedCloses} ${JSON.stringify(r.closeCodes)}`, r.loadBefore]);
    }
  }
  table(['members', 'system', 'updates sent/s', 'deliveries offered/s', 'delivered/s', 'not delivered (conflated or late)', 'p50 ms', 'p99 ms', 'CPU µs/delivery', 'p99 ratio ours/peer', 'closes', 'load avg before'], rows);
  img(barChart('cursors-p99.svg', 'cursors: p99 latency of the updates delivered', 'p99 ms',
    sizes('cursors').map((size) => ({ label: `${size} members`, values: of('cursors', size).map((r) => ({ system: r.system, value: r.steps[0].p99ms })) }))), 'cursors p99');
}

if (of('fanout-2nodes').length) fanoutSection('fanout-2nodes', 'fanout-2nodes');
if (of('fanout-2nodes', undefined, true).length) fanoutSection('fanout-2nodes', 'fanout-2nodes', true);

const doc = path.join(docs, 'benchmarks.md');
const generated = md.join('\n');
if (fs.existsSync(doc)) {
  const text = fs.readFileSync(doc, 'utf8');
  const a = text.indexOf('<!-- tables:start -->');
  const b = text.indexOf('<!-- tables:end -->');
  if (a >= 0 && b > a) {
    fs.writeFileSync(doc, text.slice(0, a) + '<!-- tables:start -->\n' + generated + '\n' + text.slice(b));
    console.log('updated ' + doc);
  } else {
    fs.writeFileSync(path.join(outDir, 'tables.md'), generated);
    console.log('no markers in ' + doc + '; wrote ' + path.join(outDir, 'tables.md'));
  }
} else {
  fs.writeFileSync(path.join(outDir, 'tables.md'), generated);
  console.log('wrote ' + path.join(outDir, 'tables.md'));
}
