/**
 * `npm run bench` (last part): the same 24-combination ensemble sweep on one and on two
 * `mts worker --role backtest` processes, taking turns, against the Temporal dev server and a real Postgres holding
 * hourly bars (the real Binance BTC and ETH hourly history, played on over the whole range) and FRED's
 * VIX — twice: the live ensemble as configured (its coins, each strategy on its own bar), and the four
 * strategies deciding at every hourly close on ten coins over four years, where a child's replay
 * outweighs what the stack spends on it. Writes BENCHMARKS.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadEnv } from '../src/config/env';
import { loadExecutionConfig } from '../src/config/execution';
import { loadStrategyConfigs } from '../src/config/strategies';
import { upsertCandles } from '../src/db/market-data';
import { backtestWorkflowId, startSweep, sweepBodySchema } from '../src/services/backtests';
import { importMacroCsv } from '../src/services/csv-import';
import { HOUR_MS, isoDate } from '../src/domain/types';
import type { SweepResult } from '../src/workflows/types';
import { buildEngineRun, engineRun } from './engine-process';
import { BACKTEST_NODE_FLAGS, machineBusySeconds, machineDescription, processCpuSeconds, temporalServerPid, writeBenchmarkSection } from './report';
import { type BenchStack, withBenchStack } from './stack';
import { ENSEMBLE_COINS, HOURLY_FILES, MARKET, readHourly, tiledSeries } from './tiled-history';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The bars stored start early enough for the strategies' history before either sweep's range. */
const BARS_FROM = Date.UTC(2017, 7, 17);
const BARS_TO = Date.UTC(2025, 0, 1);
/** Sweeps on the same workers after the first: a long-lived worker's steady state, its code compiled and warm. */
const WARM_ROUNDS = 2;
/**
 * Sets of one and of two worker processes take turns this many times each (one, two, one, two): the
 * host's slower minutes (its other tenants; this VM reports no steal time) then fall on both sizes.
 */
const TURNS = 2;
const GRID = { 'sma_crossover.fast': [5, 8, 10, 12, 15, 20], 'vix_correlation.strongNegative': [-0.5, -0.6, -0.7, -0.8] };

/** A sweep the bench runs on one and on two worker processes. */
interface SweepCase {
  name: string;
  /** What it replays, for the report. */
  description: string;
  coins: string[];
  range: { from: string; to: string };
  /** 'live': every enabled strategy on its configured bar; a list: those strategies, each deciding at every hourly close. */
  strategies: 'live' | string[];
}

/** `mts worker --role backtest` as an operator starts it; resolves once its workers run. */
async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...BACKTEST_NODE_FLAGS, '--import', 'tsx', 'src/cli.ts', 'worker', '--role', 'backtest'], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); if (output.includes('workers running')) resolve(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    child.once('exit', (code) => reject(new Error(`mts worker exited early (${code}):\n${output}`)));
  });
  // Once running, what a worker says (it logs at warn: a failed or retried child, a lost connection) goes to the bench's stderr.
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (d: Buffer) => process.stderr.write(`[bench] worker ${child.pid}: ${d.toString()}`));
  return child;
}

const stop = (child: ChildProcess) => new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGTERM');
});

/**
 * The live ensemble's replay alone (engine only: no Postgres, no Temporal) in one fresh process, then
 * in two fresh processes at once; the work two do per second against one. Best of two rounds of each,
 * with the stack idle.
 */
async function freshReplayPair(): Promise<{ alone: number; together: number; ratio: number }> {
  await buildEngineRun();
  const bars = 1_000_000;
  let alone = Infinity;
  let together = Infinity;
  for (let round = 0; round < 2; round++) {
    alone = Math.min(alone, (await engineRun('ensemble', { bars })).seconds);
    const pair = await Promise.all([engineRun('ensemble', { bars }), engineRun('ensemble', { bars })]);
    together = Math.min(together, Math.max(...pair.map((r) => r.seconds)));
  }
  return { alone, together, ratio: (2 * alone) / together };
}

/**
 * When each worker process completed its last replay of a sweep, in ms: from its children's histories
 * (the worker that started each one's activity, and when it completed). A process that ran none has
 * no entry.
 */
