import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createTradingActivities } from '../../src/activities/trading';
import { loadRiskConfig } from '../../src/config/risk';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { upsertCandles } from '../../src/db/market-data';
import { alertHistory, fills, orders, portfolios, portfolioSnapshots, positions, riskAssessments } from '../../src/db/schema';
import { processMetrics } from '../../src/metrics';
import { tradingSinks } from '../../src/workers/trading';
import { AlertInbox } from '../../src/services/alert-inbox';
import { assessments, portfolioRisk } from '../../src/services/portfolio';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { protectPositionsWorkflow, riskAndExecuteWorkflow, snapshotPortfolioWorkflow } from '../../src/workflows/trading';
import type { ExecutionSignal } from '../../src/workflows/types';
import { startTestApi } from '../support/api';
import { clearMarketData, testDatabase } from '../support/db';
import { connectTemporal, type TemporalKit, tradingDeps, tradingWorker, withWorkers, workflowBundle } from '../support/temporal';

// As the trading worker runs: its statements prepared and planned once.
const handle = testDatabase({ planOnce: true });
let kit: TemporalKit;
beforeAll(async () => { kit = await connectTemporal(); });
afterAll(async () => { await Promise.all([kit.close(), handle.close()]); });
beforeEach(async () => {
  await clearMarketData(handle);
  // The next available price: a bar closing at 50,000 with no range, so slippage is the fixed 10 bps.
  await upsertCandles(handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: Date.UTC(2026, 0, 1), open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 100 }]);
});

const signal = (over: Partial<ExecutionSignal> = {}): ExecutionSignal => ({
  signalId: randomUUID(), asset: 'bitcoin', signalType: 'LONG', price: 50_000, confidence: 0.9, timestamp: Date.UTC(2026, 0, 1), ...over,
});
const runSaga = (s: ExecutionSignal) => kit.client.workflow.execute(riskAndExecuteWorkflow, {
  workflowId: `signal-${s.signalId}`, taskQueue: TASK_QUEUES.trading, args: [s], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
});

/** A non-retryable refusal of an activity, of this type, with a message like this. */
const refusal = (type: string, message: RegExp) => expect.objectContaining({ type, nonRetryable: true, message: expect.stringMatching(message) });

