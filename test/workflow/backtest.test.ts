import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestDeps } from '../../src/activities/backtest';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { loadStrategyConfigs } from '../../src/config/strategies';
import { runBacktest } from '../../src/domain/backtest/engine';
import { barSeries } from '../../src/domain/market-data';
import { STRATEGY_DEFINITIONS } from '../../src/domain/strategies';
import { createStrategy } from '../../src/domain/strategies/framework';
import { backtestResult, backtestWorkflowId, resolveBacktest, startBacktest } from '../../src/services/backtests';
import { importCsv, importMacroCsv } from '../../src/services/csv-import';
import { loadMarketData } from '../../src/db/market-series';
import { backtestCurve, backtestPastSignals, backtestTrades } from '../../src/db/schema';
import { foldSweepId, newSweepId, newWalkForwardId, sweepWorkflowId, walkForwardWorkflowId } from '../../src/temporal/analysis-ids';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { sweepWorkflow } from '../../src/workflows/sweep';
import { walkForwardWorkflow } from '../../src/workflows/walk-forward';
import type { SweepRequest, WalkForwardRequest } from '../../src/workflows/types';
import { MARKET } from '../support/market-files';
import { backtestProgressQuery } from '../../src/workflows/backtest';
import { startTestApi } from '../support/api';
import { spawnWorkerProcess } from '../support/processes';
import { backtestDeps, backtestWorker, withWorkers, workflowTestContext } from '../support/temporal';

const btc = fileURLToPath(new URL('../../../shared/data/market/crypto_daily/yfinance/BTC-USD_1d.csv', import.meta.url));
const btcHourly = fileURLToPath(new URL('../../../shared/data/market/crypto_intraday/cryptodatadownload_binance_1h/Binance_BTCUSDT_1h.normalized.csv', import.meta.url));
const HOUR_MS = 3_600_000;
const ctx = workflowTestContext();
const { handle } = ctx;
beforeAll(() => importCsv(handle.db, { asset: 'bitcoin', file: btc, volumeIn: 'usd' }));

/** Rows a backtest of this id has stored as it ran: curve segments, closed trades, past-signal segments. */
async function storedRows(backtestId: string) {
  const rows = (table: typeof backtestCurve | typeof backtestTrades | typeof backtestPastSignals) =>
    handle.db.select({ n: count() }).from(table).where(eq(table.backtestId, backtestId)).then(([r]) => r.n);
  return { curve: await rows(backtestCurve), trades: await rows(backtestTrades), past: await rows(backtestPastSignals) };
}

/** Waits until one of the backtests has reported at least `bars` bars replayed. */
async function waitForBars(runs: WorkflowHandle[], bars: number) {
  const progress = (run: WorkflowHandle) => run.query(backtestProgressQuery).catch(() => null);
  const reached = async () => (await Promise.all(runs.map(progress))).some((p) => p !== null && p.barsDone >= bars);
  while (!(await reached())) await new Promise((r) => setTimeout(r, 100));
}

const classic = {
  strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['bitcoin'], from: '2018-01-01', to: '2024-12-31',
  conventions: { fillAt: 'close', fillModel: { fixedSlippageBps: 0, volatilitySlippageFactor: 0, takerFeeBps: 0 }, sizing: { kind: 'all_in' }, allowShort: false, protective: false },
};
const request = () => resolveBacktest({
  strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['bitcoin'], from: Date.UTC(2018, 0, 1), to: Date.UTC(2024, 11, 31), initialCapital: 10_000,
  conventions: { fillAt: 'close', fillModel: { fixedSlippageBps: 0, volatilitySlippageFactor: 0, takerFeeBps: 0 }, sizing: { kind: 'all_in' }, allowShort: false, protective: false },
}, loadExecutionConfig());

/** Four slow children (a report every 50 bars, each paused by the worker), two at a time. */
const sweepRequest: SweepRequest = (() => {
  const { id: _id, params: _params, ...base } = { ...request(), chunkBars: 50 };
  return { id: newSweepId('cancelled'), base, grid: { 'sma_crossover.fast': [5, 10, 15, 20] }, metric: 'sharpe', concurrency: 2 };
})();

