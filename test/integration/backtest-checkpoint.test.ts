import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBacktestActivities } from '../../src/activities/backtest';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { loadStrategyConfigs } from '../../src/config/strategies';
import { storedCurve, storedPastSignals } from '../../src/db/backtests';
import type { EngineCheckpoint } from '../../src/domain/backtest/engine';
import { backtestTrades } from '../../src/db/schema';
import { backtestResult, resolveBacktest } from '../../src/services/backtests';
import { importCsv } from '../../src/services/csv-import';
import type { BacktestProgress, BacktestRequest, BacktestSummary } from '../../src/workflows/types';
import { clearMarketData, testDatabase } from '../support/db';

const btc = fileURLToPath(new URL('../../../shared/data/market/crypto_daily/yfinance/BTC-USD_1d.csv', import.meta.url));
const handle = testDatabase();
const activities = (checkpointLimit?: number, progress: BacktestProgress[] = []) => createBacktestActivities({
  db: handle.db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs(), checkpointLimit,
  reportProgress: async (_, p) => { progress.push(p); },
});

/** Four years of daily BTC for the SMA crossover, a checkpoint every 100 bars (~15 in all); a new id each call. */
const request = () => ({
  ...resolveBacktest({
    strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['bitcoin'], from: Date.UTC(2019, 0, 1), to: Date.UTC(2023, 0, 1), initialCapital: 10_000, conventions: {},
  }, loadExecutionConfig()),
  chunkBars: 100,
});

type Beat = { state?: EngineCheckpoint; storedPoints: number; storedTrades: number };
/** The heartbeats an environment's activity sends, as they would cross the wire. */
const beatsOf = (env: MockActivityEnvironment) => {
  const beats: Beat[] = [];
  env.on('heartbeat', (d: Beat) => beats.push(JSON.parse(JSON.stringify(d)) as Beat));
  return beats;
};

beforeAll(async () => {
  await clearMarketData(handle);
  await importCsv(handle.db, { asset: 'bitcoin', file: btc });
});
afterAll(() => handle.close());

