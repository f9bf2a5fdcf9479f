/**
 * Performance analytics. Conventions (also printed in reports):
 * - Returns are simple returns between consecutive equity points; the points are at one period
 *   (e.g. daily snapshots) and `periodsPerYear` annualises them (365 for crypto's every-day market).
 * - Volatility, Sharpe and Sortino use the sample standard deviation (n − 1); the risk-free rate is
 *   per year and converted to a per-period rate by division. Sortino's downside deviation is
 *   √(Σ min(r − rf, 0)² / n) over all periods.
 * - Annualised return is geometric: (final / initial)^(periodsPerYear / periods) − 1.
 * - Max drawdown is the largest peak-to-trough fall of equity, in USD and as a fraction of the
 *   peak, with its duration from the peak to the recovery (or the end).
 * - VaR(95%) is historical: the loss at the 5th percentile of period returns, as a positive fraction.
 * - Trade statistics use closed trades' net P&L (after fees), in closing order. Values that do not exist (no trades,
 *   no losses, a flat curve, fewer than two periods for a ratio) are null, never NaN or Infinity.
 */

import { CHUNK, forEachChunk } from './chunks';
import { CurveValues } from './curve-values';

export interface EquityPoint {
  timestamp: number;
  equity: number;
}

/** A curve's equity values: a plain column, or a backtest's blocks (most of them flat). */
export type EquityValues = ArrayLike<number> | CurveValues;

/** An equity curve as columns: a backtest's curve has a point per bar, millions of them. */
export interface EquityCurve {
  time: ArrayLike<number>;
  equity: EquityValues;
}

const valueAt = (values: EquityValues, i: number): number => (values instanceof CurveValues ? values.at(i)! : values[i]);

/**
 * The chunk of `values` starting at `from` (a multiple of CHUNK, as `forEachChunk` hands them out):
 * its point `i` is `points[i - offset]`. A flat block of a finite value is `flat`, and `points` holds
 * its first point only: every later return in it is v / v - 1 = 0, and the passes take it so. Another
 * flat block's points are laid out in one reused array: read them before the next chunk is asked for.
 */
function chunkOf(values: EquityValues, from: number): { points: ArrayLike<number>; offset: number; flat?: number } {
  if (!(values instanceof CurveValues)) return { points: values, offset: 0 };
  const flat = values.flatAt(from);
  if (flat !== undefined && Number.isFinite(flat)) return { points: Float64Array.of(flat), offset: from, flat };
  return { points: values.chunk(from), offset: from };
}

export function equityColumns(points: EquityPoint[]): EquityCurve {
  return { time: points.map((p) => p.timestamp), equity: points.map((p) => p.equity) };
}

export interface PerformanceMetrics {
  periods: number;
  /** What the annualised figures were computed with: periods (bars) per year. */
  periodsPerYear: number;
  initialEquity: number | null;
  finalEquity: number | null;
  totalReturn: number | null;
  annualizedReturn: number | null;
  volatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  maxDrawdown: number;
  maxDrawdownPct: number;
  maxDrawdownDurationMs: number;
  calmar: number | null;
  var95: number | null;
  tradeCount: number;
  winRate: number | null;
  profitFactor: number | null;
  averageWin: number | null;
  averageLoss: number | null;
  largestWin: number | null;
  largestLoss: number | null;
  expectancy: number | null;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);

/** A double's order-preserving 64-bit key (negatives flipped, positives with the sign bit set), high and low words. */
function keyOf(x: number, out: Uint32Array): void {
  scratch[0] = x;
  const hi = words[1];
  if (hi & 0x80000000) {
    out[0] = ~hi >>> 0;
    out[1] = ~words[0] >>> 0;
  } else {
    out[0] = (hi | 0x80000000) >>> 0;
    out[1] = words[0];
  }
}

