import type { Database } from '../db/client';
import { longestDividingInterval, queryCandles, storedCoverage } from '../db/market-data';
import { candlesOfBar } from '../domain/market-data';
import { mergeBars } from '../domain/thinning';
import { type Candle, MINUTE_MS } from '../domain/types';

/**
 * Candles of `interval` minutes for a chart: at most `limit` stored bars read, merged down to at most
 * `maxBars` (and the bar length that gives). When no bars of that length are stored in the range, they
 * are built from the longest stored interval that divides it (`builtFromMinutes`): a coin collected
 * every 15 minutes still has hourly and daily candles.
 */
export async function chartCandles(db: Database, asset: string, q: { interval: number; from?: number; to?: number; limit: number; maxBars: number }) {
  const range = { from: q.from, to: q.to };
  /** The response from the stored rows read and the bars of `interval` they give. */
  const chart = (rows: Candle[], bars: Candle[]) => {
    const candles = mergeBars(bars, q.maxBars);
    return { asset, interval: q.interval, storedBars: rows.length, bars: bars.length, barMinutes: bars.length ? q.interval * Math.ceil(bars.length / candles.length) : q.interval, candles };
  };
  const stored = await queryCandles(db, { asset, intervalMinutes: q.interval, ...range, limit: q.limit });
  const finer = stored.length ? undefined : await longestDividingInterval(db, asset, q.interval, range);
  if (finer === undefined) return chart(stored, stored);
  const rows = await queryCandles(db, { asset, intervalMinutes: finer, ...range, limit: q.limit });
  const bars = candlesOfBar(rows, finer * MINUTE_MS, q.interval * MINUTE_MS);
  // A read cut short by `limit` may begin inside a bar: that bar would show only part of its period.
  const partial = rows.length === q.limit && bars.length > 0 && bars[0].timestamp < rows[0].timestamp;
  return { ...chart(rows, partial ? bars.slice(1) : bars), builtFromMinutes: finer };
}

/** What is stored, by asset: each interval with its first and last bar (open times, epoch ms and ISO). */
export async function marketCoverage(db: Database) {
  const byAsset = new Map<string, Array<{ intervalMinutes: number; first: number; last: number; firstTime: string; lastTime: string }>>();
  for (const { asset, intervalMinutes, first, last } of await storedCoverage(db)) {
    const intervals = byAsset.get(asset) ?? [];
    intervals.push({ intervalMinutes, first, last, firstTime: new Date(first).toISOString(), lastTime: new Date(last).toISOString() });
    byAsset.set(asset, intervals);
  }
  return { assets: [...byAsset].map(([asset, intervals]) => ({ asset, intervals })) };
}