async function lastReplayEnds(client: BenchStack['temporal']['client'], result: SweepResult): Promise<number[]> {
  const last = new Map<string, number>();
  for (const entry of result.ranked) {
    const { events } = await client.workflow.getHandle(backtestWorkflowId(entry.backtestId)).fetchHistory();
    let worker = '';
    for (const event of events ?? []) {
      if (event.activityTaskStartedEventAttributes) worker = event.activityTaskStartedEventAttributes.identity ?? '';
      if (event.activityTaskCompletedEventAttributes && event.eventTime) {
        const at = Number(event.eventTime.seconds) * 1000 + (event.eventTime.nanos ?? 0) / 1e6;
        last.set(worker, Math.max(last.get(worker) ?? 0, at));
      }
    }
  }
  return [...last.values()];
}

interface SweepRun {
  sweep: SweepCase;
  processes: number;
  /** Which turn of its size this set of workers is (0, 1, …). */
  turn: number;
  /** 0: the first sweep on freshly started workers; then the warm ones. */
  round: number;
  seconds: number;
  result: SweepResult;
  workerCores: number;
  serverCores: number;
  machineCores: number;
  /** Two processes: how long before the sweep's last replay ended the other process ended its own (s). */
  tailSeconds?: number;
}

/** Each sweep on fresh sets of one and two worker processes in turn: first as started, then warm. */
async function runSweeps(cases: SweepCase[], temporal: BenchStack['temporal'], workerEnv: NodeJS.ProcessEnv): Promise<SweepRun[]> {
  const serverPid = temporalServerPid(temporal.address);
  const execution = loadExecutionConfig();
  const runs: SweepRun[] = [];
  for (const sweep of cases) {
    const body = sweepBodySchema.parse({
      strategies: sweep.strategies, assets: sweep.coins, ...sweep.range, initialCapital: 100_000,
      conventions: { bar: '1h' }, grid: GRID, metric: 'sharpe',
    });
    for (const [turn, processes] of Array.from({ length: TURNS }, (_, t) => [[t, 1], [t, 2]]).flat()) {
      const workers: ChildProcess[] = [];
      for (let i = 0; i < processes; i++) workers.push(await startWorker(workerEnv));
      const workerCpu = () => workers.reduce((sum, w) => sum + processCpuSeconds(w.pid!), 0);
      for (let round = 0; round <= WARM_ROUNDS; round++) {
        console.log(`[bench] sweep (${sweep.name}) on ${processes} worker process(es), turn ${turn + 1}, ${round === 0 ? 'fresh' : `warm (${round})`}`);
        const [began, workerBefore, serverBefore, machineBefore] = [Date.now(), workerCpu(), processCpuSeconds(serverPid), machineBusySeconds()];
        const { workflowId } = await startSweep(temporal.client, body, execution);
        const result = await temporal.client.workflow.getHandle(workflowId).result() as SweepResult;
        const seconds = (Date.now() - began) / 1000;
        const [workerCores, serverCores, machineCores] = [
          (workerCpu() - workerBefore) / seconds, (processCpuSeconds(serverPid) - serverBefore) / seconds, (machineBusySeconds() - machineBefore) / seconds,
        ];
        // Read after the timing: the histories' reads are not the sweep's work. A process without a replay idled all along.
        let tailSeconds: number | undefined;
        if (processes === 2) {
          const ends = await lastReplayEnds(temporal.client, result);
          tailSeconds = ends.length === 2 ? Math.abs(ends[0] - ends[1]) / 1000 : seconds;
        }
        runs.push({ sweep, processes, turn, round, seconds, result, workerCores, serverCores, machineCores, tailSeconds });
      }
      await Promise.all(workers.map(stop));
    }
  }
  return runs;
}

/** What a run's ranking is judged by: each combination's place, Sharpe and final equity, or the error its child ended with. */
const outcomes = (r: SweepResult) => r.ranked.map((e) => JSON.stringify({ params: e.params, sharpe: e.summary?.sharpe, finalEquity: e.summary?.finalEquity, error: e.error }));
const ranking = (r: SweepResult) => outcomes(r).join('\n');

