import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBacktestActivities } from '../../src/activities/backtest';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { loadStrategyConfigs } from '../../src/config/strategies';
import { storedCurve } from '../../src/db/backtests';
import { backtestResults, backtestTrades } from '../../src/db/schema';
import { backtestResult, resolveBacktest } from '../../src/services/backtests';
import { importCsv } from '../../src/services/csv-import';
import type { BacktestSummary } from '../../src/workflows/types';
import { clearMarketData, testDatabase } from '../support/db';

const btc = fileURLToPath(new URL('../../../shared/data/market/crypto_daily/yfinance/BTC-USD_1d.csv', import.meta.url));
const handle = testDatabase();
const activities = (checkpointLimit?: number) => createBacktestActivities({
  db: handle.db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs(), checkpointLimit,
});

beforeAll(async () => {
  await clearMarketData(handle);
  await importCsv(handle.db, { asset: 'bitcoin', file: btc });
});
afterAll(() => handle.close());

describe('runBacktest checkpoints', () => {
  it('carry no curve, fills or closed trades, and a retry from one resumes to the same result even when more was stored after it', async () => {
    const req = { ...resolveBacktest({
      strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['bitcoin'], from: Date.UTC(2019, 0, 1), to: Date.UTC(2023, 0, 1), initialCapital: 10_000, conventions: {},
    }, loadExecutionConfig()), chunkBars: 100 };
    const heartbeats: Array<{ state: { cursor: number; equity: { time: number[] }; fills: unknown[]; trades: unknown[] }; storedPoints: number; storedTrades: number }> = [];
    const clean = new MockActivityEnvironment();
    clean.on('heartbeat', (d) => heartbeats.push(JSON.parse(JSON.stringify(d))));
    const summary: BacktestSummary = await clean.run(() => activities().runBacktest(req));
    const expected = await backtestResult(handle.db, req.id);
    expect(expected!.equity.length).toBe(summary.bars);
    expect(heartbeats.length).toBeGreaterThan(10);
    // The curve and the closed trades are in the database, not in the checkpoints; fills are not kept.
    expect(Math.max(...heartbeats.map((h) => h.state.equity.time.length))).toBe(0);
    expect(Math.max(...heartbeats.map((h) => h.state.fills.length))).toBe(0);
    expect(Math.max(...heartbeats.map((h) => h.state.trades.length))).toBeLessThanOrEqual(1);
    expect(heartbeats.at(-1)!.storedTrades).toBeGreaterThan(5);

    // As if the worker died after storing the whole curve and every trade, with an early checkpoint last heartbeated.
    const early = heartbeats[8];
    expect(early.storedPoints).toBeGreaterThan(0);
    expect(early.storedTrades).toBeGreaterThan(0);
    await handle.db.delete(backtestResults).where(eq(backtestResults.backtestId, req.id));
    expect((await storedCurve(handle.db, req.id)).time.length).toBeGreaterThan(early.storedPoints);
    const [{ t }] = await handle.db.select({ t: count() }).from(backtestTrades).where(eq(backtestTrades.backtestId, req.id));
    expect(t).toBeGreaterThan(early.storedTrades);

    const retry = new MockActivityEnvironment({ heartbeatDetails: early, attempt: 2 });
    const resumed: BacktestSummary = await retry.run(() => activities().runBacktest(req));
    expect(resumed).toEqual(summary);
    expect(await backtestResult(handle.db, req.id)).toEqual(expected);
  });

  it('too large for a heartbeat, are left out of it (the heartbeat still beats), and a retry replays from the start to the same result', async () => {
    const req = { ...resolveBacktest({
      strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['bitcoin'], from: Date.UTC(2019, 0, 1), to: Date.UTC(2023, 0, 1), initialCapital: 10_000, conventions: {},
    }, loadExecutionConfig()), chunkBars: 100 };
    type Beat = { state?: unknown; storedPoints: number; storedTrades: number };
    const beatsOf = (env: MockActivityEnvironment) => {
      const beats: Beat[] = [];
      env.on('heartbeat', (d: Beat) => beats.push(JSON.parse(JSON.stringify(d)) as Beat));
      return beats;
    };
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
});
