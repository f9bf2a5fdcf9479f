/**
 * `npm run bench` (last part): the same 24-combination sweep of the live ensemble on one and then on
 * two `mts worker --role backtest` processes, against the Temporal dev server and a real Postgres
 * holding hourly bars of the ensemble's coins (the real Binance BTC and ETH hourly history, played
 * on over the whole range) and FRED's VIX. Writes BENCHMARKS.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadEnv } from '../src/config/env';
import { loadExecutionConfig } from '../src/config/execution';
import { loadStrategyConfigs } from '../src/config/strategies';
import { upsertCandles } from '../src/db/market-data';
import { startSweep, sweepBodySchema } from '../src/services/backtests';
import { importMacroCsv } from '../src/services/csv-import';
import { HOUR_MS, isoDate } from '../src/domain/types';
import type { SweepResult } from '../src/workflows/types';
import { buildEngineRun, engineRun } from './engine-process';
import { BACKTEST_NODE_FLAGS, machineBusySeconds, machineDescription, processCpuSeconds, temporalServerPid, writeBenchmarkSection } from './report';
import { withBenchStack } from './stack';
import { HOURLY_FILES, MARKET, readHourly, tiledSeries } from './tiled-history';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The sweep's range; the bars stored start early enough for the strategies' history before it. */
const RANGE = { from: '2018-06-01', to: '2024-12-31' };
const BARS_FROM = Date.UTC(2017, 7, 17);
const BARS_TO = Date.UTC(2025, 0, 1);
/** Sweeps on the same workers after the first: a long-lived worker's steady state, its code compiled and warm. */
const WARM_ROUNDS = 2;
const GRID = { 'sma_crossover.fast': [5, 8, 10, 12, 15, 20], 'vix_correlation.strongNegative': [-0.5, -0.6, -0.7, -0.8] };

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

interface SweepRun {
  processes: number;
  /** 0: the first sweep on freshly started workers; then the warm ones. */
  round: number;
  seconds: number;
  result: SweepResult;
  workerCores: number;
  serverCores: number;
  machineCores: number;
}

