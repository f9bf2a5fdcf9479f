import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import type { CandleColumns } from '../domain/market-data';
import type { Candle, DataSourceName, MacroObservation } from '../domain/types';
import type { Database, Queryable } from './client';
import { cryptoOhlcv, macroIndicators } from './schema';

const UPSERT_BATCH = 20_000;

/**
 * Inserts bars, or corrects stored ones whose values differ; returns how many rows were written.
 * Re-running the same collection writes nothing, so retries and overlapping runs are harmless.
 */
export async function upsertCandles(
  db: Database,
  asset: string,
  intervalMinutes: number,
  source: DataSourceName,
  candles: Candle[],
): Promise<number> {
  let written = 0;
  for (let i = 0; i < candles.length; i += UPSERT_BATCH) {
    const batch = candles.slice(i, i + UPSERT_BATCH);
    const column = <T>(pick: (c: Candle) => T) => sql.param(batch.map(pick));
    // Each column one array parameter (drizzle's per-row VALUES took seconds for a year of 15-minute bars);
    // a bar already stored with the same numbers is left alone, so only changes count as written.
    const result = await db.execute(sql`
      INSERT INTO ${cryptoOhlcv} (asset, interval_minutes, timestamp, date_str, open, high, low, close, volume, source)
      SELECT ${asset}, ${intervalMinutes}, bar.timestamp, bar.date_str, bar.open, bar.high, bar.low, bar.close, bar.volume, ${source}
      FROM unnest(
        ${column((c) => c.timestamp)}::bigint[], ${column((c) => new Date(c.timestamp).toISOString())}::text[],
        ${column((c) => c.open)}::double precision[], ${column((c) => c.high)}::double precision[], ${column((c) => c.low)}::double precision[],
        ${column((c) => c.close)}::double precision[], ${column((c) => c.volume)}::double precision[]
      ) AS bar(timestamp, date_str, open, high, low, close, volume)
      ON CONFLICT (asset, interval_minutes, timestamp) DO UPDATE SET
        open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
        volume = excluded.volume, source = excluded.source, updated_at = now()
      WHERE (${cryptoOhlcv}.open, ${cryptoOhlcv}.high, ${cryptoOhlcv}.low, ${cryptoOhlcv}.close, ${cryptoOhlcv}.volume, ${cryptoOhlcv}.source)
        IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.source)`);
    written += result.rowCount ?? 0;
  }
  return written;
}

export async function upsertMacro(
  db: Database,
  indicator: string,
  source: DataSourceName,
  observations: MacroObservation[],
): Promise<number> {
  if (observations.length === 0) return 0;
  const rows = observations.map((o) => ({
    indicator, date: o.date, value: o.value, isForwardFilled: o.isForwardFilled, isInterpolated: o.isInterpolated, source,
  }));
  const result = await db
    .insert(macroIndicators)
    .values(rows)
    .onConflictDoUpdate({
      target: [macroIndicators.indicator, macroIndicators.date],
      set: {
        value: sql`excluded.value`, isForwardFilled: sql`excluded.is_forward_filled`,
        isInterpolated: sql`excluded.is_interpolated`, source: sql`excluded.source`, updatedAt: sql`now()`,
      },
      setWhere: sql`(${macroIndicators.value}, ${macroIndicators.isForwardFilled}, ${macroIndicators.isInterpolated}, ${macroIndicators.source})
        IS DISTINCT FROM (excluded.value, excluded.is_forward_filled, excluded.is_interpolated, excluded.source)`,
    })
    .returning({ id: macroIndicators.id });
  return result.length;
}

/** Stored bar open times of one asset and interval within [from, to). */
export async function storedBarTimes(db: Queryable, asset: string, intervalMinutes: number, from: number, to: number): Promise<number[]> {
  const rows = await db
    .select({ timestamp: cryptoOhlcv.timestamp })
    .from(cryptoOhlcv)
    .where(and(eq(cryptoOhlcv.asset, asset), eq(cryptoOhlcv.intervalMinutes, intervalMinutes), gte(cryptoOhlcv.timestamp, from), lt(cryptoOhlcv.timestamp, to)));
  return rows.map((r) => r.timestamp);
}

