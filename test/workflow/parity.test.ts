import { randomUUID } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadSignalsConfig } from '../../src/config/signals';
import { buildStrategies, loadStrategyConfigs } from '../../src/config/strategies';
import { loadRiskConfig } from '../../src/config/risk';
import { loadMarketData } from '../../src/db/market-series';
import { fills } from '../../src/db/schema';
import { runBacktest } from '../../src/domain/backtest/engine';
import { DAY_MS } from '../../src/domain/types';
import { importCsv, importMacroCsv } from '../../src/services/csv-import';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { generateSignalsWorkflow } from '../../src/workflows/signals';
import { protectPositionsWorkflow } from '../../src/workflows/trading';
import { pipelineWorker, testSignalDeps, tradingDeps, tradingWorker, withWorkers, workflowTestContext } from '../support/temporal';
import { MARKET as market } from '../support/market-files';

const ctx = workflowTestContext();
const { handle } = ctx;

const FROM = Date.UTC(2022, 4, 1);
const DAYS = 60;
const FILL_MODEL = { fixedSlippageBps: 10, volatilitySlippageFactor: 0.1, takerFeeBps: 10 };

describe('parity: a backtest over a paper-trading run makes the same trades', () => {
  it('on the same stored candles and signals, day by day', async () => {
    await importCsv(handle.db, { asset: 'bitcoin', file: `${market}crypto_daily/yfinance/BTC-USD_1d.csv` });
    await importMacroCsv(handle.db, { indicator: 'VIXCLS', file: `${market}macro/fred/VIXCLS.csv` });
    const strategies = buildStrategies(loadStrategyConfigs()).map((s) => ({ ...s, config: { ...s.config, assets: ['bitcoin'] } }));
    const signalsConfig = loadSignalsConfig();

    // Paper trading: each midnight the stops meet yesterday's bar, then signals are decided and traded.
    let now = FROM;
    const trading = tradingDeps(handle, { portfolioId: 'parity', fillModel: FILL_MODEL, clock: () => now });
    const signalDeps = testSignalDeps(handle, { channels: [], strategies: buildStrategies(loadStrategyConfigs()) });
    await withWorkers([await pipelineWorker(ctx.kit, signalDeps), await tradingWorker(ctx.kit, trading)], async () => {
      for (let d = 0; d < DAYS; d++) {
        now = FROM + d * DAY_MS;
        await ctx.kit.client.workflow.execute(protectPositionsWorkflow, { workflowId: `protect-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [{}] });
        const run = await ctx.kit.client.workflow.execute(generateSignalsWorkflow, {
          workflowId: `parity-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [{ asOf: now, assets: ['bitcoin'], distribute: false, execute: true }],
        });
        // Wait for the day's sagas before the clock moves on.
        if (run.sagasStarted > 0) {
          const decided = await handle.db.execute<{ id: number }>(sql`select id from signal_history where strategy_name = 'aggregate' and timestamp = ${now}`);
          for (const r of decided.rows) await ctx.kit.client.workflow.getHandle(`signal-${r.id}`).result();
        }
      }
    });
    const live = await handle.db.select().from(fills).where(eq(fills.portfolioId, 'parity')).orderBy(asc(fills.timestamp), asc(fills.createdAt));

    // The backtest: same strategies and settings, deciding at the same midnights, filling at that close.
    const data = await loadMarketData(handle.db, ['bitcoin'], FROM - signalsConfig.historyDays * DAY_MS, FROM + DAYS * DAY_MS);
    const result = runBacktest({
      data, assets: ['bitcoin'], strategies, aggregation: signalsConfig.aggregation, risk: loadRiskConfig(), initialCapital: 10_000, historyDays: signalsConfig.historyDays,
      from: FROM, to: FROM + (DAYS - 1) * DAY_MS,
      conventions: { fillAt: 'close', fillModel: FILL_MODEL, sizing: { kind: 'risk' }, units: 'fractional', allowShort: true, protective: true, closeAtEnd: false },
    });

    expect(live.length).toBeGreaterThan(2);
    // Same fills in the same order: side, kind and time (an exit is stamped with the bar that triggered it).
    expect(result.fills.map((f) => [f.side, f.reason === 'signal' ? 'signal' : 'exit'])).toEqual(
      live.map((f) => [f.side, f.orderId.startsWith('exit-') ? 'exit' : 'signal']));
    expect(result.fills.map((f) => f.time)).toEqual(live.map((f) => f.timestamp));
    result.fills.forEach((f, k) => {
      expect(f.price).toBeCloseTo(live[k].price, 6);
      expect(f.quantity).toBeCloseTo(live[k].quantity, 9);
      expect(f.fee).toBeCloseTo(live[k].fee, 9);
    });
  });
});
