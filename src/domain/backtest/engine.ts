import { aggregateAssetSignals, type AggregationSettings, type PastSignal, pooledRecord, RegimeTracker, TrackRecordWindow } from '../aggregation';
import { conditionsOf, ConditionsTracker, type MarketConditions } from '../market-conditions';
import type { Bar, FillModel } from '../fills';
import { type PerformanceMetrics, performanceMetrics } from '../metrics';
import { CurveValues } from '../curve-values';
import { equity as bookEquity, hasOpenPosition, type Side } from '../portfolio';
import type { RiskConfig } from '../risk';
import { knownCount, type MarketData, type PriceSeries, type TradingSignal } from '../signals';
import type { AssetStream, Strategy } from '../strategies/framework';
import {
  fillPrice, markToMarket, newTradingState, onBarClose, onExitFill, onFill, onSignal, type Order, type OrderPolicy, orderQuantity,
  protect, type ProtectiveExit, type RejectionRule, type Sizing, type TradeSignal, type TradingRules, type TradingState, utcDayOf,
} from '../trading/core';
import { BAR_MINUTES, DAY_MS, MINUTE_MS } from '../types';
import { type BacktestFill, type BacktestTrade, FillLog, TradeLog } from './logs';

export type { BacktestFill, BacktestTrade } from './logs';

/**
 * Execution conventions: explicit options, never hidden choices. The defaults are paper trading's:
 * fill at the next bar's open, the paper fill model, risk-module sizing, fractional units, shorts
 * allowed, protective stop and target (trailing and cooldown as configured), open positions closed
 * at the last bar. The trading rules themselves are the core's (src/domain/trading).
 */
export interface BacktestConventions {
  fillAt: 'next_open' | 'close';
  fillModel: FillModel;
  sizing: Sizing;
  units: 'fractional' | 'whole';
  allowShort: boolean;
  protective: boolean;
  closeAtEnd: boolean;
  /** Trailing stop distance (fraction) or null for fixed stops; absent: the risk configuration's. */
  trailingStopPct?: number | null;
  /** Re-entry cooldown after a stop-out, in minutes; absent: the risk configuration's. */
  stopCooldownMinutes?: number;
  /** Periods per year the metrics are annualised with; absent: from the calendar of the data. */
  periodsPerYear?: number;
}