/** Stored dates of one macro series within [fromDate, toDate]. */
export async function storedMacroDates(db: Queryable, indicator: string, fromDate: string, toDate: string): Promise<string[]> {
  const rows = await db
    .select({ date: macroIndicators.date })
    .from(macroIndicators)
    .where(and(eq(macroIndicators.indicator, indicator), gte(macroIndicators.date, fromDate), lte(macroIndicators.date, toDate)));
  return rows.map((r) => r.date);
}

export async function lastMacroValueBefore(db: Queryable, indicator: string, date: string): Promise<{ date: string; value: number } | undefined> {
  const [row] = await db
    .select({ date: macroIndicators.date, value: macroIndicators.value })
    .from(macroIndicators)
    .where(and(eq(macroIndicators.indicator, indicator), lt(macroIndicators.date, date)))
    .orderBy(desc(macroIndicators.date))
    .limit(1);
  return row;
}

export interface CandleQuery {
  asset: string;
  intervalMinutes?: number;
  from?: number;
  to?: number;
  limit: number;
}

/** The latest `limit` bars in the window, returned oldest first. */
export async function queryCandles(db: Queryable, q: CandleQuery) {
  const conditions = [eq(cryptoOhlcv.asset, q.asset)];
  if (q.intervalMinutes !== undefined) conditions.push(eq(cryptoOhlcv.intervalMinutes, q.intervalMinutes));
  if (q.from !== undefined) conditions.push(gte(cryptoOhlcv.timestamp, q.from));
  if (q.to !== undefined) conditions.push(lte(cryptoOhlcv.timestamp, q.to));
  const rows = await db.select().from(cryptoOhlcv).where(and(...conditions)).orderBy(desc(cryptoOhlcv.timestamp)).limit(q.limit);
  return rows.reverse();
}

export async function queryMacro(db: Queryable, indicator: string, fromDate?: string, toDate?: string, limit = 5000) {
  const conditions = [eq(macroIndicators.indicator, indicator)];
  if (fromDate) conditions.push(gte(macroIndicators.date, fromDate));
  if (toDate) conditions.push(lte(macroIndicators.date, toDate));
  return db.select().from(macroIndicators).where(and(...conditions)).orderBy(asc(macroIndicators.date)).limit(limit);
}

/**
 * The bar length that covers the most time for an asset within [from, to): a coin may hold
 * 15-minute collection bars and a daily CSV import side by side. With `dividing`, only intervals
 * that divide that many minutes count (bars of it can be built from them).
 */
export async function bestCoveredInterval(db: Queryable, asset: string, from: number, to: number, dividing?: number): Promise<number | undefined> {
  return bestInterval((await coveredIntervals(db, [asset], from, to)).get(asset) ?? [], dividing);
}

/** Per asset, how many bars of each stored interval fall in [from, to): one query for all of them. */
export async function coveredIntervals(db: Queryable, assets: string[], from: number, to: number): Promise<Map<string, IntervalCount[]>> {
  const rows = assets.length === 0 ? [] : await db
    .select({ asset: cryptoOhlcv.asset, intervalMinutes: cryptoOhlcv.intervalMinutes, n: sql<number>`count(*)::int` })
    .from(cryptoOhlcv)
    .where(and(inArray(cryptoOhlcv.asset, assets), gte(cryptoOhlcv.timestamp, from), lt(cryptoOhlcv.timestamp, to)))
    .groupBy(cryptoOhlcv.asset, cryptoOhlcv.intervalMinutes);
  const out = new Map<string, IntervalCount[]>();
  for (const r of rows) out.set(r.asset, [...(out.get(r.asset) ?? []), { intervalMinutes: r.intervalMinutes, n: r.n }]);
  return out;
}

