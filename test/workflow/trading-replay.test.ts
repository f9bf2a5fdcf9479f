import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { fills, portfolioSnapshots } from '../../src/db/schema';
import { importCsv } from '../../src/services/csv-import';
import { performance } from '../../src/services/portfolio';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { protectPositionsWorkflow, riskAndExecuteWorkflow } from '../../src/workflows/trading';
import type { SagaOutcome } from '../../src/workflows/types';
import { tradingDeps, tradingWorker, withWorkers, workflowTestContext } from '../support/temporal';

const market = fileURLToPath(new URL('../../../shared/data/market/crypto_daily/yfinance/', import.meta.url));
const FILES: Record<string, string> = { bitcoin: 'BTC-USD_1d.csv', ethereum: 'ETH-USD_1d.csv', cardano: 'ADA-USD_1d.csv', solana: 'SOL-USD_1d.csv', polkadot: 'DOT-USD_1d.csv' };
const ASSETS = Object.keys(FILES);
const DAY = 86_400_000;
const START = Date.UTC(2024, 2, 1);

const ctx = workflowTestContext();
const { handle } = ctx;

/** Closes by day from the raw CSV, read here without the project's import code. */
function closes(asset: string): Map<number, number> {
  const rows = readFileSync(join(market, FILES[asset]), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  return new Map(rows.map((r) => [Date.parse(`${r[0]}T00:00:00Z`), Number(r[4])]));
}

describe('a replay of 22 consecutive signals across BTC, ETH, ADA, SOL and DOT on real daily prices', () => {
  it('trades, stops and reports numbers that agree with the trade list', async () => {
    for (const asset of ASSETS) await importCsv(handle.db, { asset, file: join(market, FILES[asset]), volumeIn: 'usd' });
    const close = Object.fromEntries(ASSETS.map((a) => [a, closes(a)]));

    let now = START;
    const deps = tradingDeps(handle, { portfolioId: 'replay', clock: () => now });
    const outcomes: SagaOutcome[] = [];
    await withWorkers([await tradingWorker(ctx.kit, deps)], async () => {
      for (let i = 0; i < 22; i++) {
        // One second after midnight: yesterday's daily bar has closed, today's has not.
        now = START + i * DAY + 1000;
        await ctx.kit.client.workflow.execute(protectPositionsWorkflow, { workflowId: `protect-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [{}] });
        const asset = ASSETS[i % 5];
        const yesterday = close[asset].get(START + (i - 1) * DAY)!;
        outcomes.push(await ctx.kit.client.workflow.execute(riskAndExecuteWorkflow, {
          workflowId: `signal-replay-${i}`, taskQueue: TASK_QUEUES.trading,
          args: [{ signalId: `replay-${i}`, asset, signalType: i % 3 === 2 ? 'SHORT' : 'LONG', price: yesterday, confidence: 0.8, timestamp: now }],
        }));
      }
      now = START + 22 * DAY + 1000;
      await ctx.kit.client.workflow.execute(protectPositionsWorkflow, { workflowId: `protect-${randomUUID()}`, taskQueue: TASK_QUEUES.trading, args: [{}] });
    });

    expect(outcomes).toHaveLength(22);
    expect(outcomes.every((o) => o.status === 'filled')).toBe(true);
    const all = await handle.db.select().from(fills).where(eq(fills.portfolioId, 'replay')).orderBy(asc(fills.timestamp), asc(fills.createdAt));
    // Every entry fills at the previous day's close ± 10 bps; exits at their stop or target ± 10 bps.
    for (const f of all.filter((x) => x.orderId.startsWith('signal-'))) {
      const day = Math.floor(f.timestamp / DAY) * DAY;
      expect(f.referencePrice).toBe(close[f.asset].get(day - DAY));
      expect(f.price).toBeCloseTo(f.referencePrice * (f.side === 'BUY' ? 1.001 : 0.999), 9);
    }
    const exits = all.filter((x) => x.orderId.startsWith('exit-'));
    expect(exits.length).toBeGreaterThan(0);

    // Independent books from the trade list: average cost, fees, marks at the last closes.
    const held: Record<string, { q: number; avg: number }> = {};
    let cash = 10_000; let realized = 0; let fees = 0; const tradePnls: number[] = [];
    for (const f of all) {
      const s = f.side === 'BUY' ? 1 : -1;
      const h = (held[f.asset] ??= { q: 0, avg: 0 });
      if (h.q === 0 || Math.sign(h.q) === s) {
        h.avg = (Math.abs(h.q) * h.avg + f.quantity * f.price) / (Math.abs(h.q) + f.quantity);
        h.q += s * f.quantity;
      } else {
        const closed = Math.min(f.quantity, Math.abs(h.q));
        const r = closed * (f.price - h.avg) * Math.sign(h.q);
        realized += r;
        tradePnls.push(r - f.fee);
        h.q += s * f.quantity;
        if (Math.abs(h.q) < 1e-12) { h.q = 0; h.avg = 0; } else if (Math.sign(h.q) === s) h.avg = f.price;
      }
      cash -= s * f.quantity * f.price + f.fee;
      fees += f.fee;
    }
    const marksAt = (t: number) => Object.fromEntries(ASSETS.map((a) => [a, close[a].get(Math.floor(t / DAY) * DAY - DAY)!]));

    const snaps = await handle.db.select().from(portfolioSnapshots).where(eq(portfolioSnapshots.portfolioId, 'replay')).orderBy(asc(portfolioSnapshots.timestamp), asc(portfolioSnapshots.id));
    const last = snaps.at(-1)!;
    // The last snapshot was taken at the last fill, marked at the closes known then.
    const atLast = cash + Object.entries(held).reduce((s, [a, h]) => s + h.q * marksAt(last.timestamp)[a], 0);
    expect(last.equity).toBeCloseTo(atLast, 6);
    expect(last.cash).toBeCloseTo(cash, 6);

    const report = await performance(handle.db, 'replay', 10_000);
    const m = report.metrics;
    expect(m.tradeCount).toBe(tradePnls.length);
    expect(m.winRate).toBeCloseTo(tradePnls.filter((p) => p > 0).length / tradePnls.length, 12);
    expect(m.expectancy).toBeCloseTo(tradePnls.reduce((a, b) => a + b, 0) / tradePnls.length, 9);
    expect(m.finalEquity).toBeCloseTo(last.equity, 9);
    expect(m.totalReturn).toBeCloseTo(last.equity / 10_000 - 1, 12);
    expect(JSON.stringify(report)).not.toMatch(/NaN|Infinity/);
    expect(realized - fees).toBeCloseTo(cash - 10_000 + Object.values(held).reduce((s, h) => s + h.q * h.avg, 0), 6);
  });
});
