import { aggregateAssetSignals, type AggregationSettings, type PastSignal, RegimeTracker, trackRecord } from '../aggregation';
import { type Bar, type FillModel, marketFill, protectiveTrigger } from '../fills';
import { type ClosedTrade, type PerformanceMetrics, performanceMetrics } from '../metrics';
import { applyFill, type Book, equity as bookEquity, hasOpenPosition, newBook, type Side } from '../portfolio';
import { assessRisk, type RiskConfig, stopLossPrice, takeProfitPrice } from '../risk';
import { knownCount, type MarketData, type PriceSeries, type SignalType, type TradingSignal } from '../signals';
import type { AssetStream, Strategy } from '../strategies/framework';
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
  /** What the metrics were annualised with: periods (bars) per year. */
  periodsPerYear: number;
  buyAndHoldReturn: number | null;
  /** Share of decision times with an open position. */
  exposureTime: number;
  rejections: number;
  bars: number;
}

/**
 * The event queue: the bars of the traded assets inside the window in time order (then asset name),
 * as typed arrays: `asset[k]` indexes `input.assets`, `index[k]` is the bar's row in that series, `time[k]` its close.
 */
export interface EventQueue {
  length: number;
  asset: Uint16Array;
  index: Int32Array;
  time: Float64Array;
}

/** An order waiting for the next open: a notional to convert at that price, or an exact quantity to close. */
interface Pending { asset: string; side: Side; notional: number; quantity?: number; stop: number | null; target: number | null }

/** The equity curve so far, a point per close, in typed columns grown by doubling: `length` points are used. */
export interface EquityColumns {
  length: number;
  time: Float64Array;
  value: Float64Array;
}

/**
 * Everything the replay has built so far. `checkpointOf` turns it into plain JSON: a long backtest
 * checkpoints that (heartbeat details) and a restarted worker continues from it (`restoreState`)
 * instead of starting over.
 */
export interface EngineState {
  /** Index of the next bar to process in the event queue. */
  cursor: number;
  book: Book;
  fillSeq: number;
  marks: Record<string, number>;
  fills: BacktestFill[];
  trades: BacktestTrade[];
  /** Net P&L of every closed trade, in closing order: the trade statistics, even after `drainClosedTrades`. */
  closedPnl: number[];
  /** Asset → index in `trades` of its open trade. */
  openTrade: Record<string, number>;
  protection: Record<string, { stop: number | null; target: number | null }>;
  pending: Pending[];
  past: PastSignal[];
  equity: EquityColumns;
  peak: number;
  dayStart: number;
  day: number;
  exposedSteps: number;
  rejections: number;
}

/** Merges the assets' bars inside [from, to] by close time; ties go to the asset first by name. */
export function eventQueue(input: BacktestInput): EventQueue {
  const series = input.assets.map((asset) => {
    const s = input.data.prices[asset];
    if (!s) throw new Error(`no price data for ${asset}`);
    return s;
  });
  const byName = input.assets.map((_, a) => a).sort((a, b) => input.assets[a].localeCompare(input.assets[b]));
  const times = byName.map((a) => series[a].time);
  const next = byName.map((a) => knownCount(series[a].time, input.from - 1));
  const end = byName.map((a) => knownCount(series[a].time, input.to));
  const length = next.reduce((sum, n, k) => sum + end[k] - n, 0);
  const queue: EventQueue = { length, asset: new Uint16Array(length), index: new Int32Array(length), time: new Float64Array(length) };
  for (let q = 0; q < length; q++) {
    // The earliest next bar; on a tie the first in name order wins.
    let best = -1;
    let bestTime = Infinity;
    for (let k = 0; k < times.length; k++) {
      if (next[k] < end[k] && times[k][next[k]] < bestTime) { best = k; bestTime = times[k][next[k]]; }
    }
    queue.asset[q] = byName[best];
    queue.time[q] = bestTime;
    queue.index[q] = next[best]++;
  }
  return queue;
}