export interface IntervalCount {
  intervalMinutes: number;
  n: number;
}

/** The interval covering the most time (ties: the longer bar), among those dividing `dividing` when given. */
export function bestInterval(counts: IntervalCount[], dividing?: number): number | undefined {
  const usable = dividing === undefined ? [...counts] : counts.filter((r) => dividing % r.intervalMinutes === 0);
  usable.sort((a, b) => b.n * b.intervalMinutes - a.n * a.intervalMinutes || b.intervalMinutes - a.intervalMinutes);
  return usable[0]?.intervalMinutes;
}

/** Bytes a candle takes in `closedCandleColumnsOf`'s packed form: six float8s. */
const PACKED_CANDLE_BYTES = 48;

/**
 * Candles of several (asset, interval) pairs that had closed by `closedBy`, oldest first per pair, as
 * columns, in one query; keyed by `${asset}|${intervalMinutes}`. Postgres packs each pair's candles
 * into one bytea of big-endian float8s (float8send: exact, and no number printed or parsed): read as
 * rows, ~67,000 hourly candles cost the worker ~510 ms in pg's and drizzle's per-row work and Postgres
 * ~160 ms; packed, ~60 and ~160–220 ms.
 */
export async function closedCandleColumnsOf(db: Queryable, pairs: Array<{ asset: string; intervalMinutes: number }>, from: number, closedBy: number) {
  const out = new Map<string, CandleColumns>();
  if (pairs.length === 0) return out;
  const matches = pairs.map((p) => sql`(asset = ${p.asset} AND interval_minutes = ${p.intervalMinutes}::int
    AND timestamp <= ${closedBy - p.intervalMinutes * 60_000}::bigint)`);
  const { rows } = await db.execute<{ asset: string; interval_minutes: number; candles: Buffer }>(sql`
    SELECT asset, interval_minutes, string_agg(float8send(timestamp::float8) || float8send(open) || float8send(high)
      || float8send(low) || float8send(close) || float8send(volume), ''::bytea ORDER BY timestamp) AS candles
    FROM ${cryptoOhlcv}
    WHERE timestamp >= ${from}::bigint AND (${sql.join(matches, sql` OR `)})
    GROUP BY asset, interval_minutes`);
  for (const { asset, interval_minutes: intervalMinutes, candles } of rows) {
    const view = new DataView(candles.buffer, candles.byteOffset, candles.byteLength);
    const n = candles.byteLength / PACKED_CANDLE_BYTES;
    const c = {
      timestamp: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n),
      low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n),
    };
    for (let i = 0, at = 0; i < n; i++, at += PACKED_CANDLE_BYTES) {
      c.timestamp[i] = view.getFloat64(at);
      c.open[i] = view.getFloat64(at + 8);
      c.high[i] = view.getFloat64(at + 16);
      c.low[i] = view.getFloat64(at + 24);
      c.close[i] = view.getFloat64(at + 32);
      c.volume[i] = view.getFloat64(at + 40);
    }
    out.set(`${asset}|${intervalMinutes}`, c);
  }
  return out;
}

/** Bars of one interval that had closed by `closedBy`, oldest first. */
export async function closedCandles(db: Queryable, asset: string, intervalMinutes: number, from: number, closedBy: number): Promise<Candle[]> {
  return db
    .select({ timestamp: cryptoOhlcv.timestamp, open: cryptoOhlcv.open, high: cryptoOhlcv.high, low: cryptoOhlcv.low, close: cryptoOhlcv.close, volume: cryptoOhlcv.volume })
    .from(cryptoOhlcv)
    .where(and(
      eq(cryptoOhlcv.asset, asset), eq(cryptoOhlcv.intervalMinutes, intervalMinutes),
      gte(cryptoOhlcv.timestamp, from), lte(cryptoOhlcv.timestamp, closedBy - intervalMinutes * 60_000),
    ))
    .orderBy(asc(cryptoOhlcv.timestamp));
}