describe('backtestWorkflow', () => {
  it('runs a classic SMA crossover on real daily BTC through the API, with numbers that follow from its trades', async () => {
    const api = await startTestApi(ctx.kit.client, handle, 'operator:operator-key-01');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api.base}/api/v1${path}`, { method, headers: { authorization: 'Bearer operator-key-01', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      // Bodies are JSON or HTML of many shapes, checked field by field below.
      return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text()) as any };
    };
    try {
      const bad = await call('POST', '/backtests', { ...classic, params: { fast: 0 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details[0].field).toBe('body.params.fast');
      const twice = await call('POST', '/backtests', { ...classic, params: { fast: 10, 'sma_crossover.fast': 12 } });
      expect(twice.status).toBe(400);
      expect(twice.body.error.details).toEqual([
        expect.objectContaining({ field: 'body.params.sma_crossover.fast', message: 'the same parameter as "fast" (sma_crossover.fast)' }),
      ]);
      const started = await call('POST', '/backtests', classic);
      expect(started.status).toBe(202);
      const { id } = started.body;
      expect((await call('GET', `/backtests/${id}/result`)).status).toBe(404);
      await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => ctx.kit.client.workflow.getHandle(backtestWorkflowId(id)).result());
      const status = await call('GET', `/backtests/${id}`);
      expect(status.body).toMatchObject({ id, status: 'COMPLETED', failure: null, summary: { id, tradeCount: expect.any(Number) } });

      const { body: result } = await call('GET', `/backtests/${id}/result`);
      expect(result.trades.length).toBeGreaterThan(20);
      // All-in, long only, no costs: equity compounds trade by trade.
      const compounded = result.trades.reduce((e: number, t: { exitPrice: number; entryPrice: number }) => e * (t.exitPrice / t.entryPrice), 10_000);
      expect(result.finalValue).toBeCloseTo(compounded, 6);
      expect(result.equity.at(-1).equity).toBeCloseTo(compounded, 6);
      expect(result.metrics.tradeCount).toBe(result.trades.length);
      expect(result.metrics.totalReturn).toBeCloseTo(compounded / 10_000 - 1, 9);
      const report = await call('GET', `/backtests/${id}/report.html`);
      expect(report.body).toContain('<svg');
      expect(report.body).toContain('sma_crossover');
    } finally {
      await api.close();
    }
  });

  it('resumes from its checkpoint after its worker is killed, to the same result', async () => {
    const reference = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], async () => {
      const req = { ...request(), chunkBars: 100 };
      await startBacktest(ctx.kit.client, req);
      await ctx.kit.client.workflow.getHandle(backtestWorkflowId(req.id)).result();
      return backtestResult(handle.db, req.id);
    });

    const req = { ...request(), chunkBars: 100, heartbeatTimeoutMs: 2000 };
    let child: ChildProcess | undefined = await spawnWorkerProcess('backtest-worker.ts', { PROGRESS_PAUSE_MS: '300' });
    try {
      await startBacktest(ctx.kit.client, req);
      const run = ctx.kit.client.workflow.getHandle(backtestWorkflowId(req.id));
      let progress = await run.query(backtestProgressQuery);
      while (!progress || progress.barsDone < 500) {
        await new Promise((r) => setTimeout(r, 100));
        progress = await run.query(backtestProgressQuery);
      }
      expect(progress.barsTotal).toBe(2557);
      child.kill('SIGKILL');
      child = undefined;
      const final = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], async () => {
        await run.result();
        return run.query(backtestProgressQuery);
      });
      expect(final).toMatchObject({ barsDone: 2557, resumedFromCheckpoint: true });
    } finally {
      child?.kill('SIGKILL');
    }
    const resumed = await backtestResult(handle.db, req.id);
    expect(resumed!.trades).toEqual(reference!.trades);
    expect(resumed!.finalValue).toBe(reference!.finalValue);
  });

  it('can be cancelled while it runs; what it stored goes with it', async () => {
    const req = { ...request(), chunkBars: 50 };
    const child = await spawnWorkerProcess('backtest-worker.ts', { PROGRESS_PAUSE_MS: '200' });
    try {
      await startBacktest(ctx.kit.client, req);
      const run = ctx.kit.client.workflow.getHandle(backtestWorkflowId(req.id));
      await waitForBars([run], 600);
      // By then it has stored curve points, closed trades and the signals its track records score.
      expect(Math.min(...Object.values(await storedRows(req.id)))).toBeGreaterThan(0);
      await run.cancel();
      await expect(run.result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
      expect((await run.describe()).status.name).toBe('CANCELLED');
      expect(await storedRows(req.id)).toEqual({ curve: 0, trades: 0, past: 0 });
      expect(await backtestResult(handle.db, req.id)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('fails when its replay fails for good, and what it stored goes with it', async () => {
    const req = { ...request(), chunkBars: 50 };
    let storedWhenFailing: Awaited<ReturnType<typeof storedRows>> | undefined;
    const deps: BacktestDeps = {
      ...backtestDeps(handle, ctx.kit.client),
      // A replay that fails for good half-way, after reporting (and storing) what it had replayed so far.
      async reportProgress(_workflowId, progress) {
        if (progress.barsDone < 600) return;
        storedWhenFailing = await storedRows(req.id);
        throw ApplicationFailure.nonRetryable('the replay broke half-way', 'ReplayBroke');
      },
    };
    const run = await withWorkers([await backtestWorker(ctx.kit, deps)], async () => {
      await startBacktest(ctx.kit.client, req);
      const started = ctx.kit.client.workflow.getHandle(backtestWorkflowId(req.id));
      await expect(started.result()).rejects.toMatchObject({ cause: { cause: { message: 'the replay broke half-way' } } });
      return started;
    });
    expect((await run.describe()).status.name).toBe('FAILED');
    // It had stored curve points, closed trades and the signals its track records score; none are left.
    expect(Math.min(...Object.values(storedWhenFailing!))).toBeGreaterThan(0);
    expect(await storedRows(req.id)).toEqual({ curve: 0, trades: 0, past: 0 });
    expect(await backtestResult(handle.db, req.id)).toBeUndefined();
  });

  it('goes on past a child cancelled on its own; cancelled itself, ends CANCELLED with its children, leaving nothing of theirs stored', async () => {
    const { id } = sweepRequest;
    const childRun = (k: number) => ctx.kit.client.workflow.getHandle(backtestWorkflowId(`${id}-${k}`));
    const child = await spawnWorkerProcess('backtest-worker.ts', { PROGRESS_PAUSE_MS: '200' });
    try {
      const run = await ctx.kit.client.workflow.start(sweepWorkflow, { workflowId: sweepWorkflowId(id), taskQueue: TASK_QUEUES.backtest, args: [sweepRequest] });
      // Its first two children are under way (the worker runs two at once); two wait their turn.
      await waitForBars([childRun(0)], 300);
      // An operator cancels one combination: its lane takes the next.
      await childRun(0).cancel();
      await waitForBars([childRun(2)], 300);
      await run.cancel();
      await expect(run.result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
      expect((await run.describe()).status.name).toBe('CANCELLED');
      for (const k of [0, 1, 2]) {
        expect((await childRun(k).describe()).status.name).toBe('CANCELLED');
        expect(await storedRows(`${id}-${k}`)).toEqual({ curve: 0, trades: 0, past: 0 });
      }
      // The one not yet started never is.
      await expect(childRun(3).describe()).rejects.toThrow(/not found/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ends a cancelled walk-forward CANCELLED once every fold\'s sweep and child has, leaving nothing of theirs stored', async () => {
    const { id: _id, grid, metric, base } = sweepRequest;
    const id = newWalkForwardId('cancelled');
    const request: WalkForwardRequest = {
      id, base, grid: { 'sma_crossover.fast': grid['sma_crossover.fast'].slice(0, 2) }, metric,
      from: Date.UTC(2018, 0, 1), to: Date.UTC(2024, 11, 31), initialCapital: 10_000, folds: 2, inSampleDays: 2000,
    };
    const children = [0, 1].flatMap((fold) => [0, 1].map((k) => `${foldSweepId(id, fold)}-${k}`));
    // All four children at once; the second fold's notice the cancellation ~2 s after the first's, so
    // its sweep is still cancelling when the first fold's has ended.
    const child = await spawnWorkerProcess('backtest-worker.ts', {
      BACKTESTS_PER_WORKER: '4', PROGRESS_PAUSE_MS: '100', SLOW_RUNS: foldSweepId(id, 1), SLOW_PAUSE_MS: '2000',
    });
    try {
      const run = await ctx.kit.client.workflow.start(walkForwardWorkflow, { workflowId: walkForwardWorkflowId(id), taskQueue: TASK_QUEUES.backtest, args: [request] });
      // Every child under way, none near its end (2,000 bars, a report every 50, each paused).
      for (const c of children) await waitForBars([ctx.kit.client.workflow.getHandle(backtestWorkflowId(c))], 50);
      await run.cancel();
      await expect(run.result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
      const closed = async (workflowId: string) => {
        const { status, closeTime } = await ctx.kit.client.workflow.getHandle(workflowId).describe();
        return { status: status.name, closeTime: closeTime!.getTime() };
      };
      const walkForward = await closed(walkForwardWorkflowId(id));
      for (const fold of [0, 1]) {
        const sweep = await closed(sweepWorkflowId(foldSweepId(id, fold)));
        // Cancelled, not terminated by the walk-forward closing before it: the walk-forward waited for it.
        expect(sweep.status).toBe('CANCELLED');
        expect(sweep.closeTime).toBeLessThanOrEqual(walkForward.closeTime);
      }
      for (const backtestId of children) {
        expect((await ctx.kit.client.workflow.getHandle(backtestWorkflowId(backtestId)).describe()).status.name).toBe('CANCELLED');
        expect(await storedRows(backtestId)).toEqual({ curve: 0, trades: 0, past: 0 });
      }
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('sweeps 12 parameter combinations as child backtests and ranks them by Sharpe', async () => {
    const api = await startTestApi(ctx.kit.client, handle, 'operator:operator-key-01');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api.base}/api/v1${path}`, { method, headers: { authorization: 'Bearer operator-key-01', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const sweep = { ...classic, params: undefined, from: '2020-01-01', to: '2022-12-31', grid: { fast: [5, 10, 15], slow: [20, 30, 40, 50] }, metric: 'sharpe' };
      const bad = await call('POST', '/backtests/sweeps', { ...sweep, grid: { fast: [5, 0] } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details[0].field).toBe('body.grid.fast.1');
      const empty = await call('POST', '/backtests/sweeps', { ...sweep, grid: {} });
      expect(empty.status).toBe(400);
      expect(empty.body.error.details).toEqual([expect.objectContaining({ field: 'body.grid', message: expect.stringContaining('no parameter') })]);
      const repeated = await call('POST', '/backtests/sweeps', { ...sweep, grid: { fast: [5, 10, 5], 'sma_crossover.fast': [15], slow: [20] } });
      expect(repeated.status).toBe(400);
      expect(repeated.body.error.details).toEqual([
        expect.objectContaining({ field: 'body.grid.fast.2', message: '5 is already value 0' }),
        expect.objectContaining({ field: 'body.grid.sma_crossover.fast', message: 'the same parameter as "fast" (sma_crossover.fast)' }),
      ]);
      const started = await call('POST', '/backtests/sweeps', sweep);
      expect(started.status).toBe(202);
      await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => ctx.kit.client.workflow.getHandle(started.body.workflowId).result());
      const { body } = await call('GET', `/backtests/sweeps/${started.body.id}`);
      expect(body.status).toBe('COMPLETED');
      const ranked = body.result.ranked;
      expect(ranked).toHaveLength(12);
      expect(new Set(ranked.map((r: { params: object }) => JSON.stringify(r.params))).size).toBe(12);
      const sharpes = ranked.map((r: { summary: { sharpe: number } }) => r.summary.sharpe);
      expect(sharpes).toEqual([...sharpes].sort((a, b) => b - a));
      // Each child stored its own result, and the ranking reads the same numbers.
      const best = await backtestResult(handle.db, ranked[0].backtestId);
      // Requests carry parameters as strategy.parameter; results store them per strategy.
      expect(Object.keys(ranked[0].params).sort()).toEqual(['sma_crossover.fast', 'sma_crossover.slow']);
      expect(best!.parameters).toMatchObject({ sma_crossover: { fast: ranked[0].params['sma_crossover.fast'], slow: ranked[0].params['sma_crossover.slow'] } });
      expect((best!.metrics as { sharpe: number }).sharpe).toBe(sharpes[0]);
      // Each child ended within its first chunk of replay: it sent no progress (a signal and a workflow
      // task each) and stored its curve once, whole.
      const child = ctx.kit.client.workflow.getHandle(backtestWorkflowId(ranked[0].backtestId));
      const progress = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => child.query(backtestProgressQuery));
      expect(progress).toBeNull();
      const segments = await handle.db.select({ firstPoint: backtestCurve.firstPoint }).from(backtestCurve)
        .where(eq(backtestCurve.backtestId, ranked[0].backtestId));
      expect(segments).toEqual([{ firstPoint: 0 }]);
      expect(best!.equity.length).toBeGreaterThan(700);
      // The children replayed bars one of them loaded (the sweep's data scope): a backtest of its own,
      // reading them from Postgres, gives the same numbers.
      const alone = await call('POST', '/backtests', { ...sweep, grid: undefined, metric: undefined, params: { fast: ranked[0].params['sma_crossover.fast'], slow: ranked[0].params['sma_crossover.slow'] } });
      expect(alone.status).toBe(202);
      const summary = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => ctx.kit.client.workflow.getHandle(alone.body.workflowId).result());
      expect({ sharpe: summary.sharpe, finalEquity: summary.finalEquity, tradeCount: summary.tradeCount })
        .toEqual({ sharpe: ranked[0].summary.sharpe, finalEquity: ranked[0].summary.finalEquity, tradeCount: ranked[0].summary.tradeCount });
    } finally {
      await api.close();
    }
  });

  it('walks forward over 3 folds: in-sample sweeps pick the parameters, out-of-sample runs chain their equity', async () => {
    const api = await startTestApi(ctx.kit.client, handle, 'operator:operator-key-01');
    try {
      const body = { ...classic, params: undefined, from: '2019-01-01', to: '2024-12-31', grid: { fast: [5, 10], slow: [30, 50] }, metric: 'totalReturn', folds: 3, inSampleDays: 365 };
      const res = await fetch(`${api.base}/api/v1/backtests/walk-forward`, { method: 'POST', headers: { authorization: 'Bearer operator-key-01', 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(202);
      const { workflowId } = (await res.json()) as { workflowId: string };
      const result = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => ctx.kit.client.workflow.getHandle(workflowId).result());
      expect(result.folds).toHaveLength(3);
      const DAY = 86_400_000;
      for (const [k, f] of result.folds.entries()) {
        // Each fold optimises on the year before its out-of-sample stretch, and the stretches tile the range.
        expect(f.outOfSample.from - f.inSample.from).toBe(365 * DAY);
        if (k > 0) expect(f.outOfSample.from).toBe(result.folds[k - 1].outOfSample.to + 1);
        expect(f.inSample.best).not.toBeNull();
        const best = f.inSample.best!.params;
        expect([5, 10]).toContain(best['sma_crossover.fast']);
        expect([30, 50]).toContain(best['sma_crossover.slow']);
        if (k > 0) expect(f.outOfSample.initialCapital).toBeCloseTo(result.folds[k - 1].outOfSample.summary!.finalEquity, 9);
        const stored = await backtestResult(handle.db, f.outOfSample.backtestId);
        expect(stored!.parameters).toMatchObject({ sma_crossover: { fast: best['sma_crossover.fast'], slow: best['sma_crossover.slow'] } });
      }
      expect(result.folds.at(-1)!.outOfSample.to).toBe(Date.UTC(2024, 11, 31));
      expect(result.stitched.finalEquity).toBeCloseTo(result.folds.at(-1)!.outOfSample.summary!.finalEquity, 9);
      expect(result.stitched.totalReturn).toBeCloseTo(result.stitched.finalEquity / 10_000 - 1, 12);
    } finally {
      await api.close();
    }
  });

  it('replays hourly bars built from stored hourly candles, trading as the engine does on the raw file', async () => {
    await importCsv(handle.db, { asset: 'btc-hourly', file: btcHourly });
    const req = { ...resolveBacktest({
      strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['btc-hourly'], from: Date.UTC(2020, 0, 1), to: Date.UTC(2020, 2, 1), initialCapital: 10_000,
      conventions: { bar: '1h', sizing: { kind: 'fixed_fraction', fraction: 0.5 } },
    }, loadExecutionConfig()), chunkBars: 300 };
    await startBacktest(ctx.kit.client, req);
    await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => ctx.kit.client.workflow.getHandle(backtestWorkflowId(req.id)).result());
    const stored = (await backtestResult(handle.db, req.id))!;

    // Independently: the file's hourly rows as the engine's input, one bar per row.
    const rows = readFileSync(btcHourly, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
      .map(([timestamp, open, high, low, close, volume]) => ({ timestamp, open, high, low, close, volume }));
    const field = (k: keyof (typeof rows)[number]) => rows.map((r) => r[k]);
    const columns = { timestamp: field('timestamp'), open: field('open'), high: field('high'), low: field('low'), close: field('close'), volume: field('volume') };
    const signals = loadSignalsConfig();
    const config = { ...loadStrategyConfigs().find((c) => c.name === 'sma_crossover')!, assets: ['btc-hourly'], parameters: { fast: 10, slow: 30, confidence: 0.65 } };
    const direct = runBacktest({
      data: { prices: { 'btc-hourly': barSeries(columns, HOUR_MS, HOUR_MS) }, macro: {} }, assets: ['btc-hourly'], strategies: [createStrategy(STRATEGY_DEFINITIONS.sma_crossover, config)],
      aggregation: signals.aggregation, risk: loadRiskConfig(), initialCapital: 10_000, historyDays: signals.historyDays, from: req.from, to: req.to, conventions: req.conventions,
    });
    const closesInRange = rows.filter((r) => r.timestamp + HOUR_MS >= req.from && r.timestamp + HOUR_MS <= req.to).length;
    expect(stored.equity.length).toBe(closesInRange);
    expect(stored.equity.length).toBeGreaterThan(1400);
    expect(stored.equity.map((e) => e.equity)).toEqual(Array.from(direct.equity.value));
    expect(direct.trades.length).toBeGreaterThan(20);
    expect(stored.trades.map(({ seq: _, ...t }) => t)).toEqual(direct.trades.rows());
    expect(stored.trades.some((t) => new Date(t.entryTime).getUTCHours() !== 0)).toBe(true);
    expect(stored.conventions).toMatchObject({ bar: '1h' });
    const api = await startTestApi(ctx.kit.client, handle, 'read:read-key-0001');
    try {
      const report = await (await fetch(`${api.base}/api/v1/backtests/${req.id}/report.html`, { headers: { authorization: 'Bearer read-key-0001' } })).text();
      // Trades on hourly bars are shown with their time of day.
      expect(report).toMatch(/<td>2020-0[12]-\d\d \d\d:00<\/td>/);
    } finally {
      await api.close();
    }
  });

  it('backtests the live ensemble: every enabled strategy on its coins, aggregated and sized as paper trading does; sweeps its parameters', async () => {
    await importCsv(handle.db, { asset: 'ethereum', file: `${MARKET}crypto_daily/yfinance/ETH-USD_1d.csv`, volumeIn: 'usd' });
    await importMacroCsv(handle.db, { indicator: 'VIXCLS', file: `${MARKET}macro/fred/VIXCLS.csv` });
    const api = await startTestApi(ctx.kit.client, handle, 'operator:operator-key-01');
    const call = async (path: string, body: unknown) => {
      const res = await fetch(`${api.base}/api/v1${path}`, { method: 'POST', headers: { authorization: 'Bearer operator-key-01', 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const live = { strategies: 'live', assets: ['bitcoin', 'ethereum'], from: '2021-01-01', to: '2022-12-31' };
      // A plain parameter name is ambiguous with several strategies; a strategy it does not have is named.
      const ambiguous = await call('/backtests', { ...live, params: { threshold: 1 } });
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.body.error.details[0]).toMatchObject({ field: 'body.params.threshold', message: expect.stringMatching(/^name the strategy/) });
      const unknown = await call('/backtests', { ...live, params: { 'vix_correlation.nope': 1 } });
      expect(unknown.body.error.details[0].message).toMatch(/^vix_correlation has no parameter "nope"/);
      const both = await call('/backtests', { ...live, strategy: 'sma_crossover' });
      expect(both.body.error.details[0].message).toBe('give either strategy (one) or strategies (a list, or "live")');

      const started = await call('/backtests', live);
      expect(started.status).toBe(202);
      const sweep = await call('/backtests/sweeps', { ...live, grid: { 'vix_correlation.strongNegative': [-0.5, -0.7] }, metric: 'totalReturn' });
      expect(sweep.status).toBe(202);
      const [summary, swept] = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(handle, ctx.kit.client))], () => Promise.all([
        ctx.kit.client.workflow.getHandle(started.body.workflowId).result(),
        ctx.kit.client.workflow.getHandle(sweep.body.workflowId).result(),
      ]));
      const stored = (await backtestResult(handle.db, started.body.id))!;
      expect(stored.strategy).toBe('live');
      // Every enabled strategy that trades bitcoin or ethereum took part, with its parameters from disk.
      const enabled = loadStrategyConfigs().filter((c) => c.enabled && c.assets.some((a) => live.assets.includes(a)));
      expect(Object.keys(stored.parameters as object).sort()).toEqual(enabled.map((c) => c.name).sort());
      expect(summary.tradeCount).toBeGreaterThan(0);
      expect(summary.periodsPerYear).toBe(365);

      // The same ensemble built here from the configs, replayed by the engine directly: the same trades.
      const signals = loadSignalsConfig();
      const execution = loadExecutionConfig();
      const req = resolveBacktest({ strategies: 'live', params: {}, assets: live.assets, from: Date.UTC(2021, 0, 1), to: Date.UTC(2022, 11, 31), initialCapital: 10_000, conventions: {} }, execution);
      const data = await loadMarketData(handle.db, live.assets, req.from - signals.historyDays * 86_400_000, req.to);
      const direct = runBacktest({
        data, assets: live.assets, aggregation: signals.aggregation, risk: loadRiskConfig(), initialCapital: 10_000, historyDays: signals.historyDays,
        from: req.from, to: req.to, conventions: req.conventions,
        strategies: enabled.map((c) => createStrategy(STRATEGY_DEFINITIONS[c.name], { ...c, assets: c.assets.filter((a) => live.assets.includes(a)) })),
      });
      expect(stored.trades.map(({ seq: _, ...t }) => t)).toEqual(direct.trades.rows());
      expect(new Set(direct.trades.rows().map((t) => t.asset))).toEqual(new Set(live.assets));
      // How often each rule refused a signal or shrank a trade: in the summary and the stored result.
      expect(Object.keys(direct.rejectionsByRule).length).toBeGreaterThan(0);
      expect(summary.rejectionsByRule).toEqual(direct.rejectionsByRule);
      expect(stored.rejectionsByRule).toEqual(direct.rejectionsByRule);
      expect(stored.shrunkByRule).toEqual(direct.shrunkByRule);

      // The sweep over an ensemble parameter: two children, each storing the parameter it ran with.
      expect(swept.ranked).toHaveLength(2);
      for (const entry of swept.ranked) {
        const child = (await backtestResult(handle.db, entry.backtestId))!;
        expect((child.parameters as Record<string, Record<string, number>>).vix_correlation.strongNegative).toBe(entry.params['vix_correlation.strongNegative']);
      }
    } finally {
      await api.close();
    }
  });
});
