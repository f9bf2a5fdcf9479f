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
 * The k-th smallest (0-based) of the curve's period returns, without storing them: a radix select on
 * their order-preserving 64-bit keys, 16 bits a pass (four passes over the curve, 65,536 counters), so
 * a ten-million-point curve needs no second ten-million-value array.
 */
function kthSmallestReturn(equity: ArrayLike<number>, start: StartPoint | undefined, k: number): number {
  const counts = new Uint32Array(65536);
  const key = new Uint32Array(2);
  const known = new Uint32Array(2);
  let rank = k;
  for (let pass = 0; pass < 4; pass++) {
    counts.fill(0);
    let previous = start ? start.equity : equity[0];
    for (let i = start ? 0 : 1; i < equity.length; i++) {
      keyOf(equity[i] / previous - 1, key);
      previous = equity[i];
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
  let peak = -Infinity;
  let peakTime = 0;
  let maxAmount = 0;
  let maxPct = 0;
  let maxDuration = 0;
  const visit = (equity: number, time: number) => {
    if (equity >= peak) {
      peak = equity;
      peakTime = time;
    }
    const amount = peak - equity;
    if (amount > maxAmount) maxAmount = amount;
    if (peak > 0 && amount / peak > maxPct) maxPct = amount / peak;
    if (amount > 0) maxDuration = Math.max(maxDuration, time - peakTime);
  };
  if (start) visit(start.equity, start.time);
  for (let i = 0; i < curve.equity.length; i++) visit(curve.equity[i], curve.time[i]);
  return { maxDrawdown: maxAmount, maxDrawdownPct: maxPct, maxDrawdownDurationMs: maxDuration };
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
  const from = start ? 0 : 1;
  let sum = 0;
  let previous = first!;
  for (let i = from; i < equity.length; i++) {
    sum += equity[i] / previous - 1;
    previous = equity[i];
  }
  const meanReturn = sum / n;
  const mean = n ? meanReturn - rfPeriod : Number.NaN;
  let squares = 0;
  let downsideSquares = 0;
  previous = first!;
  for (let i = from; i < equity.length; i++) {
    const r = equity[i] / previous - 1;
    previous = equity[i];
    // Products, not `** 2`: V8 calls pow out of line for that.
    const deviation = r - meanReturn;
    const downside = Math.min(r - rfPeriod, 0);
    squares += deviation * deviation;
    downsideSquares += downside * downside;
  }
  const std = n >= 2 ? Math.sqrt(squares / (n - 1)) : Number.NaN;
  const downside = n ? Math.sqrt(downsideSquares / n) : Number.NaN;
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
