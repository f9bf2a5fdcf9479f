/**
 * `npm run bench` (last part): the same 24-combination sweep of the live ensemble on one and then on
 * two `mts worker --role backtest` processes, against the Temporal dev server and a real Postgres
 * holding the real Binance BTC and ETH hourly history and FRED's VIX. Writes BENCHMARKS.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadExecutionConfig } from '../src/config/execution';
import { startSweep, sweepBodySchema } from '../src/services/backtests';
import { importCsv, importMacroCsv } from '../src/services/csv-import';
import type { SweepResult } from '../src/workflows/types';
import { BACKTEST_NODE_FLAGS, machineDescription, writeBenchmarkSection } from './report';
import { withBenchStack } from './stack';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MARKET = fileURLToPath(new URL('../../shared/data/market/', import.meta.url));
const GRID = { 'sma_crossover.fast': [5, 8, 10, 12, 15, 20], 'vix_correlation.strongNegative': [-0.5, -0.6, -0.7, -0.8] };

/** `mts worker --role backtest` as an operator starts it; resolves once its workers run. */
async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...BACKTEST_NODE_FLAGS, ...(process.env.PROBE_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', 'src/cli.ts', 'worker', '--role', 'backtest'], {
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
    const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, ...inherited } = process.env;
    const workerEnv = { ...inherited, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: url, LOG_LEVEL: 'warn', WORKER_HEALTH_PORT: '0' };
    const runs: Array<{ processes: number; seconds: number; result: SweepResult }> = [];
    for (const processes of [1, 2]) {
      const workers: ChildProcess[] = [];
      for (let i = 0; i < processes; i++) workers.push(await startWorker(workerEnv));
      console.log(`[bench] sweep on ${processes} worker process(es)`);
      const began = Date.now();
      const { workflowId } = await startSweep(temporal.client, body, loadExecutionConfig());
      const result = await temporal.client.workflow.getHandle(workflowId).result() as SweepResult;
      runs.push({ processes, seconds: (Date.now() - began) / 1000, result });
      await Promise.all(workers.map(stop));
    }
    const ranking = (r: SweepResult) => JSON.stringify(r.ranked.map((e) => ({ params: e.params, sharpe: e.summary?.sharpe, finalEquity: e.summary?.finalEquity })));
    const [one, two] = runs; if (process.env.PROBE_PROF) console.log('trades', one.result.ranked.map((e) => e.summary?.tradeCount + '/' + e.summary?.bars).join(' '));
    const speedup = one.seconds / two.seconds;
    const same = ranking(one.result) === ranking(two.result);
    const best = one.result.ranked[0];
    writeBenchmarkSection('Sweep scale-out', [
      `Command: \`npm run bench\`. Machine: ${machineDescription()}. Temporal CLI dev server, Postgres 127.0.0.1:5432, \`mts worker --role backtest\` processes (each runs as many backtest activities at once as the machine has cores).`,
      `Sweep: the live ensemble (every enabled strategy, aggregated, risk sizing) on bitcoin and ethereum, hourly bars 2018-06-01 → 2024-12-31 from the real Binance history with FRED's VIX, ${one.result.ranked.length} combinations of ${Object.entries(GRID).map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join(' × ')}, ranked by Sharpe. Time from starting the sweep to its result; each child loads its bars from Postgres, replays them and stores its result.`,
      '',
      '| backtest worker processes | seconds | combinations per minute |',
      '|---|---|---|',
      ...runs.map((r) => `| ${r.processes} | ${r.seconds.toFixed(1)} | ${(r.result.ranked.length / r.seconds * 60).toFixed(1)} |`),
      '',
      `Two processes against one: ${speedup.toFixed(2)} × (target 1.6 ×: ${speedup >= 1.6 ? 'met' : 'not met'}); rankings ${same ? 'identical' : 'DIFFERENT'} (parameters, Sharpe and final equity of every combination). Best: ${JSON.stringify(best?.params)} (Sharpe ${best?.summary?.sharpe?.toFixed(3) ?? 'n/a'}).`,
      'On this 2-core machine the Temporal server and Postgres share the same two cores with the workers, so the second process has less than a whole core to itself.',
    ]);
    if (!same) process.exitCode = 1;
  });
}

await main();
