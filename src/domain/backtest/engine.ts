import { aggregateAssetSignals, type AggregationSettings, detectRegime, type PastSignal, trackRecord } from '../aggregation';
import { type FillModel, marketFill, protectiveTrigger } from '../fills';
import { type ClosedTrade, type PerformanceMetrics, performanceMetrics } from '../metrics';
import { applyFill, type Book, equity as bookEquity, newBook, type Side } from '../portfolio';
import { assessRisk, type RiskConfig, stopLossPrice, takeProfitPrice } from '../risk';
import type { MarketData, SignalType, TradingSignal } from '../signals';
import type { Strategy } from '../strategies/framework';
import { DAY_MS } from '../types';

/**
 * Execution conventions: explicit options, never hidden choices. The defaults are paper trading's:
 * fill at the next bar's open, the paper fill model, risk-module sizing, fractional units, shorts
 * allowed, protective stop and target, open positions closed at the last bar.
 */
export interface BacktestConventions {
  fillAt: 'next_open' | 'close';
  fillModel: FillModel;
  sizing: { kind: 'risk' } | { kind: 'fixed_fraction'; fraction: number } | { kind: 'all_in' };
  units: 'fractional' | 'whole';
  allowShort: boolean;
  protective: boolean;
  closeAtEnd: boolean;
}

export interface BacktestInput {
  data: MarketData;
  assets: string[];
  strategies: Strategy[];
  aggregation: AggregationSettings & { trackRecordHorizonDays: number };
  risk: RiskConfig;
  initialCapital: number;
  /** How far back past signals count towards track records (config/signals.json historyDays). */
  historyDays: number;
  /** Decision window: bars closing in [from, to]. */
  from: number;
  to: number;
  conventions: BacktestConventions;
}

export interface BacktestFill {
  time: number;
  asset: string;
  side: Side;
  quantity: number;
  price: number;
  fee: number;
  slippage: number;
  reason: 'signal' | 'stop_loss' | 'take_profit' | 'end';
  realized: number;
}

export interface BacktestTrade {
  asset: string;
  direction: SignalType;
  entryTime: number;
  entryPrice: number;
  exitTime: number | null;
  exitPrice: number | null;
  quantity: number;
  fees: number;
  /** Realised P&L before fees. */
  grossPnl: number;
  /** Realised P&L less every fee of the trade (entry, adds and exit). */
  pnl: number;
  returnPct: number;
}

export interface BacktestResult {
  equity: { time: Float64Array; value: Float64Array };
  fills: BacktestFill[];
  trades: BacktestTrade[];
  metrics: PerformanceMetrics;
  buyAndHoldReturn: number | null;
  /** Share of decision times with an open position. */
  exposureTime: number;
  rejections: number;
  bars: number;
}

interface Bar { asset: string; index: number; time: number }

/** An order waiting for the next open: a notional to convert at that price, or an exact quantity to close. */
interface Pending { asset: string; side: Side; notional: number; quantity?: number; stop: number | null; target: number | null }

/**
 * Everything the replay has built so far, as plain JSON: a long backtest checkpoints it (heartbeat
 * details) and a restarted worker continues from it instead of starting over.
 */
export interface EngineState {
  /** Index of the next bar to process in the time-ordered bar list. */
  cursor: number;
  book: Book;
  fillSeq: number;
  marks: Record<string, number>;
  fills: BacktestFill[];
  trades: BacktestTrade[];
  /** Asset → index in `trades` of its open trade. */
  openTrade: Record<string, number>;
  protection: Record<string, { stop: number | null; target: number | null }>;
  pending: Pending[];
  past: PastSignal[];
  equityTime: number[];
  equityValue: number[];
  peak: number;
  dayStart: number;
  day: number;
  exposedSteps: number;
  rejections: number;
}

/** The bars of the traded assets inside the window, in time order (then asset): the event queue. */
export function eventQueue(input: BacktestInput): Bar[] {
  const bars: Bar[] = [];
  for (const asset of input.assets) {
    const s = input.data.prices[asset];
    if (!s) throw new Error(`no price data for ${asset}`);
    s.time.forEach((time, index) => { if (time >= input.from && time <= input.to) bars.push({ asset, index, time }); });
  }
  return bars.sort((a, b) => a.time - b.time || a.asset.localeCompare(b.asset));
}

export function initialState(input: BacktestInput): EngineState {
  return {
    cursor: 0, book: newBook(input.initialCapital), fillSeq: 0, marks: {}, fills: [], trades: [], openTrade: {}, protection: {}, pending: [], past: [],
    equityTime: [], equityValue: [], peak: input.initialCapital, dayStart: input.initialCapital, day: -1, exposedSteps: 0, rejections: 0,
  };
}