/** The double whose key is (hi, lo). */
function valueOfKey(hi: number, lo: number): number {
  if (hi & 0x80000000) {
    words[1] = hi & 0x7fffffff;
    words[0] = lo;
  } else {
    words[1] = ~hi >>> 0;
    words[0] = ~lo >>> 0;
  }
  return scratch[0];
}

/**
 * The period returns of a curve, read where they are: return `i` (an index into the equity column,
 * from `from` on) is measured from `first` at `from`, else from the point before. Loops over a curve
 * read each return from two points rather than carry the previous point from one step to the next:
 * V8 boxes a double carried by a loop it optimises while running (one allocation a point).
 */
interface Returns {
  equity: EquityValues;
  from: number;
  first: number;
}

const returnAt = (c: Returns, i: number) => valueAt(c.equity, i) / (i === c.from ? c.first : valueAt(c.equity, i - 1)) - 1;

/** A chunk of a curve, `from` to `to` (see `chunkOf`), and the point before it, `previous`. */
interface CurveChunk extends ReturnType<typeof chunkOf> {
  from: number;
  to: number;
  previous: number;
}

/**
 * A chunk's returns into `out` from its start; returns how many it wrote. A flat chunk's returns
 * after its first are zeros, not written: `to - start` minus that is how many.
 */
function returnsInto(c: Returns, chunk: CurveChunk, out: Float64Array): number {
  const { points, offset, from, to, flat } = chunk;
  const start = Math.max(from, c.from);
  if (start >= to) return 0;
  if (flat !== undefined) {
    out[0] = start === from ? flat / chunk.previous - 1 : 0;
    return 1;
  }
  out[0] = points[start - offset] / (start === from ? chunk.previous : points[start - 1 - offset]) - 1;
  let count = 1;
  for (let i = start + 1; i < to; i++) out[count++] = points[i - offset] / points[i - 1 - offset] - 1;
  return count;
}

/**
 * Calls `pass` with the curve's returns a chunk at a time (`count` of them from the start of
 * `returns`, a scratch reused, then `zeros` returns of 0 not written: a flat block's): the passes
 * that read each return more than once read it computed once (a division), and take a flat block's
 * zeros at once, where reading them one by one took ~5 % of the shipped SMA's run (its book is flat
 * at most of its closes). Each chunk's first return is measured from the last point of the chunk
 * before, kept as the chunks go.
 */
function forEachReturnChunk(c: Returns, pass: (returns: Float64Array, count: number, zeros: number) => void) {
  const returns = new Float64Array(CHUNK);
  // Before the first chunk, the point its first return is measured from (with a start point, that).
  let previous = c.first;
  forEachChunk(c.equity.length, (from, to) => {
    const chunk = { ...chunkOf(c.equity, from), from, to, previous };
    const count = returnsInto(c, chunk, returns);
    previous = chunk.flat ?? chunk.points[to - 1 - chunk.offset];
    pass(returns, count, count && to - Math.max(from, c.from) - count);
  });
}

/**
 * How the k-th smallest return is found: sorted in a copy up to `sortUpTo` returns, else bracketed by
 * a sample of `sampleSize` (0: straight to the radix select).
 */
export interface SelectTuning {
  sortUpTo: number;
  sampleSize: number;
}

/**
 * By default a copy is sorted up to 4,096 returns, and a longer curve's are bracketed by a sample of
 * ~4·n^⅔ (at most 65,536): the sample's sort and the returns inside its bracket cost about the same.
 * For a sweep child's 57,000 hourly returns ~1.5 ms, where sorting them all took ~6 ms; 3 million
 * take ~36 ms either way.
 */
const selectTuningFor = (n: number): SelectTuning => ({ sortUpTo: 4096, sampleSize: Math.min(65_536, Math.round(4 * Math.cbrt(n * n))) });

/**
 * The k-th smallest (0-based) of a curve's period returns without a copy of a long curve's returns:
 * a small curve's are sorted; a long curve's k-th is bracketed by a sorted sample of them (every
 * stride-th), one pass counts the returns on either side of the bracket and collects the few inside,
 * and those are sorted. When the sample misleads (the k-th outside the bracket, too many inside),
 * a radix select that needs no sample decides.
 */