/**
 * What the replay keeps beside its JSON state and can rebuild from the data: each asset's regime
 * tracker and strategy streams, fed up to the bar being processed. A state restored from a
 * checkpoint gets a fresh one, fed from the start of the history on its first bar.
 */
interface Runtime {
  series: PriceSeries[];
  regimes: RegimeTracker[];
  /** [strategy][asset]: the stream, or undefined when the strategy has none or does not trade the asset. */
  streams: (AssetStream | undefined)[][];
  /** [strategy][asset]: whether the stream signalled at the asset's bar being processed. */
  signalled: Uint8Array[];
  /** Per asset: the last row fed to its tracker and streams. */
  fed: Int32Array;
  /** Per asset: the last close (NaN before the first) and the book's quantity, kept in step with `st.marks` and `st.book`. */
  mark: Float64Array;
  quantity: Float64Array;
  exposed: boolean;
  /** How many of `st.past` (oldest first) have left the track-record window. */
  pastExpired: number;
  /** Reused for the protective check, so a bar costs no allocation. */
  bar: Bar;
}

const runtimes = new WeakMap<EngineState, Runtime>();

function runtimeOf(input: BacktestInput, st: EngineState): Runtime {
  let rt = runtimes.get(st);
  if (!rt) {
    rt = {
      series: input.assets.map((a) => input.data.prices[a]),
      regimes: input.assets.map(() => new RegimeTracker()),
      streams: input.strategies.map((s) => input.assets.map((a) => (s.openStream && s.config.assets.includes(a) ? s.openStream() : undefined))),
      signalled: input.strategies.map(() => new Uint8Array(input.assets.length)),
      fed: new Int32Array(input.assets.length).fill(-1),
      mark: Float64Array.from(input.assets, (a) => st.marks[a] ?? Number.NaN),
      quantity: Float64Array.from(input.assets, (a) => st.book.positions[a]?.quantity ?? 0),
      exposed: hasOpenPosition(st.book),
      pastExpired: 0,
      bar: { open: 0, high: 0, low: 0, close: 0 },
    };
    runtimes.set(st, rt);
  }
  return rt;
}

/** Feeds an asset's closes up to row `index` to its tracker and streams, noting which streams signal there. */
function feed(rt: Runtime, a: number, index: number) {
  const close = rt.series[a].close;
  for (let i = rt.fed[a] + 1; i <= index; i++) {
    rt.regimes[a].push(close[i]);
    for (let k = 0; k < rt.streams.length; k++) {
      const stream = rt.streams[k][a];
      if (stream) rt.signalled[k][a] = stream.push(close[i]) ? 1 : 0;
    }
  }
  rt.fed[a] = index;
}

