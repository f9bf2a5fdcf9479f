import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FillModel } from '../domain/fills';
import { type MarketConditions, marketConditions } from '../domain/market-conditions';
import type { MarketData } from '../domain/signals';
import { equity as bookEquity, marketValue } from '../domain/portfolio';
import { type RiskAssessment, type RiskConfig, validateTrade } from '../domain/risk';
import {
  fillPrice, heldQuantity, limitsView, LIVE_POLICY, markToMarket, openAssets, onBarClose, onExitFill, onFill, onSignal, orderQuantity, protect,
  type ProtectiveExit as CoreExit, type ProtectiveOrder, referencePriceAt, type TradingRules, type TradingState, utcDayOf,
} from '../domain/trading/core';
import { tickBar } from '../domain/market-stream';
import type { Database, Tx } from '../db/client';
import { bestCoveredInterval, closedCandles } from '../db/market-data';
import { insertAlert } from '../db/signals';
import {
  cancelReservedOrder, type ConditionsRead, ensurePortfolio, type BookedFill, insertAssessment, insertExit, insertFill, latestCloses, loadBook,
  loadFillAndBook, loadOrderAndBook, type Mark, MissingPortfolioError, openPositions, persistBooking, loadTradingState, reserveOrderRow,
  saveMark, saveProtection, withLockedPortfolio, withLockedPortfolioAndFill, withLockedPortfolioAndOrders,
} from '../db/trading';
import { portfolioValue } from '../metrics';
import type { ExecutionSignal, ExecutedFill, ProtectiveExit } from '../workflows/types';

/** What the saga needs of an assessment: approved or why not, and the size. */
export type AssessmentOutcome = Pick<RiskAssessment, 'isApproved' | 'rejectionReason' | 'recommendedPositionSize'>;

const outcomeOf = (a: RiskAssessment): AssessmentOutcome =>
  ({ isApproved: a.isApproved, rejectionReason: a.rejectionReason, recommendedPositionSize: a.recommendedPositionSize });

export interface TradingDeps {
  db: Database;
  risk: RiskConfig;
  fillModel: FillModel;
  portfolioId: string;
  initialCapital: number;
  /** Bars (minutes) the market conditions are read from: the shortest strategy bar, as a backtest of the ensemble replays. */
  marketBarMinutes?: number;
  /** A streamed price at most this old (ms) is the fill's reference price; an older one gives way to the newest bar. */
  streamPriceMaxAgeMs?: number;
  clock?: () => number;
}

/**
 * The live driver of the trading core: each activity loads the core's state through `src/db/trading`,
 * calls the core, and persists what it returns. The rules are the same functions a backtest calls.
 */