export function kthSmallestReturn(equity: EquityValues, start: StartPoint | undefined, k: number, tuning?: SelectTuning): number {
  const c: Returns = { equity, from: start ? 0 : 1, first: start ? start.equity : valueAt(equity, 0) };
  const n = equity.length - c.from;
  const { sortUpTo, sampleSize } = tuning ?? selectTuningFor(n);
  if (n <= sortUpTo) return sortedReturns(c, n)[k];
  const bracket = sampleSize > 0 ? sampleBracket(c, n, k, sampleSize) : undefined;
  if (bracket) forEachReturnChunk(c, (chunk, count, zeros) => bracket.count(chunk, count, zeros));
  return bracket?.kth(k, n) ?? radixSelect(c, k);
}

function sortedReturns(c: Returns, n: number): Float64Array {
  const all = new Float64Array(n);
  let at = 0;
  // A flat block's zeros are not written: the places left at the end hold them (a new array is all
  // zeros), and the sort puts them where they belong.
  forEachReturnChunk(c, (chunk, count) => {
    all.set(chunk.subarray(0, count), at);
    at += count;
  });
  return all.sort();
}

/** The bracket a long curve's k-th return is looked for in, from a sorted sample of `sampleSize` of its returns. */
function sampleBracket(c: Returns, n: number, k: number, sampleSize: number): ReturnBracket {
  const stride = Math.max(1, Math.floor(n / sampleSize));
  const m = Math.floor((n - 1) / stride) + 1;
  const sample = new Float64Array(m);
  for (let s = 0; s < m; s++) sample[s] = returnAt(c, c.from + s * stride);
  sample.sort();
  // The k-th's place in the sample, widened by 4√m places either way: at least eight standard
  // deviations of where it falls in a sample of m.
  const spread = Math.ceil(4 * Math.sqrt(m)) + 1;
  const at = Math.floor((k / n) * m);
  const lo = sample[Math.max(0, at - spread)];
  const hi = sample[Math.min(m - 1, at + spread)];
  return new ReturnBracket(lo, hi, new Float64Array(Math.min(n, 4 * spread * stride + 1024)));
}

/**
 * The returns counted against a bracket [lo, hi], a chunk of the curve at a time (see `forEachChunk`):
 * below, at either end and above are counted, the few strictly between are kept.
 */
class ReturnBracket {
  /** Below, at lo, between, at hi, above. */
  readonly counts = new Float64Array(5);
  constructor(readonly lo: number, readonly hi: number, readonly inside: Float64Array) {}

  /** Counts the first `length` of `returns`, then `zeros` returns of 0. */
  count(returns: Float64Array, length: number, zeros: number) {
    const { lo, hi, inside, counts } = this;
    // Read one by one: destructured, the running counts lost their number type (and were boxed).
    let below = counts[0];
    let atLo = counts[1];
    let between = counts[2];
    let atHi = counts[3];
    let above = counts[4];
    for (let i = 0; i < length; i++) {
      const r = returns[i];
      if (r < lo) below += 1;
      else if (r === lo) atLo += 1;
      else if (r < hi) {
        if (between < inside.length) inside[between] = r;
        between += 1;
      } else if (r === hi) atHi += 1;
      else if (r > hi) above += 1;
    }
    if (zeros > 0) {
      if (0 < lo) below += zeros;
      else if (0 === lo) atLo += zeros;
      // Kept as one by one: `inside` past `between` has never been written, so it holds them already.
      else if (0 < hi) between += zeros;
      else if (0 === hi) atHi += zeros;
      else above += zeros;
    }
    counts[0] = below;
    counts[1] = atLo;
    counts[2] = between;
    counts[3] = atHi;
    counts[4] = above;
  }