describe('riskAndExecuteWorkflow', () => {
  it('assesses, reserves, fills with slippage and fees, books the fill and registers the stop and target', async () => {
    const outcome = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], () => runSaga(signal()));
    // $10,000 × 2% × 0.9 = $180 notional; fill 50,000 × 1.001 = 50,050; quantity 180 / 50,000 = 0.0036.
    expect(outcome.status).toBe('filled');
    if (outcome.status !== 'filled') return;
    expect(outcome.fill.price).toBeCloseTo(50_050, 9);
    expect(outcome.fill.quantity).toBeCloseTo(0.0036, 12);
    expect(outcome.fill.fee).toBeCloseTo(0.0036 * 50_050 * 0.001, 12);
    // Stop and target from the fill price, not the signal's: 50,050 × 0.98 and 50,050 + 2 × 1,001.
    expect(outcome.stopLoss).toBeCloseTo(49_049, 9);
    expect(outcome.takeProfit).toBeCloseTo(52_052, 9);

    const [p] = await handle.db.select().from(portfolios);
    const cost = 0.0036 * 50_050;
    expect(p.cash).toBeCloseTo(10_000 - cost - outcome.fill.fee, 9);
    expect(p.reservedCash).toBe(0);
    const [pos] = await handle.db.select().from(positions);
    expect(pos.asset).toBe('bitcoin');
    expect(pos.stopLoss).toBeCloseTo(49_049, 9);
    expect(pos.takeProfit).toBeCloseTo(52_052, 9);
    expect(pos.quantity).toBeCloseTo(0.0036, 12);
    const [snap] = await handle.db.select().from(portfolioSnapshots);
    // Equity = cash + position marked at the last close.
    expect(snap.equity).toBeCloseTo(p.cash + pos.quantity * 50_000, 9);
    expect(snap.equity).toBeCloseTo(10_000 - 0.0036 * 50 - outcome.fill.fee, 9);
    expect(await handle.db.select().from(riskAssessments)).toHaveLength(1);
    expect((await handle.db.select().from(orders))[0].status).toBe('filled');
    // Counted once by the trading worker's sink.
    expect((await processMetrics.getSingleMetric('saga_outcomes_total')!.get()).values.find((v) => v.labels.status === 'filled')?.value).toBeGreaterThanOrEqual(1);
  });

  it('sizes by the blend with the signal\'s track record, and shows the book against every limit and the assessment behind it', async () => {
    // 30 scored signals, 18 won 5% each, 12 lost 3% each: Kelly 0.6 − 0.4 × 3/5 = 0.36, half 0.18 → $1,800.
    // No volatility known: fixed percent ($200) and Kelly, weights 0.3 and 0.3 → ½ each: (100 + 900) × 0.9 = $900.
    const trackRecord = { total: 30, hits: 18, gain: 0.9, loss: 0.36 };
    const outcome = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], () => runSaga(signal({ trackRecord })));
    if (outcome.status !== 'filled') throw new Error(`expected a fill, got ${outcome.status}`);
    expect(outcome.fill.quantity).toBeCloseTo(900 / 50_000, 12);
    const [stored] = await assessments(handle.db, 'test', { limit: 10 });
    expect(stored).toMatchObject({ asset: 'bitcoin', approved: true, assessment: { positionSizeMethod: 'blended', recommendedPositionSize: expect.closeTo(900, 9) } });
    expect(stored.assessment.positionSizing.components.kelly).toBeCloseTo(1800, 9);
    expect(await assessments(handle.db, 'test', { limit: 10, approved: false })).toEqual([]);

    // An hour later, marked at 50,000: the stop (50,050 × 0.98 = 49,049) would lose 0.018 × 951.
    const now = Date.UTC(2026, 0, 1, 1);
    const report = await portfolioRisk(handle.db, 'test', { risk: loadRiskConfig(), initialCapital: 10_000, barMinutes: 15, now });
    const [p] = await handle.db.select().from(portfolios);
    const equity = p.cash + 0.018 * 50_000;
    expect(report.equity).toBeCloseTo(equity, 9);
    expect(report.positions).toEqual([expect.objectContaining({ asset: 'bitcoin', side: 'LONG', sector: 'store_of_value' })]);
    expect(report.positions[0].openRisk).toBeCloseTo(0.018 * 951, 9);
    expect(report.limits.portfolioRisk.value).toBeCloseTo((0.018 * 951) / equity, 12);
    expect(report.positions[0].singleAssetExposure.value).toBeCloseTo(900 / equity, 12);
    // The one bar in the last 24 hours: 100 coins at 50,000. One day of closes: no volatility yet.
    expect(report.positions[0].liquidity.value).toBe(5_000_000);
    expect(report.positions[0].volatility.value).toBeNull();
    expect(report.sectors).toEqual([expect.objectContaining({ sector: 'store_of_value', assets: ['bitcoin'] })]);
  });

  it('executes a signal at most once, however often it arrives', async () => {
    const s = signal();
    await withWorkers([await tradingWorker(kit, tradingDeps(handle))], async () => {
      await runSaga(s);
      await expect(runSaga(s)).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
    });
    expect(await handle.db.select().from(fills)).toHaveLength(1);
  });

  it('creates the portfolio at its first assessment; a repeated assessment is the first, even when it would now decide otherwise', async () => {
    // A clock that moves `tick` ms at each reading: 0 for the first attempt, which approves; then 6 s,
    // past the 5,000 ms processing timeout, so that a second attempt would refuse.
    let t = Date.UTC(2026, 0, 1, 0, 15);
    let tick = 0;
    const clock = () => (t += tick);
    const activities = createTradingActivities(tradingDeps(handle, { risk: loadRiskConfig(), clock }));
    const s = signal();
    expect(await handle.db.select().from(portfolios)).toHaveLength(0);
    const first = await activities.assessSignalRisk(s);
    expect(first).toMatchObject({ isApproved: true });
    expect(await handle.db.select().from(portfolios)).toEqual([expect.objectContaining({ id: 'test', cash: 10_000, initialCapital: 10_000 })]);
    tick = 6_000;
    expect(await activities.assessSignalRisk({ ...s })).toEqual(first);
    expect(await handle.db.select().from(riskAssessments)).toHaveLength(1);
    // The same signal under another id is refused now: the stored decision stood above.
    const fresh = await activities.assessSignalRisk({ ...s, signalId: randomUUID() });
    expect(fresh).toMatchObject({ isApproved: false, rejectionReason: expect.stringContaining('processing timeout') });
  });

  it('fills and books an order once and protects from its fill; an order or fill that is not the portfolio\'s is refused by name', async () => {
    const activities = createTradingActivities(tradingDeps(handle, { clock: () => Date.UTC(2026, 0, 1, 0, 15) }));
    const s = signal();
    expect(await activities.assessSignalRisk(s)).toMatchObject({ isApproved: true });
    const orderId = await activities.reserveOrder({ orderId: `signal-${s.signalId}`, signal: s, notional: 180 });
    const fill = await activities.executeOrder({ orderId });
    // A retried step returns the stored fill, whatever the price now.
    await upsertCandles(handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: Date.UTC(2026, 0, 1, 0, 15), open: 1, high: 1, low: 1, close: 1, volume: 1 }]);
    expect(await activities.executeOrder({ orderId })).toEqual(fill);
    expect(await handle.db.select().from(fills)).toHaveLength(1);
    const booked = await activities.applyFillToPortfolio({ fillId: fill.fillId });
    const [afterBooking] = await handle.db.select().from(portfolios);
    // Booked once: a retried booking returns the same and leaves the cash as it was.
    expect(await activities.applyFillToPortfolio({ fillId: fill.fillId })).toEqual(booked);
    expect((await handle.db.select().from(portfolios))[0].cash).toBe(afterBooking.cash);
    expect(afterBooking.cash).toBeCloseTo(10_000 - fill.quantity * fill.price - fill.fee, 9);
    expect(await activities.registerProtection({ fillId: fill.fillId })).toMatchObject({ stopLoss: expect.closeTo(fill.price * 0.98, 9) });

    await expect(activities.executeOrder({ orderId: 'no-such-order' })).rejects.toEqual(refusal('OrderNotFillable', /^order no-such-order is missing, not reserved$/));
    await expect(activities.registerProtection({ fillId: 'no-such-fill' })).rejects.toEqual(refusal('FillNotFound', /^fill no-such-fill does not exist$/));
    await expect(activities.applyFillToPortfolio({ fillId: 'no-such-fill' })).rejects.toEqual(refusal('FillNotFound', /^fill no-such-fill does not exist$/));
    // The same ids seen from another portfolio.
    const other = createTradingActivities(tradingDeps(handle, { portfolioId: 'other' }));
    await expect(other.executeOrder({ orderId })).rejects.toEqual(refusal('OrderNotFillable', /is missing/));
    await expect(other.registerProtection({ fillId: fill.fillId })).rejects.toEqual(refusal('FillNotFound', /does not exist/));
  });

  it('reserves an order once, and counts reserved orders as exposure when checking the limits under the lock', async () => {
    const activities = createTradingActivities(tradingDeps(handle, { clock: () => Date.UTC(2026, 0, 1, 0, 15) }));
    const [first, second] = [signal(), signal()];
    expect(await activities.assessSignalRisk(first)).toMatchObject({ isApproved: true });
    // $900 each: under the 10 % position cap of $10,000, but together over the 15 % single-asset limit.
    expect(await activities.reserveOrder({ orderId: 'a', signal: first, notional: 900 })).toBe('a');
    expect(await activities.reserveOrder({ orderId: 'a', signal: first, notional: 900 })).toBe('a');
    expect((await handle.db.select().from(portfolios))[0].reservedCash).toBe(900);
    await expect(activities.reserveOrder({ orderId: 'b', signal: second, notional: 900 }))
      .rejects.toEqual(refusal('RiskLimit', /^Exposure to bitcoin would reach .+ of equity, above the .+ limit/));
    // Once the first is cancelled, the second fits.
    await activities.cancelOrder({ orderId: 'a', reason: 'test' });
    expect(await activities.reserveOrder({ orderId: 'b', signal: second, notional: 900 })).toBe('b');
    expect((await handle.db.select().from(portfolios))[0].reservedCash).toBe(900);
  });

  it('stops at a rejection with the reason, reserving nothing', async () => {
    const outcome = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], () => runSaga(signal({ confidence: 0.04 })));
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'Signal confidence 0.040 is below the 0.500 threshold' });
    expect(await handle.db.select().from(orders)).toHaveLength(0);
    const [a] = await handle.db.select().from(riskAssessments);
    expect(a).toMatchObject({ approved: false, riskLevel: 'LOW' });
  });

  it('refuses an approval that took longer than the processing timeout to reach', async () => {
    // A clock 6 s further on at each reading: the assessment takes 6 s, over the seed's 5,000 ms.
    let t = Date.UTC(2026, 0, 1, 0, 15);
    const deps = tradingDeps(handle, { risk: loadRiskConfig(), clock: () => (t += 6_000) });
    const outcome = await withWorkers([await tradingWorker(kit, deps)], () => runSaga(signal()));
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'The assessment took 6000 ms, over the 5000 ms processing timeout: its prices are stale' });
    const [a] = await handle.db.select().from(riskAssessments);
    expect(a).toMatchObject({ approved: false, assessment: { rejectedBy: 'processingTimeout' } });
    expect(await handle.db.select().from(orders)).toHaveLength(0);
  });

  it('compensates a failure after the reservation: the order is cancelled and the cash released', async () => {
    const outcome = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], () => runSaga(signal({ asset: 'nopricecoin', price: 10 })));
    expect(outcome).toMatchObject({ status: 'compensated', reason: 'no price for nopricecoin: collect or import its candles first' });
    const [order] = await handle.db.select().from(orders);
    expect(order).toMatchObject({ status: 'cancelled', reason: 'no price for nopricecoin: collect or import its candles first' });
    const [p] = await handle.db.select().from(portfolios);
    expect(p).toMatchObject({ reservedCash: 0, cash: 10_000 });
    expect(await handle.db.select().from(fills)).toHaveLength(0);
  });

  it('never compensates a booked fill: a protection failure ends as filled_unprotected, with an alert', async () => {
    const activities = {
      ...createTradingActivities(tradingDeps(handle)),
      registerProtection: async () => { throw ApplicationFailure.nonRetryable('stop service unavailable', 'Test'); },
    };
    const worker = await Worker.create({
      connection: kit.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUES.trading, activities, workflowBundle: await workflowBundle(), sinks: tradingSinks,
    });
    const s = signal();
    const outcome = await withWorkers([worker], () => runSaga(s));
    expect(outcome).toMatchObject({ status: 'filled_unprotected', reason: 'stop service unavailable' });
    // The trade stands: the order is filled, the position open, with no stop.
    expect((await handle.db.select().from(orders))[0].status).toBe('filled');
    const [pos] = await handle.db.select().from(positions);
    expect(pos.quantity).toBeCloseTo(0.0036, 12);
    expect(pos.stopLoss).toBeNull();
    const alerts = await handle.db.select().from(alertHistory).where(eq(alertHistory.alertType, 'unprotected_position'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].alertData).toMatchObject({ asset: 'bitcoin', signal_id: s.signalId, reason: 'stop service unavailable' });
  });

  it('keeps the books straight across concurrent sagas: equity = cash + marked positions', async () => {
    const signals = Array.from({ length: 10 }, (_, i) => signal({ signalType: i % 3 === 0 ? 'SHORT' : 'LONG', confidence: 0.5 + i / 40 }));
    const outcomes = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], () => Promise.all(signals.map(runSaga)));
    expect(outcomes.filter((o) => o.status === 'filled')).toHaveLength(10);
    const [p] = await handle.db.select().from(portfolios).where(eq(portfolios.id, 'test'));
    const [pos] = await handle.db.select().from(positions);
    const allFills = await handle.db.select().from(fills);
    expect(allFills.every((f) => f.applied)).toBe(true);
    const netQuantity = allFills.reduce((s, f) => s + (f.side === 'BUY' ? f.quantity : -f.quantity), 0);
    expect(pos.quantity).toBeCloseTo(netQuantity, 12);
    const cashFlow = allFills.reduce((s, f) => s - (f.side === 'BUY' ? 1 : -1) * f.quantity * f.price - f.fee, 0);
    expect(p.cash).toBeCloseTo(10_000 + cashFlow, 9);
    expect(p.feesPaid).toBeCloseTo(allFills.reduce((s, f) => s + f.fee, 0), 12);
    expect(p.reservedCash).toBeCloseTo(0, 9);
    const snaps = await handle.db.select().from(portfolioSnapshots).orderBy(portfolioSnapshots.id);
    expect(snaps).toHaveLength(10);
    expect(snaps.at(-1)!.equity).toBeCloseTo(p.cash + pos.quantity * 50_000, 9);
  });
});

