import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { buildStrategies, loadStrategyConfigs } from '../../src/config/strategies';
import { loadMarketData } from '../../src/db/market-series';
import { fills, portfolios, riskAssessments } from '../../src/db/schema';
import { runBacktest } from '../../src/domain/backtest/engine';
import type { BarSize } from '../../src/domain/types';
import { DAY_MS, HOUR_MS } from '../../src/domain/types';
import { importCsv, importMacroCsv } from '../../src/services/csv-import';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { generateSignalsWorkflow } from '../../src/workflows/signals';
import { protectPositionsWorkflow, snapshotPortfolioWorkflow } from '../../src/workflows/trading';
import { MARKET } from '../support/market-files';
import { pipelineWorker, testSignalDeps, tradingDeps, tradingWorker, withWorkers, workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();
const { handle } = ctx;

// The May 2021 sell-off on Binance hourly bars: stops, trailing, cooldowns and flips all happen.
// About 100 s: each hour runs three workflows and up to two sagas, one at a time, as the Schedules would.
const FROM = Date.UTC(2021, 4, 12);
const HOURS = 4 * 24;
const ASSETS = ['bitcoin', 'ethereum'];
const FILL_MODEL = { fixedSlippageBps: 10, volatilitySlippageFactor: 0.1, takerFeeBps: 10 };
// Every feature on: trailing stops, the re-entry cooldown, and correlation and volatility limits set
// where these days cross them (ether's daily volatility passes 5.8% on two of them; the coins'
// correlation is far above 0.5), so both drivers refuse the same signals by them and trade the rest.
const RISK = {
  ...loadRiskConfig(), trailingStopPct: 0.015, stopCooldownMinutes: 180, maxCorrelationRisk: 0.5, volatilityThreshold: 0.058, volatilityWarningThreshold: 0.05,
};
// The live ensemble, mixing bars: the price strategies decide hourly, the VIX strategies daily.
const BARS: Record<string, BarSize> = { sma_crossover: '1h', volatility_spike: '1h', vix_correlation: '1d', mean_reversion: '1d' };
const ensemble = () => buildStrategies(loadStrategyConfigs(undefined, RISK).map((c) => ({ ...c, bar: BARS[c.name], assets: c.assets.filter((a) => ASSETS.includes(a)) })));

describe('parity: paper trading through the workflows and a backtest of the same candles make the same fills', () => {
  it('the live ensemble on hourly and daily bars, several coins, trailing stops and cooldowns, to the cent', async () => {
    const hourly = `${MARKET}crypto_intraday/cryptodatadownload_binance_1h/`;
    await importCsv(handle.db, { asset: 'bitcoin', file: `${hourly}Binance_BTCUSDT_1h.normalized.csv` });
    await importCsv(handle.db, { asset: 'ethereum', file: `${hourly}Binance_ETHUSDT_1h.normalized.csv` });
    await importMacroCsv(handle.db, { indicator: 'VIXCLS', file: `${MARKET}macro/fred/VIXCLS.csv` });
    const signalsConfig = loadSignalsConfig(undefined, RISK);

    // Paper trading, hour by hour as the Schedules run it: the stops meet the bar that just closed,
    // the strategies whose bar closed decide and their sagas trade, the portfolio is marked.
    let now = FROM;
    const trading = tradingDeps(handle, { portfolioId: 'parity', fillModel: FILL_MODEL, risk: RISK, clock: () => now });
    const signalDeps = testSignalDeps(handle, { channels: [], strategies: ensemble(), config: signalsConfig });
    const start = <T>(workflow: T, taskQueue: string, args: unknown[]) => ctx.kit.client.workflow.execute(workflow as never, { workflowId: `parity-${randomUUID()}`, taskQueue, args } as never);
    await withWorkers([await pipelineWorker(ctx.kit, signalDeps), await tradingWorker(ctx.kit, trading)], async () => {
      for (let h = 0; h < HOURS; h++) {
        now = FROM + h * HOUR_MS;
        await start(protectPositionsWorkflow, TASK_QUEUES.trading, [{}]);
        await start(generateSignalsWorkflow, TASK_QUEUES.pipeline, [{ asOf: now, assets: ASSETS, distribute: false, execute: true }]);
        await start(snapshotPortfolioWorkflow, TASK_QUEUES.trading, []);
      }
    });
    const live = await handle.db.select().from(fills).where(eq(fills.portfolioId, 'parity')).orderBy(asc(fills.timestamp), asc(fills.createdAt));
    const [book] = await handle.db.select().from(portfolios).where(eq(portfolios.id, 'parity'));

    // The backtest: the same ensemble and rules over the same stored candles, filling at the close.
    const to = FROM + (HOURS - 1) * HOUR_MS;
    const historyFrom = FROM - signalsConfig.historyDays * DAY_MS;
    const result = runBacktest({
      data: await loadMarketData(handle.db, ASSETS, historyFrom, to, 60), barMinutes: 60,
      dataByBar: { 1440: await loadMarketData(handle.db, ASSETS, historyFrom, to, 1440) },
      assets: ASSETS, strategies: ensemble(), aggregation: signalsConfig.aggregation, risk: RISK, initialCapital: 10_000,
      historyDays: signalsConfig.historyDays, from: FROM, to,
      conventions: { fillAt: 'close', fillModel: FILL_MODEL, sizing: { kind: 'risk' }, units: 'fractional', allowShort: true, protective: true, closeAtEnd: false },
    });

    // Every feature took part: both coins traded, stops and targets fired, a trailed stop exited in
    // profit, the cooldown refused a re-entry (in both drivers).
    expect(new Set(live.map((f) => f.asset))).toEqual(new Set(ASSETS));
    const exits = result.fills.rows().filter((f) => f.reason !== 'signal');
    expect(exits.length).toBeGreaterThan(2);
    expect(result.rejectionsByRule.cooldown).toBeGreaterThan(0);
    const cooled = await handle.db.select().from(riskAssessments).where(eq(riskAssessments.portfolioId, 'parity'));
    expect(cooled.filter((a) => /stopped out; re-entry is blocked/.test(String((a.assessment as { rejectionReason: string }).rejectionReason)))).toHaveLength(result.rejectionsByRule.cooldown!);
    // The market limits refused the same signals in both.
    for (const rule of ['correlation', 'volatility'] as const) {
      expect(result.rejectionsByRule[rule]).toBeGreaterThan(0);
      expect(cooled.filter((a) => a.assessment.rejectedBy === rule)).toHaveLength(result.rejectionsByRule[rule]!);
    }

    // The same fills, in the same order, to the cent.
    expect(result.fills.rows().map((f) => [f.time, f.asset, f.side, f.reason === 'signal' ? 'signal' : 'exit'])).toEqual(
      live.map((f) => [f.timestamp, f.asset, f.side, f.orderId.startsWith('exit-') ? 'exit' : 'signal']));
    result.fills.rows().forEach((f, k) => {
      expect(Math.abs(f.price - live[k].price)).toBeLessThan(0.005);
      expect(f.quantity).toBeCloseTo(live[k].quantity, 9);
      expect(Math.abs(f.fee - live[k].fee)).toBeLessThan(0.005);
    });
    expect(Math.abs(book.cash - (10_000 + result.fills.rows().reduce((s, f) => s - (f.side === 'BUY' ? 1 : -1) * f.quantity * f.price - f.fee, 0)))).toBeLessThan(0.01);
  }, 600_000);
});
