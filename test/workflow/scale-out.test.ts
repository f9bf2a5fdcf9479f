import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadExecutionConfig } from '../../src/config/execution';
import { resolveBacktest } from '../../src/services/backtests';
import { importCsv } from '../../src/services/csv-import';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { sweepWorkflow } from '../../src/workflows/sweep';
import type { SweepRequest, SweepResult } from '../../src/workflows/types';
import { MARKET } from '../support/market-files';
import { freePort } from '../support/ports';
import { backtestDeps, backtestWorker, withWorkers, workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();
const root = fileURLToPath(new URL('../..', import.meta.url));

interface WorkerProcess { child: ChildProcess; port: number; exited: Promise<number | null> }
const running: WorkerProcess[] = [];
afterAll(() => { for (const w of running) w.child.kill('SIGKILL'); });

/** `mts worker --role …` as an operator runs it: its own process, its /health and /metrics port. */
async function startWorkerProcess(roles = 'backtest', env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker', '--role', roles], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), WORKER_HEALTH_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); if (output.includes('workers running')) resolve(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    void exited.then((code) => reject(new Error(`mts worker exited early (${code}):\n${output}`)));
  });
  const w = { child, port, exited };
  running.push(w);
  return w;
}

/** A 24-combination SMA sweep over bitcoin's daily history, checkpointing often so a kill lands inside a child. */
function sweepRequest(): SweepRequest {
  const { id: _id, params: _params, ...base } = resolveBacktest({
    strategy: 'sma_crossover', params: {}, assets: ['bitcoin'], from: Date.UTC(2016, 0, 1), to: Date.UTC(2024, 11, 31), initialCapital: 10_000, conventions: {},
  } as Parameters<typeof resolveBacktest>[0], loadExecutionConfig());
  return {
    id: `scale-${randomUUID().slice(0, 6)}`, metric: 'sharpe', concurrency: 6,
    grid: { 'sma_crossover.fast': [5, 8, 10, 12, 15, 20], 'sma_crossover.slow': [30, 40, 50, 60] },
    base: { ...base, chunkBars: 40, heartbeatTimeoutMs: 3000 },
  };
}

/** Which worker ran each child: the identity on its activity's ActivityTaskStarted event. */
async function childWorkers(result: SweepResult): Promise<Set<string>> {
  const identities = new Set<string>();
  for (const entry of result.ranked) {
    const history = await ctx.kit.client.workflow.getHandle(`backtest-${entry.backtestId}`).fetchHistory();
    for (const e of history.events ?? []) if (e.activityTaskStartedEventAttributes?.identity) identities.add(e.activityTaskStartedEventAttributes.identity);
  }
  return identities;
}

const ranking = (r: SweepResult) => r.ranked.map((e) => ({ params: e.params, sharpe: e.summary?.sharpe, finalEquity: e.summary?.finalEquity }));

describe('scale-out: backtest workers in three processes, the other roles in a fourth', () => {
  it('share a 24-combination sweep, survive one SIGKILLed mid-sweep, and rank as one process does', async () => {
    await importCsv(ctx.handle.db, { asset: 'bitcoin', file: `${MARKET}crypto_daily/yfinance/BTC-USD_1d.csv`, volumeIn: 'usd' });
    // Three processes on mts-backtest, and one with the other roles, as a deployment runs them.
    // The second runs three backtests at once instead of the default two (BACKTESTS_PER_WORKER).
    const workers = [await startWorkerProcess(), await startWorkerProcess('backtest', { BACKTESTS_PER_WORKER: '3' }), await startWorkerProcess()];
    const others = await startWorkerProcess('market-data,pipeline,trading');
    for (const w of workers) {
      const health = await fetch(`http://127.0.0.1:${w.port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', roles: ['backtest'], workers: [{ taskQueue: TASK_QUEUES.backtest, state: 'RUNNING' }] });
    }
    const rest = await (await fetch(`http://127.0.0.1:${others.port}/health`)).json() as { status: string; workers: Array<{ taskQueue: string }> };
    expect(rest.status).toBe('ok');
    expect(rest.workers.map((w) => w.taskQueue).sort()).toEqual([TASK_QUEUES.macroData, TASK_QUEUES.marketData, TASK_QUEUES.pipeline, TASK_QUEUES.trading].sort());

    const req = sweepRequest();
    const sweep = await ctx.kit.client.workflow.start(sweepWorkflow, { workflowId: `sweep-${req.id}`, taskQueue: TASK_QUEUES.backtest, args: [req] });
    // Once children are under way, one process dies without a word; its children resume elsewhere.
    for (let done = 0; done < 4;) {
      await new Promise((r) => setTimeout(r, 200));
      done = (await sweep.query<{ done: number; total: number }>('progress')).done;
    }
    workers[0].child.kill('SIGKILL');
    expect(await workers[0].exited).toBeNull();
    const scaled = await sweep.result();
    expect(scaled.ranked).toHaveLength(24);
    expect(scaled.ranked.every((e) => e.summary !== null && !e.error)).toBe(true);
    expect((await childWorkers(scaled)).size).toBeGreaterThan(1);

    // A surviving process reports its work: backtests run by its Temporal worker, in its /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${workers[1].port}/metrics`)).text();
    expect(metrics).toMatch(/temporal_\w*activity\w*_total/);
    expect(metrics).toContain('process_cpu_user_seconds_total');
    const activitySlots = (text: string) => Number(/^backtest_slots_available (\d+)$/m.exec(text)?.[1]);
    expect(activitySlots(metrics)).toBe(3);
    expect(activitySlots(await (await fetch(`http://127.0.0.1:${workers[2].port}/metrics`)).text())).toBe(2);
    for (const w of [...workers.slice(1), others]) w.child.kill('SIGTERM');
    for (const w of [...workers.slice(1), others]) expect(await w.exited).toBe(0);

    // The same sweep on one in-process worker: the same ranking, number for number.
    const single = { ...req, id: `${req.id}-one` };
    const alone = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(ctx.handle, ctx.kit.client))], () =>
      ctx.kit.client.workflow.execute(sweepWorkflow, { workflowId: `sweep-${single.id}`, taskQueue: TASK_QUEUES.backtest, args: [single] }));
    expect(ranking(scaled)).toEqual(ranking(alone));
  }, 300_000);
});
