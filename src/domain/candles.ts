import type { Candle } from './types';

/** Thrown for data that no retry can fix: the message names the field and the value. */
export class InvalidMarketDataError extends Error {
  override name = 'InvalidMarketDataError';
}

const FIELDS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Rejects impossible candles: non-finite numbers, negative or zero prices, negative volume, high below low or outside open/close. */
export function validateCandle(candle: Candle, context: string): void {
  for (const field of FIELDS) {
    const value = candle[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidMarketDataError(`${context}: candle ${field} is not a finite number (${String(value)})`);
    }
  }
  const at = `${context}: candle at ${new Date(candle.timestamp).toISOString()}`;
  for (const field of ['open', 'high', 'low', 'close'] as const) {
    if (candle[field] <= 0) throw new InvalidMarketDataError(`${at}: ${field} must be positive, got ${candle[field]}`);
  }
  if (candle.volume < 0) throw new InvalidMarketDataError(`${at}: volume must not be negative, got ${candle.volume}`);
  if (candle.high < candle.low) {
    throw new InvalidMarketDataError(`${at}: high (${candle.high}) is below low (${candle.low})`);
  }
  const top = Math.max(candle.open, candle.close);
  const bottom = Math.min(candle.open, candle.close);
  if (candle.high < top) throw new InvalidMarketDataError(`${at}: high (${candle.high}) is below open/close (${top})`);
  if (candle.low > bottom) throw new InvalidMarketDataError(`${at}: low (${candle.low}) is above open/close (${bottom})`);
}

export function validateCandles(candles: Candle[], context: string): void {
  for (const c of candles) validateCandle(c, context);
}

/** A price or 24-hour-volume point as CoinGecko's market_chart returns them: [epoch ms, value]. */
export type TimedValue = readonly [number, number];

/**
 * Builds OHLCV bars of `intervalMs` from price points (CoinGecko's 5-minute market_chart data).
 * A bar is emitted only when complete (its end is at or before `completeBefore`), so a bar is never
 * stored half-formed. Volume: CoinGecko reports a rolling 24-hour volume in USD at each point, so the
 * bar's volume is the mean 24-hour volume over the bar prorated to the bar's length (an estimate,
 * documented), converted at the bar's close to units of the coin, as every other source stores it.
 */
export function barsFromPoints(
  prices: readonly TimedValue[],
  volumes: readonly TimedValue[],
  intervalMs: number,
  completeBefore: number,
): Candle[] {
  const buckets = new Map<number, { open: number; high: number; low: number; close: number; first: number; last: number }>();
  for (const [t, p] of prices) {
    const start = Math.floor(t / intervalMs) * intervalMs;
    const b = buckets.get(start);
    if (!b) buckets.set(start, { open: p, high: p, low: p, close: p, first: t, last: t });
    else {
      if (t < b.first) { b.first = t; b.open = p; }
      if (t >= b.last) { b.last = t; b.close = p; }
      if (p > b.high) b.high = p;
      if (p < b.low) b.low = p;
    }
  }
  const volumeSums = new Map<number, { sum: number; n: number }>();
  for (const [t, v] of volumes) {
    const start = Math.floor(t / intervalMs) * intervalMs;
    const s = volumeSums.get(start) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n += 1;
    volumeSums.set(start, s);
  }
  const share = intervalMs / 86_400_000;
  return [...buckets.entries()]
    .filter(([start]) => start + intervalMs <= completeBefore)
    .sort(([a], [b]) => a - b)
    .map(([timestamp, b]) => {
      const v = volumeSums.get(timestamp);
      return { timestamp, open: b.open, high: b.high, low: b.low, close: b.close, volume: v ? ((v.sum / v.n) * share) / b.close : 0 };
    });
}

/** Bar open times in [from, to) on the interval grid that `present` lacks: the gaps a backfill must fill. */
export function missingBarTimes(present: Iterable<number>, from: number, to: number, intervalMs: number): number[] {
  const have = new Set(present);
  const missing: number[] = [];
  for (let t = Math.ceil(from / intervalMs) * intervalMs; t < to; t += intervalMs) {
    if (!have.has(t)) missing.push(t);
  }
  return missing;
}

/** Groups sorted missing times into contiguous ranges of at most `maxSpanMs`, each [from, to). */
export function gapRanges(missing: number[], intervalMs: number, maxSpanMs: number): Array<{ from: number; to: number }> {
  const ranges: Array<{ from: number; to: number }> = [];
  for (const t of missing) {
    const last = ranges[ranges.length - 1];
    if (last && last.to === t && t + intervalMs - last.from <= maxSpanMs) last.to = t + intervalMs;
    else ranges.push({ from: t, to: t + intervalMs });
  }
  return ranges;
}
