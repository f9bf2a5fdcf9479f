/**
 * The market conditions the risk module weighs a trade against: each asset's daily returns (for its
 * volatility and its correlation with the open positions) and what it traded in the last 24 hours.
 * Derived from bars of any size the same way, so a backtest on hourly bars and paper trading on the
 * stored candles see the same numbers at the same decision time.
 */
import { ExactSum, pearsonFromSums, sampleDeviation } from './rolling';
import { knownCount, knownCountSpaced, type MarketData, type PriceSeries } from './signals';
import { DAY_MS } from './types';

/** Fewer daily returns than this in the lookback and a volatility or correlation is not known. */
export const MIN_DAILY_RETURNS = 10;

export interface AssetConditions {
  /**
   * Simple returns between consecutive UTC-midnight closes, oldest first, the last ending at the last
   * midnight at or before the decision; NaN where a day has no close.
   */
  dailyReturns: readonly number[];
  /** The sample standard deviation of the known daily returns (`dailyVolatility`), computed once with them. */
  dailyVolatility: number | null;
  /** USD traded in the 24 hours to the decision: Σ volume (base units) × close of the bars that closed in them; null when none did. */
  tradedValue24h: number | null;
}

/** Asset → its conditions at one decision time. */
export type MarketConditions = Record<string, AssetConditions>;

/**
 * The close at UTC midnight `m`, given `known`, the count of bars closed by then: the last of them,
 * if it closed within the day before.
 */
function closeOfDay(series: PriceSeries, m: number, known: number): number {
  const i = known - 1;
  return i >= 0 && series.time[i] > m - DAY_MS ? series.close[i] : Number.NaN;
}

/** An asset's conditions from its daily returns (their volatility computed here, once) and its 24-hour traded value. */
export function conditionsOf(dailyReturns: readonly number[], tradedValue24h: number | null): AssetConditions {
  return { dailyReturns, dailyVolatility: dailyVolatility(dailyReturns), tradedValue24h };
}

/**
 * Writes the closes at the `count` UTC midnights ending at `lastMidnight`, oldest first, into `out`
 * from index `at`. Each midnight is searched from the one before (`near`, a count found for a nearby
 * time, for the first), where the bars' spacing puts it (`knownCountSpaced`): a search over the whole
 * series each time read its far halves (~30 ms of the shipped SMA's hourly replay, rebuilding a month
 * of closes at most of its signals).
 */
function dailyClosesInto(series: PriceSeries, out: Float64Array, at: number, lastMidnight: number, count: number, near = series.time.length): void {
  let known = near;
  for (let k = 0; k < count; k++) {
    const midnight = lastMidnight - (count - 1 - k) * DAY_MS;
    known = knownCountSpaced(series.time, midnight, known);
    out[at + k] = closeOfDay(series, midnight, known);
  }
}

/** Simple returns between consecutive daily closes. */
function returnsOf(closes: ArrayLike<number>): number[] {
  const returns: number[] = [];
  for (let k = 1; k < closes.length; k++) returns.push(closes[k] / closes[k - 1] - 1);
  return returns;
}

/** Σ volume × close of the bars that closed in the 24 hours to `asOf` (the first `known` bars closed by then); null when none did. */
function tradedValue24h(series: PriceSeries, asOf: number, known = knownCount(series.time, asOf)): number | null {
  let traded = 0;
  let bars = 0;
  for (let i = known - 1; i >= 0 && series.time[i] > asOf - DAY_MS; i--, bars++) traded += series.volume[i] * series.close[i];
  return bars ? traded : null;
}

export function assetConditions(series: PriceSeries | undefined, asOf: number, lookbackDays: number): AssetConditions {
  if (!series || series.time.length === 0) return conditionsOf([], null);
  const closes = new Float64Array(lookbackDays + 1);
  dailyClosesInto(series, closes, 0, Math.floor(asOf / DAY_MS) * DAY_MS, closes.length);
  return conditionsOf(returnsOf(closes), tradedValue24h(series, asOf));
}

/**
 * One asset's conditions as a replay moves forwards in time: the daily returns and their volatility
 * change only at UTC midnight, so they are derived once a day, from the day before's closes (kept in
 * one typed array, moved along in place) and the new midnights'; the 24-hour traded value at every
 * call. The same numbers as `assetConditions`.
 */
