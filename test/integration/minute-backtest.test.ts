import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBacktestActivities } from '../../src/activities/backtest';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { loadStrategyConfigs } from '../../src/config/strategies';
import { upsertCandles } from '../../src/db/market-data';
import { SimulatedMarket } from '../../src/domain/simulated-market';
import { backtestResult, resolveBacktest } from '../../src/services/backtests';
import type { BacktestSummary } from '../../src/workflows/types';
import { clearMarketData, testDatabase } from '../support/db';

const handle = testDatabase();
const MIN = 60_000;
const from = Date.UTC(2026, 2, 2);
const to = Date.UTC(2026, 2, 4);

beforeAll(async () => {
  await clearMarketData(handle);
  // Two days and a half of 1-minute bars, as the market stream stores them.
  const bars = new SimulatedMarket(7).candles('bitcoin', from - 12 * 60 * MIN, to, MIN);
  await upsertCandles(handle.db, 'bitcoin', 1, 'binance', bars);
});
afterAll(() => handle.close());

describe('a backtest on 1-minute bars', () => {
  it('replays the streamed minutes like any other bar size', async () => {
    const req = resolveBacktest({
      strategy: 'sma_crossover', params: { fast: 10, slow: 30 }, assets: ['bitcoin'], from, to, initialCapital: 10_000,
      conventions: { bar: '1m', sizing: { kind: 'fixed_fraction', fraction: 0.5 } },
    }, loadExecutionConfig());
    const activities = createBacktestActivities({ db: handle.db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs() });
    const summary: BacktestSummary = await new MockActivityEnvironment().run(() => activities.runBacktest(req));
    // Every minute closing from `from` to `to`, both ends, is a decision bar.
    expect(summary.bars).toBe((to - from) / MIN + 1);
    const result = await backtestResult(handle.db, req.id);
    expect(result!.trades.length).toBeGreaterThan(10);
    // Each trade enters and exits on a minute boundary.
    for (const t of result!.trades) expect([t.entryTime % MIN, (t.exitTime ?? 0) % MIN]).toEqual([0, 0]);
  });
});