function fillInto(st: EngineState, c: BacktestConventions, asset: string, side: Side, quantity: number, reference: number, volatility: number, time: number, reason: BacktestFill['reason']) {
  if (!(quantity > 0)) return;
  const f = marketFill(side, quantity, reference, volatility, c.fillModel);
  const before = st.book.positions[asset]?.quantity ?? 0;
  const effect = applyFill(st.book, { id: `bt${++st.fillSeq}`, asset, side, quantity, price: f.price, fee: f.fee, timestamp: time });
  st.book = { ...effect.book, fillIds: [] };
  st.fills.push({ time, asset, side, quantity, price: f.price, fee: f.fee, slippage: f.slippageCost, reason, realized: effect.realized });
  const after = effect.after.quantity;
  // The part of this fill that reduced the open trade; the rest (if any) opens the next one.
  const closingShare = effect.closedQuantity / quantity;
  const flippedOrFlat = before !== 0 && (after === 0 || Math.sign(after) !== Math.sign(before));
  const openIndex = st.openTrade[asset];
  if (openIndex !== undefined) {
    const t = st.trades[openIndex];
    t.fees += f.fee * (effect.closedQuantity > 0 ? closingShare : 1);
    t.grossPnl += effect.realized;
    if (flippedOrFlat) {
      t.exitTime = time;
      t.exitPrice = f.price;
      t.pnl = t.grossPnl - t.fees;
      t.returnPct = t.pnl / (t.entryPrice * t.quantity);
      delete st.openTrade[asset];
      delete st.protection[asset];
    } else if (Math.abs(after) > t.quantity) {
      t.quantity = Math.abs(after);
      t.entryPrice = effect.after.averagePrice;
    }
  }
  if (after !== 0 && (before === 0 || flippedOrFlat)) {
    st.trades.push({
      asset, direction: after > 0 ? 'LONG' : 'SHORT', entryTime: time, entryPrice: effect.after.averagePrice, exitTime: null, exitPrice: null,
      quantity: Math.abs(after), fees: f.fee * (1 - closingShare), grossPnl: 0, pnl: 0, returnPct: 0,
    });
    st.openTrade[asset] = st.trades.length - 1;
  }
}

function sizeOrder(st: EngineState, input: BacktestInput, s: TradingSignal, price: number): { notional: number; stop: number | null; target: number | null } | undefined {
  const c = input.conventions;
  const equityNow = bookEquity(st.book, st.marks);
  if (c.sizing.kind === 'risk') {
    const exposures = Object.values(st.book.positions).filter((p) => p.quantity !== 0)
      .map((p) => ({ asset: p.asset, exposure: Math.abs(p.quantity) * (st.marks[p.asset] ?? p.averagePrice) }));
    const a = assessRisk({ signalId: `${s.asset}-${s.timestamp}`, asset: s.asset, signalType: s.signalType, price, confidence: s.confidence },
      { totalEquity: equityNow, currentDrawdown: st.peak > 0 ? 1 - equityNow / st.peak : 0, dailyPnl: equityNow - st.dayStart, positions: exposures }, input.risk, () => 0);
    if (!a.isApproved) return undefined;
    return { notional: a.recommendedPositionSize, stop: a.stopLossPrice, target: a.takeProfitPrice };
  }
  const notional = c.sizing.kind === 'fixed_fraction' ? equityNow * c.sizing.fraction : s.signalType === 'LONG' ? Math.max(st.book.cash, 0) : equityNow;
  const stop = stopLossPrice(s.signalType, price, input.risk);
  return { notional, stop, target: takeProfitPrice(s.signalType, price, stop, input.risk) };
}

/**
 * Processes bar groups (all bars closing at one time) from the state's cursor until `maxBars` bars are
 * done or the queue ends. At each close: fills waiting for this bar's open, stops and targets against
 * its range, then the live decision path (strategies → aggregation → risk → order).
 */
