/**
 * The one trading core: every trading decision and every change to the book, for paper trading and
 * backtests alike. Pure and deterministic: no IO, no clock. Its state is plain JSON; entry points
 * update the state they are given in place and return what the driver must do next (an order to
 * fill, an exit to fill), so the backtest driver calls them in a loop and the live activities load
 * the state from Postgres, call the same function and persist what changed.
 *
 *   onSignal(aggregate)   → an order (sized by the rules) or a rejection naming the rule
 *   orderQuantity(order)  → units to fill at the reference price (flips close and reopen)
 *   onFill(fill)          → the book: cash, position, realised P&L, fees
 *   protect(asset, fill)  → stop and target from the fill price
 *   onBarClose(bar)       → a protective exit, or the trailing stop moved
 *   onExitFill(exit)      → the book, and a cooldown after a stop
 */
import type { Bar, FillModel, MarketFill } from '../fills';
import { marketFill, protectiveTrigger, trailStop } from '../fills';
import { applyFill, equity as bookEquity, type Book, type Fill, type FillEffect, newBook, type Side } from '../portfolio';
import type { MarketConditions } from '../market-conditions';
import type { PositionSizing } from '../position-sizing';
import { assessRisk, type PortfolioState, riskVerdict, type RiskAssessment, type RiskConfig, type RiskSignal } from '../risk';
import { stopLossPrice, takeProfitPrice } from '../signals';
import { DAY_MS } from '../types';

/**
 * The trading rules: the one risk configuration (config/risk.json: limits, sizing, stop distance,
 * reward ratio, trailing, cooldown) and the fill model, for paper trading and backtests alike.
 */
export interface TradingRules {
  risk: RiskConfig;
  fillModel: FillModel;
}

export type Sizing = { kind: 'risk' } | { kind: 'fixed_fraction'; fraction: number } | { kind: 'all_in' };

/** How orders are sized and placed. Paper trading uses `LIVE_POLICY`; a backtest may choose others. */
export interface OrderPolicy {
  sizing: Sizing;
  units: 'fractional' | 'whole';
  allowShort: boolean;
  /** Place a stop and a target after each entry. */
  protective: boolean;
}

export const LIVE_POLICY: OrderPolicy = { sizing: { kind: 'risk' }, units: 'fractional', allowShort: true, protective: true };

export interface ProtectiveOrder {
  stopLoss: number | null;
  takeProfit: number | null;
}

export interface TradingState {
  book: Book;
  /** Asset → its open position's stop and target. */
  protection: Record<string, ProtectiveOrder>;
  /** Asset → time (ms) before which no new entry is taken, after a stop-out. */
  cooldownUntil: Record<string, number>;
  peakEquity: number;
  /** The UTC day (days since the epoch) `dayStartEquity` belongs to; today's P&L counts from it. */
  day: number;
  dayStartEquity: number;
}

export function newTradingState(initialCapital: number): TradingState {
  return { book: newBook(initialCapital), protection: {}, cooldownUntil: {}, peakEquity: initialCapital, day: -1, dayStartEquity: initialCapital };
}

/** The UTC day of a time that ends a bar: a bar closing at midnight belongs to the day before. */
export const utcDayOf = (time: number) => Math.floor((time - 1) / DAY_MS);

export const heldQuantity = (state: TradingState, asset: string) => state.book.positions[asset]?.quantity ?? 0;

/** The assets with an open position: the ones that need a mark. */
export const openAssets = (state: TradingState) => Object.values(state.book.positions).filter((p) => p.quantity !== 0).map((p) => p.asset);

/** Marks the book: the peak for drawdown, and the first mark of a UTC day starts that day's P&L. */
export function markToMarket(state: TradingState, equity: number, time: number): void {
  const day = utcDayOf(time);
  if (day !== state.day) {
    state.day = day;
    state.dayStartEquity = equity;
  }
  if (equity > state.peakEquity) state.peakEquity = equity;
}

/** What the risk module sees: equity, drawdown from the peak, today's P&L, the open exposures and what each would lose at its stop. */
export function riskView(state: TradingState, marks: Record<string, number>, time: number): PortfolioState {
  const equity = bookEquity(state.book, marks);
  const peak = Math.max(state.peakEquity, equity);
  const dayStart = utcDayOf(time) === state.day ? state.dayStartEquity : equity;
  const positions: PortfolioState['positions'] = [];
  for (const asset in state.book.positions) {
    const p = state.book.positions[asset];
    if (p.quantity === 0) continue;
    const mark = marks[asset] ?? p.averagePrice;
    const stop = state.protection[asset]?.stopLoss ?? null;
    // What the position loses from its mark if its stop fires (nothing when a trailed stop is past the mark).
    const openRisk = stop === null ? undefined : Math.abs(p.quantity) * Math.max(0, p.quantity > 0 ? mark - stop : stop - mark);
    const side = p.quantity > 0 ? 'LONG' : 'SHORT';
    positions.push({ asset, exposure: Math.abs(p.quantity) * mark, side, ...(openRisk === undefined ? {} : { openRisk }) });
  }
  return { totalEquity: equity, currentDrawdown: peak > 0 ? 1 - equity / peak : 0, dailyPnl: equity - dayStart, positions };
}

