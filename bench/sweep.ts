/**
 * `npm run bench` (last part): the same 24-combination sweep of the live ensemble on one and then on
 * two `mts worker --role backtest` processes, against the Temporal dev server and a real Postgres
 * holding the real Binance BTC and ETH hourly history and FRED's VIX. Writes BENCHMARKS.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadEnv } from '../src/config/env';
import { loadExecutionConfig } from '../src/config/execution';
import { startSweep, sweepBodySchema } from '../src/services/backtests';
import { importCsv, importMacroCsv } from '../src/services/csv-import';
import type { SweepResult } from '../src/workflows/types';
import { buildEngineRun, engineRun } from './engine-process';
import { BACKTEST_NODE_FLAGS, machineDescription, writeBenchmarkSection } from './report';
import { withBenchStack } from './stack';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MARKET = fileURLToPath(new URL('../../shared/data/market/', import.meta.url));
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

/** CPU seconds a process has used (user + system, all its threads), from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the whole machine has been busy (every core, idle and I/O wait left out), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - ticks[3] - ticks[4]) / 100;
}

const stop = (child: ChildProcess) => new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGTERM');
});

/**
 * What a second process can add on this machine at most: the live ensemble's replay alone (engine
 * only: no Postgres, no Temporal) in one process, then in two processes at once; the work two do per
 * second against one. Best of two rounds of each, with the stack idle.
 */
async function replayCeiling(): Promise<{ alone: number; together: number; ceiling: number }> {
  await buildEngineRun();
  const bars = 1_000_000;
  let alone = Infinity;
  let together = Infinity;
  for (let round = 0; round < 2; round++) {
    alone = Math.min(alone, (await engineRun('ensemble', { bars })).seconds);
    const pair = await Promise.all([engineRun('ensemble', { bars }), engineRun('ensemble', { bars })]);
    together = Math.min(together, Math.max(...pair.map((r) => r.seconds)));
  }
  return { alone, together, ceiling: (2 * alone) / together };
}

async function main() {
  await withBenchStack('sweep', 4, async ({ url, db, temporal }) => {
    const hourly = `${MARKET}crypto_intraday/cryptodatadownload_binance_1h/`;
    for (const [asset, file] of [['bitcoin', 'Binance_BTCUSDT_1h.normalized.csv'], ['ethereum', 'Binance_ETHUSDT_1h.normalized.csv']]) {
      await importCsv(db.db, { asset, file: hourly + file, intervalMinutes: 60 });
    }
    await importMacroCsv(db.db, { indicator: 'VIXCLS', file: `${MARKET}macro/fred/VIXCLS.csv` });
    const body = sweepBodySchema.parse({
      strategies: 'live', assets: ['bitcoin', 'ethereum'], from: '2018-06-01', to: '2024-12-31', initialCapital: 100_000,
      conventions: { bar: '1h' }, grid: GRID, metric: 'sharpe',
    });
    const replay = await replayCeiling();
    const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, ...inherited } = process.env;
    const workerEnv = { ...inherited, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: url, LOG_LEVEL: 'warn', WORKER_HEALTH_PORT: '0' };
    const runs: Array<{ processes: number; seconds: number; result: SweepResult; workerCores: number; machineCores: number }> = [];
    for (const processes of [1, 2]) {
      const workers: ChildProcess[] = [];
      for (let i = 0; i < processes; i++) workers.push(await startWorker(workerEnv));
      console.log(`[bench] sweep on ${processes} worker process(es)`);
      const workerCpu = () => workers.reduce((sum, w) => sum + processCpuSeconds(w.pid!), 0);
      const [began, workerBefore, machineBefore] = [Date.now(), workerCpu(), machineBusySeconds()];
      const { workflowId } = await startSweep(temporal.client, body, loadExecutionConfig());
      const result = await temporal.client.workflow.getHandle(workflowId).result() as SweepResult;
      const seconds = (Date.now() - began) / 1000;
      runs.push({
        processes, seconds, result, workerCores: (workerCpu() - workerBefore) / seconds, machineCores: (machineBusySeconds() - machineBefore) / seconds,
      });
      await Promise.all(workers.map(stop));
    }
    const ranking = (r: SweepResult) => JSON.stringify(r.ranked.map((e) => ({ params: e.params, sharpe: e.summary?.sharpe, finalEquity: e.summary?.finalEquity })));
    const [one, two] = runs;
    const speedup = one.seconds / two.seconds;
    const same = ranking(one.result) === ranking(two.result);
    const best = one.result.ranked[0];
    writeBenchmarkSection('Sweep scale-out', [
      `Command: \`npm run bench\`. Machine: ${machineDescription()}. Temporal CLI dev server, Postgres 127.0.0.1:5432, \`mts worker --role backtest\` processes (each runs BACKTESTS_PER_WORKER backtests at once: ${loadEnv().BACKTESTS_PER_WORKER}).`,
      `Sweep: the live ensemble (every enabled strategy, aggregated, risk sizing) on bitcoin and ethereum, hourly bars 2018-06-01 → 2024-12-31 from the real Binance history with FRED's VIX, ${one.result.ranked.length} combinations of ${Object.entries(GRID).map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join(' × ')}, ranked by Sharpe. Time from starting the sweep to its result; each child loads its bars from Postgres, replays them and stores its result.`,
      '',
      `| backtest worker processes | seconds | combinations per minute | cores busy (of ${cpus().length}) | of which the workers | the rest (Postgres, Temporal server, this bench's client) |`,
      '|---|---|---|---|---|---|',
      ...runs.map((r) => `| ${r.processes} | ${r.seconds.toFixed(1)} | ${(r.result.ranked.length / r.seconds * 60).toFixed(1)} | ${r.machineCores.toFixed(2)} | ${r.workerCores.toFixed(2)} | ${(r.machineCores - r.workerCores).toFixed(2)} |`),
      '',
      `Two processes against one: ${speedup.toFixed(2)} × (target 1.6 ×: ${speedup >= 1.6 ? 'met' : 'not met'}; this machine's ceiling, measured in the same run: ${replay.ceiling.toFixed(2)} ×, below); rankings ${same ? 'identical' : 'DIFFERENT'} (parameters, Sharpe and final equity of every combination). Best: ${JSON.stringify(best?.params)} (Sharpe ${best?.summary?.sharpe?.toFixed(3) ?? 'n/a'}).`,
      'Cores busy: CPU time over the run divided by its wall time, for the whole machine (/proc/stat) and for the worker processes (/proc/<pid>/stat, all their threads). The Temporal server and Postgres run on the same cores as the workers: a second worker process can only use what they leave.',
      `The machine's ceiling (same run, stack idle): the live ensemble's replay alone, engine only (the engine bench's ensemble, 10 coins × 100,000 hourly bars), took ${replay.alone.toFixed(2)} s in one process and ${replay.together.toFixed(2)} s with two such processes at once (best of two rounds each): two processes do ${replay.ceiling.toFixed(2)} × the work of one per second here, before Postgres and the Temporal server take their share of the same two cores. The replay is heavy on memory and the garbage collector: two at once slow each other down on this VM, whatever else runs.`,
    ]);
    if (!same) process.exitCode = 1;
  });
}

await main();