  /** The k-th smallest of the n returns counted, or undefined when the bracket cannot tell. */
  kth(k: number, n: number): number | undefined {
    const [below, atLo, between, atHi, above] = this.counts;
    // A NaN return (a point of zero equity) is in no count: the radix select places it.
    if (between > this.inside.length || below + atLo + between + atHi + above !== n) return undefined;
    let rank = k - below;
    if (rank < 0) return undefined;
    if (rank < atLo) return this.lo;
    rank -= atLo;
    if (rank < between) return this.inside.subarray(0, between).sort()[rank];
    rank -= between;
    return rank < atHi ? this.hi : undefined;
  }
}

/**
 * A radix select on the returns' order-preserving 64-bit keys, 16 bits a pass (four passes over the
 * curve, 65,536 counters): no sample, no copy.
 */
function radixSelect(c: Returns, k: number): number {
  const counts = new Uint32Array(65536);
  const key = new Uint32Array(2);
  const known = new Uint32Array(2);
  let rank = k;
  for (let pass = 0; pass < 4; pass++) {
    counts.fill(0);
    /** Counts `r`, `times` over, if it shares the digits found in the earlier passes. */
    const tally = (r: number, times: number) => {
      keyOf(r, key);
      const word = key[pass >> 1];
      if (pass >= 1 && (key[0] >>> 16) !== known[0] >>> 16) return;
      if (pass >= 2 && key[0] !== known[0]) return;
      if (pass === 3 && (key[1] >>> 16) !== known[1] >>> 16) return;
      counts[pass % 2 === 0 ? word >>> 16 : word & 0xffff] += times;
    };
    forEachReturnChunk(c, (returns, length, zeros) => {
      for (let j = 0; j < length; j++) tally(returns[j], 1);
      if (zeros) tally(0, zeros);
    });
    let digit = 0;
    while (rank >= counts[digit]) rank -= counts[digit++];
    const w = pass >> 1;
    known[w] = (pass % 2 === 0 ? digit << 16 : (known[w] & 0xffff0000) | digit) >>> 0;
  }
  return valueOfKey(known[0], known[1]);
}

/** A point before a curve's first, counted as its first: a backtest's capital just before its first close. */
export interface StartPoint {
  time: number;
  equity: number;
}

/**
 * A curve's first pass (the start point first), a chunk at a time: the sum of its returns, in order,
 * and its drawdown. `run` carries the running values from one chunk to the next. Below a peak the
 * fall is deepest at the lowest point and longest at the last point before the recovery, so the
 * drawdown is measured there, not at every point: a long backtest's curve is mostly under its peak,
 * and a division and a time read at each of its points took most of this pass.
 */
class FirstPass {
  /**
   * Peak, its time, largest fall, its fraction, longest time under a peak, sum of returns, lowest
   * point since the peak, the last point under it (-1: none), the last point passed (a chunk's first
   * return is measured from it; before the first chunk, the start point).
   */
  readonly run = new Float64Array(9);
  constructor(readonly curve: EquityCurve, readonly returns: Returns, start?: StartPoint) {
    this.run[0] = start ? start.equity : -Infinity;
    this.run[1] = start ? start.time : 0;
    this.run[6] = this.run[0];
    this.run[7] = -1;
    this.run[8] = start ? start.equity : Number.NaN;
  }

  over(from: number, to: number) {
    const { points, offset, flat } = chunkOf(this.curve.equity, from);
    if (flat === undefined) {
      this.pass(points, offset, from, to);
      return;
    }
    // A flat block: its first point as any; at each later one (a return of 0) the peak's time moves
    // to it when the block is at the peak, else the last point under the peak does.
    this.pass(points, offset, from, from + 1);
    if (to - from === 1) return;
    const { run } = this;
    if (flat >= run[0]) run[1] = this.curve.time[to - 1];
    else if (flat < run[0]) run[7] = to - 1;
  }