export interface BacktestInput {
  /** The replayed bars (and the track records' prices). */
  data: MarketData;
  /** The replayed bar's length. When set, a strategy configured on a longer bar decides only when one of its bars closes, and the regime follows daily closes (as live). */
  barMinutes?: number;
  /** Market data at other bar sizes (minutes → data), for strategies that decide on a longer bar by looking at the whole history. */
  dataByBar?: Record<number, MarketData>;
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

export interface BacktestResult {
  equity: { time: Float64Array; value: CurveValues };
  fills: FillLog;
  trades: TradeLog;
  metrics: PerformanceMetrics;
  /** What the metrics were annualised with: periods (bars) per year. */
  periodsPerYear: number;
  buyAndHoldReturn: number | null;
  /** Share of decision times with an open position. */
  exposureTime: number;
  rejections: number;
  /** Rejected signals by the rule that refused them. */
  rejectionsByRule: Partial<Record<RejectionRule, number>>;
  /** Trades whose size a rule cut (the maximum position size capping the blended size). */
  shrunkByRule: Partial<Record<'positionSize', number>>;
  bars: number;
}

/**
 * The event queue: the bars of the traded assets inside the window in time order (then asset name).
 * Its `length` entries each name an asset (an index into `input.assets`, a byte up to 256 assets)
 * and stand for that asset's next bar: an asset's bars come in the order of its series from row
 * `start[asset]`, so the replay counts its rows instead of storing them. `steps` counts the
 * distinct close times: the curve's points.
 */
export interface EventQueue {
  length: number;
  steps: number;
  /**
   * Every close has a bar of every asset (`sameCloseTimes`): the queue is the name order, close after
   * close, and `asset` holds that order once (one close's entries), not once per close.
   */
  aligned: boolean;
  /** The entries' assets; an aligned queue's one close's. */
  asset: Uint8Array | Uint16Array;
  start: Int32Array;
}

/** The asset of queue entry `k` in the close whose entries start at `first` (no division for an aligned queue). */
const closeAsset = (queue: EventQueue, first: number, k: number) => queue.asset[queue.aligned ? k - first : k];

/**
 * The equity curve so far, a point per close: its values in blocks, a flat stretch's kept as one
 * value (`CurveValues`), and its times in a column sized to the queue's steps up front, whose first
 * `value.length` are the points'. An aligned queue's `time` may be a view of its first asset's close
 * times (`shareAlignedTimes`): read it, never write it.
 */
export interface EquityColumns {
  time: Float64Array;
  value: CurveValues;
}

/**
 * Everything the replay has built so far. `checkpointOf` turns it into plain JSON: a long backtest
 * checkpoints that (heartbeat details) and a restarted worker continues from it (`restoreState`)
 * instead of starting over.
 */
export interface EngineState {
  /** Index of the next bar to process in the event queue. */
  cursor: number;
  /** The trading core's state: book, stops and targets, cooldowns, peak and day-start equity. */
  trading: TradingState;
  fillSeq: number;
  marks: Record<string, number>;
  fills: FillLog;
  trades: TradeLog;
  /** Net P&L of every closed trade, in closing order: the trade statistics, even after `drainClosedTrades`. */
  closedPnl: number[];
  /** Asset → index in `trades` of its open trade. */
  openTrade: Record<string, number>;
  /** Orders decided at a close, waiting for the next bar's open. */
  pending: Order[];
  /** The signals still counting towards track records (oldest first): the last of the `pastTotal` made so far. */
  past: PastSignal[];
  /** How many signals the replay has made: `past[0]` is number `pastTotal − past.length` of them (from 0). */
  pastTotal: number;
  equity: EquityColumns;
  exposedSteps: number;
  rejections: Partial<Record<RejectionRule, number>>;
  shrunk: Partial<Record<'positionSize', number>>;
}

/** Merges the assets' bars inside [from, to] by close time; ties go to the asset first by name. */
export function eventQueue(input: BacktestInput): EventQueue {
  const series = input.assets.map((asset) => {
    const s = input.data.prices[asset];
    if (!s) throw new Error(`no price data for ${asset}`);
    return s;
  });
  const byName = Int32Array.from(input.assets.map((_, a) => a).sort((a, b) => input.assets[a].localeCompare(input.assets[b])));
  const times = Array.from(byName, (a) => series[a].time);
  const next = Int32Array.from(times, (t) => knownCount(t, input.from - 1));
  const end = Int32Array.from(times, (t) => knownCount(t, input.to));
  const length = next.reduce((sum, n, k) => sum + end[k] - n, 0);
  const start = new Int32Array(input.assets.length);
  byName.forEach((a, k) => (start[a] = next[k]));
  const entries = (count: number) => (input.assets.length <= 256 ? new Uint8Array(count) : new Uint16Array(count));
  if (byName.length > 0 && sameCloseTimes(times, next, end)) {
    // Every close has a bar of every asset: the queue is the name order, close after close, kept once
    // (ten million entries of two coins written out were 10 MB of fresh pages, ~30 ms of the run).
    const asset = entries(byName.length);
    asset.set(byName);
    return { length, steps: length / byName.length, aligned: true, asset, start };
  }
  const asset = entries(length);
  // Each asset's next bar time in one typed array (Infinity once it has none left). One scan for the
  // earliest time per close, not per bar: every asset with a bar then is taken, in name order (an
  // asset with two bars at one time gives both before the next asset, as a scan per bar would). The
  // loop carries no double from one close to the next and the head is set by branches, not a
  // conditional expression: V8 boxes such doubles in a loop it optimises on the fly, an allocation a bar.
  // Locals throughout (typed arrays, the step count): with plain arrays and the count written to the
  // queue at every close the merge took ~30 % longer.
  const head = Float64Array.from(byName, (_, k) => (next[k] < end[k] ? times[k][next[k]] : Infinity));
  let steps = 0;
  for (let q = 0; q < length; steps++) {
    let earliest = 0;
    for (let k = 1; k < head.length; k++) if (head[k] < head[earliest]) earliest = k;
    const time = head[earliest];
    for (let k = earliest; k < head.length; k++) {
      while (head[k] === time) {
        asset[q++] = byName[k];
        const i = ++next[k];
        if (i < end[k]) head[k] = times[k][i];
        else head[k] = Infinity;
      }
    }
  }
  return { length, steps, aligned: false, asset, start };
}

/**
 * Whether the assets' windows (rows `next[k]` to `end[k]` of `times[k]`) hold the same close times,
 * each once: coins from one source over a range they all cover. One pass over the times, where the
 * merge compares heads and branches at every bar: the queue of ten million bars of two coins took
 * ~135 ms by the merge, ~47 ms this way with its entries written by block copies. Each check one
 * loop over the window, the first coin's rise and the second's times in the same (no double is
 * carried from one step to the next for on-stack replacement to box): the check of those ten
 * million took ~22 ms (~10 ms run again) where calls chunk by chunk took ~32 ms (~14 ms).
 */
function sameCloseTimes(times: ArrayLike<number>[], next: Int32Array, end: Int32Array): boolean {
  const [first, ...others] = times;
  const count = end[0] - next[0];
  if (others.some((_, j) => end[j + 1] - next[j + 1] !== count)) return false;
  if (others.length === 0) return rising(first, next[0], count);
  return risingAlike(first, next[0], others[0], next[1], count) && others.every((t, k) => k === 0 || alike(first, next[0], t, next[k + 1], count));
}

/** Whether `count` times of `time` from row `offset` rise, each after the one before. */
function rising(time: ArrayLike<number>, offset: number, count: number): boolean {
  for (let i = 1; i < count; i++) if (!(time[offset + i] > time[offset + i - 1])) return false;
  return true;
}

/** `rising(a, offA, count)` and `alike(a, offA, b, offB, count)` in one pass. */
function risingAlike(a: ArrayLike<number>, offA: number, b: ArrayLike<number>, offB: number, count: number): boolean {
  for (let i = 1; i < count; i++) if (!(a[offA + i] > a[offA + i - 1]) || b[offB + i] !== a[offA + i]) return false;
  return count === 0 || a[offA] === b[offB];
}

/** Whether `count` times of two windows (from rows `offA` and `offB`) are equal. */
function alike(a: ArrayLike<number>, offA: number, b: ArrayLike<number>, offB: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (a[offA + i] !== b[offB + i]) return false;
  return true;
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
  /** Whether a stream signalled at the close being processed: the strategies' signals are gathered only then (most closes have none). */
  spoke: boolean;
  /** Whether a strategy has no stream: it is asked for its signals at every close it decides on. */
  polled: boolean;
  /** Per asset: the last row fed to its tracker and streams. */
  fed: Int32Array;
  /** Per asset: the row of its next bar in the queue (set on the first `advance`, from the cursor). */
  row?: Int32Array;
  /** The rows of the bars of the close being processed, in queue order. */
  groupRow: Int32Array;
  /** Per asset: the last close (NaN before the first) and the book's quantity, kept in step with `st.marks` and `st.book`. */
  mark: Float64Array;
  quantity: Float64Array;
  exposed: boolean;
  /** How many of `st.past` (oldest first) have left the track-record window. */
  pastExpired: number;
  /** The strategies' track records over `st.past`, kept up to date as the replay advances. */
  records: TrackRecordWindow;
  /** Reused for the protective check, so a bar costs no allocation. */
  bar: Bar;
  /** Per strategy: the length (ms) of the bar it decides on when longer than the replayed one, else 0 (every close). */
  decideEvery: Float64Array;
  /** Feed the regime only at these boundaries (ms; 0: every close). */
  regimeEvery: number;
  /**
   * Where the bars in progress end (see `endsBarAt`): per asset its regime's bar, per strategy and
   * asset the strategy's bar, and per strategy its bar at the closes of the queue.
   */
  regimeEnd: Float64Array;
  decideEnd: Float64Array[];
  closeEnd: Float64Array;
  /**
   * The bar lengths (ms) a quiet stretch of closes stops at the end of (see `passQuietCloses`): the
   * strategies' and the regime's. None when a close is never quiet: a strategy decides or is asked
   * at every close, or the regime's bar is the replayed one.
   */
  quietUntilEndOf: number[];
  /** Each asset's row when the quiet stretch being passed began. */
  quietFrom: Int32Array;
  /** Whether the curve's time column holds the queue's close times already (`shareAlignedTimes`): no close writes it. */
  timesShared?: boolean;
  /** The core's rules and the order policy, as the conventions set them. */
  rules: TradingRules;
  policy: OrderPolicy;
  /** Per asset: its market conditions (daily returns derived once a day), as the risk module sees them. */
  conditions: ConditionsTracker[];
  market: MarketConditions;
}

const runtimes = new WeakMap<EngineState, Runtime>();

function runtimeOf(input: BacktestInput, st: EngineState): Runtime {
  let rt = runtimes.get(st);
  if (!rt) {
    rt = {
      series: input.assets.map((a) => input.data.prices[a]),
      regimes: input.assets.map(() => new RegimeTracker()),
      streams: input.strategies.map((s) => input.assets.map((a) => (s.openStream && s.config.assets.includes(a) ? s.openStream(input.data.macro) : undefined))),
      signalled: input.strategies.map(() => new Uint8Array(input.assets.length)),
      spoke: false,
      polled: input.strategies.some((s) => !s.openStream),
      fed: new Int32Array(input.assets.length).fill(-1),
      groupRow: new Int32Array(input.assets.length),
      mark: Float64Array.from(input.assets, (a) => st.marks[a] ?? Number.NaN),
      quantity: Float64Array.from(input.assets, (a) => st.trading.book.positions[a]?.quantity ?? 0),
      exposed: hasOpenPosition(st.trading.book),
      pastExpired: 0,
      records: new TrackRecordWindow(input.aggregation.trackRecordHorizonDays * DAY_MS, input.historyDays * DAY_MS),
      bar: { open: 0, high: 0, low: 0, close: 0 },
      decideEvery: Float64Array.from(input.strategies, (s) => {
        const own = s.config.bar ? BAR_MINUTES[s.config.bar] : 0;
        return input.barMinutes && own > input.barMinutes ? own * MINUTE_MS : 0;
      }),
      regimeEvery: input.barMinutes && input.barMinutes < BAR_MINUTES['1d'] ? DAY_MS : 0,
      regimeEnd: new Float64Array(input.assets.length).fill(-Infinity),
      decideEnd: input.strategies.map(() => new Float64Array(input.assets.length).fill(-Infinity)),
      closeEnd: new Float64Array(input.strategies.length).fill(-Infinity),
      quietUntilEndOf: [],
      quietFrom: new Int32Array(input.assets.length),
      rules: tradingRules(input),
      policy: orderPolicy(input.conventions),
      conditions: input.assets.map((a) => new ConditionsTracker(input.data.prices[a], input.risk.correlationLookbackDays)),
      market: Object.fromEntries(input.assets.map((a) => [a, conditionsOf([], null)])),
    };
    const ends = [rt.regimeEvery, ...rt.decideEvery];
    if (!rt.polled && !ends.includes(0)) rt.quietUntilEndOf = [...new Set(ends)];
    runtimes.set(st, rt);
  }
  return rt;
}

/**
 * Whether a close time (integer ms) ends a bar of `every` ms (`time % every === 0`), where `ends[j]`
 * is the end of the bar the times asked before under `j` fell in, and those times only grow: one
 * division each time a bar is left behind, where the remainder of two doubles (computed out of line
 * by V8, times being past int32) or a division cost one at every bar.
 */
function endsBarAt(ends: Float64Array, j: number, time: number, every: number): boolean {
  if (time > ends[j]) ends[j] = Math.ceil(time / every) * every;
  return time === ends[j];
}

/**
 * Feeds an asset's closes up to row `index` to its tracker and streams, noting which streams signal
 * there; the close at `index` becomes its mark.
 */
function feed(rt: Runtime, a: number, index: number) {
  const { close, time } = rt.series[a];
  rt.mark[a] = close[index];
  for (let i = rt.fed[a] + 1; i <= index; i++) {
    // A longer bar's close is the close of the last replayed bar inside it: fed when that bar closes.
    if (rt.regimeEvery === 0 || endsBarAt(rt.regimeEnd, a, time[i], rt.regimeEvery)) rt.regimes[a].push(close[i]);
    for (let k = 0; k < rt.streams.length; k++) {
      const stream = rt.streams[k][a];
      if (!stream) continue;
      const every = rt.decideEvery[k];
      const spoke = (every === 0 || endsBarAt(rt.decideEnd[k], a, time[i], every)) && stream.push(close[i], time[i]);
      rt.signalled[k][a] = spoke ? 1 : 0;
      if (spoke) rt.spoke = true;
    }
  }
  rt.fed[a] = index;
}

export function initialState(input: BacktestInput): EngineState {
  return {
    cursor: 0, trading: newTradingState(input.initialCapital), fillSeq: 0, marks: {}, fills: new FillLog(), trades: new TradeLog(), closedPnl: [], openTrade: {}, pending: [], past: [], pastTotal: 0,
    equity: { time: new Float64Array(1024), value: new CurveValues() }, exposedSteps: 0, rejections: {}, shrunk: {},
  };
}

/** The core's rules as the conventions set them. */
function tradingRules(input: BacktestInput): TradingRules {
  const c = input.conventions;
  const risk = {
    ...input.risk,
    ...(c.trailingStopPct !== undefined ? { trailingStopPct: c.trailingStopPct } : {}),
    ...(c.stopCooldownMinutes !== undefined ? { stopCooldownMinutes: c.stopCooldownMinutes } : {}),
  };
  return { risk, fillModel: c.fillModel };
}

function orderPolicy(c: BacktestConventions): OrderPolicy {
  return { sizing: c.sizing, units: c.units, allowShort: c.allowShort, protective: c.protective };
}

/** A fill through the core (an exit when `exit` is given) and the round-trip bookkeeping of the trade it touches. */
function fillInto(st: EngineState, input: BacktestInput, asset: string, side: Side, quantity: number, reference: number, volatility: number, time: number,
  reason: BacktestFill['reason'], exit?: ProtectiveExit) {
  if (!(quantity > 0)) return undefined;
  const { rules } = runtimeOf(input, st);
  const f = fillPrice(side, quantity, reference, volatility, rules);
  const before = st.trading.book.positions[asset]?.quantity ?? 0;
  const fill = { id: `bt${++st.fillSeq}`, asset, side, quantity, price: f.price, fee: f.fee, timestamp: time };
  const effect = exit ? onExitFill(st.trading, exit, fill, time, rules) : onFill(st.trading, fill);
  st.fills.push({ time, asset, side, quantity, price: f.price, fee: f.fee, slippage: f.slippageCost, reason, realized: effect.realized });
  const after = effect.after.quantity;
  // The part of this fill that reduced the open trade; the rest (if any) opens the next one.
  const closingShare = effect.closedQuantity / quantity;
  const flippedOrFlat = before !== 0 && (after === 0 || Math.sign(after) !== Math.sign(before));
  const openIndex = st.openTrade[asset];
  if (openIndex !== undefined) {
    st.trades.addFill(openIndex, f.fee * (effect.closedQuantity > 0 ? closingShare : 1), effect.realized);
    if (flippedOrFlat) {
      st.closedPnl.push(st.trades.close(openIndex, time, f.price));
      delete st.openTrade[asset];
    } else if (Math.abs(after) > st.trades.quantityOf(openIndex)) {
      st.trades.resize(openIndex, Math.abs(after), effect.after.averagePrice);
    }
  }
  if (after !== 0 && (before === 0 || flippedOrFlat)) {
    st.openTrade[asset] = st.trades.open({
      asset, direction: after > 0 ? 'LONG' : 'SHORT', entryTime: time, entryPrice: effect.after.averagePrice, quantity: Math.abs(after), fees: f.fee * (1 - closingShare),
    });
  }
  return f;
}

/**
 * Processes bar groups (all bars closing at one time) from the state's cursor until `maxBars` bars are
 * done or the queue ends. At each close: fills waiting for this bar's open, stops and targets against
 * its range, then the live decision path (strategies → aggregation → risk → order). A bar without a
 * signal allocates nothing: the strategies and regimes update incrementally.
 */
export function advance(input: BacktestInput, queue: EventQueue, st: EngineState, maxBars = Infinity): EngineState {
  const rt = runtimeOf(input, st);
  const stopAt = Math.min(queue.length, st.cursor + maxBars);
  rt.timesShared ??= shareAlignedTimes(queue, rt, st.equity);
  if (!rt.timesShared) reserveTimes(st.equity, queue.steps);
  rt.row ??= rowsAt(queue, st.cursor);
  // One call per close, not one long loop here: V8 optimises a function called this often as a whole
  // and re-optimises it with fresh feedback after a deoptimisation. A long loop here ran on code
  // compiled while it ran (on-stack replacement), which V8 re-entered on every chunk and threw out
  // again at a path it had not seen when compiling it (--trace-deopt: the same code, every chunk).
  const quiet = rt.quietUntilEndOf.length > 0;
  const flat = queue.aligned && !rt.polled && rt.timesShared;
  while (st.cursor < stopAt) {
    if (quiet && !rt.exposed && st.pending.length === 0) passQuietCloses(queue, st, rt, stopAt);
    else if (flat && !rt.exposed && st.pending.length === 0) passFlatCloses(input, queue, st, rt, stopAt);
    if (st.cursor < stopAt) processClose(input, queue, st, rt);
  }
  syncMarks(input, rt, st);
  return st;
}

/**
 * The bars closing at the cursor's time, one per asset: fills waiting for their open, stops and
 * targets against their range, then the decisions and the curve's point. The close's time and a
 * bar's range are handed to no call here: the rare paths (a fill, an exit, a signal) read them again
 * from the bar's row. A double handed to a call on a rare path was boxed on every bar, taken or not
 * (V8 converts it where it is computed): 16 bytes a bar for the range alone.
 */
function processClose(input: BacktestInput, queue: EventQueue, st: EngineState, rt: Runtime) {
  const { rules, groupRow } = rt;
  const row = rt.row!;
  const first = st.cursor;
  const lead = closeAsset(queue, first, first);
  const time = rt.series[lead].time[row[lead]];
  const end = takeClose(queue, rt, first, time);
  st.cursor = end;

  for (let k = first; k < end; k++) {
    const a = closeAsset(queue, first, k);
    const i = groupRow[k - first];
    const s = rt.series[a];
    if (st.pending.length) fillPending(input, rt, st, a, i);
    if (rt.quantity[a] !== 0) {
      // The range only for a held asset (the stops' check): the others' bars read their close and time alone.
      const bar = rt.bar;
      bar.open = s.open[i]; bar.high = s.high[i]; bar.low = s.low[i]; bar.close = s.close[i];
      const exit = onBarClose(st.trading, input.assets[a], bar, rules);
      if (exit) fillExit(input, rt, st, a, i, exit);
    }
    feed(rt, a, i);
  }
  closeTail(input, queue, st, rt, first, end);
}

/**
 * A close's end once its bars (queue indices `first` to `end`) are taken: the equity marked, the
 * decisions if a stream spoke, the curve's point. Its time is read again here, not handed over (see
 * `processClose`).
 */
function closeTail(input: BacktestInput, queue: EventQueue, st: EngineState, rt: Runtime, first: number, end: number) {
  const time = groupTime(queue, rt, first);
  let eq = markedEquity(rt, st);
  markClose(st, eq, time);
  const produced = rt.spoke || rt.polled ? signalsAt(input, queue, rt, first, end) : undefined;
  rt.spoke = false;
  if (produced) {
    syncMarks(input, rt, st);
    decide(input, queue, st, rt, first, end, produced);
    // Only a decision filled at this close can have moved the equity since the mark above.
    eq = markedEquity(rt, st);
  }
  if (rt.exposed) st.exposedSteps += 1;
  // The time column has room for every close of the queue (reserved by `advance`).
  const curve = st.equity;
  if (!rt.timesShared) curve.time[curve.value.length] = time;
  curve.value.push(eq);
}

/**
 * The closes from the cursor on while the book is flat and no order waits, on an aligned queue whose
 * curve times are shared, every strategy streamed: as `processClose` runs them, without what a flat
 * book skips (stops, pending fills, marking positions): each close's bars fed, and its curve point
 * the cash, until a stream speaks — that close ends as `processClose` ends one. For strategies that
 * decide at every close, where no close is quiet: the SMA deciding at every hourly close took ~9 %
 * less time with its flat closes here (a loop V8 compiles as a whole) than close by close.
 */
function passFlatCloses(input: BacktestInput, queue: EventQueue, st: EngineState, rt: Runtime, stopAt: number) {
  const row = rt.row!;
  const values = st.equity.value;
  const cash = st.trading.book.cash;
  const lead = queue.asset[0];
  const leadTimes = rt.series[lead].time;
  while (st.cursor < stopAt) {
    const first = st.cursor;
    const time = leadTimes[row[lead]];
    // `takeClose` on an aligned queue, with each bar fed as it is taken (one loop, not two: ~4 % of the run).
    const end = Math.min(queue.length, first + row.length);
    for (let k = first; k < end; k++) {
      const a = queue.asset[k - first];
      const i = row[a]++;
      rt.groupRow[k - first] = i;
      feed(rt, a, i);
    }
    st.cursor = end;
    if (rt.spoke) {
      closeTail(input, queue, st, rt, first, end);
      return;
    }
    markClose(st, cash, time);
    values.push(cash);
  }
}

/**
 * The closes from the cursor on at which nothing can happen, passed in one loop: the book is flat (no
 * stop to check, the equity is the cash), no order waits for an open, and no strategy's or regime's
 * bar ends before `until`, so no stream can speak. Each close adds its curve point; each asset's mark
 * becomes its last close passed. Feeding the streams is skipped (between bar ends a feed only notes
 * that no bar ended) and the day's mark is taken once, at the last close: both depend on the latest
 * time alone, so the state ends as if each close had been processed in full. An asset that still owes
 * its history (its first bar, or a resumed run's) is fed by the next close processed in full. The
 * shipped SMA replayed on hourly bars: its book is flat at 99 % of the closes, 23 of 24 inside a day.
 */
function passQuietCloses(queue: EventQueue, st: EngineState, rt: Runtime, stopAt: number) {
  const row = rt.row!;
  const { series, quietFrom } = rt;
  const lead = closeAsset(queue, st.cursor, st.cursor);
  const first = series[lead].time[row[lead]];
  let until = Infinity;
  for (const every of rt.quietUntilEndOf) until = Math.min(until, Math.ceil(first / every) * every);
  if (first >= until) return;
  // By a loop: `set`'s call cost a few assets' copy many times over (this runs once a stretch).
  for (let a = 0; a < row.length; a++) quietFrom[a] = row[a];
  const curve = st.equity;
  const from = curve.value.length;
  const cash = st.trading.book.cash;
  let to: number;
  if (queue.aligned) {
    // Every close has every asset's bar: the closes are the first asset's times, each taking one bar of each.
    const { time } = series[lead];
    const start = row[lead];
    const limit = start + Math.ceil((stopAt - st.cursor) / row.length);
    // Their curve times are there already (`shareAlignedTimes`): only the stretch's end is looked for.
    const passed = closesBefore(time, start, limit, until) - start;
    for (let a = 0; a < row.length; a++) row[a] += passed;
    st.cursor += passed * row.length;
    to = from + passed;
  } else {
    let k = st.cursor;
    let point = from;
    let time = first;
    while (time < until) {
      k = takeClose(queue, rt, k, time);
      curve.time[point++] = time;
      if (k >= stopAt) break;
      time = series[queue.asset[k]].time[row[queue.asset[k]]];
    }
    st.cursor = k;
    to = point;
  }
  curve.value.pushRepeated(cash, to - from);
  markToMarket(st.trading, cash, curve.time[to - 1]);
  // Each asset's mark is its last close passed; its feed moves on unless it still owes its history.
  for (let a = 0; a < row.length; a++) {
    if (row[a] === quietFrom[a]) continue;
    rt.mark[a] = series[a].close[row[a] - 1];
    if (rt.fed[a] === quietFrom[a] - 1) rt.fed[a] = row[a] - 1;
  }
}

/**
 * The first row from `start` (below `limit`) whose time is not before `until`, in rising times: by
 * doubling steps, then halving, so a stretch of a day's hourly closes reads ~10 of its times, not all.
 */
function closesBefore(time: ArrayLike<number>, start: number, limit: number, until: number): number {
  let lo = start;
  let step = 1;
  while (lo + step < limit && time[lo + step] < until) {
    lo += step;
    step *= 2;
  }
  if (!(lo < limit && time[lo] < until)) return lo;
  // time[lo] < until; the answer is in (lo, min(lo + step, limit)].
  let hi = Math.min(lo + step, limit);
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (time[mid] < until) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Takes the bars closing at `time` from queue index `first` on, one per asset: each takes its asset's
 * next row (an asset already taken has moved on to a later bar, which ends the close), noted in
 * `groupRow`. Returns the queue index after them.
 */
function takeClose(queue: EventQueue, rt: Runtime, first: number, time: number): number {
  const row = rt.row!;
  if (queue.aligned) {
    // A bar of every asset at every close: their times need no reading (a cache miss each, a close apart).
    const end = Math.min(queue.length, first + row.length);
    for (let k = first; k < end; k++) rt.groupRow[k - first] = row[queue.asset[k - first]]++;
    return end;
  }
  let end = first;
  while (end < queue.length) {
    const a = queue.asset[end];
    const i = row[a];
    if (rt.series[a].time[i] !== time) break;
    rt.groupRow[end - first] = i;
    row[a] = i + 1;
    end++;
  }
  return end;
}

/** The close time of the group being processed, which starts at queue index `first`. */
const groupTime = (queue: EventQueue, rt: Runtime, first: number) => rt.series[closeAsset(queue, first, first)].time[rt.groupRow[0]];

/** A bar's range relative to its close: the volatility the fill model charges slippage on. */
const rangeAt = (s: PriceSeries, i: number) => (s.high[i] - s.low[i]) / s.close[i];

/** The strategies' signals at the close of the group [first, end), or undefined when none speaks. */
function signalsAt(input: BacktestInput, queue: EventQueue, rt: Runtime, first: number, end: number): TradingSignal[] | undefined {
  const time = groupTime(queue, rt, first);
  let produced: TradingSignal[] | undefined;
  for (let k = 0; k < input.strategies.length; k++) {
    const strategy = input.strategies[k];
    const every = rt.decideEvery[k];
    if (every !== 0 && !endsBarAt(rt.closeEnd, k, time, every)) continue;
    if (!strategy.openStream) {
      const data = every === 0 ? input.data : input.dataByBar?.[every / MINUTE_MS] ?? input.data;
      const inGroup = strategy.generateSignals(strategy.analyze(data, time)).filter((x) => groupHas(input, queue, first, end, x.asset));
      if (inGroup.length) (produced ??= []).push(...inGroup);
      continue;
    }
    for (let g = first; g < end; g++) {
      const a = closeAsset(queue, first, g);
      const stream = rt.streams[k][a];
      if (!stream || !rt.signalled[k][a]) continue;
      (produced ??= []).push(...strategy.generateSignals({ strategy: strategy.name, asOf: time, assets: [stream.analysis(input.assets[a])] }));
    }
  }
  return produced;
}

/** Each asset's next row once the queue's first `cursor` bars are done. */
function rowsAt(queue: EventQueue, cursor: number): Int32Array {
  const row = Int32Array.from(queue.start);
  if (queue.aligned) {
    // The cursor is at a close's first entry: each asset has had cursor / assets bars.
    for (const a of queue.asset) row[a] += cursor / queue.asset.length;
    return row;
  }
  for (let q = 0; q < cursor; q++) row[queue.asset[q]] += 1;
  return row;
}

/**
 * An aligned queue's closes are its first asset's times, a curve point each, so the curve's time
 * column is those times from the start (the points so far, a resumed run's included, are the same)
 * and no close writes one: a view of them when they are a Float64Array, as the backtest activity
 * reads candles (ten million bars of two coins then do not fault in the 40 MB a copy took, ~2 µs a
 * 4 KiB page on the machine measured), else one copy. Returns whether it did.
 */
function shareAlignedTimes(queue: EventQueue, rt: Runtime, curve: EquityColumns): boolean {
  if (!queue.aligned || queue.length === 0) return false;
  const lead = queue.asset[0];
  const { time } = rt.series[lead];
  const [from, to] = [queue.start[lead], queue.start[lead] + queue.steps];
  curve.time = time instanceof Float64Array ? time.subarray(from, to) : Float64Array.from(time.slice(from, to));
  return true;
}

/**
 * Room for `points` in the curve's time column, made once (a run knows its steps): no doubling, no
 * copies on the way. Its memory is touched at once: a fresh column's pages are mapped by the kernel
 * at their first write, and those faults cost ~40 % less taken in one sweep than spread over the
 * replay's writes (measured on a 38 MiB column).
 */
function reserveTimes(curve: EquityColumns, points: number) {
  if (curve.time.length >= points) return;
  const column = new Float64Array(points);
  const { length } = curve.value;
  column.set(curve.time.subarray(0, length));
  column.fill(0, length);
  curve.time = column;
}

/** The last marked equity, or undefined before the first close. */
export function latestEquity(st: EngineState): number | undefined {
  return st.equity.value.at(-1);
}

/**
 * Takes the closed trades out of the state (open ones stay, still tracked): a long run stores them
 * as it goes, so neither memory nor checkpoints grow with the trade count.
 */
export function drainClosedTrades(st: EngineState): TradeLog {
  const { closed, moved } = st.trades.drainClosed();
  for (const asset in st.openTrade) st.openTrade[asset] = moved[st.openTrade[asset]];
  return closed;
}

/** Drops the fills kept so far (for callers that keep only trades); returns how many there were. */
export function dropFills(st: EngineState): number {
  const dropped = st.fills.length;
  st.fills.clear();
  return dropped;
}

export type EngineCheckpoint = Omit<EngineState, 'equity' | 'fills' | 'trades'> & {
  equity: { time: number[]; value: number[] };
  fills: BacktestFill[];
  trades: BacktestTrade[];
  /** The number (`pastTotal` counting) of the state's first past signal: `past` may start later (`pastFrom`). */
  pastFirst: number;
};

/** What `checkpointOf` leaves out because the caller stores it as the run goes. */
export interface StoredParts {
  /** The equity points before this index. */
  curveFrom?: number;
  /** The past signals numbered before this (see `pastTotal`). */
  pastFrom?: number;
}

/**
 * The state as plain JSON (typed columns as arrays), for a heartbeat checkpoint, without the equity
 * points and past signals the caller stored (`stored`): the checkpoint stays small however long the
 * curve and the track-record window grow, and the caller hands them back to `restoreState`. A copy
 * that shares nothing with the state: Temporal may encode a heartbeat's details later, after the
 * replay has moved on.
 */
export function checkpointOf(st: EngineState, stored: StoredParts = {}): EngineCheckpoint {
  const curveFrom = stored.curveFrom ?? 0;
  const { length } = st.equity.value;
  const pastFirst = st.pastTotal - st.past.length;
  const { equity, fills, trades, past, ...rest } = st;
  return {
    ...structuredClone(rest), past: structuredClone(past.slice(Math.max(0, (stored.pastFrom ?? 0) - pastFirst))), pastFirst,
    equity: { time: Array.from(equity.time.subarray(curveFrom, length)), value: Array.from(equity.value.slice(curveFrom, length)) }, fills: fills.rows(), trades: trades.rows(),
  };
}

/** What `restoreState` needs besides a checkpoint: the equity points and the past signals left out of it. */
export interface EarlierParts {
  curve?: { time: ArrayLike<number>; value: ArrayLike<number> };
  /** The past signals numbered from the checkpoint's `pastFirst` to where its `past` starts. */
  past?: PastSignal[];
}

/** The state a checkpoint was taken of, with the parts left out of it (`earlier`). */
export function restoreState(checkpoint: EngineCheckpoint, earlier: EarlierParts = {}): EngineState {
  const before = earlier.curve ?? { time: [], value: [] };
  const n = before.time.length + checkpoint.equity.time.length;
  const equity = { time: new Float64Array(Math.max(1024, 2 * n)), value: CurveValues.of(before.value) };
  equity.time.set(before.time);
  equity.time.set(checkpoint.equity.time, before.time.length);
  equity.value.append(checkpoint.equity.value);
  const past = [...(earlier.past ?? []), ...checkpoint.past];
  if (past.length !== checkpoint.pastTotal - checkpoint.pastFirst) {
    throw new Error(`the checkpoint's past signals are ${checkpoint.pastFirst}–${checkpoint.pastTotal - 1}: ${past.length} given`);
  }
  const { pastFirst: _first, ...state } = checkpoint;
  return { ...state, past, equity, fills: new FillLog(checkpoint.fills), trades: new TradeLog(checkpoint.trades) };
}

/**
 * The core's mark at a close, made only when it opens a new day or passes the peak: otherwise marking
 * changes nothing (times only grow, so a time up to the marked day's end is in that day), and the
 * day's division at every close is saved.
 */
function markClose(st: EngineState, equity: number, time: number) {
  if (time > (st.trading.day + 1) * DAY_MS || equity > st.trading.peakEquity) markToMarket(st.trading, equity, time);
}

/** Cash + Σ quantity × mark, as `equity` in the portfolio module, over the runtime's typed arrays. */
function markedEquity(rt: Runtime, st: EngineState): number {
  let value = st.trading.book.cash;
  if (!rt.exposed) return value;
  for (let a = 0; a < rt.quantity.length; a++) if (rt.quantity[a] !== 0) value += rt.quantity[a] * rt.mark[a];
  return value;
}

function syncMarks(input: BacktestInput, rt: Runtime, st: EngineState) {
  for (let a = 0; a < rt.mark.length; a++) if (!Number.isNaN(rt.mark[a])) st.marks[input.assets[a]] = rt.mark[a];
}

/** A fill through the core, mirrored into the runtime's quantities. */
function fill(input: BacktestInput, rt: Runtime, st: EngineState, a: number, side: Side, quantity: number, reference: number, volatility: number, time: number,
  reason: BacktestFill['reason'], exit?: ProtectiveExit) {
  const asset = input.assets[a];
  const f = fillInto(st, input, asset, side, quantity, reference, volatility, time, reason, exit);
  rt.quantity[a] = st.trading.book.positions[asset]?.quantity ?? 0;
  rt.exposed = rt.quantity.some((q) => q !== 0);
  return f;
}

/** An order filled at a reference price, then protected from its fill price when the conventions say so. */
function fillOrder(input: BacktestInput, rt: Runtime, st: EngineState, a: number, order: Order, reference: number, volatility: number, time: number) {
  const { rules, policy } = rt;
  const f = fill(input, rt, st, a, order.side, orderQuantity(st.trading, order, reference, policy.units), reference, volatility, time, 'signal');
  if (f && policy.protective) protect(st.trading, order.asset, f.price, rules);
}

/**
 * Orders decided at an earlier close fill at the open of this bar (row `i` of asset `a`), in the order
 * they were decided; the other assets' stay, in theirs. In place: two filtered copies at each bar of
 * each asset while any order waited were ~250 MB of garbage in a run of 340,000 trades.
 */
function fillPending(input: BacktestInput, rt: Runtime, st: EngineState, a: number, i: number) {
  const asset = input.assets[a];
  const s = rt.series[a];
  const { pending } = st;
  let kept = 0;
  for (let k = 0; k < pending.length; k++) {
    const order = pending[k];
    if (order.asset === asset) fillOrder(input, rt, st, a, order, s.open[i], rangeAt(s, i), s.time[i]);
    else pending[kept++] = order;
  }
  pending.length = kept;
}

/** A stop or target hit by this bar (row `i` of asset `a`), filled at its reference price. */
function fillExit(input: BacktestInput, rt: Runtime, st: EngineState, a: number, i: number, exit: ProtectiveExit) {
  const s = rt.series[a];
  fill(input, rt, st, a, exit.side, exit.quantity, exit.referencePrice, rangeAt(s, i), s.time[i], exit.kind, exit);
}

function groupHas(input: BacktestInput, queue: EventQueue, first: number, end: number, asset: string): boolean {
  for (let g = first; g < end; g++) if (input.assets[closeAsset(queue, first, g)] === asset) return true;
  return false;
}

/**
 * The market conditions the risk module weighs a signal in asset `a` against: its own and every open
 * position's, written into the runtime's one record (every asset a key from the start, so its shape
 * never changes). Other assets' entries may be stale: the risk module reads only these.
 */
function conditionsAt(input: BacktestInput, rt: Runtime, a: number, time: number): MarketConditions {
  for (let b = 0; b < rt.quantity.length; b++) if (b === a || rt.quantity[b] !== 0) rt.market[input.assets[b]] = rt.conditions[b].at(time);
  return rt.market;
}

/** The decision path at one close with signals: aggregation per asset, then risk and the order. */
function decide(input: BacktestInput, queue: EventQueue, st: EngineState, rt: Runtime, first: number, end: number, produced: TradingSignal[]) {
  const time = groupTime(queue, rt, first);
  const c = input.conventions;
  const { rules, policy } = rt;
  const lookback = input.historyDays * DAY_MS;
  const sized = policy.sizing.kind === 'risk';
  const records = () => rt.records.advance(st.past, input.data, time);
  for (let g = first; g < end; g++) {
    const a = closeAsset(queue, first, g);
    const asset = input.assets[a];
    // An array only for an asset with signals (most of a close's assets have none).
    let own: TradingSignal[] | undefined;
    for (const x of produced) if (x.asset === asset) (own ??= []).push(x);
    if (!own) continue;
    const agg = aggregateAssetSignals(own, { regime: rt.regimes[a].regime(), records }, input.aggregation);
    if (!agg) continue;
    // The risk module weighs the asset's and the open positions' market conditions and the ensemble's record, as live.
    // A verdict records nothing under the signal's id (no assessment is made): one name serves them
    // all, where writing out a number for each (its place in the queue) showed in the profile.
    const signal: TradeSignal = { signalId: 'backtest', asset, signalType: agg.signalType, price: agg.price, confidence: agg.confidence };
    if (sized) signal.trackRecord = pooledRecord(records(), agg.strategies);
    const market = sized ? conditionsAt(input, rt, a, time) : undefined;
    const decision = onSignal(st.trading, signal, { time, marks: st.marks, rules, policy, market, detail: 'verdict' });
    if (decision.kind === 'rejected') {
      st.rejections[decision.rule] = (st.rejections[decision.rule] ?? 0) + 1;
      continue;
    }
    if (decision.limitedBy === 'positionSize') st.shrunk.positionSize = (st.shrunk.positionSize ?? 0) + 1;
    if (c.fillAt === 'close') {
      const s = rt.series[a];
      const i = rt.groupRow[g - first];
      fillOrder(input, rt, st, a, decision.order, s.close[i], rangeAt(s, i), time);
    } else {
      st.pending.push(decision.order);
    }
  }
  // Older signals no longer count towards track records (the same rolling window as live; trackRecord
  // skips them): dropped once they are half the list, so pruning costs O(1) per signal.
  const cutoff = time - lookback;
  while (rt.pastExpired < st.past.length && st.past[rt.pastExpired].timestamp < cutoff) rt.pastExpired++;
  if (rt.pastExpired * 2 > st.past.length) {
    st.past.splice(0, rt.pastExpired);
    rt.records.dropped(rt.pastExpired);
    rt.pastExpired = 0;
  }
  for (const x of produced) st.past.push({ strategyName: x.strategyName, signalType: x.signalType, timestamp: x.timestamp, price: x.price, asset: x.asset });
  st.pastTotal += produced.length;
}

/** Closes what is open (when the conventions say so) and computes the results. */
export function finish(input: BacktestInput, st: EngineState): BacktestResult {
  const n = st.equity.value.length;
  if (input.conventions.closeAtEnd) {
    for (const p of Object.values(st.trading.book.positions)) {
      if (p.quantity === 0) continue;
      fillInto(st, input, p.asset, p.quantity > 0 ? 'SELL' : 'BUY', Math.abs(p.quantity), st.marks[p.asset], 0, n ? st.equity.time[n - 1] : input.to, 'end');
    }
    if (n) st.equity.value.setLast(bookEquity(st.trading.book, st.marks));
  }
  const curve = { time: st.equity.time.subarray(0, n), equity: st.equity.value };
  // The curve starts at the capital just before the first close.
  const start = { time: (n ? curve.time[0] : input.from) - 1, equity: input.initialCapital };
  const periodsPerYear = input.conventions.periodsPerYear ?? periodsPerYearOf(curve.time);
  const firstClose = input.assets.map((a) => input.data.prices[a]).map((s) => s.close[knownCount(s.time, input.from - 1)]);
  const lastClose = input.assets.map((a) => st.marks[a]);
  const buyAndHold = firstClose.every((x) => x > 0) && lastClose.every((x) => x > 0)
    ? lastClose.reduce((sum, x, k) => sum + x / firstClose[k], 0) / input.assets.length - 1 : null;
  return {
    equity: { time: curve.time, value: curve.equity },
    fills: st.fills,
    trades: st.trades,
    metrics: performanceMetrics(curve, st.closedPnl, { periodsPerYear, start }),
    periodsPerYear,
    buyAndHoldReturn: buyAndHold,
    exposureTime: n ? st.exposedSteps / n : 0,
    rejections: Object.values(st.rejections).reduce((sum, n) => sum + n, 0),
    rejectionsByRule: { ...st.rejections },
    shrunkByRule: { ...st.shrunk },
    bars: st.cursor,
  };
}

/**
 * Periods per year from the calendar the data has: bars per trading day (the median count over the
 * days with bars) × trading days per year — 365 when bars close on weekends (crypto), 252 when they
 * never do (a weekday-only market). Looks at the first 2,000 closes; under a week of data counts as 24/7.
 */
export function periodsPerYearOf(time: ArrayLike<number>): number {
  const n = Math.min(time.length, 2000);
  if (n === 0) return 365;
  const perDay = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const day = utcDayOf(time[k]);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const counts = [...perDay.values()].sort((a, b) => a - b);
  const barsPerDay = counts[Math.floor(counts.length / 2)];
  const days = [...perDay.keys()];
  const spanDays = days[days.length - 1] - days[0] + 1;
  // Day 0 (1970-01-01) was a Thursday: (day + 4) % 7 is 0 on Sundays and 6 on Saturdays.
  const weekend = days.some((d) => (d + 4) % 7 === 0 || (d + 4) % 7 === 6);
  const tradingDays = weekend || spanDays < 7 ? 365 : 252;
  return tradingDays * barsPerDay;
}

/** The whole replay in one call. */
export function runBacktest(input: BacktestInput): BacktestResult {
  return finish(input, advance(input, eventQueue(input), initialState(input)));
}