/** A signal as the core decides on it: the risk module's. */
export type TradeSignal = RiskSignal;

/** An order to fill at the next price: `notional` of new exposure, plus whatever opposite position it closes first. */
export interface Order {
  asset: string;
  side: Side;
  notional: number;
  /** Only close the opposite position (a SHORT signal on a long when shorts are not allowed). */
  closeOnly: boolean;
}

/** Why a signal was not traded: a risk limit (by name), the size or confidence floor, the re-entry cooldown, the short rule, or nothing to trade with. */
export type RejectionRule = NonNullable<RiskAssessment['rejectedBy']> | 'cooldown' | 'short_not_allowed' | 'nothing_to_trade';

export type Decision =
  | { kind: 'order'; order: Order; assessment?: RiskAssessment; limitedBy?: PositionSizing['limitedBy'] }
  | { kind: 'rejected'; rule: RejectionRule; reason: string; assessment?: RiskAssessment };

const usd = (x: number) => `$${x.toFixed(2)}`;

/**
 * The portfolio as the risk limits see it for a signal: a signal against the open position flips
 * it, and the closed side's exposure does not count against the new one.
 */
export function limitsView(state: TradingState, signal: Pick<TradeSignal, 'asset' | 'signalType'>, marks: Record<string, number>, time: number): PortfolioState {
  const view = riskView(state, marks, time);
  const held = heldQuantity(state, signal.asset);
  const flips = held !== 0 && Math.sign(held) !== (signal.signalType === 'LONG' ? 1 : -1);
  return flips ? { ...view, positions: view.positions.filter((p) => p.asset !== signal.asset) } : view;
}

/**
 * The decision on one aggregated signal: the short rule, sizing (under `risk` sizing the risk
 * module: limits, warnings, size), then the re-entry cooldown after a stop-out. A signal against
 * the open position flips it: the order closes what is held and opens the new side.
 */
export function onSignal(state: TradingState, signal: TradeSignal, ctx: {
  time: number; marks: Record<string, number>; rules: TradingRules; policy: OrderPolicy; clock?: () => number;
  /** The signal asset's and the open positions' conditions (correlation, volatility, liquidity, sizing); see `marketConditions`. */
  market?: MarketConditions;
  /**
   * `verdict`: the risk module's outcome only (`riskVerdict`: the same sizing and checks, no
   * assessment record, reasons without numbers), for a backtest deciding thousands of signals.
   */
  detail?: 'assessment' | 'verdict';
}): Decision {
  const { asset } = signal;
  const held = heldQuantity(state, asset);
  const side: Side = signal.signalType === 'LONG' ? 'BUY' : 'SELL';
  if (signal.signalType === 'SHORT' && !ctx.policy.allowShort) {
    if (held > 0) return { kind: 'order', order: { asset, side, notional: 0, closeOnly: true } };
    return { kind: 'rejected', rule: 'short_not_allowed', reason: `shorts are not allowed and no ${asset} long is held` };
  }
  const view = limitsView(state, signal, ctx.marks, ctx.time);
  const sizing = ctx.policy.sizing;
  let assessment: RiskAssessment | undefined;
  let limitedBy: PositionSizing['limitedBy'] | undefined;
  let notional: number;
  if (sizing.kind === 'risk' && ctx.detail === 'verdict') {
    const verdict = riskVerdict(signal, view, ctx.rules.risk, ctx.market);
    if (!verdict.approved) return { kind: 'rejected', rule: verdict.rejectedBy ?? 'minimumSize', reason: `refused by ${verdict.rejectedBy}` };
    notional = verdict.size;
    limitedBy = verdict.limitedBy;
  } else if (sizing.kind === 'risk') {
    assessment = assessRisk(signal, view, ctx.rules.risk, { market: ctx.market, at: ctx.time, clock: ctx.clock ?? (() => 0) });
    if (!assessment.isApproved) return { kind: 'rejected', rule: assessment.rejectedBy ?? 'minimumSize', reason: assessment.rejectionReason ?? 'not approved', assessment };
    notional = assessment.recommendedPositionSize;
    limitedBy = assessment.positionSizing.limitedBy;
  } else if (sizing.kind === 'fixed_fraction') {
    notional = view.totalEquity * sizing.fraction;
  } else {
    // All in: the new side's exposure is the whole equity; adding to a position takes what is left.
    const sameSide = view.positions.find((p) => p.asset === asset)?.exposure ?? 0;
    notional = Math.max(view.totalEquity - sameSide, 0);
  }
  const cooldown = state.cooldownUntil[asset];
  if (cooldown !== undefined && cooldown > ctx.time) {
    const reason = `${asset} was stopped out; re-entry is blocked until ${new Date(cooldown).toISOString()}`;
    return { kind: 'rejected', rule: 'cooldown', reason, assessment: assessment && { ...assessment, isApproved: false, rejectionReason: reason } };
  }
  if (!(notional > 0)) return { kind: 'rejected', rule: 'nothing_to_trade', reason: `no equity left to put into ${asset} (equity ${usd(view.totalEquity)})` };
  return { kind: 'order', order: { asset, side, notional, closeOnly: false }, assessment, ...(limitedBy === undefined ? {} : { limitedBy }) };
}