  /** Points `from` to `to`, point `i` at `points[i - offset]`. */
  private pass(points: ArrayLike<number>, offset: number, from: number, to: number) {
    const { time } = this.curve;
    const { run } = this;
    const { from: returnsFrom } = this.returns;
    let peak = run[0];
    let peakTime = run[1];
    let amountMax = run[2];
    let pctMax = run[3];
    let durationMax = run[4];
    let sum = run[5];
    let trough = run[6];
    let under = run[7];
    const previous = run[8];
    for (let i = from; i < to; i++) {
      const e = points[i - offset];
      if (i >= returnsFrom) sum += e / (i === from ? previous : points[i - 1 - offset]) - 1;
      if (e >= peak) {
        if (under >= 0 && time[under] - peakTime > durationMax) durationMax = time[under] - peakTime;
        under = -1;
        peak = e;
        peakTime = time[i];
        trough = e;
      } else if (e < peak) {
        under = i;
        if (e < trough) {
          trough = e;
          const amount = peak - e;
          if (amount > amountMax) amountMax = amount;
          if (peak > 0 && amount / peak > pctMax) pctMax = amount / peak;
        }
      }
    }
    run[0] = peak;
    run[1] = peakTime;
    run[2] = amountMax;
    run[3] = pctMax;
    run[4] = durationMax;
    run[5] = sum;
    run[6] = trough;
    run[7] = under;
    run[8] = points[to - 1 - offset];
  }

  get sumOfReturns() {
    return this.run[5];
  }

  /** The drawdown once every chunk is passed: a fall still open at the end lasts to its last point. */
  get drawdown() {
    const { run } = this;
    const open = run[7] >= 0 ? this.curve.time[run[7]] - run[1] : 0;
    return { maxDrawdown: run[2], maxDrawdownPct: run[3], maxDrawdownDurationMs: Math.max(run[4], open) };
  }
}

/**
 * The squared deviations of the first `length` of `returns` from their mean and their squared
 * shortfalls below the risk-free rate, added to `sums`, the zero returns among them counted instead
 * (with `zeros` more of them), in `sums[2]`: `spreadOf` adds what they come to at once. A flat
 * block's zeros (`forEachReturnChunk`) and a column's written ones are so summed alike, to the bit.
 */
function addSpread(returns: Float64Array, length: number, zeros: number, meanReturn: number, rfPeriod: number, sums: Float64Array) {
  let squaredDeviations = sums[0];
  let squaredShortfalls = sums[1];
  let zeroReturns = sums[2] + zeros;
  for (let i = 0; i < length; i++) {
    const r = returns[i];
    if (r === 0) {
      zeroReturns += 1;
      continue;
    }
    // Products, not `** 2`: V8 calls pow out of line for that.
    const deviation = r - meanReturn;
    const shortfall = Math.min(r - rfPeriod, 0);
    squaredDeviations += deviation * deviation;
    squaredShortfalls += shortfall * shortfall;
  }
  sums[0] = squaredDeviations;
  sums[1] = squaredShortfalls;
  sums[2] = zeroReturns;
}

/** The sums `addSpread` gathered, with what each zero return adds to them (`0 - mean`, `0 - rf`). */
function spreadOf(sums: Float64Array, meanReturn: number, rfPeriod: number) {
  const shortfall = Math.min(0 - rfPeriod, 0);
  return {
    squaredDeviations: sums[0] + sums[2] * (meanReturn * meanReturn),
    squaredShortfalls: sums[1] + sums[2] * (shortfall * shortfall),
  };
}

/**
 * The metrics of an equity curve (with `start`, that point first: no copy of a long curve to put it
 * in front) and of the closed trades' net P&L. Two passes over the curve, chunk by chunk: the returns
 * are recomputed in each rather than stored (a backtest's curve has millions of points); the drawdown
 * rides on the first, a long curve's VaR count on the second.
 */