export class ConditionsTracker {
  private midnight = Number.NaN;
  private readonly closes: Float64Array;
  private dailyReturns: readonly number[] = [];
  private dailyVolatility: number | null = null;
  /** The bars closed by the last `asOf` asked: the next search starts there. */
  private known = 0;

  constructor(private readonly series: PriceSeries | undefined, private readonly lookbackDays: number) {
    this.closes = new Float64Array(lookbackDays + 1);
  }

  at(asOf: number): AssetConditions {
    const { series, closes } = this;
    if (!series || series.time.length === 0) return conditionsOf([], null);
    this.known = knownCountSpaced(series.time, asOf, this.known);
    const midnight = Math.floor(asOf / DAY_MS) * DAY_MS;
    if (midnight !== this.midnight) {
      const days = (midnight - this.midnight) / DAY_MS;
      // Moved on a few days: the oldest closes drop out and the new midnights' are added (each found once).
      const kept = days > 0 && days <= this.lookbackDays ? closes.length - days : 0;
      closes.copyWithin(0, closes.length - kept);
      dailyClosesInto(series, closes, kept, midnight, closes.length - kept, this.known);
      // A new array each day: the one before may be remembered (`conditionsCorrelation`) and is never changed.
      this.dailyReturns = returnsOf(closes);
      this.dailyVolatility = dailyVolatility(this.dailyReturns);
      this.midnight = midnight;
    }
    return { dailyReturns: this.dailyReturns, dailyVolatility: this.dailyVolatility, tradedValue24h: tradedValue24h(series, asOf, this.known) };
  }
}

/**
 * Where the candles the conditions at `asOf` are made of start: the lookback's daily closes back
 * from the last midnight, and a day before the first of them.
 */
export const lookbackStart = (asOf: number, lookbackDays: number) => asOf - (lookbackDays + 2) * DAY_MS;

/** The conditions of the given assets at `asOf`, from market data of any bar size. */
export function marketConditions(data: MarketData, assets: Iterable<string>, asOf: number, lookbackDays: number): MarketConditions {
  const out: MarketConditions = {};
  for (const asset of assets) out[asset] ??= assetConditions(data.prices[asset], asOf, lookbackDays);
  return out;
}

/**
 * Sample standard deviation of the known daily returns; null with fewer than `MIN_DAILY_RETURNS`.
 * Exact sums, as the rolling indicators keep them, and nothing allocated: it runs for every signal.
 */
export function dailyVolatility(returns: readonly number[]): number | null {
  const sum = new ExactSum();
  const squares = new ExactSum();
  let n = 0;
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i];
    if (!Number.isFinite(r)) continue;
    sum.add(r);
    squares.add(r * r);
    n += 1;
  }
  return n < MIN_DAILY_RETURNS ? null : sampleDeviation(n, sum.value, squares.value);
}

/** Pearson correlation over the days both returns are known; null with fewer than `MIN_DAILY_RETURNS` such days or no variation. */
export function returnCorrelation(a: readonly number[], b: readonly number[]): number | null {
  const [sx, sy, sxx, syy, sxy] = [new ExactSum(), new ExactSum(), new ExactSum(), new ExactSum(), new ExactSum()];
  let n = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!(Number.isFinite(x) && Number.isFinite(y))) continue;
    sx.add(x); sy.add(y); sxx.add(x * x); syy.add(y * y); sxy.add(x * y);
    n += 1;
  }
  if (n < MIN_DAILY_RETURNS) return null;
  const r = pearsonFromSums(n, sx.value, sy.value, sxx.value, syy.value, sxy.value);
  return Number.isNaN(r) ? null : r;
}

/**
 * Remembered correlations between return series. A replay hands the risk module the same day's
 * return arrays for every signal of that day (`ConditionsTracker`), so each pair is computed once a
 * day; the arrays are never changed once built, and a pair is forgotten with them.
 */
const correlations = new WeakMap<readonly number[], WeakMap<readonly number[], number | null>>();

/** `returnCorrelation` of two assets' daily returns, remembered per pair of return arrays. */
export function conditionsCorrelation(a: AssetConditions, b: AssetConditions): number | null {
  let row = correlations.get(a.dailyReturns);
  if (!row) correlations.set(a.dailyReturns, (row = new WeakMap()));
  let r = row.get(b.dailyReturns);
  if (r === undefined) row.set(b.dailyReturns, (r = returnCorrelation(a.dailyReturns, b.dailyReturns)));
  return r;
}
