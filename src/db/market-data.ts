import { and, asc, desc, eq, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { CandleColumns } from '../domain/market-data';
import { type Candle, type DataSourceName, DAY_MS, type MacroObservation } from '../domain/types';
import type { Database, Queryable } from './client';
import { asBase64, float8Array, fromBase64 } from './float8-arrays';
import { asParam, type Bound, bound, preparedSql } from './prepared';
import { candleRevisions, cryptoOhlcv, macroIndicators, macroRevisions } from './schema';

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
    const numbers = (pick: (c: Candle) => number) => float8Array(Float64Array.from(batch, pick));
    // Each column one array parameter, the numbers in binary (drizzle's per-row VALUES took seconds for a year of 15-minute bars);
    // a bar already stored with the same numbers is left alone, so only changes count as written.
    const result = await db.execute(sql`
      INSERT INTO ${cryptoOhlcv} (asset, interval_minutes, timestamp, date_str, open, high, low, close, volume, source)
      SELECT ${asset}, ${intervalMinutes}, bar.timestamp, bar.date_str, bar.open, bar.high, bar.low, bar.close, bar.volume, ${source}
      FROM unnest(
        ${numbers((c) => c.timestamp)}::bigint[], ${sql.param(batch.map((c) => new Date(c.timestamp).toISOString()))}::text[],
        ${numbers((c) => c.open)}, ${numbers((c) => c.high)}, ${numbers((c) => c.low)}, ${numbers((c) => c.close)}, ${numbers((c) => c.volume)}
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
 * Each stored interval of each asset `assets` lists (a statement giving one column), as rows (asset,
 * interval_minutes): found through the (asset, interval, timestamp) index one descent at a time (a
 * loose index scan), not by reading the assets' candles.
 */
export const storedIntervalsOf = (assets: SQL) => sql`
  WITH RECURSIVE stored(asset, interval_minutes) AS (
    SELECT a.asset, (SELECT min(c.interval_minutes) FROM ${cryptoOhlcv} c WHERE c.asset = a.asset)
    FROM (${assets}) AS a(asset)
    UNION ALL
    SELECT s.asset, (SELECT min(c.interval_minutes) FROM ${cryptoOhlcv} c WHERE c.asset = s.asset AND c.interval_minutes > s.interval_minutes)
    FROM stored s WHERE s.interval_minutes IS NOT NULL
  )
  SELECT asset, interval_minutes FROM stored WHERE interval_minutes IS NOT NULL`;

/** A list of assets as a query of one text column (each once), for the fragments that take one. */
const assetList = (assets: Bound<string[]>) => sql`SELECT DISTINCT unnest(${asParam(assets)}::text[])`;

/**
 * For each asset and bar size, the stored interval that covers the most time within [from, to), the
 * longer bar on a tie, among those dividing the bar (bars of it can be built from them; a null bar
 * takes any interval): a coin may hold 15-minute collection bars and a daily CSV import side by
 * side. `assets` is a query of one text column. Rows (asset, bar, interval_minutes); none for an
 * asset or bar nothing serves.
 *
 * Each asset's intervals (`storedIntervalsOf`), then each one's candles in the range counted by a
 * range scan of the index. Filtering the range over every candle of the assets scanned their whole
 * history: with two years of minute bars for two coins, the 32 days of hourly bars a saga's risk
 * checks read took ~230 ms, at every signal; so ~13 ms.
 */
const bestIntervalsOf = (assets: SQL, bars: Bound<Array<number | null>>, from: Bound<number>, to: Bound<number>) => sql`
  WITH counted AS MATERIALIZED (
    -- Materialized: each count runs once, not once for every bar and sort key that reads it.
    SELECT s.asset, s.interval_minutes, (
      SELECT count(*) FROM ${cryptoOhlcv} o
      WHERE o.asset = s.asset AND o.interval_minutes = s.interval_minutes AND o.timestamp >= ${from}::bigint AND o.timestamp < ${to}::bigint
    ) AS n
    FROM (${storedIntervalsOf(assets)}) s
  )
  SELECT DISTINCT ON (c.asset, b.bar) c.asset, b.bar, c.interval_minutes
  FROM counted c CROSS JOIN unnest(${asParam(bars)}::int[]) AS b(bar)
  WHERE c.n > 0 AND (b.bar IS NULL OR b.bar % c.interval_minutes = 0)
  ORDER BY c.asset, b.bar, c.n * c.interval_minutes DESC, c.interval_minutes DESC`;

/** The interval that covers [from, to) best for one asset (see `bestIntervalsOf`), or undefined when it has none there. */
export async function bestCoveredInterval(db: Queryable, asset: string, from: number, to: number): Promise<number | undefined> {
  const { rows } = await db.execute<{ interval_minutes: number }>(sql`SELECT interval_minutes FROM (${bestIntervalsOf(assetList([asset]), [null], from, to)}) best`);
  return rows[0]?.interval_minutes;
}

/**
 * The longest stored interval of `asset` that divides `bar` (minutes) and has a bar in [from, to]:
 * what a chart builds bars of `bar` from when none of that length are stored (the fewest candles to
 * read for the same span). Index probes only, one per stored interval: no count of the history.
 */
export async function longestDividingInterval(db: Queryable, asset: string, bar: number, range: { from?: number; to?: number }): Promise<number | undefined> {
  const { rows } = await db.execute<{ interval_minutes: number }>(sql`
    SELECT s.interval_minutes FROM (${storedIntervalsOf(sql`SELECT ${asset}::text`)}) s
    WHERE ${bar}::int % s.interval_minutes = 0 AND EXISTS (
      SELECT 1 FROM ${cryptoOhlcv} c WHERE c.asset = s.asset AND c.interval_minutes = s.interval_minutes
        AND c.timestamp >= ${range.from ?? 0}::bigint AND c.timestamp <= ${range.to ?? Number.MAX_SAFE_INTEGER}::bigint)
    ORDER BY s.interval_minutes DESC LIMIT 1`);
  return rows[0]?.interval_minutes;
}

/** One stored interval of an asset: the open times of its first and last bar. */
export interface StoredInterval {
  asset: string;
  intervalMinutes: number;
  first: number;
  last: number;
}

/**
 * Every asset's stored intervals with their first and last bar, by asset and interval: what charts
 * and backtests can be built from. The assets (a loose index scan, one descent each), their intervals
 * (`storedIntervalsOf`) and each one's ends are read from the unique index, no candle scanned: the
 * cost grows with the number of assets and intervals, not with the history.
 */
export async function storedCoverage(db: Queryable): Promise<StoredInterval[]> {
  const { rows } = await db.execute<{ asset: string; interval_minutes: number; first: number; last: number }>(sql`
    WITH RECURSIVE assets(asset) AS (
      SELECT min(asset) FROM ${cryptoOhlcv}
      UNION ALL
      SELECT (SELECT min(c.asset) FROM ${cryptoOhlcv} c WHERE c.asset > a.asset) FROM assets a WHERE a.asset IS NOT NULL
    )
    SELECT s.asset, s.interval_minutes,
      (SELECT min(c.timestamp) FROM ${cryptoOhlcv} c WHERE c.asset = s.asset AND c.interval_minutes = s.interval_minutes)::float8 AS first,
      (SELECT max(c.timestamp) FROM ${cryptoOhlcv} c WHERE c.asset = s.asset AND c.interval_minutes = s.interval_minutes)::float8 AS last
    FROM (${storedIntervalsOf(sql`SELECT asset FROM assets WHERE asset IS NOT NULL`)}) s
    ORDER BY s.asset, s.interval_minutes`);
  return rows.map((r) => ({ asset: r.asset, intervalMinutes: r.interval_minutes, first: r.first, last: r.last }));
}

/** Bytes a candle takes in `closedCandleColumnsFor`'s packed form: six float8s. */
const PACKED_CANDLE_BYTES = 48;
/**
 * Candles a packed value holds at most (a stretch of this many intervals): two million minute candles
 * packed as one value took ~6.8–7.0 s to read, in stretches ~5.3–5.4 s (Postgres and pg handle a value
 * of ~130 MB slowly; most of the rest is Postgres packing ~1 µs a candle).
 */
export const PACKED_STRETCH_CANDLES = 65_536;

/** Candles of one asset from one stored interval, and the bar sizes (minutes) they serve. */
export interface CandleRead {
  asset: string;
  intervalMinutes: number;
  bars: number[];
  candles: CandleColumns;
}

/** A row of `closedCandleRowsOf`: one stretch of an asset's candles of one interval, base64 (none: no candle closed). */
export type ClosedCandleRow = { asset: string; interval_minutes: number; bars: number[]; candles: string | null };

/**
 * The candles each asset's bars of each size are built from: per asset (`assets`, a query of one text
 * column) and bar the interval that covers [from, closedBy) best (`bestIntervalsOf`), each chosen
 * interval's candles that had closed by `closedBy` read once for all the bars it serves, oldest first.
 * Postgres packs an interval's candles, a stretch of `PACKED_STRETCH_CANDLES` intervals at a time, into
 * a bytea of big-endian float8s (float8send: exact, and no number printed or parsed): read as rows,
 * ~67,000 hourly candles cost the worker ~510 ms in pg's and drizzle's per-row work and Postgres
 * ~160 ms; packed, ~60 and ~160–220 ms. The packed candles cross `asBase64`: three coins' six years
 * of hourly candles took ~240–300 ms from query to buffers as a bytea's hex, ~190 ms so.
 */
const closedCandleRowsOf = (assets: SQL, bars: Bound<number[]>, from: Bound<number>, closedBy: Bound<number>) => sql`
  SELECT p.asset, p.interval_minutes, p.bars, stretch.k, stretch.candles
  FROM (
    SELECT asset, interval_minutes, array_agg(bar ORDER BY bar) AS bars
    FROM (${bestIntervalsOf(assets, bars, from, closedBy)}) best GROUP BY asset, interval_minutes
  ) p
  LEFT JOIN LATERAL (
    SELECT o.timestamp / (${PACKED_STRETCH_CANDLES}::bigint * p.interval_minutes * 60000) AS k,
      ${asBase64(sql`string_agg(float8send(o.timestamp::float8) || float8send(o.open) || float8send(o.high)
        || float8send(o.low) || float8send(o.close) || float8send(o.volume), ''::bytea ORDER BY o.timestamp)`)} AS candles
    FROM ${cryptoOhlcv} o
    WHERE o.asset = p.asset AND o.interval_minutes = p.interval_minutes
      AND o.timestamp >= ${from}::bigint AND o.timestamp <= ${closedBy}::bigint - p.interval_minutes * 60000::bigint
    GROUP BY 1
  ) stretch ON true
  ORDER BY p.asset, p.interval_minutes, stretch.k`;

/**
 * `closedCandleRowsOf` as one JSON value (its rows in order), for a statement that reads the candles
 * beside something else: the saga's reads of the book take the market conditions' candles so.
 */
export const closedCandlesOf = (assets: SQL, bars: Bound<number[]>, from: Bound<number>, closedBy: Bound<number>) => sql<ClosedCandleRow[]>`
  (SELECT coalesce(json_agg(r ORDER BY r.asset, r.interval_minutes, r.k), '[]'::json) FROM (${closedCandleRowsOf(assets, bars, from, closedBy)}) r)`;

/** The candles of `closedCandleRowsOf`'s rows as columns, an asset and interval at a time. */
export function candleReadsOf(rows: ClosedCandleRow[]): CandleRead[] {
  // Each asset and interval's stretches in time order (none when no candle had closed).
  const reads = new Map<string, { asset: string; intervalMinutes: number; bars: number[]; stretches: Buffer[] }>();
  for (const r of rows) {
    const key = JSON.stringify([r.asset, r.interval_minutes]);
    let read = reads.get(key);
    if (!read) reads.set(key, (read = { asset: r.asset, intervalMinutes: r.interval_minutes, bars: r.bars, stretches: [] }));
    if (r.candles !== null) read.stretches.push(fromBase64(r.candles));
  }
  return [...reads.values()].map(({ stretches, ...read }) => ({ ...read, candles: unpackCandles(stretches) }));
}

/** The candles each asset's bars of each size are built from (`closedCandleRowsOf`), in one statement. */
export async function closedCandleColumnsFor(db: Queryable, assets: string[], bars: number[], from: number, closedBy: number): Promise<CandleRead[]> {
  if (assets.length === 0 || bars.length === 0) return [];
  // Built once: the saga's risk checks read a few days of candles at every signal.
  const { rows } = await preparedSql<ClosedCandleRow>(db, 'mts_closed_candles', () =>
    closedCandleRowsOf(assetList(bound('assets')), bound('bars'), bound('from'), bound('closedBy')), { named: false })
    .execute({ assets, bars, from, closedBy });
  return candleReadsOf(rows);
}

/**
 * A token that changes whenever what `closedCandleColumnsFor` and `queryMacro` would read for these
 * arguments may have changed: per asset and stored interval (every interval: a write to one may change
 * which is chosen), and for the indicator, how many of the range's days were ever written and the sum
 * of their revisions (`candleRevisions`, `macroRevisions`: kept by triggers, only ever growing). A write
 * just outside the range but on one of its first or last days changes it too: a read, not a wrong one.
 * Ten coins' six years of hourly candles: hashing every candle's key and `xmin` took 200–550 ms of
 * Postgres (730–800 ms with two workers asking at once); reading their 27,000 days' revisions
 * ~15 ms.
 */
export async function marketDataVersion(db: Queryable, q: {
  assets: string[]; from: number; closedBy: number; indicator: string; fromDate: string; toDate: string;
}): Promise<string> {
  const { rows } = await db.execute<{ part: string }>(sql`
    SELECT concat_ws(' ', asset, interval_minutes, count(*), sum(revision)) AS part
    FROM ${candleRevisions}
    WHERE asset = ANY(${sql.param(q.assets)}::text[])
      AND day BETWEEN ${Math.floor(q.from / DAY_MS)}::int AND ${Math.floor(q.closedBy / DAY_MS)}::int
    GROUP BY asset, interval_minutes
    UNION ALL
    SELECT concat_ws(' ', indicator, count(*), sum(revision))
    FROM ${macroRevisions}
    WHERE indicator = ${q.indicator}
      AND day BETWEEN ${q.fromDate}::date - DATE '1970-01-01' AND ${q.toDate}::date - DATE '1970-01-01'
    GROUP BY indicator`);
  return rows.map((r) => r.part).sort().join('\n');
}

/** `closedCandleColumnsFor`'s packed stretches, in order, as columns. */
function unpackCandles(stretches: Buffer[]): CandleColumns {
  const n = stretches.reduce((sum, packed) => sum + packed.byteLength / PACKED_CANDLE_BYTES, 0);
  const c = {
    timestamp: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n),
    low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n),
  };
  let i = 0;
  for (const packed of stretches) {
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    for (let at = 0; at < packed.byteLength; i++, at += PACKED_CANDLE_BYTES) {
      c.timestamp[i] = view.getFloat64(at);
      c.open[i] = view.getFloat64(at + 8);
      c.high[i] = view.getFloat64(at + 16);
      c.low[i] = view.getFloat64(at + 24);
      c.close[i] = view.getFloat64(at + 32);
      c.volume[i] = view.getFloat64(at + 40);
    }
  }
  return c;
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
