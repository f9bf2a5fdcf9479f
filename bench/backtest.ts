/**
 * `npm run bench` (first part): bars per second through the backtest engine's whole decision path,
 * each run in a process of its own (bench/engine-run.ts) so its peak memory is its own:
 * - sma_crossover on 10 million hourly bars built from the real Binance BTC and ETH history: as
 *   shipped (deciding on its daily bar), and deciding at every hourly close with paper trading's risk
 *   sizing and with a fixed fraction;
 * - the live ensemble (every enabled strategy, aggregation, risk sizing, cooldowns, trailing stops)
 *   on 10 coins × 500,000 hourly bars with FRED's VIX.
 * Each beside a bare SMA-crossover loop over the same price columns, timed in the same process, and
 * run from the esbuild bundle of bench/engine-run.ts (dist/bench/), as the deployed workers run;
 * each scenario three times (BENCH_ROUNDS), reported as the median and the range. Writes BENCHMARKS.md.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineRun } from './engine-run';
import { CHUNK } from '../src/domain/chunks';
import { buildEngineRun, ENGINE_RUN, engineRun } from './engine-process';
import { BACKTEST_NODE_FLAGS, machineDescription, writeBenchmarkSection } from './report';

const en = (x: number) => x.toLocaleString('en');
/** The issue's goals: bars per second, and for sma_crossover a share of the same run's floor as well. */
const RUNS = [
  { scenario: 'sma-shipped', name: 'sma_crossover as shipped (deciding on its daily bar), paper-trading defaults', target: 5e6, floorShare: 0.1 },
  { scenario: 'sma-risk', name: 'sma_crossover deciding at every hourly close, paper-trading defaults (risk-module sizing)', target: 5e6, floorShare: 0.1 },
  { scenario: 'sma-fixed', name: 'sma_crossover deciding at every hourly close, fixed fraction (20% of equity per entry)', target: 5e6, floorShare: 0.1 },
  { scenario: 'ensemble', name: 'the live ensemble, 10 coins (risk sizing, cooldowns, 5% trailing stops)', target: 1e6 },
];

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  /** µs on the monotonic clock; each sample is `timeDeltas[i]` after the one before it. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The source file of each line of the bundle: esbuild starts every module's code with a
 * `// src/…` comment line, so a profiled frame's line finds its file.
 */
function sourceOfLine(bundle: string): (line: number) => string | undefined {
  const starts: Array<{ line: number; file: string }> = [];
  bundle.split('\n').forEach((text, line) => {
    const file = text.match(/^\/\/ ((?:src|bench)\/\S+\.ts)$/)?.[1];
    if (file) starts.push({ line, file });
  });
  return (line) => {
    let found: string | undefined;
    for (const s of starts) if (s.line <= line) found = s.file;
    return found;
  };
}

/**
 * Where a scenario's time goes: a run under V8's sampling profiler, self time by function of the
 * project's sources and the garbage collector while the backtest ran (the bench's own data building
 * before it and its count of the strategies' signals after it left out), largest first.
 */