describe('runBacktest checkpoints', () => {
  it('carry no curve, fills, closed trades or past signals, and a retry from one resumes to the same result even when more was stored after it', async () => {
    const req = request();
    const clean = new MockActivityEnvironment();
    const heartbeats = beatsOf(clean);
    const summary: BacktestSummary = await clean.run(() => activities().runBacktest(req));
    const expected = await backtestResult(handle.db, req.id);
    expect(expected!.equity.length).toBe(summary.bars);
    expect(heartbeats.length).toBeGreaterThan(10);
    // The curve, the closed trades and the past signals are in the database, not in the checkpoints; fills are not kept.
    const states = heartbeats.map((h) => h.state!);
    expect(Math.max(...states.map((s) => s.equity.time.length))).toBe(0);
    expect(Math.max(...states.map((s) => s.fills.length))).toBe(0);
    expect(Math.max(...states.map((s) => s.trades.length))).toBeLessThanOrEqual(1);
    expect(Math.max(...states.map((s) => s.past.length))).toBe(0);
    expect(heartbeats.at(-1)!.storedTrades).toBeGreaterThan(5);
    // The past signals a checkpoint counts were stored, and went when the run ended.
    const last = states.at(-1)!;
    expect(last.pastTotal - last.pastFirst).toBeGreaterThan(5);
    expect(await storedPastSignals(handle.db, req.id, last.pastFirst, last.pastTotal)).toBeUndefined();

    // As if the worker died after storing more than its last recorded heartbeat counts: a run of the
    // same id stopped at its 12th heartbeat (of 15), retried from its 6th.
    const dying = new MockActivityEnvironment();
    const dyingBeats = beatsOf(dying);
    dying.on('heartbeat', () => { if (dyingBeats.length === 12) dying.cancel(); });
    await expect(dying.run(() => activities().runBacktest(req))).rejects.toThrow();
    expect(await backtestResult(handle.db, req.id)).toBeUndefined();
    expect(dyingBeats.length).toBe(12);
    const early = dyingBeats[5];
    expect(early.storedPoints).toBeGreaterThan(0);
    expect(early.storedTrades).toBeGreaterThan(0);
    expect(early.state!.pastTotal - early.state!.pastFirst).toBeGreaterThan(0);
    expect((await storedCurve(handle.db, req.id)).time.length).toBeGreaterThan(early.storedPoints);
    const [{ t }] = await handle.db.select({ t: count() }).from(backtestTrades).where(eq(backtestTrades.backtestId, req.id));
    expect(t).toBeGreaterThan(early.storedTrades);

    const progress: BacktestProgress[] = [];
    const retry = new MockActivityEnvironment({ heartbeatDetails: early, attempt: 2 });
    const resumed: BacktestSummary = await retry.run(() => activities(undefined, progress).runBacktest(req));
    expect(progress[0]).toMatchObject({ resumedFromCheckpoint: true, barsDone: early.state!.cursor });
    expect(resumed).toEqual(summary);
    expect(await backtestResult(handle.db, req.id)).toEqual(expected);

    // Retried from the same checkpoint once it has ended (its completion lost): its past signals went
    // with its end, so it replays from the start, to the same result.
    progress.length = 0;
    const late = new MockActivityEnvironment({ heartbeatDetails: early, attempt: 3 });
    expect(await late.run(() => activities(undefined, progress).runBacktest(req))).toEqual(summary);
    expect(progress[0].resumedFromCheckpoint).toBe(false);
    expect(await backtestResult(handle.db, req.id)).toEqual(expected);
  });

  it('too large for a heartbeat, are left out of it (the heartbeat still beats), and a retry replays from the start to the same result', async () => {
    const req = request();
    const clean = new MockActivityEnvironment();
    const beats = beatsOf(clean);
    // A limit below any checkpoint's size: every heartbeat goes without its state.
    const summary: BacktestSummary = await clean.run(() => activities(200).runBacktest(req));
    const expected = await backtestResult(handle.db, req.id);
    expect(beats.length).toBeGreaterThan(10);
    expect(beats.filter((b) => b.state !== undefined)).toEqual([]);
    expect(beats.at(-1)!.storedPoints).toBeGreaterThan(1000);

    // Retried after its last heartbeat: nothing to resume from, so it clears what was stored and replays from the start.
    const retry = new MockActivityEnvironment({ heartbeatDetails: beats.at(-1), attempt: 2 });
    const retried = beatsOf(retry);
    const again: BacktestSummary = await retry.run(() => activities(200).runBacktest(req));
    expect(retried[0].storedPoints).toBeLessThan(beats.at(-1)!.storedPoints);
    expect(again).toEqual(summary);
    expect(await backtestResult(handle.db, req.id)).toEqual(expected);
  });

  it('share the process\'s thread once a run reports, or has replayed when it never does, or has failed', async () => {
    /**
     * Runs `req` twice; each time the second run shares the thread: the heartbeats and reports it
     * had sent, and whether a result of its id was stored then (the first run's until the second
     * clears it before replaying, its own once it ends).
     */
    const sharesOf = async (req: BacktestRequest) => {
      // A run meant to fail fails quietly: the SDK's "Activity failed" warning is not for a green run's output.
      const quiet = { logger: new DefaultLogger('ERROR') };
      await new MockActivityEnvironment(undefined, quiet).run(() => activities().runBacktest(req)).catch(() => undefined);
      const env = new MockActivityEnvironment(undefined, quiet);
      const beats = beatsOf(env);
      const progress: BacktestProgress[] = [];
      const shares: Array<Promise<{ beats: number; reports: number; stored: boolean }>> = [];
      const { runBacktest } = createBacktestActivities({
        db: handle.db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs(),
        reportProgress: async (_, p) => { progress.push(p); },
        threadShared: () => {
          const [sent, reports] = [beats.length, progress.length];
          shares.push(backtestResult(handle.db, req.id).then((r) => ({ beats: sent, reports, stored: r !== undefined })));
        },
      });
      const outcome = await env.run(() => runBacktest(req)).then(() => 'done', (err: Error) => err.message);
      return { outcome, shares: await Promise.all(shares), beats: beats.length };
    };
    // A run that reports every 100 bars: at its first report, before the report is sent.
    const reporting = await sharesOf(request());
    expect(reporting).toMatchObject({ outcome: 'done', shares: [{ beats: 0, reports: 0, stored: false }] });
    expect(reporting.beats).toBeGreaterThan(10);
    // One that ends within its first second never reports: once it has replayed, before it stores.
    expect(await sharesOf({ ...request(), chunkBars: undefined }))
      .toEqual({ outcome: 'done', shares: [{ beats: 0, reports: 0, stored: false }], beats: 0 });
    // One that fails before it replays.
    expect(await sharesOf({ ...request(), strategies: ['no_such_strategy'] }))
      .toEqual({ outcome: 'unknown strategy "no_such_strategy"', shares: [{ beats: 0, reports: 0, stored: false }], beats: 0 });
  });
});