export function initialState(input: BacktestInput): EngineState {
  return {
    cursor: 0, book: newBook(input.initialCapital), fillSeq: 0, marks: {}, fills: [], trades: [], closedPnl: [], openTrade: {}, protection: {}, pending: [], past: [],
    equity: { length: 0, time: new Float64Array(1024), value: new Float64Array(1024) }, peak: input.initialCapital, dayStart: input.initialCapital, day: -1, exposedSteps: 0, rejections: 0,
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
      st.closedPnl.push(t.pnl);
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
 * its range, then the live decision path (strategies → aggregation → risk → order). A bar without a
 * signal allocates nothing: the strategies and regimes update incrementally.
 */
export function advance(input: BacktestInput, queue: EventQueue, st: EngineState, maxBars = Infinity): EngineState {
  const c = input.conventions;
  const rt = runtimeOf(input, st);
  const units = (q: number) => (c.units === 'whole' ? Math.floor(q + 1e-9) : q);
  const stopAt = Math.min(queue.length, st.cursor + maxBars);
  while (st.cursor < stopAt) {
    const first = st.cursor;
    const time = queue.time[first];
    let end = first;
    while (end < queue.length && queue.time[end] === time) end++;
    st.cursor = end;

    for (let k = first; k < end; k++) {
      const a = queue.asset[k];
      const i = queue.index[k];
      const s = rt.series[a];
      const bar = rt.bar;
      bar.open = s.open[i]; bar.high = s.high[i]; bar.low = s.low[i]; bar.close = s.close[i];
      const range = (bar.high - bar.low) / bar.close;
      if (st.pending.length) fillPending(input, rt, st, a, range, time, units);
      const q = rt.quantity[a];
      const prot = q !== 0 ? st.protection[input.assets[a]] : undefined;
      if (prot) {
        const trigger = protectiveTrigger(q > 0 ? 'LONG' : 'SHORT', prot.stop, prot.target, bar);
        if (trigger) fill(input, rt, st, a, q > 0 ? 'SELL' : 'BUY', Math.abs(q), trigger.price, range, time, trigger.kind);
      }
      rt.mark[a] = bar.close;
      feed(rt, a, i);
    }

    const today = Math.floor((time - 1) / DAY_MS);
    if (today !== st.day) { st.day = today; st.dayStart = markedEquity(rt, st); }

    let produced: TradingSignal[] | undefined;
    for (let k = 0; k < input.strategies.length; k++) {
      const strategy = input.strategies[k];
      if (!strategy.openStream) {
        const inGroup = strategy.generateSignals(strategy.analyze(input.data, time)).filter((x) => groupHas(input, queue, first, end, x.asset));
        if (inGroup.length) (produced ??= []).push(...inGroup);
        continue;
      }
      for (let g = first; g < end; g++) {
        const a = queue.asset[g];
        const stream = rt.streams[k][a];
        if (!stream || !rt.signalled[k][a]) continue;
        (produced ??= []).push(...strategy.generateSignals({ strategy: strategy.name, asOf: time, assets: [stream.analysis(input.assets[a])] }));
      }
    }
    if (produced) {
      syncMarks(input, rt, st);
      decide(input, queue, st, rt, first, end, time, produced, units);
    }

    const eq = markedEquity(rt, st);
    if (eq > st.peak) st.peak = eq;
    if (rt.exposed) st.exposedSteps += 1;
    appendEquity(st.equity, time, eq);
  }
  syncMarks(input, rt, st);
  return st;
}

function appendEquity(curve: EquityColumns, time: number, value: number) {
  if (curve.length === curve.time.length) {
    const time2 = new Float64Array(curve.time.length * 2);
    const value2 = new Float64Array(curve.time.length * 2);
    time2.set(curve.time);
    value2.set(curve.value);
    curve.time = time2;
    curve.value = value2;
  }
  curve.time[curve.length] = time;
  curve.value[curve.length] = value;
  curve.length += 1;
}

/** The last marked equity, or undefined before the first close. */
export function latestEquity(st: EngineState): number | undefined {
  return st.equity.length ? st.equity.value[st.equity.length - 1] : undefined;
}

/**
 * Takes the closed trades out of the state (open ones stay, still tracked): a long run stores them
 * as it goes, so neither memory nor checkpoints grow with the trade count.
 */
export function drainClosedTrades(st: EngineState): BacktestTrade[] {
  const closed = st.trades.filter((t) => t.exitTime !== null);
  if (closed.length === 0) return closed;
  const open = st.trades.filter((t) => t.exitTime === null);
  const indexOf = new Map(open.map((t, k) => [t, k]));
  st.openTrade = Object.fromEntries(Object.entries(st.openTrade).map(([asset, k]) => [asset, indexOf.get(st.trades[k])!]));
  st.trades = open;
  return closed;
}

/** Takes the fills out of the state (for callers that keep only trades). */
export function drainFills(st: EngineState): BacktestFill[] {
  const fills = st.fills;
  st.fills = [];
  return fills;
}

export type EngineCheckpoint = Omit<EngineState, 'equity'> & { equity: { time: number[]; value: number[] } };

/**
 * The state as plain JSON (typed columns as arrays), for a heartbeat checkpoint. With `curveFrom`,
 * only the equity points from that index on: a caller that stores the curve as it goes keeps the
 * checkpoint small, and hands the stored points back to `restoreState`.
 */
export function checkpointOf(st: EngineState, curveFrom = 0): EngineCheckpoint {
  const points = (c: Float64Array) => Array.from(c.subarray(curveFrom, st.equity.length));
  return { ...st, equity: { time: points(st.equity.time), value: points(st.equity.value) } };
}

/** The state a checkpoint was taken of; `earlier` are the equity points left out of it (`curveFrom`). */
export function restoreState(checkpoint: EngineCheckpoint, earlier: { time: number[]; value: number[] } = { time: [], value: [] }): EngineState {
  const n = earlier.time.length + checkpoint.equity.time.length;
  const capacity = Math.max(1024, 2 * n);
  const equity = { length: n, time: new Float64Array(capacity), value: new Float64Array(capacity) };
  equity.time.set(earlier.time);
  equity.time.set(checkpoint.equity.time, earlier.time.length);
  equity.value.set(earlier.value);
  equity.value.set(checkpoint.equity.value, earlier.time.length);
  return { ...checkpoint, equity };
}

/** Cash + Σ quantity × mark, as `equity` in the portfolio module, over the runtime's typed arrays. */
function markedEquity(rt: Runtime, st: EngineState): number {
  let value = st.book.cash;
  for (let a = 0; a < rt.quantity.length; a++) if (rt.quantity[a] !== 0) value += rt.quantity[a] * rt.mark[a];
  return value;
}

function syncMarks(input: BacktestInput, rt: Runtime, st: EngineState) {
  for (let a = 0; a < rt.mark.length; a++) if (!Number.isNaN(rt.mark[a])) st.marks[input.assets[a]] = rt.mark[a];
}

/** A fill through the portfolio book, mirrored into the runtime's quantities. */
function fill(input: BacktestInput, rt: Runtime, st: EngineState, a: number, side: Side, quantity: number, reference: number, volatility: number, time: number, reason: BacktestFill['reason']) {
  const asset = input.assets[a];
  fillInto(st, input.conventions, asset, side, quantity, reference, volatility, time, reason);
  rt.quantity[a] = st.book.positions[asset]?.quantity ?? 0;
  rt.exposed = rt.quantity.some((q) => q !== 0);
}

/** Orders decided at an earlier close fill at this bar's open. */
function fillPending(input: BacktestInput, rt: Runtime, st: EngineState, a: number, range: number, time: number, units: (q: number) => number) {
  const asset = input.assets[a];
  const open = rt.bar.open;
  for (const p of st.pending.filter((x) => x.asset === asset)) {
    fill(input, rt, st, a, p.side, p.quantity ?? units(p.notional / open), open, range, time, 'signal');
    if (input.conventions.protective && rt.quantity[a] !== 0) st.protection[asset] = { stop: p.stop, target: p.target };
  }
  st.pending = st.pending.filter((x) => x.asset !== asset);
}

function groupHas(input: BacktestInput, queue: EventQueue, first: number, end: number, asset: string): boolean {
  for (let g = first; g < end; g++) if (input.assets[queue.asset[g]] === asset) return true;
  return false;
}

/** The decision path at one close with signals: aggregation per asset, then risk and the order. */
function decide(input: BacktestInput, queue: EventQueue, st: EngineState, rt: Runtime, first: number, end: number, time: number,
  produced: TradingSignal[], units: (q: number) => number) {
  const c = input.conventions;
  const lookback = input.historyDays * DAY_MS;
  const records = () => trackRecord(st.past, input.data, time, input.aggregation.trackRecordHorizonDays * DAY_MS, lookback);
  for (let g = first; g < end; g++) {
    const a = queue.asset[g];
    const asset = input.assets[a];
    const own = produced.filter((x) => x.asset === asset);
    if (!own.length) continue;
    const agg = aggregateAssetSignals(own, { regime: rt.regimes[a].regime(), records }, input.aggregation);
    if (!agg) continue;
    const held = rt.quantity[a];
    if (agg.signalType === 'SHORT' && !c.allowShort && held <= 0) continue;
    const s = rt.series[a];
    const i = queue.index[g];
    const close = s.close[i];
    // Sized and protected at the signal's price, as the paper-trading saga does.
    const size = sizeOrder(st, input, agg, agg.price);
    if (!size) { st.rejections += 1; continue; }
    const side: Side = agg.signalType === 'LONG' ? 'BUY' : 'SELL';
    // Without shorting, a SHORT closes the long: exactly the quantity held.
    const closeOnly = agg.signalType === 'SHORT' && !c.allowShort ? held : undefined;
    if (c.fillAt === 'close') {
      fill(input, rt, st, a, side, closeOnly ?? units(size.notional / close), close, (s.high[i] - s.low[i]) / close, time, 'signal');
      if (c.protective && rt.quantity[a] !== 0) st.protection[asset] = { stop: size.stop, target: size.target };
    } else {
      st.pending.push({ asset, side, notional: size.notional, quantity: closeOnly, stop: size.stop, target: size.target });
    }
  }
  // Older signals no longer count towards track records (the same rolling window as live; trackRecord
  // skips them): dropped once they are half the list, so pruning costs O(1) per signal.
  const cutoff = time - lookback;
  while (rt.pastExpired < st.past.length && st.past[rt.pastExpired].timestamp < cutoff) rt.pastExpired++;
  if (rt.pastExpired * 2 > st.past.length) {
    st.past.splice(0, rt.pastExpired);
    rt.pastExpired = 0;
  }
  for (const x of produced) st.past.push({ strategyName: x.strategyName, signalType: x.signalType, timestamp: x.timestamp, price: x.price, asset: x.asset });
}

/** Closes what is open (when the conventions say so) and computes the results. */
export function finish(input: BacktestInput, st: EngineState): BacktestResult {
  const n = st.equity.length;
  if (input.conventions.closeAtEnd) {
    for (const p of Object.values(st.book.positions)) {
      if (p.quantity === 0) continue;
      fillInto(st, input.conventions, p.asset, p.quantity > 0 ? 'SELL' : 'BUY', Math.abs(p.quantity), st.marks[p.asset], 0, n ? st.equity.time[n - 1] : input.to, 'end');
    }
    if (n) st.equity.value[n - 1] = bookEquity(st.book, st.marks);
  }
  const closed: ClosedTrade[] = st.closedPnl.map((pnl) => ({ pnl }));
  // The curve starts at the capital just before the first close.
  const curve = { time: new Float64Array(n + 1), equity: new Float64Array(n + 1) };
  curve.time[0] = (n ? st.equity.time[0] : input.from) - 1;
  curve.equity[0] = input.initialCapital;
  curve.time.set(st.equity.time.subarray(0, n), 1);
  curve.equity.set(st.equity.value.subarray(0, n), 1);
  const periodsPerYear = periodsPerYearOf(curve.time.subarray(1));
  const firstClose = input.assets.map((a) => input.data.prices[a]).map((s) => s.close[knownCount(s.time, input.from - 1)]);
  const lastClose = input.assets.map((a) => st.marks[a]);
  const buyAndHold = firstClose.every((x) => x > 0) && lastClose.every((x) => x > 0)
    ? lastClose.reduce((sum, x, k) => sum + x / firstClose[k], 0) / input.assets.length - 1 : null;
  return {
    equity: { time: curve.time.subarray(1), value: curve.equity.subarray(1) },
    fills: st.fills,
    trades: st.trades,
    metrics: performanceMetrics(curve, closed, { periodsPerYear }),
    periodsPerYear,
    buyAndHoldReturn: buyAndHold,
    exposureTime: n ? st.exposedSteps / n : 0,
    rejections: st.rejections,
    bars: st.cursor,
  };
}

/** Metrics are annualised by the bar interval: the median spacing of the first closes (daily bars: 365). */
function periodsPerYearOf(time: Float64Array): number {
  const steps = time.slice(1, 1001).map((t, k) => t - time[k]).sort();
  return steps.length ? Math.round((365 * DAY_MS) / steps[Math.floor(steps.length / 2)]) : 365;
}

/** The whole replay in one call. */
export function runBacktest(input: BacktestInput): BacktestResult {
  return finish(input, advance(input, eventQueue(input), initialState(input)));
}
