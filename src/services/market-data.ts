import type { Database } from '../db/client';
import { queryCandles } from '../db/market-data';
import { mergeBars } from '../domain/thinning';

/** Candles of one stored interval for a chart: at most `limit` read, merged down to at most `maxBars` (and the bar length that gives). */
export async function chartCandles(db: Database, asset: string, q: { interval: number; from?: number; to?: number; limit: number; maxBars: number }) {
  const rows = await queryCandles(db, { asset, intervalMinutes: q.interval, from: q.from, to: q.to, limit: q.limit });
  const candles = mergeBars(rows, q.maxBars);
  return { asset, interval: q.interval, storedBars: rows.length, barMinutes: rows.length ? q.interval * Math.ceil(rows.length / candles.length) : q.interval, candles };
}
