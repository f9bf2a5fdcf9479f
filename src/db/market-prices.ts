/** Streamed prices: the latest per asset (written forwards only) and where each stream's 1-minute bars stand. */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { StreamSourceName } from '../domain/market-stream';
import type { Database, Queryable } from './client';
import { NOTIFY_CHANNELS } from './notify';
import { cryptoOhlcv, latestPrices } from './schema';

export interface LatestPrice {
  asset: string;
  price: number;
  /** The exchange's quote time (ms). */
  time: number;
  source: StreamSourceName;
}

/**
 * Writes each asset's price unless a newer one is stored (two consumers, or an event out of order,
 * never move a price back in time), and announces what was written on the prices channel in the same
 * transaction, so a listener hears only committed prices. Returns the prices written.
 */
export async function writeLatestPrices(db: Database, prices: LatestPrice[]): Promise<LatestPrice[]> {
  if (prices.length === 0) return [];
  return db.transaction(async (tx) => {
    const written = await tx.insert(latestPrices).values(prices.map((p) => ({ ...p, updatedAt: new Date() })))
      .onConflictDoUpdate({
        target: latestPrices.asset,
        set: { price: sql`excluded.price`, time: sql`excluded.time`, source: sql`excluded.source`, updatedAt: sql`now()` },
        setWhere: sql`excluded.time > ${latestPrices.time}`,
      })
      .returning({ asset: latestPrices.asset, price: latestPrices.price, time: latestPrices.time, source: latestPrices.source });
    if (written.length > 0) await tx.execute(sql`select pg_notify(${NOTIFY_CHANNELS.prices}, ${JSON.stringify(written)})`);
    return written;
  });
}

/** The latest streamed prices, of some assets or all. */
export async function readLatestPrices(db: Queryable, assets?: string[]): Promise<LatestPrice[]> {
  const q = db.select({ asset: latestPrices.asset, price: latestPrices.price, time: latestPrices.time, source: latestPrices.source }).from(latestPrices);
  return assets ? q.where(inArray(latestPrices.asset, assets)).orderBy(latestPrices.asset) : q.orderBy(latestPrices.asset);
}

/** The open time of the newest stored 1-minute bar of each asset from this source: where a consumer resumes. */
export async function newestMinuteBars(db: Queryable, source: StreamSourceName, assets: string[]): Promise<Record<string, number>> {
  if (assets.length === 0) return {};
  const rows = await db.selectDistinctOn([cryptoOhlcv.asset], { asset: cryptoOhlcv.asset, timestamp: cryptoOhlcv.timestamp }).from(cryptoOhlcv)
    .where(and(inArray(cryptoOhlcv.asset, assets), eq(cryptoOhlcv.intervalMinutes, 1), eq(cryptoOhlcv.source, source)))
    .orderBy(cryptoOhlcv.asset, desc(cryptoOhlcv.timestamp));
  return Object.fromEntries(rows.map((r) => [r.asset, r.timestamp]));
}