async function profileOf(scenario: string): Promise<Array<{ name: string; share: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'mts-bench-profile-'));
  const sourceOf = sourceOfLine(readFileSync(ENGINE_RUN, 'utf8'));
  try {
    const { window } = await engineRun(scenario, { nodeFlags: [...BACKTEST_NODE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const profiles = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
    const self = new Map<string, number>();
    let total = 0;
    for (const p of profiles) {
      const frame = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
      let at = p.startTime;
      p.samples.forEach((id, i) => {
        at += p.timeDeltas[i];
        if (at < window.fromMicros || at > window.toMicros) return;
        const f = frame.get(id)!;
        const source = f.url.endsWith('/engine-run.mjs') ? sourceOf(f.lineNumber) : undefined;
        const name = source?.startsWith('src/') ? `${f.functionName || '(anonymous)'} (${source})`
          : f.functionName === '(garbage collector)' ? 'garbage collector' : null;
        if (!name) return;
        self.set(name, (self.get(name) ?? 0) + p.timeDeltas[i]);
        total += p.timeDeltas[i];
      });
    }
    return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([name, t]) => ({ name, share: t / total }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs of each scenario with the deployed flags: this VM's speed moves ±15 % between runs, so one run is not a figure. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const rate = (r: EngineRun) => r.bars / r.seconds;
const floorRate = (r: EngineRun) => r.floor.bars / r.floor.seconds;
const ofFloor = (r: EngineRun) => rate(r) / floorRate(r);

/** The median of `values` and their range, as "median unit (lowest–highest)", each `format`ted. */
function medianAndRange(values: number[], format: (x: number) => string, unit: string) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const range = sorted.length > 1 ? ` (${format(sorted[0])}–${format(sorted[sorted.length - 1])})` : '';
  return { median, text: `${format(median)} ${unit}${range}` };
}

/**
 * What the shipped SMA's curve would cost as one column, before a value is written: memory the
 * process has just been given, whose first write of each page is a page fault; and how much of it
 * the engine's curve keeps as columns (`CurveValues`).
 */
function freshMemoryNote(rounds: EngineRun[]) {
  const first = medianAndRange(rounds.map((r) => r.freshMemory.firstMs), (x) => x.toFixed(0), 'ms');
  const again = medianAndRange(rounds.map((r) => r.freshMemory.againMs), (x) => x.toFixed(1), 'ms');
  const { points } = rounds[0].freshMemory;
  const { blocks, flat } = rounds[0].curveBlocks;
  const mib = (n: number) => ((n * 8) / 2 ** 20).toFixed(0);
  const pages = (points * 8) / 4096;
  return `Fresh memory, in the same processes: the shipped SMA's curve has ${en(points)} points, one per close (${mib(points)} MiB as one column of values). `
    + `Filling a fresh column of that size after the run took ${first.text}, filling it again ${again.text}: the first write of each 4 KiB page is a page fault, `
    + `~${((first.median - again.median) * 1000 / pages).toFixed(1)} µs a page on this machine. The engine keeps the curve's values in blocks of ${en(CHUNK)} points `
    + `and a block whose points all hold one value (a flat book's stretch) as that value alone (\`CurveValues\`, src/domain/curve-values.ts): ${en(flat)} of this run's `
    + `${en(blocks)} blocks, so its values took ${mib((blocks - flat) * CHUNK)} MiB of columns. The floor reads columns already in memory.`;
}

async function main() {
  await buildEngineRun();
  const runs = [];
  for (const r of RUNS) {
    const rounds: EngineRun[] = [];
    for (let k = 0; k < ROUNDS; k++) rounds.push(await engineRun(r.scenario));
    // The median run by speed gives the row's counts and seconds; every round has the same counts.
    const run = [...rounds].sort((a, b) => rate(a) - rate(b))[Math.floor(rounds.length / 2)];
    runs.push({ ...r, rounds, run, defaultNursery: await engineRun(r.scenario, { nodeFlags: [] }) });
  }
  const profiles = { ensemble: await profileOf('ensemble'), shipped: await profileOf('sma-shipped'), hourly: await profileOf('sma-risk') };
  const profileTable = (profile: Array<{ name: string; share: number }>) => [
    '| function | share |',
    '|---|---|',
    ...profile.map((p) => `| ${p.name} | ${(p.share * 100).toFixed(1)} % |`),
  ];
  writeBenchmarkSection('Backtest engine throughput', [
    `Command: \`npm run bench\`. Machine: ${machineDescription()}; one core (the engine is single-threaded), each run a process of its own from the esbuild bundle of the engine, as \`npm run build\` bundles the workers (plain \`node ${BACKTEST_NODE_FLAGS.join(' ')}\` as the deployed backtest workers run, no tsx).`,
    'Data: hourly bars built from the real Binance BTC and ETH hourly history in `../shared/data/market/crypto_intraday/cryptodatadownload_binance_1h/` (33,413 bars each), played forwards and backwards in turn, each coin from its own starting point; the ensemble\'s VIX is FRED\'s VIXCLS (`../shared/data/market/macro/fred/`) played the same way, one value a day.',
    'Times cover the whole backtest: event queue, replay, closing out and the metrics. The floor is a bare SMA(10, 30) crossover loop over the same Float64Array closes, timed in the same process right after the run.',
    `Each scenario runs ${ROUNDS} times, each time a process of its own: speed, floor and share of the floor are the median of the runs with their range in brackets (each share from its own run), the target judged on the median; seconds and the counts are the median run's (every run has the same counts); peak memory is the highest of the runs.`,
    '',
    '| run | coins × bars | seconds | bars per second | target | floor (same run) | of the floor | strategy signals | trades | fills | risk rejections | peak memory (× columns; target 1.5 ×) | above Node\'s own | with V8\'s default young generation | price columns |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(({ name, target, floorShare, rounds, run: r, defaultNursery }) => {
      const times = (mib: number) => `${(mib / r.columnsMiB).toFixed(2)} ×`;
      const peak = rounds.reduce((max, x) => (x.peakRssMiB > max.peakRssMiB ? x : max));
      const memory = `${peak.peakRssMiB.toFixed(0)} MiB (${times(peak.peakRssMiB)}: ${peak.peakRssMiB <= 1.5 * r.columnsMiB ? 'met' : 'not met'})`;
      const speed = medianAndRange(rounds.map(rate), (x) => (x / 1e6).toFixed(2), 'M');
      const floor = medianAndRange(rounds.map(floorRate), (x) => (x / 1e6).toFixed(0), 'M');
      const share = medianAndRange(rounds.map(ofFloor), (x) => (x * 100).toFixed(2), '%');
      const met = (ok: boolean) => (ok ? 'met' : 'not met');
      const goals = `${target / 1e6} M: ${met(speed.median >= target)}${floorShare ? `; ${floorShare * 100} % of the floor: ${met(share.median >= floorShare)}` : ''}`;
      return `| ${name} | ${r.assets} × ${en(r.bars / r.assets)} | ${r.seconds.toFixed(2)} | ${speed.text} | ${goals} | ${floor.text} | ${share.text} | ${en(r.signals)} | ${en(r.trades)} | ${en(r.fills)} | ${en(r.rejections)} | ${memory} | ${times(peak.peakRssMiB - peak.startRssMiB)} | ${defaultNursery.peakRssMiB.toFixed(0)} MiB (${times(defaultNursery.peakRssMiB)}) in ${defaultNursery.seconds.toFixed(2)} s | ${r.columnsMiB.toFixed(0)} MiB |`;
    }),
    '',
    `Strategies: sma_crossover with its shipped parameters, on its shipped daily bar (first row) and deciding at every hourly close (the heaviest load of signals: one every ~25 bars); the ensemble is ${runs[3].run.strategies.join('; ')}.`,
    'The risk-sized runs stop trading once the drawdown plus a new trade\'s stop loss would pass 20 % (config/risk.json maxDrawdown; with nothing open the equity cannot recover): from then on every signal is sized, assessed and refused by the drawdown limit, which is most of the rejections.',
    'As the backtest activity does, the runs take closed trades out of the engine and drop fills between chunks of a million bars (counted here).',
    'Peak memory is the process\'s max RSS up to the end of the backtest, Node itself included (about 55 MiB before any data; the next column leaves that out); price columns are the six Float64Array columns of the replayed bars. The bench reads its CSV files straight into columns and counts the strategies\' signals after the peak is read. The deployed backtest workers give V8\'s young generation 8 MiB semi-spaces (`--max-semi-space-size=8`, NODE_OPTIONS in docker-compose.yml and deploy/k8s/workers.yaml); with V8\'s default (semi-spaces grown to 16 MiB under a heavy allocation rate) a second run of each peaks higher (the column before last, with its time).',
    '',
    'Where the time goes (V8\'s sampling profiler on one more run of each, self time of the engine\'s functions and the garbage collector while the backtest ran, this run). The ensemble:',
    '',
    ...profileTable(profiles.ensemble),
    '',
    `sma_crossover as shipped (\`passQuietCloses\`: the closes of a flat book between its daily bar ends, passed in one loop; \`pushRepeated\`, \`seal\` (src/domain/curve-values.ts): its curve's points, a flat block's counted and never written, the others' blocks made (fresh memory: each page faults at its first write); \`over\`, \`returnsInto\`, \`addSpread\`, \`count\` (src/domain/metrics.ts): the metrics' two passes over its curve, a point per hourly close; \`decide\` and what it calls: its ${en(runs[0].run.signals)} signals):`,
    '',
    ...profileTable(profiles.shipped),
    '',
    `sma_crossover deciding at every hourly close, risk-module sizing (\`passFlatCloses\`: a flat book's closes fed one by one in one loop until a stream speaks; \`decide\` and what it calls, \`closeTail\`, \`signalsAt\`: its ${en(runs[1].run.signals)} signals, each aggregated, sized against the asset's market conditions, regime and track record, and assessed):`,
    '',
    ...profileTable(profiles.hourly),
    '',
    freshMemoryNote(runs[0].rounds),
  ]);
}

await main();
