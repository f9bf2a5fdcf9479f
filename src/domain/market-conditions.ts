/**
 * The market conditions the risk module weighs a trade against: each asset's daily returns (for its
 * volatility and its correlation with the open positions) and what it traded in the last 24 hours.
 * Derived from bars of any size the same way, so a backtest on hourly bars and paper trading on the
 * stored candles see the same numbers at the same decision time.
 */
import { ExactSum, pearsonFromSums, sampleDeviation } from './rolling';
import { knownCount, type MarketData, type PriceSeries } from './signals';
import { DAY_MS } from './types';

/** Fewer daily returns than this in the lookback and a volatility or correlation is not known. */
export const MIN_DAILY_RETURNS = 10;

export interface AssetConditions {
  /**
   * Simple returns between consecutive UTC-midnight closes, oldest first, the last ending at the last
   * midnight at or before the decision; NaN where a day has no close.
   */
  dailyReturns: number[];
  /** USD traded in the 24 hours to the decision: Σ volume (base units) × close of the bars that closed in them; null when none did. */
  tradedValue24h: number | null;
}

/** Asset → its conditions at one decision time. */
export type MarketConditions = Record<string, AssetConditions>;

/** The close at UTC midnight `m`: the last bar closing at or before it, if that bar closed within the day before. */
function closeAt(series: PriceSeries, m: number): number {
  const i = knownCount(series.time, m) - 1;
  return i >= 0 && series.time[i] > m - DAY_MS ? series.close[i] : Number.NaN;
}

export function assetConditions(series: PriceSeries | undefined, asOf: number, lookbackDays: number): AssetConditions {
  if (!series || series.time.length === 0) return { dailyReturns: [], tradedValue24h: null };
  const lastMidnight = Math.floor(asOf / DAY_MS) * DAY_MS;
  const dailyReturns: number[] = [];
  let previous = closeAt(series, lastMidnight - lookbackDays * DAY_MS);
  for (let k = lookbackDays - 1; k >= 0; k--) {
    const close = closeAt(series, lastMidnight - k * DAY_MS);
    dailyReturns.push(close / previous - 1);
    previous = close;
  }
  let traded = 0;
  let bars = 0;
  for (let i = knownCount(series.time, asOf) - 1; i >= 0 && series.time[i] > asOf - DAY_MS; i--, bars++) traded += series.volume[i] * series.close[i];
  return { dailyReturns, tradedValue24h: bars ? traded : null };
}

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
  for (const r of returns) {
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