/** Where a run's ranking departs from the first run's: its first three combinations that differ, as each run has them. */
function rankingDifference(first: SweepRun, other: SweepRun): string {
  const a = outcomes(first.result);
  const b = outcomes(other.result);
  const differing = a.map((x, k) => [x, b[k]]).filter(([x, y]) => x !== y).slice(0, 3);
  const name = (r: SweepRun) => `${r.processes} process(es), turn ${r.turn + 1}, ${r.round === 0 ? 'first' : `warm ${r.round}`}`;
  return `${name(other)} against ${name(first)}: ${differing.map(([x, y]) => `${x} → ${y}`).join('; ')}`;
}

/** A sweep's rows of the table and the verdict on its two processes against one. */
function sweepReport(sweep: SweepCase, all: SweepRun[]): { rows: string[]; verdict: string; same: boolean } {
  const runs = all.filter((r) => r.sweep === sweep);
  /** The fastest of a size's warm rounds, or of its first ones, over its turns (seconds). */
  const fastest = (processes: number, warmed: boolean) => Math.min(...runs
    .filter((r) => r.processes === processes && (r.round > 0) === warmed).map((r) => r.seconds));
  const warmSpeedup = fastest(1, true) / fastest(2, true);
  const freshSpeedup = fastest(1, false) / fastest(2, false);
  const differing = runs.find((r) => ranking(r.result) !== ranking(runs[0].result));
  const same = differing === undefined;
  const combinations = runs[0].result.ranked.length;
  const best = runs[0].result.ranked[0];
  const rows = runs.map((r) => `| ${sweep.name} | ${r.processes} | ${r.turn + 1} | ${r.round === 0 ? 'first' : `warm ${r.round}`} | ${r.seconds.toFixed(1)} | ${(combinations / r.seconds * 60).toFixed(1)} | ${r.machineCores.toFixed(2)} | ${r.workerCores.toFixed(2)} | ${r.serverCores.toFixed(2)} | ${(r.machineCores - r.workerCores - r.serverCores).toFixed(2)} | ${r.tailSeconds?.toFixed(1) ?? '—'} |`);
  const verdict = `${sweep.name}: two processes against one, warm (best round of each, over their turns): ${warmSpeedup.toFixed(2)} × (target 1.6 ×: ${warmSpeedup >= 1.6 ? 'met' : 'not met'}); the first sweeps (the best of each): ${freshSpeedup.toFixed(2)} ×. Rankings ${same ? 'identical in every run' : `DIFFERENT between runs (${rankingDifference(runs[0], differing)})`} (parameters, Sharpe and final equity of every combination). Best: ${JSON.stringify(best?.params)} (Sharpe ${best?.summary?.sharpe?.toFixed(3) ?? 'n/a'}).`;
  return { rows, verdict, same };
}