async function main() {
  await withBenchStack('sweep', 4, async ({ url, db, temporal }) => {
    const serverPid = temporalServerPid(temporal.address);
    // Every coin the live ensemble trades, each its own stretch of the real hourly history, hour by hour over the range.
    const coins = [...new Set(loadStrategyConfigs().filter((c) => c.enabled).flatMap((c) => c.assets))].sort();
    const sources = HOURLY_FILES.map(readHourly);
    const hours = Math.ceil((BARS_TO - BARS_FROM) / HOUR_MS);
    for (const [k, asset] of coins.entries()) {
      const s = tiledSeries(sources[k % sources.length], hours, BARS_FROM, k * 3001);
      // The series holds close times; a candle is stamped with its open.
      const candles = Array.from(s.time, (close, i) => ({ timestamp: close - HOUR_MS, open: s.open[i], high: s.high[i], low: s.low[i], close: s.close[i], volume: s.volume[i] }));
      await upsertCandles(db.db, asset, 60, 'csv', candles);
    }
    await importMacroCsv(db.db, { indicator: 'VIXCLS', file: `${MARKET}macro/fred/VIXCLS.csv` });
    const body = sweepBodySchema.parse({
      strategies: 'live', assets: coins, ...RANGE, initialCapital: 100_000,
      conventions: { bar: '1h' }, grid: GRID, metric: 'sharpe',
    });
    const replay = await freshReplayPair();
    const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, ...inherited } = process.env;
    const workerEnv = { ...inherited, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: url, LOG_LEVEL: 'warn', WORKER_HEALTH_PORT: '0' };
    const runs: SweepRun[] = [];
    for (const processes of [1, 2]) {
      const workers: ChildProcess[] = [];
      for (let i = 0; i < processes; i++) workers.push(await startWorker(workerEnv));
      const workerCpu = () => workers.reduce((sum, w) => sum + processCpuSeconds(w.pid!), 0);
      for (let round = 0; round <= WARM_ROUNDS; round++) {
        console.log(`[bench] sweep on ${processes} worker process(es), ${round === 0 ? 'fresh' : `warm (${round})`}`);
        const [began, workerBefore, serverBefore, machineBefore] = [Date.now(), workerCpu(), processCpuSeconds(serverPid), machineBusySeconds()];
        const { workflowId } = await startSweep(temporal.client, body, loadExecutionConfig());
        const result = await temporal.client.workflow.getHandle(workflowId).result() as SweepResult;
        const seconds = (Date.now() - began) / 1000;
        runs.push({
          processes, round, seconds, result,
          workerCores: (workerCpu() - workerBefore) / seconds, serverCores: (processCpuSeconds(serverPid) - serverBefore) / seconds,
          machineCores: (machineBusySeconds() - machineBefore) / seconds,
        });
      }
      await Promise.all(workers.map(stop));
    }
    const ranking = (r: SweepResult) => JSON.stringify(r.ranked.map((e) => ({ params: e.params, sharpe: e.summary?.sharpe, finalEquity: e.summary?.finalEquity })));
    const fresh = (processes: number) => runs.find((r) => r.processes === processes && r.round === 0)!;
    const warm = (processes: number) => runs.filter((r) => r.processes === processes && r.round > 0).reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const warmSpeedup = warm(1).seconds / warm(2).seconds;
    const freshSpeedup = fresh(1).seconds / fresh(2).seconds;
    const same = runs.every((r) => ranking(r.result) === ranking(runs[0].result));
    const combinations = runs[0].result.ranked.length;
    const best = runs[0].result.ranked[0];
    writeBenchmarkSection('Sweep scale-out', [
      `Command: \`npm run bench\`. Machine: ${machineDescription()}. Temporal CLI dev server, Postgres 127.0.0.1:5432, \`mts worker --role backtest\` processes (each runs BACKTESTS_PER_WORKER backtests at once: ${loadEnv().BACKTESTS_PER_WORKER}).`,
      `Sweep: the live ensemble (every enabled strategy on its own bar, aggregated, risk sizing) on the coins it trades (${coins.join(', ')}), hourly bars ${RANGE.from} → ${RANGE.to} (${hours.toLocaleString('en')} a coin stored, from ${isoDate(BARS_FROM)}: the real Binance BTC and ETH hourly history, each coin its own stretch, played forwards then backwards, as in the engine bench) with FRED's VIX; ${combinations} combinations of ${Object.entries(GRID).map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join(' × ')}, ranked by Sharpe. Time from starting the sweep to its result; each worker process loads the sweep's bars from Postgres once and keeps them while their version in Postgres stays the same, its children replay them and store their results.`,
      `Each set of workers runs the sweep ${WARM_ROUNDS + 1} times: first as started (each process compiles its code and loads the bars), then ${WARM_ROUNDS} more times, warm (a new sweep over the same stored bars: each process asks Postgres for their version and keeps its read), as a long-lived worker runs.`,
      '',
      `| backtest worker processes | sweep | seconds | combinations per minute | cores busy (of ${cpus().length}) | of which the workers | the Temporal server | the rest (Postgres, this bench's client, the system) |`,
      '|---|---|---|---|---|---|---|---|',
      ...runs.map((r) => `| ${r.processes} | ${r.round === 0 ? 'first' : `warm ${r.round}`} | ${r.seconds.toFixed(1)} | ${(combinations / r.seconds * 60).toFixed(1)} | ${r.machineCores.toFixed(2)} | ${r.workerCores.toFixed(2)} | ${r.serverCores.toFixed(2)} | ${(r.machineCores - r.workerCores - r.serverCores).toFixed(2)} |`),
      '',
      `Two processes against one, warm (best round of each): ${warmSpeedup.toFixed(2)} × (target 1.6 ×: ${warmSpeedup >= 1.6 ? 'met' : 'not met'}); the first sweeps: ${freshSpeedup.toFixed(2)} ×. Rankings ${same ? 'identical in every run' : 'DIFFERENT between runs'} (parameters, Sharpe and final equity of every combination). Best: ${JSON.stringify(best?.params)} (Sharpe ${best?.summary?.sharpe?.toFixed(3) ?? 'n/a'}).`,
      'Cores busy: CPU time over the run divided by its wall time, for the whole machine (/proc/stat), for the worker processes and for the Temporal server (/proc/<pid>/stat, all their threads). The Temporal server and Postgres run on the same cores as the workers: a second worker process can only use what they leave.',
      `Two fresh engine processes (same run, stack idle): the live ensemble's replay alone, engine only (the engine bench's ensemble, 10 coins × 100,000 hourly bars), took ${replay.alone.toFixed(2)} s in one fresh process and ${replay.together.toFixed(2)} s with two at once (best of two rounds each): ${replay.ratio.toFixed(2)} × the work of one. A fresh process compiles its hot code on V8's background thread, on the other core while it runs alone; two fresh processes share both cores with their compilers. A warm worker has compiled its code.`,
    ]);
    if (!same) process.exitCode = 1;
  });
}

await main();
