import { ApplicationFailure } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';
import { type FillModel, marketFill, protectiveTrigger, trailStop } from '../domain/fills';
import { applyFill, type Book, equity as bookEquity, marketValue } from '../domain/portfolio';
import { assessRisk, type PortfolioState, type RiskAssessment, type RiskConfig, validateTrade } from '../domain/risk';
import type { Database } from '../db/client';
import { fills, orders, portfolios, portfolioSnapshots, positions, riskAssessments } from '../db/schema';
import { bestCoveredInterval, closedCandles } from '../db/market-data';
import { ensurePortfolio, latestBar, latestCloses, loadPortfolio, storedAssessment, type Tx } from '../db/trading';
import type { ExecutionSignal, ExecutedFill, ProtectiveExit } from '../workflows/types';

export interface TradingDeps {
  db: Database;
  risk: RiskConfig;
  fillModel: FillModel;
  portfolioId: string;
  initialCapital: number;
  /** Trail stops this fraction behind the best price since entry; null or absent for fixed stops. */
  trailingStopPct?: number | null;
  /** Block re-entry in an asset for this long after a stop-out. */
  stopCooldownMinutes?: number;
  clock?: () => number;
}

const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Rebuilds the domain book from stored rows: the accounting code is the same everywhere. */
function bookFrom(portfolio: typeof portfolios.$inferSelect, open: Array<typeof positions.$inferSelect>): Book {
  return {
    cash: portfolio.cash,
    positions: Object.fromEntries(open.map((p) => [p.asset, { asset: p.asset, quantity: p.quantity, averagePrice: p.averagePrice, realizedPnl: p.realizedPnl }])),
    realizedPnl: portfolio.realizedPnl,
    feesPaid: portfolio.feesPaid,
    fillIds: [],
  };
}

