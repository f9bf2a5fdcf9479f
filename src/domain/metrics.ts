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

export interface EquityPoint {
  timestamp: number;
  equity: number;
}

/** An equity curve as columns: a backtest's curve has a point per bar, millions of them. */
export interface EquityCurve {
  time: ArrayLike<number>;
  equity: ArrayLike<number>;
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
  equity: ArrayLike<number>;
  from: number;
  first: number;
}

const returnAt = (c: Returns, i: number) => c.equity[i] / (i === c.from ? c.first : c.equity[i - 1]) - 1;

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
export function kthSmallestReturn(equity: ArrayLike<number>, start: StartPoint | undefined, k: number, tuning?: SelectTuning): number {
  const c: Returns = { equity, from: start ? 0 : 1, first: start ? start.equity : equity[0] };
  const n = equity.length - c.from;
  const { sortUpTo, sampleSize } = tuning ?? selectTuningFor(n);
  if (n <= sortUpTo) {
    const all = new Float64Array(n);
    for (let j = 0; j < n; j++) all[j] = returnAt(c, c.from + j);
    return all.sort()[k];
  }
  return (sampleSize > 0 ? bracketedSelect(c, n, k, sampleSize) : undefined) ?? radixSelect(c, k);
}

function bracketedSelect(c: Returns, n: number, k: number, sampleSize: number): number | undefined {
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
  const inside = new Float64Array(Math.min(n, 4 * spread * stride + 1024));
  let below = 0;
  let atLo = 0;
  let between = 0;
  let atHi = 0;
  let above = 0;
  for (let i = c.from; i < c.equity.length; i++) {
    const r = returnAt(c, i);
    if (r < lo) below += 1;
    else if (r === lo) atLo += 1;
    else if (r < hi) {
      if (between === inside.length) return undefined;
      inside[between++] = r;
    } else if (r === hi) atHi += 1;
    else if (r > hi) above += 1;
  }
  // A NaN return (a point of zero equity) is in no count: the radix select places it.
  if (below + atLo + between + atHi + above !== n) return undefined;
  let rank = k - below;
  if (rank < 0) return undefined;
  if (rank < atLo) return lo;
  rank -= atLo;
  if (rank < between) return inside.subarray(0, between).sort()[rank];
  rank -= between;
  return rank < atHi ? hi : undefined;
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
    for (let i = c.from; i < c.equity.length; i++) {
      keyOf(returnAt(c, i), key);
      // Only the returns that share the digits found in the earlier passes.
      const word = key[pass >> 1];
      if (pass >= 1 && (key[0] >>> 16) !== known[0] >>> 16) continue;
      if (pass >= 2 && key[0] !== known[0]) continue;
      if (pass === 3 && (key[1] >>> 16) !== known[1] >>> 16) continue;
      counts[pass % 2 === 0 ? word >>> 16 : word & 0xffff] += 1;
    }
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

export function drawdown(curve: EquityCurve, start?: StartPoint) {
  // The running peak and the worst fall so far live in one typed array: written as variables the
  // `visit` closure shares, each new value was a boxed number (an allocation a point).
  const at = new Float64Array(5);
  const PEAK = 0;
  const PEAK_TIME = 1;
  const AMOUNT = 2;
  const PCT = 3;
  const DURATION = 4;
  at[PEAK] = -Infinity;
  const visit = (equity: number, time: number) => {
    if (equity >= at[PEAK]) {
      at[PEAK] = equity;
      at[PEAK_TIME] = time;
    }
    const amount = at[PEAK] - equity;
    if (amount > at[AMOUNT]) at[AMOUNT] = amount;
    if (at[PEAK] > 0 && amount / at[PEAK] > at[PCT]) at[PCT] = amount / at[PEAK];
    if (amount > 0 && time - at[PEAK_TIME] > at[DURATION]) at[DURATION] = time - at[PEAK_TIME];
  };
  if (start) visit(start.equity, start.time);
  for (let i = 0; i < curve.equity.length; i++) visit(curve.equity[i], curve.time[i]);
  return { maxDrawdown: at[AMOUNT], maxDrawdownPct: at[PCT], maxDrawdownDurationMs: at[DURATION] };
}

/**
 * The metrics of an equity curve (with `start`, that point first: no copy of a long curve to put it
 * in front) and of the closed trades' net P&L.
 */
export function performanceMetrics(curve: EquityCurve, tradePnl: ArrayLike<number>, opts: { periodsPerYear: number; riskFreeRate?: number; start?: StartPoint }): PerformanceMetrics {
  const rfPeriod = (opts.riskFreeRate ?? 0) / opts.periodsPerYear;
  const { equity } = curve;
  const { start } = opts;
  const points = equity.length + (start ? 1 : 0);
  const n = Math.max(points - 1, 0);
  // The returns are recomputed in each pass rather than stored: a backtest's curve has millions of points.
  const first = start ? start.equity : equity.length ? equity[0] : undefined;
  const returns: Returns = { equity, from: start ? 0 : 1, first: first! };
  // The running sums in a typed array: as local variables V8 boxed them at every point of this loop,
  // which it optimises while it runs (90 MB of garbage over a five-million-point curve, measured).
  const sums = new Float64Array(3);
  for (let i = returns.from; i < equity.length; i++) sums[0] += returnAt(returns, i);
  const meanReturn = sums[0] / n;
  const mean = n ? meanReturn - rfPeriod : Number.NaN;
  for (let i = returns.from; i < equity.length; i++) {
    const r = returnAt(returns, i);
    // Products, not `** 2`: V8 calls pow out of line for that.
    const deviation = r - meanReturn;
    const downside = Math.min(r - rfPeriod, 0);
    sums[1] += deviation * deviation;
    sums[2] += downside * downside;
  }
  const std = n >= 2 ? Math.sqrt(sums[1] / (n - 1)) : Number.NaN;
  const downside = n ? Math.sqrt(sums[2] / n) : Number.NaN;
  const last = equity.length ? equity[equity.length - 1] : start?.equity;
  const totalReturn = first && last !== undefined ? last / first - 1 : Number.NaN;
  const annualized = n ? (1 + totalReturn) ** (opts.periodsPerYear / n) - 1 : Number.NaN;
  const dd = drawdown(curve, start);
  const var95 = n ? -kthSmallestReturn(equity, start, Math.floor(0.05 * (n - 1))) : Number.NaN;
  const trades = tradeStatistics(tradePnl);

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
    var95: finite(var95),
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