async function main() {
  await withBenchStack('sweep', 4, async ({ url, db, temporal }) => {
    const enabled = loadStrategyConfigs().filter((c) => c.enabled);
    // Each coin its own stretch of the real hourly history (picked by its place in the list), hour by
    // hour over the whole span: the live ensemble's coins first, so they keep the stretches they had.
    const configured = [...new Set(enabled.flatMap((c) => c.assets))].sort();
    const coins = [...configured, ...ENSEMBLE_COINS.filter((c) => !configured.includes(c)).sort()];
    const sources = HOURLY_FILES.map(readHourly);
    const hours = Math.ceil((BARS_TO - BARS_FROM) / HOUR_MS);
    for (const [k, asset] of coins.entries()) {
      const s = tiledSeries(sources[k % sources.length], hours, BARS_FROM, k * 3001);
      // The series holds close times; a candle is stamped with its open.
      const candles = Array.from(s.time, (close, i) => ({ timestamp: close - HOUR_MS, open: s.open[i], high: s.high[i], low: s.low[i], close: s.close[i], volume: s.volume[i] }));
      await upsertCandles(db.db, asset, 60, 'csv', candles);
    }
    await importMacroCsv(db.db, { indicator: 'VIXCLS', file: `${MARKET}macro/fred/VIXCLS.csv` });
    const cases: SweepCase[] = [
      {
        name: 'live ensemble', coins: configured, range: { from: '2018-06-01', to: '2024-12-31' }, strategies: 'live',
        description: `as configured (every enabled strategy on its own bar, aggregated, risk sizing) on the coins it trades (${configured.join(', ')})`,
      },
      {
        name: 'ten coins, hourly', coins, range: { from: '2021-01-01', to: '2024-12-31' }, strategies: enabled.map((c) => c.name),
        description: `the same strategies (${enabled.map((c) => c.name).join(', ')}) each deciding at every hourly close, aggregated, risk sizing, on ten coins (${coins.join(', ')}): a larger sweep's load, where a child's replay outweighs what the Temporal server and Postgres spend on it`,
      },
    ];
    const replay = await freshReplayPair();
    const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, ...inherited } = process.env;
    const workerEnv = { ...inherited, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: url, LOG_LEVEL: 'warn', WORKER_HEALTH_PORT: '0' };
    const runs = await runSweeps(cases, temporal, workerEnv);
    const reports = cases.map((c) => sweepReport(c, runs));
    writeBenchmarkSection('Sweep scale-out', [
      `Command: \`npm run bench\`. Machine: ${machineDescription()}. Temporal CLI dev server, Postgres 127.0.0.1:5432, \`mts worker --role backtest\` processes (each runs up to BACKTESTS_PER_WORKER backtests at once: ${loadEnv().BACKTESTS_PER_WORKER}; it polls for the next only once its running replay has ended or reports, one replay at a time).`,
      `Hourly bars stored from ${isoDate(BARS_FROM)} (${hours.toLocaleString('en')} a coin: the real Binance BTC and ETH hourly history, each coin its own stretch, played forwards then backwards, as in the engine bench) and FRED's VIX. Each sweep is ${runs[0].result.ranked.length} combinations of ${Object.entries(GRID).map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join(' × ')}, ranked by Sharpe:`,
      ...cases.map((c) => `- ${c.name}: ${c.description}, ${c.range.from} → ${c.range.to}.`),
      '',
      `Time from starting the sweep to its result; each worker process loads the sweep's bars from Postgres once and keeps them while their version in Postgres stays the same, its children replay them and store their results. Each set of workers runs the sweep ${WARM_ROUNDS + 1} times: first as started (each process compiles its code and loads the bars), then ${WARM_ROUNDS} more times, warm (a new sweep over the same stored bars: each process asks Postgres for their version and keeps its read), as a long-lived worker runs. Sets of one and of two processes take ${TURNS} turns each, one after the other (one, two, one, two), so minutes when the host runs this VM slower (its other tenants; the VM reports no steal time) fall on both sizes.`,
      '',
      `| sweep | backtest worker processes | turn | round | seconds | combinations per minute | cores busy (of ${cpus().length}) | of which the workers | the Temporal server | the rest (Postgres, this bench's client, the system) | one process done before the other (s) |`,
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...reports.flatMap((r) => r.rows),
      '',
      ...reports.map((r) => r.verdict),
      'Cores busy: CPU time over the run divided by its wall time, for the whole machine (/proc/stat), for the worker processes and for the Temporal server (/proc/<pid>/stat, all their threads). The Temporal server and Postgres run on the same cores as the workers: a second worker process can only use what they leave.',
      'One process done before the other: on two processes, how long before the sweep\'s last replay ended the other process ended its own (from each child\'s history: the worker that ran its replay and when it completed). A process polls for its next child only once its running one has replayed (the next loads while that one stores its result), so at the end the last children run one on each process, and the one that ends first waits for what is left of the other: for that long one core works for the sweep, not two.',
      `Two fresh engine processes (same run, stack idle): the live ensemble's replay alone, engine only (the engine bench's ensemble, 10 coins × 100,000 hourly bars), took ${replay.alone.toFixed(2)} s in one fresh process and ${replay.together.toFixed(2)} s with two at once (best of two rounds each): ${replay.ratio.toFixed(2)} × the work of one. A fresh process compiles its hot code on V8's background thread, on the other core while it runs alone; two fresh processes share both cores with their compilers. A warm worker has compiled its code.`,
    ]);
    if (reports.some((r) => !r.same)) process.exitCode = 1;
  });
}

await main();