export function advance(input: BacktestInput, bars: Bar[], st: EngineState, maxBars = Infinity): EngineState {
  const c = input.conventions;
  const units = (q: number) => (c.units === 'whole' ? Math.floor(q + 1e-9) : q);
  const stopAt = Math.min(bars.length, st.cursor + maxBars);
  while (st.cursor < stopAt) {
    const time = bars[st.cursor].time;
    const group: Bar[] = [];
    while (st.cursor < bars.length && bars[st.cursor].time === time) group.push(bars[st.cursor++]);

    for (const b of group) {
      const s = input.data.prices[b.asset];
      const bar = { open: s.open[b.index], high: s.high[b.index], low: s.low[b.index], close: s.close[b.index] };
      const range = (bar.high - bar.low) / bar.close;
      for (const p of st.pending.filter((x) => x.asset === b.asset)) {
        fillInto(st, c, p.asset, p.side, p.quantity ?? units(p.notional / bar.open), bar.open, range, time, 'signal');
        if (c.protective && st.book.positions[p.asset]?.quantity) st.protection[p.asset] = { stop: p.stop, target: p.target };
      }
      st.pending = st.pending.filter((x) => x.asset !== b.asset);
      const q = st.book.positions[b.asset]?.quantity ?? 0;
      const prot = st.protection[b.asset];
      if (q !== 0 && prot) {
        const trigger = protectiveTrigger(q > 0 ? 'LONG' : 'SHORT', prot.stop, prot.target, bar);
        if (trigger) fillInto(st, c, b.asset, q > 0 ? 'SELL' : 'BUY', Math.abs(q), trigger.price, range, time, trigger.kind);
      }
      st.marks[b.asset] = bar.close;
    }

    const today = Math.floor((time - 1) / DAY_MS);
    if (today !== st.day) { st.day = today; st.dayStart = bookEquity(st.book, st.marks); }

    const produced: TradingSignal[] = [];
    for (const strategy of input.strategies) {
      produced.push(...strategy.generateSignals(strategy.analyze(input.data, time)).filter((x) => group.some((b) => b.asset === x.asset)));
    }
    // Older signals no longer count (the same rolling window as live): drop them to keep each step bounded.
    const lookback = input.historyDays * DAY_MS;
    st.past = st.past.filter((x) => x.timestamp >= time - lookback);
    const records = trackRecord(st.past, input.data, time, input.aggregation.trackRecordHorizonDays * DAY_MS, lookback);
    st.past.push(...produced.map((x) => ({ strategyName: x.strategyName, signalType: x.signalType, timestamp: x.timestamp, price: x.price, asset: x.asset })));
    for (const b of group) {
      const agg = aggregateAssetSignals(produced.filter((x) => x.asset === b.asset), { regime: detectRegime(input.data, b.asset, time), records }, input.aggregation);
      if (!agg) continue;
      const held = st.book.positions[b.asset]?.quantity ?? 0;
      if (agg.signalType === 'SHORT' && !c.allowShort && held <= 0) continue;
      const series = input.data.prices[b.asset];
      const close = series.close[b.index];
      // Sized and protected at the signal's price, as the paper-trading saga does.
      const size = sizeOrder(st, input, agg, agg.price);
      if (!size) { st.rejections += 1; continue; }
      const side: Side = agg.signalType === 'LONG' ? 'BUY' : 'SELL';
      // Without shorting, a SHORT closes the long: exactly the quantity held.
      const closeOnly = agg.signalType === 'SHORT' && !c.allowShort ? held : undefined;
      if (c.fillAt === 'close') {
        fillInto(st, c, b.asset, side, closeOnly ?? units(size.notional / close), close, (series.high[b.index] - series.low[b.index]) / close, time, 'signal');
        if (c.protective && st.book.positions[b.asset]?.quantity) st.protection[b.asset] = { stop: size.stop, target: size.target };
      } else {
        st.pending.push({ asset: b.asset, side, notional: size.notional, quantity: closeOnly, stop: size.stop, target: size.target });
      }
    }

    const eq = bookEquity(st.book, st.marks);
    st.peak = Math.max(st.peak, eq);
    if (Object.values(st.book.positions).some((p) => p.quantity !== 0)) st.exposedSteps += 1;
    st.equityTime.push(time);
    st.equityValue.push(eq);
  }
  return st;
}

/** Closes what is open (when the conventions say so) and computes the results. */
export function finish(input: BacktestInput, st: EngineState): BacktestResult {
  if (input.conventions.closeAtEnd) {
    for (const p of Object.values(st.book.positions)) {
      if (p.quantity === 0) continue;
      fillInto(st, input.conventions, p.asset, p.quantity > 0 ? 'SELL' : 'BUY', Math.abs(p.quantity), st.marks[p.asset], 0, st.equityTime.at(-1) ?? input.to, 'end');
    }
    if (st.equityValue.length) st.equityValue[st.equityValue.length - 1] = bookEquity(st.book, st.marks);
  }
  const closed: ClosedTrade[] = st.trades.filter((t) => t.exitTime !== null).map((t) => ({ pnl: t.pnl }));
  const curve = [{ timestamp: (st.equityTime[0] ?? input.from) - 1, equity: input.initialCapital },
    ...st.equityTime.map((timestamp, k) => ({ timestamp, equity: st.equityValue[k] }))];
  const firstClose = input.assets.map((a) => input.data.prices[a]).map((s) => s.close[s.time.findIndex((t) => t >= input.from)]);
  const lastClose = input.assets.map((a) => st.marks[a]);
  const buyAndHold = firstClose.every((x) => x > 0) && lastClose.every((x) => x > 0)
    ? lastClose.reduce((sum, x, k) => sum + x / firstClose[k], 0) / input.assets.length - 1 : null;
  return {
    equity: { time: Float64Array.from(st.equityTime), value: Float64Array.from(st.equityValue) },
    fills: st.fills,
    trades: st.trades,
    metrics: performanceMetrics(curve, closed, { periodsPerYear: 365 }),
    buyAndHoldReturn: buyAndHold,
    exposureTime: st.equityTime.length ? st.exposedSteps / st.equityTime.length : 0,
    rejections: st.rejections,
    bars: st.cursor,
  };
}

/** The whole replay in one call. */
export function runBacktest(input: BacktestInput): BacktestResult {
  const bars = eventQueue(input);
  return finish(input, advance(input, bars, initialState(input)));
}