export function createTradingActivities(deps: TradingDeps) {
  const { db, portfolioId } = deps;
  const now = deps.clock ?? Date.now;
  const rules: TradingRules = { risk: deps.risk, fillModel: deps.fillModel };

  /** What a read of the book takes for the market conditions of `signal`'s asset and the book's. */
  const conditionsOf = (signal: ExecutionSignal): ConditionsRead =>
    ({ lookbackDays: deps.risk.correlationLookbackDays, barMinutes: deps.marketBarMinutes ?? 60, asset: signal.asset });
  /** The market conditions of `assets` at `t`, from the prices read with the book. */
  const conditionsAt = (prices: MarketData['prices'], assets: string[], t: number): MarketConditions =>
    marketConditions({ prices, macro: {} }, assets, t, deps.risk.correlationLookbackDays);

  /**
   * `load` (a read of the book), after creating the portfolio with its starting cash when this is its
   * first use: one statement when it exists, where an insert that does nothing ran every time.
   */
  async function onFirstUse<T>(t: number, load: () => Promise<T>): Promise<T> {
    return load().catch(async (e: unknown) => {
      if (!(e instanceof MissingPortfolioError)) throw e;
      await ensurePortfolio(db, portfolioId, deps.initialCapital, utcDayOf(t));
      return load();
    });
  }

  /** Marks the book at `t` (`marks`: the latest closes of what it holds): the peak and day start through the core, the portfolio's value gauge. */
  function markAt(state: TradingState, marks: Record<string, number>, reason: string, t: number): Mark {
    const equity = bookEquity(state.book, marks);
    markToMarket(state, equity, t);
    portfolioValue.set({ portfolio: portfolioId }, equity);
    return { at: t, positionsValue: marketValue(state.book, marks), equity, reason };
  }

  /**
   * The one place a fill reaches the books: inside `withLockedPortfolio`, with the state loaded under
   * its lock and `fill` read in the same transaction (so `applied` is current).
   */
  async function bookFill(tx: Tx, booking: {
    state: TradingState; fill: BookedFill; t: number; marks: Record<string, number>; exit?: { kind: ProtectiveExit['kind']; quantity: number; referencePrice: number };
  }) {
    const { state, fill, t, exit } = booking;
    if (fill.applied) return { realized: fill.realizedPnl ?? 0, quantity: heldQuantity(state, fill.asset) };
    const side = fill.side;
    const booked = { id: fill.id, asset: fill.asset, side, quantity: fill.quantity, price: fill.price, fee: fill.fee, timestamp: fill.timestamp };
    const effect = exit
      ? onExitFill(state, { asset: fill.asset, side, ...exit }, booked, t, rules)
      : onFill(state, booked);
    const mark = markAt(state, booking.marks, `fill ${fill.id}`, t);
    await persistBooking(tx, { portfolioId, fill, effect, state, mark, ...(exit ? { checkedUntil: t } : {}) });
    return { realized: effect.realized, quantity: effect.after.quantity };
  }

  /**
   * Fills and books an exit the core decided on the state read at the start of a check, under the
   * portfolio lock; a position that changed meanwhile (another check exited it, a saga added to it)
   * is left for the next check to decide again, so one stop never fills twice.
   */
  async function exitUnderLock(input: {
    decidedOn: TradingState; exit: CoreExit; orderId: string; at: number; volatility: number; priceSource: 'protective_bar' | 'protective_tick';
  }): Promise<ProtectiveExit | undefined> {
    const { exit, at } = input;
    return withLockedPortfolio(db, portfolioId, async (tx, { state: locked }) => {
      if (heldQuantity(locked, exit.asset) !== heldQuantity(input.decidedOn, exit.asset)) return undefined;
      const f = fillPrice(exit.side, exit.quantity, exit.referencePrice, input.volatility, rules);
      const row = await insertExit(tx, { id: input.orderId, portfolioId, asset: exit.asset, side: exit.side, notional: exit.quantity * exit.referencePrice, reason: exit.kind }, {
        id: `${input.orderId}-fill`, quantity: exit.quantity, price: f.price, referencePrice: exit.referencePrice, slippage: f.slippageCost, fee: f.fee,
        timestamp: at, priceSource: input.priceSource, priceTime: at,
      });
      const booked = await bookFill(tx, { state: locked, fill: row, t: at, marks: await latestCloses(tx, openAssets(locked), at), exit });
      return { asset: exit.asset, kind: exit.kind, price: f.price, quantity: exit.quantity, realized: booked.realized, at };
    });
  }

  return {
    /**
     * The core's decision on a signal against the live portfolio, recorded whole in risk_assessments;
     * a repeated call returns the first. The saga gets only the outcome, which keeps its history small.
     */
    async assessSignalRisk(signal: ExecutionSignal): Promise<AssessmentOutcome> {
      const t = now();
      const { state, marks, prices } = await onFirstUse(t, () => loadTradingState(db, portfolioId, t, conditionsOf(signal)));
      const market = conditionsAt(prices, [signal.asset, ...openAssets(state)], t);
      const decision = onSignal(state, signal, { time: t, marks, rules, policy: LIVE_POLICY, market, clock: () => performance.now() });
      // Live sizing is the risk module's, so every decision carries its assessment.
      let assessment = decision.assessment!;
      // The seed's processing timeout: an approval that took too long to reach stands on stale prices.
      const elapsed = now() - t;
      if (assessment.isApproved && elapsed > deps.risk.processingTimeoutMs) {
        const reason = `The assessment took ${elapsed} ms, over the ${deps.risk.processingTimeoutMs} ms processing timeout: its prices are stale`;
        assessment = { ...assessment, isApproved: false, rejectedBy: 'processingTimeout', rejectionReason: reason };
      }
      // An earlier attempt (a retry) or a concurrent one may have stored its decision first: the stored
      // one is the decision, whatever this attempt decided.
      const stored = await insertAssessment(db, {
        signalId: signal.signalId, portfolioId, asset: signal.asset, approved: decision.kind === 'order' && assessment.isApproved, riskLevel: assessment.riskLevel, assessment,
      });
      return outcomeOf(stored);
    },

    /**
     * Sets the order's notional aside from free cash (shorts post the same as margin), after checking
     * the limits again under the portfolio lock with every reserved order counted as exposure: two
     * sagas assessed at the same moment cannot both take the last room under a limit.
     */
    async reserveOrder(input: { orderId: string; signal: ExecutionSignal; notional: number }): Promise<string> {
      const t = now();
      const order = { id: input.orderId, asOf: t, conditions: conditionsOf(input.signal) };
      return withLockedPortfolioAndOrders(db, portfolioId, order, async (tx, { portfolio, state, marks, order: existing, reserved, prices }) => {
        if (existing) return existing.id;
        const view = limitsView(state, input.signal, marks, t);
        view.positions.push(...reserved.map((o) => ({ asset: o.asset, exposure: o.notional, side: o.side === 'BUY' ? 'LONG' as const : 'SHORT' as const })));
        const market = conditionsAt(prices, [input.signal.asset, ...view.positions.map((p) => p.asset)], t);
        const check = validateTrade(input.signal, view, input.notional, rules.risk, market);
        if (!check.approved) throw ApplicationFailure.nonRetryable(check.rejectionReason!, 'RiskLimit');
        const free = portfolio.cash - portfolio.reservedCash;
        if (input.notional > free) {
          throw ApplicationFailure.nonRetryable(`order ${input.orderId}: notional $${input.notional.toFixed(2)} exceeds free cash $${free.toFixed(2)}`, 'InsufficientCash');
        }
        const side = input.signal.signalType === 'LONG' ? 'BUY' : 'SELL';
        await reserveOrderRow(tx, { id: input.orderId, portfolioId, signalId: input.signal.signalId, asset: input.signal.asset, side, notional: input.notional });
        return input.orderId;
      });
    },

    /**
     * Fills a reserved market order at the next available price with slippage and fees; once per
     * order. The quantity is the core's: the opposite position it closes, plus the new notional.
     */
    async executeOrder(input: { orderId: string }): Promise<ExecutedFill> {
      const fillId = `${input.orderId}-fill`;
      const t = now();
      const loaded = await loadOrderAndBook(db, portfolioId, input.orderId, t);
      const done = loaded?.fill;
      if (done) return { fillId, price: done.price, quantity: done.quantity, fee: done.fee, slippage: done.slippage };
      if (loaded?.order.status !== 'reserved') {
        throw ApplicationFailure.nonRetryable(`order ${input.orderId} is ${loaded?.order.status ?? 'missing'}, not reserved`, 'OrderNotFillable');
      }
      const { order, book: { state }, bar, streamed } = loaded;
      const reference = referencePriceAt(t, { bar, streamed, maxAgeMs: deps.streamPriceMaxAgeMs ?? 0 });
      if (!reference) throw ApplicationFailure.nonRetryable(`no price for ${order.asset}: collect or import its candles first`, 'NoPrice');
      const side = order.side;
      const quantity = orderQuantity(state, { asset: order.asset, side, notional: order.notional, closeOnly: false }, reference.price, LIVE_POLICY.units);
      // The slippage model's volatility is the newest bar's range, whichever price the order meets.
      const f = fillPrice(side, quantity, reference.price, bar ? (bar.high - bar.low) / bar.close : 0, rules);
      const row = await insertFill(db, {
        id: fillId, orderId: order.id, portfolioId, asset: order.asset, side, quantity, price: f.price, referencePrice: reference.price,
        slippage: f.slippageCost, fee: f.fee, timestamp: t, priceSource: reference.source, priceTime: reference.time,
      });
      return { fillId, price: row.price, quantity: row.quantity, fee: row.fee, slippage: row.slippage };
    },

    /** Books the fill: position, cash, realised P&L, fees, the reservation released, a snapshot. Once per fill. */
    async applyFillToPortfolio(input: { fillId: string }): Promise<{ realized: number; quantity: number }> {
      const t = now();
      return withLockedPortfolioAndFill(db, portfolioId, input.fillId, t, async (tx, loaded) => {
        if (!loaded) throw ApplicationFailure.nonRetryable(`fill ${input.fillId} does not exist`, 'FillNotFound');
        return bookFill(tx, { state: loaded.state, fill: loaded.fill, t, marks: loaded.marks });
      });
    },

    /** A snapshot at the current marks, for the equity curve between trades (run on a Schedule). */
    async snapshotPortfolio(): Promise<void> {
      const t = now();
      await onFirstUse(t, () => withLockedPortfolio(db, portfolioId, async (tx, { state }) => {
        await saveMark(tx, portfolioId, state, markAt(state, await latestCloses(tx, openAssets(state), t), 'scheduled', t));
      }));
    },

    /**
     * Places the stop loss and take profit of the position a fill left, from that fill's price (the
     * core's rule); null when the fill left nothing open. Only bars after the fill can trigger them.
     */
    async registerProtection(input: { fillId: string }): Promise<ProtectiveOrder | null> {
      const t = now();
      const loaded = await loadFillAndBook(db, portfolioId, input.fillId, t);
      if (!loaded) throw ApplicationFailure.nonRetryable(`fill ${input.fillId} does not exist`, 'FillNotFound');
      const { fill, book: { state }, bar } = loaded;
      const levels = protect(state, fill.asset, fill.price, rules);
      if (!levels) return null;
      await saveProtection(db, { portfolioId, asset: fill.asset, levels, at: t, checkedUntil: bar ? bar.timestamp + bar.intervalMinutes * 60_000 : t });
      return levels;
    },

    /** A filled position stands without a stop: alert on every channel's record and in the log. */
    async reportUnprotected(input: { signal: ExecutionSignal; fill: ExecutedFill; reason: string }): Promise<void> {
      log.error('position filled but not protected: place its stop by hand', { asset: input.signal.asset, fillId: input.fill.fillId, reason: input.reason });
      await insertAlert(db, {
        type: 'unprotected_position',
        body: {
          timestamp: now(), asset: input.signal.asset, signal_id: input.signal.signalId, fill_id: input.fill.fillId, signal_type: input.signal.signalType,
          quantity: input.fill.quantity, fill_price: input.fill.price, reason: input.reason, alert_type: 'unprotected_position',
        },
      });
    },

    /**
     * Checks every protected open position against the bars that closed since its last check; the
     * core decides each exit (stop first, gaps at the open) and moves trailing stops; an exit fills
     * through the fill model, is booked, and a stop starts the re-entry cooldown. Returns the exits.
     */
    async checkProtectiveOrders(input: { assets?: string[] }): Promise<ProtectiveExit[]> {
      const exits: ProtectiveExit[] = [];
      const t = now();
      const { state, positions: rows } = await onFirstUse(t, () => loadBook(db, portfolioId));
      const held = rows.filter((p) => p.quantity !== 0 && state.protection[p.asset] && (!input.assets || input.assets.includes(p.asset)));
      for (const p of held) {
        const from = p.protectionCheckedUntil ?? 0;
        const interval = await bestCoveredInterval(db, p.asset, from, t + 1);
        if (interval === undefined) continue;
        let checkedUntil = from;
        let exited = false;
        for (const bar of await closedCandles(db, p.asset, interval, from, t)) {
          const end = bar.timestamp + interval * 60_000;
          if (end <= checkedUntil) continue;
          checkedUntil = end;
          const exit = onBarClose(state, p.asset, bar, rules);
          if (!exit) continue;
          const done = await exitUnderLock({
            decidedOn: state, exit, orderId: `exit-${p.id}-${bar.timestamp}`, at: end, volatility: (bar.high - bar.low) / bar.close, priceSource: 'protective_bar',
          });
          if (done) exits.push(done);
          exited = true;
          break;
        }
        // No exit: the bars were checked, and a trailing stop may have moved.
        if (!exited && checkedUntil > from) {
          await saveProtection(db, { portfolioId, asset: p.asset, levels: state.protection[p.asset], at: t, checkedUntil });
        }
      }
      return exits;
    },

    /**
     * Checks protected positions against streamed prices as they arrive: each price is a bar of one
     * point to the core (the same stop-first and gap rules: a price through the stop fills there), so
     * a stop inside a minute fires within seconds of the price. A trailing stop follows the prices.
     */
    async checkProtectionAtPrices(input: { prices: Array<{ asset: string; price: number; time: number }> }): Promise<ProtectiveExit[]> {
      // Called for every written price: one read decides whether a quoted asset is protected at all.
      const quoted = new Set(input.prices.map((q) => q.asset));
      const protectedHere = (await openPositions(db, portfolioId)).some((p) => quoted.has(p.asset) && (p.stopLoss !== null || p.takeProfit !== null));
      if (!protectedHere) return [];
      const { state, positions: rows } = await loadBook(db, portfolioId);
      const exits: ProtectiveExit[] = [];
      for (const quote of input.prices) {
        const p = rows.find((r) => r.asset === quote.asset && r.quantity !== 0);
        const before = state.protection[quote.asset];
        if (!p || !before) continue;
        const trailed = before.stopLoss;
        const exit = onBarClose(state, quote.asset, tickBar(quote.price, quote.time), rules);
        if (exit) {
          const done = await exitUnderLock({ decidedOn: state, exit, orderId: `exit-${p.id}-tick-${quote.time}`, at: quote.time, volatility: 0, priceSource: 'protective_tick' });
          if (done) exits.push(done);
        } else if (state.protection[quote.asset].stopLoss !== trailed) {
          await saveProtection(db, { portfolioId, asset: quote.asset, levels: state.protection[quote.asset], at: quote.time });
        }
      }
      return exits;
    },

    /** Compensation: cancels an unfilled order and releases its reservation; harmless to repeat. */
    async cancelOrder(input: { orderId: string; reason: string }): Promise<void> {
      await cancelReservedOrder(db, portfolioId, input.orderId, input.reason, now());
    },
  };
}

export type TradingActivities = ReturnType<typeof createTradingActivities>;
