import type { ChildProcess } from 'node:child_process';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { upsertCandles } from '../../src/db/market-data';
import { fills, orders, portfolios, positions } from '../../src/db/schema';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { riskAndExecuteWorkflow } from '../../src/workflows/trading';
import type { ExecutionSignal, SagaOutcome } from '../../src/workflows/types';
import { spawnWorkerProcess } from '../support/processes';
import { tradingDeps, tradingWorker, withWorkers, workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();
const { handle } = ctx;

// Coins in no sector of config/risk.json (each a sector of its own), so the single-asset limit is the one that binds.
const ASSETS = ['coin-a', 'coin-b', 'coin-c', 'coin-d', 'coin-e'];
const PRICES: Record<string, number> = { 'coin-a': 50_000, 'coin-b': 3_000, 'coin-c': 0.5, 'coin-d': 150, 'coin-e': 7 };
const signals: ExecutionSignal[] = Array.from({ length: 100 }, (_, i) => {
  const asset = ASSETS[i % 5];
  return { signalId: `s${i}`, asset, signalType: 'LONG', price: PRICES[asset], confidence: 0.9, timestamp: Date.UTC(2026, 0, 1) + i };
});

function startAll(prefix: string) {
  return Promise.all(signals.map((s) => ctx.kit.client.workflow.start(riskAndExecuteWorkflow, {
    workflowId: `signal-${prefix}-${s.signalId}`, taskQueue: TASK_QUEUES.trading, args: [{ ...s, signalId: `${prefix}-${s.signalId}` }],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  })));
}

async function books(portfolioId: string) {
  const [p] = await handle.db.select().from(portfolios).where(eq(portfolios.id, portfolioId));
  const held = await handle.db.select().from(positions).where(eq(positions.portfolioId, portfolioId));
  const all = await handle.db.select().from(fills).where(eq(fills.portfolioId, portfolioId));
  const equity = p.cash + held.reduce((s, x) => s + x.quantity * PRICES[x.asset], 0);
  return { p, held, fills: all, equity };
}

describe('100 sagas in flight through a SIGKILLed worker', () => {
  it('ends with exactly 100 outcomes, no order filled twice, and the books of a clean run', async () => {
    for (const asset of ASSETS) {
      await upsertCandles(handle.db, asset, 60, 'csv', [{ timestamp: Date.UTC(2026, 0, 1), open: PRICES[asset], high: PRICES[asset], low: PRICES[asset], close: PRICES[asset], volume: 1 }]);
    }

    let child: ChildProcess | undefined = await spawnWorkerProcess('trading-worker.ts', { PORTFOLIO_ID: 'crash' });
    let outcomes: SagaOutcome[];
    try {
      const handles = await startAll('crash');
      // Kill the worker once some fills are booked and others are still on their way.
      for (;;) {
        const [{ n }] = (await handle.db.execute<{ n: number }>(sql`select count(*)::int as n from fills where portfolio_id = 'crash' and applied`)).rows;
        if (n >= 10) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      child = await spawnWorkerProcess('trading-worker.ts', { PORTFOLIO_ID: 'crash' });
      outcomes = await Promise.all(handles.map((h) => h.result()));
    } finally {
      child?.kill('SIGKILL');
    }

    expect(outcomes).toHaveLength(100);
    const crash = await books('crash');
    const filled = outcomes.filter((o) => o.status === 'filled');
    // The single-asset limit (15% of $10,000) leaves room for 8 trades of ~$180 per asset.
    expect(filled).toHaveLength(40);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(60);
    expect(crash.fills).toHaveLength(40);
    expect(new Set(crash.fills.map((f) => f.orderId)).size).toBe(40);
    expect(crash.fills.every((f) => f.applied)).toBe(true);
    expect(crash.p.reservedCash).toBeCloseTo(0, 9);
    const stuck = await handle.db.select().from(orders).where(and(eq(orders.portfolioId, 'crash'), eq(orders.status, 'reserved')));
    expect(stuck).toEqual([]);
    for (const asset of ASSETS) {
      expect(crash.fills.filter((f) => f.asset === asset)).toHaveLength(8);
    }

    // The same signals on a fresh portfolio with a worker that never dies.
    const clean = await withWorkers([await tradingWorker(ctx.kit, tradingDeps(handle, { portfolioId: 'clean' }))], async () =>
      Promise.all((await startAll('clean')).map((h) => h.result())));
    const cleanBooks = await books('clean');
    expect(clean.filter((o) => o.status === 'filled')).toHaveLength(40);
    for (const asset of ASSETS) {
      const q = (b: typeof crash) => b.held.find((h) => h.asset === asset)!.quantity;
      // Sizes follow equity at assessment time, which falls by each booked trade's fee and slippage
      // (about $0.36; 40 trades ≈ $14, 0.14% of equity), so the order in which concurrent sagas were
      // assessed can shift an asset's quantity by at most that much.
      expect(Math.abs(q(crash) / q(cleanBooks) - 1)).toBeLessThan(0.002);
    }
    expect(Math.abs(crash.equity - cleanBooks.equity)).toBeLessThan(1);
    expect(crash.p.feesPaid).toBeCloseTo(cleanBooks.p.feesPaid, 1);
  }, 180_000);
});