export function performanceMetrics(curve: EquityCurve, tradePnl: ArrayLike<number>, opts: { periodsPerYear: number; riskFreeRate?: number; start?: StartPoint }): PerformanceMetrics {
  const rfPeriod = (opts.riskFreeRate ?? 0) / opts.periodsPerYear;
  const { equity } = curve;
  const { start } = opts;
  const points = equity.length + (start ? 1 : 0);
  const n = Math.max(points - 1, 0);
  const first = start ? start.equity : equity.length ? valueAt(equity, 0) : undefined;
  const returns: Returns = { equity, from: start ? 0 : 1, first: first! };
  const firstPass = new FirstPass(curve, returns, start);
  forEachChunk(equity.length, (from, to) => firstPass.over(from, to));
  const meanReturn = firstPass.sumOfReturns / n;
  const mean = n ? meanReturn - rfPeriod : Number.NaN;
  const varRank = Math.floor(0.05 * (n - 1));
  const tuning = selectTuningFor(n);
  const bracket = n > tuning.sortUpTo ? sampleBracket(returns, n, varRank, tuning.sampleSize) : undefined;
  const sums = new Float64Array(3);
  forEachReturnChunk(returns, (chunk, count, zeros) => {
    addSpread(chunk, count, zeros, meanReturn, rfPeriod, sums);
    bracket?.count(chunk, count, zeros);
  });
  const spread = spreadOf(sums, meanReturn, rfPeriod);
  const std = n >= 2 ? Math.sqrt(spread.squaredDeviations / (n - 1)) : Number.NaN;
  const downside = n ? Math.sqrt(spread.squaredShortfalls / n) : Number.NaN;
  const last = equity.length ? valueAt(equity, equity.length - 1) : start?.equity;
  const totalReturn = first && last !== undefined ? last / first - 1 : Number.NaN;
  const annualized = n ? (1 + totalReturn) ** (opts.periodsPerYear / n) - 1 : Number.NaN;
  const fifthPercentile = !n ? Number.NaN : bracket ? bracket.kth(varRank, n) ?? radixSelect(returns, varRank) : sortedReturns(returns, n)[varRank];
  const trades = tradeStatistics(tradePnl);
  const dd = firstPass.drawdown;

  return {
    periods: n,
    periodsPerYear: opts.periodsPerYear,
    initialEquity: first ?? null,
    finalEquity: last ?? null,
    totalReturn: finite(totalReturn),
    annualizedReturn: finite(annualized),
    volatility: finite(std * Math.sqrt(opts.periodsPerYear)),
    sharpe: std > 0 ? finite((mean / std) * Math.sqrt(opts.periodsPerYear)) : null,
    sortino: downside > 0 && n >= 2 ? finite((mean / downside) * Math.sqrt(opts.periodsPerYear)) : null,
    ...dd,
    calmar: dd.maxDrawdownPct > 0 && n >= 2 ? finite(annualized / dd.maxDrawdownPct) : null,
    var95: finite(-fifthPercentile),
    ...trades,
  };
}

/** Win rate, profit factor, average and largest win and loss, expectancy: sums in closing order. */
function tradeStatistics(pnl: ArrayLike<number>) {
  let wins = 0;
  let losses = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let total = 0;
  let largestWin = -Infinity;
  let largestLoss = Infinity;
  for (let i = 0; i < pnl.length; i++) {
    const x = pnl[i];
    total += x;
    if (x > 0) {
      wins += 1;
      grossProfit += x;
      largestWin = Math.max(largestWin, x);
    } else if (x < 0) {
      losses += 1;
      grossLoss += x;
      largestLoss = Math.min(largestLoss, x);
    }
  }
  const count = pnl.length;
  return {
    tradeCount: count,
    winRate: count ? wins / count : null,
    profitFactor: grossLoss < 0 ? grossProfit / -grossLoss : null,
    averageWin: wins ? finite(grossProfit / wins) : null,
    averageLoss: losses ? finite(grossLoss / losses) : null,
    largestWin: wins ? largestWin : null,
    largestLoss: losses ? largestLoss : null,
    expectancy: count ? finite(total / count) : null,
  };
}
