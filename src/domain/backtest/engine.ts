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
 * Event-driven replay on the live decision code: at each bar close (all assets, in time order) the
 * same strategies, aggregation, risk module, fill model and accounting as paper trading run on data
 * known at that moment. Orders made at a close fill at the next bar's open (or that close).
 */
export function runBacktest(input: BacktestInput, onProgress?: (barsDone: number, barsTotal: number) => void): BacktestResult {
  const c = input.conventions;
  const bars: Bar[] = [];
  for (const asset of input.assets) {
    const s = input.data.prices[asset];
    if (!s) throw new Error(`no price data for ${asset}`);
    s.time.forEach((time, index) => { if (time >= input.from && time <= input.to) bars.push({ asset, index, time }); });
  }
  bars.sort((a, b) => a.time - b.time || a.asset.localeCompare(b.asset));

  let book: Book = newBook(input.initialCapital);
  let fillSeq = 0;
  const marks: Record<string, number> = {};
  const fills: BacktestFill[] = [];
  const trades: BacktestTrade[] = [];
  const openTrade: Record<string, BacktestTrade> = {};
  const protection: Record<string, { stop: number | null; target: number | null }> = {};
  const pending: Pending[] = [];
  const past: PastSignal[] = [];
  const equityTime: number[] = [];
  const equityValue: number[] = [];
  let peak = input.initialCapital;
  let dayStart = input.initialCapital;
  let day = -1;
  let exposedSteps = 0;
  let rejections = 0;

  const fill = (asset: string, side: Side, quantity: number, reference: number, volatility: number, time: number, reason: BacktestFill['reason']) => {
    if (!(quantity > 0)) return;
    const f = marketFill(side, quantity, reference, volatility, c.fillModel);
    const before = book.positions[asset]?.quantity ?? 0;
    const effect = applyFill(book, { id: `bt${++fillSeq}`, asset, side, quantity, price: f.price, fee: f.fee, timestamp: time });
    book = effect.book;
    fills.push({ time, asset, side, quantity, price: f.price, fee: f.fee, slippage: f.slippageCost, reason, realized: effect.realized });
    const after = effect.after.quantity;
    // The part of this fill that reduced the open trade; the rest (if any) opens the next one.
    const closingShare = effect.closedQuantity / quantity;
    const flippedOrFlat = before !== 0 && (after === 0 || Math.sign(after) !== Math.sign(before));
    const t = openTrade[asset];
    if (t) {
      t.fees += f.fee * (effect.closedQuantity > 0 ? closingShare : 1);
      t.grossPnl += effect.realized;
      if (flippedOrFlat) {
        t.exitTime = time;
        t.exitPrice = f.price;
        t.pnl = t.grossPnl - t.fees;
        t.returnPct = t.pnl / (t.entryPrice * t.quantity);
        delete openTrade[asset];
        delete protection[asset];
      } else if (Math.abs(after) > t.quantity) {
        t.quantity = Math.abs(after);
        t.entryPrice = effect.after.averagePrice;
      }
    }
    if (after !== 0 && (before === 0 || flippedOrFlat)) {
      const trade: BacktestTrade = {
        asset, direction: after > 0 ? 'LONG' : 'SHORT', entryTime: time, entryPrice: effect.after.averagePrice, exitTime: null, exitPrice: null,
        quantity: Math.abs(after), fees: f.fee * (1 - closingShare), grossPnl: 0, pnl: 0, returnPct: 0,
      };
      openTrade[asset] = trade;
      trades.push(trade);
    }
  };

  const sized = (s: TradingSignal, price: number): { notional: number; stop: number | null; target: number | null } | undefined => {
    const equityNow = bookEquity(book, marks);
    if (c.sizing.kind === 'risk') {
      const dd = peak > 0 ? 1 - equityNow / peak : 0;
      const exposures = Object.values(book.positions).filter((p) => p.quantity !== 0)
        .map((p) => ({ asset: p.asset, exposure: Math.abs(p.quantity) * (marks[p.asset] ?? p.averagePrice) }));
      const a = assessRisk({ signalId: `${s.asset}-${s.timestamp}`, asset: s.asset, signalType: s.signalType, price, confidence: s.confidence },
        { totalEquity: equityNow, currentDrawdown: dd, dailyPnl: equityNow - dayStart, positions: exposures }, input.risk, () => 0);
      if (!a.isApproved) return undefined;
      return { notional: a.recommendedPositionSize, stop: a.stopLossPrice, target: a.takeProfitPrice };
    }
    const notional = c.sizing.kind === 'fixed_fraction' ? equityNow * c.sizing.fraction : s.signalType === 'LONG' ? Math.max(book.cash, 0) : equityNow;
    const stop = stopLossPrice(s.signalType, price, input.risk);
    return { notional, stop, target: takeProfitPrice(s.signalType, price, stop, input.risk) };
  };

  const units = (q: number) => (c.units === 'whole' ? Math.floor(q + 1e-9) : q);

  for (let i = 0; i < bars.length;) {
    const time = bars[i].time;
    const group: Bar[] = [];
    while (i < bars.length && bars[i].time === time) group.push(bars[i++]);

    // MarketEvent: fills waiting for this bar's open, then stops and targets against its range.
    for (const b of group) {
      const s = input.data.prices[b.asset];
      const bar = { open: s.open[b.index], high: s.high[b.index], low: s.low[b.index], close: s.close[b.index] };
      const range = (bar.high - bar.low) / bar.close;
      for (const p of pending.filter((x) => x.asset === b.asset)) {
        fill(p.asset, p.side, p.quantity ?? units(p.notional / bar.open), bar.open, range, time, 'signal');
        if (c.protective && book.positions[p.asset]?.quantity) protection[p.asset] = { stop: p.stop, target: p.target };
      }
      pending.splice(0, pending.length, ...pending.filter((x) => x.asset !== b.asset));
      const q = book.positions[b.asset]?.quantity ?? 0;
      const prot = protection[b.asset];
      if (q !== 0 && prot) {
        const trigger = protectiveTrigger(q > 0 ? 'LONG' : 'SHORT', prot.stop, prot.target, bar);
        if (trigger) fill(b.asset, q > 0 ? 'SELL' : 'BUY', Math.abs(q), trigger.price, range, time, trigger.kind);
      }
      marks[b.asset] = bar.close;
    }

    const today = Math.floor((time - 1) / DAY_MS);
    if (today !== day) { day = today; dayStart = bookEquity(book, marks); }

    // SignalEvent → OrderEvent: the live decision path at this close.
    const produced: TradingSignal[] = [];
    for (const strategy of input.strategies) {
      produced.push(...strategy.generateSignals(strategy.analyze(input.data, time)).filter((s) => group.some((b) => b.asset === s.asset)));
    }
    const records = trackRecord(past, input.data, time, input.aggregation.trackRecordHorizonDays * DAY_MS);
    past.push(...produced);
    for (const b of group) {
      const agg = aggregateAssetSignals(produced.filter((s) => s.asset === b.asset), { regime: detectRegime(input.data, b.asset, time), records }, input.aggregation);
      if (!agg) continue;
      const held = book.positions[b.asset]?.quantity ?? 0;
      if (agg.signalType === 'SHORT' && !c.allowShort && held <= 0) continue;
      const close = input.data.prices[b.asset].close[b.index];
      const size = sized(agg, close);
      if (!size) { rejections += 1; continue; }
      const side: Side = agg.signalType === 'LONG' ? 'BUY' : 'SELL';
      // Without shorting, a SHORT closes the long: exactly the quantity held.
      const closeOnly = agg.signalType === 'SHORT' && !c.allowShort ? held : undefined;
      if (c.fillAt === 'close') {
        const range = (input.data.prices[b.asset].high[b.index] - input.data.prices[b.asset].low[b.index]) / close;
        fill(b.asset, side, closeOnly ?? units(size.notional / close), close, range, time, 'signal');
        if (c.protective && book.positions[b.asset]?.quantity) protection[b.asset] = { stop: size.stop, target: size.target };
      } else {
        pending.push({ asset: b.asset, side, notional: size.notional, quantity: closeOnly, stop: size.stop, target: size.target });
      }
    }

    const eq = bookEquity(book, marks);
    peak = Math.max(peak, eq);
    if (Object.values(book.positions).some((p) => p.quantity !== 0)) exposedSteps += 1;
    equityTime.push(time);
    equityValue.push(eq);
    onProgress?.(i, bars.length);
  }

  if (c.closeAtEnd) {
    for (const p of Object.values(book.positions)) {
      if (p.quantity === 0) continue;
      fill(p.asset, p.quantity > 0 ? 'SELL' : 'BUY', Math.abs(p.quantity), marks[p.asset], 0, equityTime.at(-1) ?? input.to, 'end');
    }
    if (equityValue.length) equityValue[equityValue.length - 1] = bookEquity(book, marks);
  }

  const closed: ClosedTrade[] = trades.filter((t) => t.exitTime !== null).map((t) => ({ pnl: t.pnl }));
  const curve = [{ timestamp: (equityTime[0] ?? input.from) - 1, equity: input.initialCapital },
    ...equityTime.map((timestamp, k) => ({ timestamp, equity: equityValue[k] }))];
  const firstClose = input.assets.map((a) => input.data.prices[a]).map((s) => s.close[s.time.findIndex((t) => t >= input.from)]);
  const lastClose = input.assets.map((a) => marks[a]);
  const bh = firstClose.every((x) => x > 0) && lastClose.every((x) => x > 0)
    ? lastClose.reduce((s, x, k) => s + x / firstClose[k], 0) / input.assets.length - 1 : null;
  return {
    equity: { time: Float64Array.from(equityTime), value: Float64Array.from(equityValue) },
    fills,
    trades,
    metrics: performanceMetrics(curve, closed, { periodsPerYear: 365 }),
    buyAndHoldReturn: bh,
    exposureTime: equityTime.length ? exposedSteps / equityTime.length : 0,
    rejections,
    bars: bars.length,
  };
}