describe('protectPositionsWorkflow', () => {
  it('stops out a long on a later bar whose low breaks the stop, then blocks re-entry during the cooldown', async () => {
    const deps = tradingDeps(handle, { risk: { ...loadRiskConfig(), stopCooldownMinutes: 240 } });
    await withWorkers([await tradingWorker(kit, deps)], async () => {
      const entry = await runSaga(signal());
      expect(entry.status).toBe('filled');
      const [opened] = await handle.db.select().from(positions);
      expect(opened.stopLoss).toBeCloseTo(49_049, 9);
      // Next bar dips to 48,500 (below the 49,049 stop: 2% under the 50,050 fill) and closes back at 50,200.
      const t = Date.UTC(2026, 0, 1, 0, 15);
      await upsertCandles(handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: t, open: 50_000, high: 50_300, low: 48_500, close: 50_200, volume: 100 }]);
      const exits = await kit.client.workflow.execute(protectPositionsWorkflow, { workflowId: `protect-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [{ assets: ['bitcoin'] }] });
      expect(exits).toHaveLength(1);
      // Exit at the stop, less slippage: 10 bps fixed + 0 × range → 49,049 × 0.999.
      expect(exits[0]).toMatchObject({ asset: 'bitcoin', kind: 'stop_loss', at: t + 15 * 60_000 });
      expect(exits[0].price).toBeCloseTo(49_049 * 0.999, 9);
      expect(exits[0].realized).toBeCloseTo(0.0036 * (49_049 * 0.999 - 50_050), 9);
      const [pos] = await handle.db.select().from(positions);
      expect(pos.quantity).toBe(0);
      expect(pos.cooldownUntil).toBe(t + 15 * 60_000 + 240 * 60_000);
      // Flat: no stop left, the bars checked up to the exit, and the position starts over from it.
      expect(pos).toMatchObject({ stopLoss: null, takeProfit: null, protectionCheckedUntil: t + 15 * 60_000, openedAt: new Date(t + 15 * 60_000) });
      expect(pos.openedAt!.getTime()).not.toBe(opened.openedAt!.getTime());

      // Checking again finds nothing new.
      expect(await kit.client.workflow.execute(protectPositionsWorkflow, { workflowId: `protect-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [{}] })).toEqual([]);
    });
    // The clock of a fresh worker sits inside the cooldown: a new signal for bitcoin is rejected.
    const during = tradingDeps(handle, { clock: () => Date.UTC(2026, 0, 1, 1, 0) });
    const outcome = await withWorkers([await tradingWorker(kit, during)], () => runSaga(signal()));
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/^bitcoin was stopped out; re-entry is blocked until 2026-01-01T04:30:00.000Z/) });
    const [p] = await handle.db.select().from(portfolios);
    const allFills = await handle.db.select().from(fills);
    expect(allFills).toHaveLength(2);
    expect(p.cash).toBeCloseTo(10_000 + allFills.reduce((s, f) => s - (f.side === 'BUY' ? 1 : -1) * f.quantity * f.price - f.fee, 0), 9);
    expect(p.realizedPnl).toBeCloseTo(allFills.reduce((s, f) => s + (f.realizedPnl ?? 0), 0), 9);
  });

  it('moves a trailing stop on a bar and on a streamed price, recording when and how far bars were checked', async () => {
    const entry = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], () => runSaga(signal()));
    expect(entry).toMatchObject({ status: 'filled', stopLoss: expect.closeTo(49_049, 9), takeProfit: expect.closeTo(52_052, 9) });
    // A 5 % trail: the next bar's high of 51,800 lifts the stop to 49,210; nothing trades through either level.
    const t = Date.UTC(2026, 0, 1, 0, 15);
    await upsertCandles(handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: t, open: 50_400, high: 51_800, low: 50_400, close: 51_500, volume: 100 }]);
    const checkedAt = Date.UTC(2026, 0, 1, 1, 0);
    const trailing = tradingDeps(handle, { risk: { ...loadRiskConfig(), trailingStopPct: 0.05 }, clock: () => checkedAt });
    const activities = createTradingActivities(trailing);
    expect(await activities.checkProtectiveOrders({})).toEqual([]);
    const [afterBar] = await handle.db.select().from(positions);
    expect(afterBar.stopLoss).toBeCloseTo(51_800 * 0.95, 9);
    expect(afterBar).toMatchObject({ takeProfit: expect.closeTo(52_052, 9), protectionCheckedUntil: t + 15 * 60_000, updatedAt: new Date(checkedAt) });
    // A streamed 52,000 lifts it to 49,400, as of the price's time.
    const quoted = checkedAt + 5_000;
    expect(await activities.checkProtectionAtPrices({ prices: [{ asset: 'bitcoin', price: 52_000, time: quoted }] })).toEqual([]);
    const [afterPrice] = await handle.db.select().from(positions);
    expect(afterPrice.stopLoss).toBeCloseTo(52_000 * 0.95, 9);
    expect(afterPrice).toMatchObject({ protectionCheckedUntil: t + 15 * 60_000, updatedAt: new Date(quoted) });
  });

  it('takes profit on a short when a bar trades through the target', async () => {
    await withWorkers([await tradingWorker(kit, tradingDeps(handle))], async () => {
      const entry = await runSaga(signal({ signalType: 'SHORT' }));
      expect(entry.status).toBe('filled');
      const t = Date.UTC(2026, 0, 1, 0, 15);
      await upsertCandles(handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: t, open: 49_000, high: 49_100, low: 47_500, close: 47_800, volume: 100 }]);
      const exits = await kit.client.workflow.execute(protectPositionsWorkflow, { workflowId: `protect-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [{}] });
      // Sold at 50,000 × 0.999 = 49,950; target 49,950 − 2 × 2% × 49,950 = 47,952; bought back at 47,952 × 1.001.
      expect(exits).toEqual([expect.objectContaining({ kind: 'take_profit' })]);
      expect(exits[0].price).toBeCloseTo(49_950 * 0.96 * 1.001, 9);
    });
  });
});

describe('external signals and the portfolio API', () => {
  it('runs a posted signal once, and reports the portfolio, positions, trades, performance and an HTML report', async () => {
    const api = await startTestApi(kit.client, handle, 'trader:trader-key-0001,read:read-key-0001');
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${api.base}${path}`, {
        method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    try {
      await withWorkers([await tradingWorker(kit, tradingDeps(handle))], async () => {
        const alert = { timestamp: Date.UTC(2026, 0, 1), asset: 'bitcoin', signal_type: 'LONG', confidence: 0.85, strategies: ['external'], price: 50_000, position_size: 0.02, risk_metrics: { stop_loss: 49_000, take_profit: 52_000 } };
        expect((await call('POST', '/api/v1/signals', 'read-key-0001', alert)).status).toBe(403);
        const noTime = await call('POST', '/api/v1/signals', 'trader-key-0001', { ...alert, timestamp: undefined });
        expect(JSON.parse(noTime.text).error.message).toMatch(/^body\.timestamp: give timestamp/);
        const vol = await call('POST', '/api/v1/signals', 'trader-key-0001', { alert_type: 'volatility_spike', asset: 'bitcoin' });
        expect(vol.status).toBe(422);

        const first = await call('POST', '/api/v1/signals', 'trader-key-0001', alert);
        expect(first.status).toBe(202);
        const { workflowId } = JSON.parse(first.text);
        await kit.client.workflow.getHandle(workflowId).result();
        const second = JSON.parse((await call('POST', '/api/v1/signals', 'trader-key-0001', alert)).text);
        expect(second).toEqual({ workflowId, duplicate: true });
        // The same signal id with other content is a conflict naming the fields, not a silent duplicate.
        const idem = { signal_id: 'price-mismatch-1', asset: 'ethereum', signal_type: 'LONG', price: 50_000, confidence: 0.9 };
        expect((await call('POST', '/api/v1/signals', 'trader-key-0001', idem)).status).toBe(202);
        const conflict = await call('POST', '/api/v1/signals', 'trader-key-0001', { ...idem, price: 51_000, signal_type: 'SHORT' });
        expect(conflict.status).toBe(409);
        expect(JSON.parse(conflict.text).error.details.map((d: { field: string }) => d.field)).toEqual(['signalType', 'price']);
        await kit.client.workflow.getHandle('signal-price-mismatch-1').result();
      });
      expect(await handle.db.select().from(fills)).toHaveLength(1);

      const summary = JSON.parse((await call('GET', '/api/v1/portfolio', 'read-key-0001')).text);
      expect(summary.equity).toBeCloseTo(summary.cash + summary.positionsValue, 9);
      expect(summary.openPositions).toBe(1);
      const { positions: open } = JSON.parse((await call('GET', '/api/v1/portfolio/positions', 'read-key-0001')).text);
      expect(open[0]).toMatchObject({ asset: 'bitcoin', side: 'LONG', mark: 50_000 });
      expect(open[0].stopLoss).toBeCloseTo(50_050 * 0.98, 9);
      expect(open[0].takeProfit).toBeCloseTo(50_050 * 1.04, 9);
      const { trades } = JSON.parse((await call('GET', '/api/v1/portfolio/trades', 'read-key-0001')).text);
      expect(trades).toHaveLength(1);
      expect(trades[0].symbol).toBe('BTCUSDT');
      const perf = await call('GET', '/api/v1/portfolio/performance', 'read-key-0001');
      expect(perf.text).not.toMatch(/NaN|Infinity/);
      expect(JSON.parse(perf.text).metrics).toMatchObject({ tradeCount: 0, winRate: null });
      const report = await call('GET', '/api/v1/portfolio/report.html', 'read-key-0001');
      expect(report.status).toBe(200);
      expect(report.text).toMatch(/^<!doctype html>/);
      expect(report.text).toContain('<svg');
      expect(report.text).toContain('<td>bitcoin</td>');
      expect(report.text).not.toMatch(/<script|https?:\/\//);
    } finally {
      await api.close();
    }
  });
});

describe('snapshotPortfolioWorkflow', () => {
  it('marks open positions at the latest close on its Schedule', async () => {
    await withWorkers([await tradingWorker(kit, tradingDeps(handle))], async () => {
      const entry = await runSaga(signal());
      expect(entry.status).toBe('filled');
      await upsertCandles(handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: Date.UTC(2026, 0, 1, 0, 15), open: 50_000, high: 55_000, low: 50_000, close: 55_000, volume: 100 }]);
      await kit.client.workflow.execute(snapshotPortfolioWorkflow, { workflowId: `snap-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [] });
    });
    const snaps = await handle.db.select().from(portfolioSnapshots).orderBy(portfolioSnapshots.id);
    expect(snaps.map((x) => x.reason)).toEqual([expect.stringMatching(/^fill /), 'scheduled']);
    const [p] = await handle.db.select().from(portfolios);
    const [pos] = await handle.db.select().from(positions);
    expect(snaps[1].equity).toBeCloseTo(p.cash + pos.quantity * 55_000, 9);
    expect(snaps[1].equity - snaps[0].equity).toBeCloseTo(pos.quantity * 5_000, 9);
  });
});

describe('a portfolio on its first use', () => {
  it('is created with its starting cash by a scheduled snapshot or a protective check as well as by a signal', async () => {
    const activities = createTradingActivities(tradingDeps(handle));
    expect(await activities.checkProtectiveOrders({})).toEqual([]);
    expect(await handle.db.select().from(portfolios)).toEqual([expect.objectContaining({ id: 'test', cash: 10_000 })]);
    await handle.db.delete(portfolios);
    await activities.snapshotPortfolio();
    expect(await handle.db.select().from(portfolios)).toEqual([expect.objectContaining({ id: 'test', cash: 10_000 })]);
    expect(await handle.db.select().from(portfolioSnapshots)).toEqual([expect.objectContaining({ reason: 'scheduled', equity: 10_000 })]);
  });
});

describe('the watched alerts directory', () => {
  it('trades a new alert file once, parks invalid and half-written files in rejected/ with a reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mts-inbox-'));
    const alert = { timestamp: Date.UTC(2026, 0, 1, 5), asset: 'bitcoin', signal_type: 'LONG', confidence: 0.8, strategies: ['x'], price: 50_000, position_size: 0.02, risk_metrics: { stop_loss: 49_000, take_profit: 52_000 } };
    writeFileSync(join(dir, 'signal_bitcoin_20260101_050000.json'), JSON.stringify(alert));
    writeFileSync(join(dir, 'half.json'), '{"timestamp": 1767243600000, "asset": "bitc');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...alert, confidence: 3 }));
    writeFileSync(join(dir, 'vol.json'), JSON.stringify({ alert_type: 'volatility_spike', asset: 'bitcoin' }));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    let clock = Date.now() + 10_000;
    const inbox = new AlertInbox(kit.client, dir, 2000, () => clock);

    await withWorkers([await tradingWorker(kit, tradingDeps(handle))], async () => {
      const results = await inbox.scanOnce();
      expect(results.map((r) => [r.file, r.outcome])).toEqual([
        ['bad.json', 'rejected'], ['half.json', 'rejected'], ['signal_bitcoin_20260101_050000.json', 'started'], ['vol.json', 'rejected'],
      ]);
      await kit.client.workflow.getHandle(results[2].workflowId!).result();
      expect(await inbox.scanOnce()).toEqual([]);

      // The same alert dropped again (say, after a crash before the move): recognised, not traded again.
      writeFileSync(join(dir, 'again.json'), JSON.stringify(alert));
      clock += 10_000;
      expect((await inbox.scanOnce()).map((r) => r.outcome)).toEqual(['duplicate']);

      // A file still being written (changed within the settle time) waits.
      writeFileSync(join(dir, 'fresh.json'), JSON.stringify({ ...alert, timestamp: alert.timestamp + 1 }));
      const tooSoon = new AlertInbox(kit.client, dir, 60_000);
      expect(await tooSoon.scanOnce()).toEqual([]);
    });
    expect(readdirSync(join(dir, 'processed')).sort()).toEqual(['again.json', 'signal_bitcoin_20260101_050000.json']);
    expect(readdirSync(join(dir, 'rejected')).sort()).toEqual(['bad.json', 'bad.json.reason.txt', 'half.json', 'half.json.reason.txt', 'vol.json', 'vol.json.reason.txt']);
    expect(readFileSync(join(dir, 'rejected', 'bad.json.reason.txt'), 'utf8')).toMatch(/^confidence: /);
    expect(readFileSync(join(dir, 'rejected', 'half.json.reason.txt'), 'utf8')).toMatch(/^not valid JSON/);
    expect(existsSync(join(dir, 'fresh.json'))).toBe(true);
    expect(await handle.db.select().from(fills)).toHaveLength(1);
  });

  it('refuses links and conflicting signals without blocking the files after them, and quotes nothing outside the inbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mts-inbox-'));
    const outside = join(mkdtempSync(join(tmpdir(), 'mts-secret-')), 'secret.json');
    writeFileSync(outside, '{"secret": "do-not-quote-me"}');
    symlinkSync(outside, join(dir, 'a-link.json'));
    const base = { signal_id: 'inbox-conflict-1', asset: 'bitcoin', signal_type: 'LONG', confidence: 0.8, price: 50_000 };
    writeFileSync(join(dir, 'b-first.json'), JSON.stringify(base));
    // The same id with another asset and side: refused, naming what differs.
    writeFileSync(join(dir, 'c-conflict.json'), JSON.stringify({ ...base, asset: 'ethereum', signal_type: 'SHORT' }));
    writeFileSync(join(dir, 'd-after.json'), JSON.stringify({ ...base, signal_id: 'inbox-after-1' }));
    const inbox = new AlertInbox(kit.client, dir, 0, () => Date.now() + 10_000);
    const results = await withWorkers([await tradingWorker(kit, tradingDeps(handle))], async () => {
      const first = await inbox.scanOnce();
      await Promise.all(first.filter((r) => r.workflowId).map((r) => kit.client.workflow.getHandle(r.workflowId!).result()));
      return first;
    });
    expect(results.map((r) => [r.file, r.outcome])).toEqual([
      ['a-link.json', 'rejected'], ['b-first.json', 'started'], ['c-conflict.json', 'rejected'], ['d-after.json', 'started'],
    ]);
    const reasons = readdirSync(join(dir, 'rejected')).filter((f) => f.endsWith('.reason.txt')).map((f) => readFileSync(join(dir, 'rejected', f), 'utf8')).join('\n');
    expect(reasons).toMatch(/symbolic link/);
    expect(reasons).toMatch(/signal inbox-conflict-1 exists with other content: asset is "bitcoin", not "ethereum"; signalType is "LONG", not "SHORT"/);
    expect(reasons).not.toContain('do-not-quote-me');
    // The link itself was moved; what it pointed at is untouched.
    expect(readFileSync(outside, 'utf8')).toContain('do-not-quote-me');
  });
});