export function createTradingActivities(deps: TradingDeps) {
  const { db, portfolioId } = deps;
  const now = deps.clock ?? Date.now;

  /** Equity, drawdown from the peak and today's P&L (since 00:00 UTC) from the stored book at the latest prices. */
  async function portfolioState(tx: Database | Tx, t: number): Promise<{ state: PortfolioState; equity: number; marks: Record<string, number> }> {
    const { portfolio, positions: open } = await loadPortfolio(tx, portfolioId);
    const marks = await latestCloses(tx, open.filter((p) => p.quantity !== 0).map((p) => p.asset), t);
    const book = bookFrom(portfolio, open);
    const equity = bookEquity(book, marks);
    const peak = Math.max(portfolio.peakEquity, equity);
    const dayStart = portfolio.pnlDay === utcDay(t) ? portfolio.dayStartEquity : equity;
    return {
      equity,
      marks,
      state: {
        totalEquity: equity,
        currentDrawdown: peak > 0 ? 1 - equity / peak : 0,
        dailyPnl: equity - dayStart,
        positions: open.filter((p) => p.quantity !== 0).map((p) => ({ asset: p.asset, exposure: Math.abs(p.quantity) * (marks[p.asset] ?? p.averagePrice) })),
      },
    };
  }

  async function snapshot(tx: Tx, reason: string, t: number) {
    const { portfolio, positions: open } = await loadPortfolio(tx, portfolioId);
    const marks = await latestCloses(tx, open.filter((p) => p.quantity !== 0).map((p) => p.asset), t);
    const book = bookFrom(portfolio, open);
    const equity = bookEquity(book, marks);
    const peak = Math.max(portfolio.peakEquity, equity);
    const day = utcDay(t);
    await tx.update(portfolios).set({
      peakEquity: peak,
      ...(portfolio.pnlDay !== day ? { pnlDay: day, dayStartEquity: equity } : {}),
      updatedAt: new Date(t),
    }).where(eq(portfolios.id, portfolioId));
    await tx.insert(portfolioSnapshots).values({
      portfolioId, timestamp: t, cash: book.cash, positionsValue: marketValue(book, marks), equity, drawdown: peak > 0 ? 1 - equity / peak : 0, reason,
    });
  }

  /** The one place a fill reaches the books, under the portfolio row lock, so concurrent sagas serialise. */
  async function bookFill(tx: Tx, f: typeof fills.$inferSelect, t: number): Promise<{ realized: number; quantity: number }> {
    const { portfolio, positions: open } = await loadPortfolio(tx, portfolioId, true);
    const [fresh] = await tx.select().from(fills).where(eq(fills.id, f.id));
    const current = open.find((p) => p.asset === f.asset);
    if (fresh.applied) return { realized: fresh.realizedPnl ?? 0, quantity: current?.quantity ?? 0 };
    const effect = applyFill(bookFrom(portfolio, open), {
      id: f.id, asset: f.asset, side: f.side as 'BUY' | 'SELL', quantity: f.quantity, price: f.price, fee: f.fee, timestamp: f.timestamp,
    });
    const [order] = await tx.select().from(orders).where(eq(orders.id, f.orderId));
    const release = order?.status === 'reserved' ? order.notional : 0;
    await tx.insert(positions).values({
      portfolioId, asset: f.asset, quantity: effect.after.quantity, averagePrice: effect.after.averagePrice,
      realizedPnl: effect.after.realizedPnl, openedAt: new Date(t),
    }).onConflictDoUpdate({
      target: [positions.portfolioId, positions.asset],
      set: {
        quantity: effect.after.quantity, averagePrice: effect.after.averagePrice, realizedPnl: effect.after.realizedPnl, updatedAt: new Date(t),
        // A flat or flipped position starts over: its old protective levels no longer apply.
        ...(Math.sign(effect.after.quantity) !== Math.sign(effect.before.quantity) ? { stopLoss: null, takeProfit: null, openedAt: new Date(t) } : {}),
      },
    });
    await tx.update(portfolios).set({
      cash: effect.book.cash, realizedPnl: effect.book.realizedPnl, feesPaid: effect.book.feesPaid,
      reservedCash: sql`greatest(${portfolios.reservedCash} - ${release}, 0)`,
    }).where(eq(portfolios.id, portfolioId));
    await tx.update(fills).set({ applied: true, realizedPnl: effect.realized }).where(eq(fills.id, f.id));
    await tx.update(orders).set({ status: 'filled', updatedAt: new Date(t) }).where(eq(orders.id, f.orderId));
    await snapshot(tx, `fill ${f.id}`, t);
    return { realized: effect.realized, quantity: effect.after.quantity };
  }

  return {
    /** Assesses a signal against the live portfolio and records it; a repeated call returns the first assessment. */
    async assessSignalRisk(signal: ExecutionSignal): Promise<RiskAssessment> {
      const existing = await storedAssessment(db, signal.signalId, portfolioId);
      if (existing) return existing.assessment as RiskAssessment;
      const t = now();
      await ensurePortfolio(db, portfolioId, deps.initialCapital, utcDay(t));
      // One snapshot of cash and positions: read separately, a fill booked in between would count its cash but not its position.
      const { state } = await db.transaction((tx) => portfolioState(tx, t), { isolationLevel: 'repeatable read', accessMode: 'read only' });
      const assessment = assessRisk(
        { signalId: signal.signalId, asset: signal.asset, signalType: signal.signalType, price: signal.price, confidence: signal.confidence },
        state, deps.risk,
      );
      const [held] = await db.select().from(positions).where(and(eq(positions.portfolioId, portfolioId), eq(positions.asset, signal.asset)));
      if (assessment.isApproved && held?.cooldownUntil && held.cooldownUntil > t) {
        assessment.isApproved = false;
        assessment.rejectionReason = `${signal.asset} was stopped out; re-entry is blocked until ${new Date(held.cooldownUntil).toISOString()}`;
      }
      await db.insert(riskAssessments).values({
        signalId: signal.signalId, portfolioId, asset: signal.asset, approved: assessment.isApproved, riskLevel: assessment.riskLevel, assessment,
      }).onConflictDoNothing();
      return (await storedAssessment(db, signal.signalId, portfolioId))!.assessment as RiskAssessment;
    },

    /**
     * Sets the order's notional aside from free cash (shorts post the same as margin), after checking
     * the limits again under the portfolio lock with every reserved order counted as exposure: two
     * sagas assessed at the same moment cannot both take the last room under a limit.
     */
    async reserveOrder(input: { orderId: string; signal: ExecutionSignal; notional: number }): Promise<string> {
      return db.transaction(async (tx) => {
        const { portfolio } = await loadPortfolio(tx, portfolioId, true);
        const [existing] = await tx.select().from(orders).where(eq(orders.id, input.orderId));
        if (existing) return existing.id;
        const { state } = await portfolioState(tx, now());
        const pending = await tx.select().from(orders).where(and(eq(orders.portfolioId, portfolioId), eq(orders.status, 'reserved')));
        state.positions.push(...pending.map((o) => ({ asset: o.asset, exposure: o.notional })));
        const check = validateTrade({ ...input.signal }, state, input.notional, deps.risk);
        if (!check.approved) throw ApplicationFailure.nonRetryable(check.rejectionReason!, 'RiskLimit');
        const free = portfolio.cash - portfolio.reservedCash;
        if (input.notional > free) {
          throw ApplicationFailure.nonRetryable(`order ${input.orderId}: notional $${input.notional.toFixed(2)} exceeds free cash $${free.toFixed(2)}`, 'InsufficientCash');
        }
        const side = input.signal.signalType === 'LONG' ? 'BUY' : 'SELL';
        await tx.insert(orders).values({ id: input.orderId, portfolioId, signalId: input.signal.signalId, asset: input.signal.asset, side, notional: input.notional, status: 'reserved' });
        await tx.update(portfolios).set({ reservedCash: sql`${portfolios.reservedCash} + ${input.notional}` }).where(eq(portfolios.id, portfolioId));
        return input.orderId;
      });
    },

    /** Fills a reserved market order at the next available price with slippage and fees; once per order. */
    async executeOrder(input: { orderId: string }): Promise<ExecutedFill> {
      const fillId = `${input.orderId}-fill`;
      const [done] = await db.select().from(fills).where(eq(fills.id, fillId));
      if (done) return { fillId, price: done.price, quantity: done.quantity, fee: done.fee, slippage: done.slippage };
      const [order] = await db.select().from(orders).where(eq(orders.id, input.orderId));
      if (!order || order.status !== 'reserved') {
        throw ApplicationFailure.nonRetryable(`order ${input.orderId} is ${order?.status ?? 'missing'}, not reserved`, 'OrderNotFillable');
      }
      const bar = await latestBar(db, order.asset, now());
      if (!bar) throw ApplicationFailure.nonRetryable(`no price for ${order.asset}: collect or import its candles first`, 'NoPrice');
      const side = order.side as 'BUY' | 'SELL';
      const quantity = order.notional / bar.close;
      const f = marketFill(side, quantity, bar.close, (bar.high - bar.low) / bar.close, deps.fillModel);
      await db.insert(fills).values({
        id: fillId, orderId: order.id, portfolioId, asset: order.asset, side, quantity, price: f.price, referencePrice: bar.close,
        slippage: f.slippageCost, fee: f.fee, timestamp: now(),
      }).onConflictDoNothing();
      const [row] = await db.select().from(fills).where(eq(fills.id, fillId));
      return { fillId, price: row.price, quantity: row.quantity, fee: row.fee, slippage: row.slippage };
    },

    /** Books the fill: position, cash, realised P&L, fees, the reservation released, a snapshot. Once per fill. */
    async applyFillToPortfolio(input: { fillId: string }): Promise<{ realized: number; quantity: number }> {
      return db.transaction(async (tx) => {
        const [f] = await tx.select().from(fills).where(eq(fills.id, input.fillId));
        if (!f) throw ApplicationFailure.nonRetryable(`fill ${input.fillId} does not exist`, 'FillNotFound');
        return bookFill(tx, f, now());
      });
    },

    /** A snapshot at the current marks, for the equity curve between trades (run on a Schedule). */
    async snapshotPortfolio(): Promise<void> {
      const t = now();
      await ensurePortfolio(db, portfolioId, deps.initialCapital, utcDay(t));
      await db.transaction(async (tx) => {
        await loadPortfolio(tx, portfolioId, true);
        await snapshot(tx, 'scheduled', t);
      });
    },

    /** Registers the stop loss and take profit on the open position of the asset. */
    async registerProtection(input: { asset: string; stopLoss: number; takeProfit: number }): Promise<void> {
      const bar = await latestBar(db, input.asset, now());
      await db.update(positions).set({
        stopLoss: input.stopLoss, takeProfit: input.takeProfit,
        // Only bars after the entry price can trigger the new levels.
        protectionCheckedUntil: bar ? bar.timestamp + bar.intervalMinutes * 60_000 : now(),
      }).where(and(eq(positions.portfolioId, portfolioId), eq(positions.asset, input.asset)));
    },

    /**
     * Checks every protected open position against the bars that closed since its last check, using
     * each bar's high and low; a trigger exits through the same fill model and books, and a stop
     * starts the re-entry cooldown. Returns the exits made.
     */
    async checkProtectiveOrders(input: { assets?: string[] }): Promise<ProtectiveExit[]> {
      const exits: ProtectiveExit[] = [];
      const held = (await db.select().from(positions).where(eq(positions.portfolioId, portfolioId)))
        .filter((p) => p.quantity !== 0 && (p.stopLoss !== null || p.takeProfit !== null) && (!input.assets || input.assets.includes(p.asset)));
      for (const p of held) {
        const direction = p.quantity > 0 ? 'LONG' : 'SHORT';
        const interval = await bestCoveredInterval(db, p.asset, p.protectionCheckedUntil ?? 0, now() + 1);
        if (interval === undefined) continue;
        const bars = await closedCandles(db, p.asset, interval, (p.protectionCheckedUntil ?? 0), now());
        let stop = p.stopLoss;
        let checkedUntil = p.protectionCheckedUntil ?? 0;
        for (const bar of bars) {
          const end = bar.timestamp + interval * 60_000;
          if (end <= checkedUntil) continue;
          const trigger = protectiveTrigger(direction, stop, p.takeProfit, bar);
          checkedUntil = end;
          if (trigger) {
            const orderId = `exit-${p.id}-${bar.timestamp}`;
            const side = direction === 'LONG' ? 'SELL' : 'BUY';
            const quantity = Math.abs(p.quantity);
            const f = marketFill(side, quantity, trigger.price, (bar.high - bar.low) / bar.close, deps.fillModel);
            await db.transaction(async (tx) => {
              await tx.insert(orders).values({ id: orderId, portfolioId, asset: p.asset, side, notional: quantity * trigger.price, status: 'submitted', reason: trigger.kind }).onConflictDoNothing();
              await tx.insert(fills).values({
                id: `${orderId}-fill`, orderId, portfolioId, asset: p.asset, side, quantity, price: f.price, referencePrice: trigger.price,
                slippage: f.slippageCost, fee: f.fee, timestamp: end,
              }).onConflictDoNothing();
              const [row] = await tx.select().from(fills).where(eq(fills.id, `${orderId}-fill`));
              const booked = await bookFill(tx, row, end);
              const cooldown = trigger.kind === 'stop_loss' ? end + (deps.stopCooldownMinutes ?? 0) * 60_000 : null;
              await tx.update(positions).set({ protectionCheckedUntil: end, cooldownUntil: cooldown })
                .where(and(eq(positions.portfolioId, portfolioId), eq(positions.asset, p.asset)));
              exits.push({ asset: p.asset, kind: trigger.kind, price: f.price, quantity, realized: booked.realized, at: end });
            });
            break;
          }
          if (stop !== null && deps.trailingStopPct) stop = trailStop(direction, stop, bar, deps.trailingStopPct);
        }
        if (!exits.some((e) => e.asset === p.asset)) {
          await db.update(positions).set({ protectionCheckedUntil: checkedUntil, stopLoss: stop })
            .where(and(eq(positions.portfolioId, portfolioId), eq(positions.asset, p.asset)));
        }
      }
      return exits;
    },

    /** Compensation: cancels an unfilled order and releases its reservation; harmless to repeat. */
    async cancelOrder(input: { orderId: string; reason: string }): Promise<void> {
      await db.transaction(async (tx) => {
        await loadPortfolio(tx, portfolioId, true);
        const [order] = await tx.select().from(orders).where(eq(orders.id, input.orderId));
        if (!order || order.status !== 'reserved') return;
        await tx.update(orders).set({ status: 'cancelled', reason: input.reason, updatedAt: new Date(now()) }).where(eq(orders.id, order.id));
        await tx.update(portfolios).set({ reservedCash: sql`greatest(${portfolios.reservedCash} - ${order.notional}, 0)` }).where(eq(portfolios.id, portfolioId));
      });
    },
  };
}

export type TradingActivities = ReturnType<typeof createTradingActivities>;