/** Units the order fills at a reference price: the opposite position it closes, plus the new exposure. */
export function orderQuantity(state: TradingState, order: Order, price: number, units: OrderPolicy['units']): number {
  const held = heldQuantity(state, order.asset);
  const closing = (order.side === 'BUY' && held < 0) || (order.side === 'SELL' && held > 0) ? Math.abs(held) : 0;
  if (order.closeOnly) return closing;
  const opening = order.notional / price;
  // A small tolerance so a notional that buys exactly n units is not floored to n − 1 by rounding.
  return closing + (units === 'whole' ? Math.floor(opening + 1e-9) : opening);
}

/** The price a live market order meets, where it came from, and when it was quoted. */
export interface ReferencePrice {
  price: number;
  time: number;
  source: 'stream' | 'bar';
}

/**
 * Where a paper order meets the market at `time`: the latest streamed price while it is at most
 * `maxAgeMs` old, otherwise the close of the newest bar that had closed (a price quoted after
 * `time` does not exist yet for a replay at a past clock). Undefined when there is neither.
 */
export function referencePriceAt(time: number, quotes: {
  streamed?: { price: number; time: number };
  bar?: { close: number; timestamp: number; intervalMinutes: number };
  maxAgeMs: number;
}): ReferencePrice | undefined {
  const { streamed, bar } = quotes;
  if (streamed && streamed.time <= time && time - streamed.time <= quotes.maxAgeMs) return { price: streamed.price, time: streamed.time, source: 'stream' };
  if (bar) return { price: bar.close, time: bar.timestamp + bar.intervalMinutes * 60_000, source: 'bar' };
  return undefined;
}

/** A market fill through the fill model: slippage against the side, then the taker fee. */
export function fillPrice(side: Side, quantity: number, referencePrice: number, volatility: number, rules: TradingRules): MarketFill {
  return marketFill(side, quantity, referencePrice, volatility, rules.fillModel);
}

/** Books a fill. A position that goes flat or flips loses its old stop and target. */
export function onFill(state: TradingState, fill: Fill): FillEffect {
  // The core keeps no fill ids: drivers guard against booking one twice (ids in Postgres, a sequence in backtests).
  const effect = applyFill(state.book, fill);
  if (effect.after.quantity === 0 || Math.sign(effect.after.quantity) !== Math.sign(effect.before.quantity)) delete state.protection[fill.asset];
  return effect;
}

/**
 * Protects the asset's open position from the price it was just filled at (the risk module's stop
 * distance and reward ratio); undefined when nothing is open.
 */
export function protect(state: TradingState, asset: string, fillPrice: number, rules: TradingRules): ProtectiveOrder | undefined {
  const held = heldQuantity(state, asset);
  if (held === 0) {
    delete state.protection[asset];
    return undefined;
  }
  const direction = held > 0 ? 'LONG' : 'SHORT';
  const stopLoss = stopLossPrice(direction, fillPrice, rules.risk.perTradeStopLoss);
  const levels = { stopLoss, takeProfit: takeProfitPrice(direction, fillPrice, stopLoss, rules.risk.riskRewardRatio) };
  state.protection[asset] = levels;
  return levels;
}

export interface ProtectiveExit {
  asset: string;
  kind: 'stop_loss' | 'take_profit';
  side: Side;
  quantity: number;
  /** Where the order meets the market: the level, or the open when the bar gapped through it. */
  referencePrice: number;
}

/**
 * A closed bar meets the asset's stop and target (stop first when both are inside the bar; a gap
 * fills at the open). Without a trigger, a trailing stop follows the bar's best price.
 */
export function onBarClose(state: TradingState, asset: string, bar: Bar, rules: TradingRules): ProtectiveExit | undefined {
  const held = heldQuantity(state, asset);
  const levels = state.protection[asset];
  if (held === 0 || !levels) return undefined;
  const direction = held > 0 ? 'LONG' : 'SHORT';
  const trigger = protectiveTrigger(direction, levels.stopLoss, levels.takeProfit, bar);
  if (trigger) return { asset, kind: trigger.kind, side: held > 0 ? 'SELL' : 'BUY', quantity: Math.abs(held), referencePrice: trigger.price };
  if (levels.stopLoss !== null && rules.risk.trailingStopPct) levels.stopLoss = trailStop(direction, levels.stopLoss, bar, rules.risk.trailingStopPct);
  return undefined;
}

/** Books a protective exit; a stop-out starts the asset's re-entry cooldown from the bar's close. */
export function onExitFill(state: TradingState, exit: ProtectiveExit, fill: Fill, barEnd: number, rules: TradingRules): FillEffect {
  const effect = onFill(state, fill);
  delete state.protection[exit.asset];
  if (exit.kind === 'stop_loss' && rules.risk.stopCooldownMinutes > 0) state.cooldownUntil[exit.asset] = barEnd + rules.risk.stopCooldownMinutes * 60_000;
  return effect;
}
