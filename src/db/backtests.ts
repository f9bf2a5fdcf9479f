/** Every query of backtest results: the equity curve and trades stored as a run goes, and the summary row. */
import { and, asc, count, desc, eq, gte, notLike, sql } from 'drizzle-orm';
import type { PastSignal } from '../domain/aggregation';
import type { TradeLog } from '../domain/backtest/logs';
import type { Database } from './client';
import { asBase64, float8Array, float8Count, fromBase64, readFloat8Array } from './float8-arrays';
import { backtestCurve, backtestPastSignals, backtestResults, backtestTrades } from './schema';

/** A stored equity curve: its points' times and values, oldest first. */
export interface StoredCurve {
  time: Float64Array;
  equity: Float64Array;
}

/**
 * A run's curve from its segments, oldest first, each replacing what the ones before held from its
 * first point on; only the first `points` when a count is given. Postgres sends each segment's
 * arrays in their binary form (`array_send`: float8s as they are, none printed or parsed), read
 * straight into the curve's columns: a three-million-point curve read as array text took ~8 s and
 * over 1 GB of the API's memory. They cross `asBase64`: that curve in 50,000-point segments took
 * ~0.7–1.15 s to read as a bytea's hex, ~0.45–0.8 s so.
 */
export async function storedCurve(db: Database, backtestId: string, points = Infinity): Promise<StoredCurve> {
  const { rows: sent } = await db.execute<{ first_point: number; time: string; equity: string }>(sql`
    SELECT first_point, ${asBase64(sql`array_send(time::float8[])`)} AS time, ${asBase64(sql`array_send(equity)`)} AS equity
    FROM ${backtestCurve}
    WHERE backtest_id = ${backtestId} AND first_point < ${Number.isFinite(points) ? points : 2 ** 31 - 1}::int ORDER BY first_point`);
  const rows = sent.map((r) => ({ first_point: r.first_point, time: fromBase64(r.time), equity: fromBase64(r.equity) }));
  // The curve ends where its last segment does: each cuts the ones before at its first point.
  let length = 0;
  for (const r of rows) {
    if (r.first_point > length) throw new Error(`the curve of backtest ${backtestId} has no points ${length}–${r.first_point - 1}`);
    length = Math.min(points, r.first_point + float8Count(r.equity));
  }
  const curve: StoredCurve = { time: new Float64Array(length), equity: new Float64Array(length) };
  for (const r of rows) {
    readFloat8Array(r.time, curve.time, r.first_point);
    readFloat8Array(r.equity, curve.equity, r.first_point);
  }
  return curve;
}

/**
 * Drops what a run stored after its checkpoint: curve points from point `storedPoints` on, trades
 * from `tradeSeq` on and the past-signal segments from signal `pastTotal` on (one that reaches past
 * it is cut when read: `storedPastSignals` reads up to a number, and the next segment replaces it).
 */
export async function dropAfterCheckpoint(db: Database, backtestId: string, stored: { points: number; tradeSeq: number; pastTotal: number }): Promise<void> {
  const { points, tradeSeq, pastTotal } = stored;
  await db.transaction(async (tx) => {
    await tx.delete(backtestCurve).where(and(eq(backtestCurve.backtestId, backtestId), gte(backtestCurve.firstPoint, points)));
    // A segment from before the checkpoint that reaches past it keeps its points up to it.
    await tx.execute(sql`
      UPDATE ${backtestCurve} SET time = time[1:${points}::int - first_point], equity = equity[1:${points}::int - first_point]
      WHERE backtest_id = ${backtestId} AND first_point + cardinality(time) > ${points}::int`);
    await tx.delete(backtestTrades).where(and(eq(backtestTrades.backtestId, backtestId), gte(backtestTrades.seq, tradeSeq)));
    await tx.delete(backtestPastSignals).where(and(eq(backtestPastSignals.backtestId, backtestId), gte(backtestPastSignals.firstSeq, pastTotal)));
  });
}

/** Everything a run of this id stored before, in one statement: a fresh attempt starts from nothing. */
export async function clearBacktest(db: Database, backtestId: string): Promise<void> {
  await db.execute(sql`
    WITH trades AS (DELETE FROM ${backtestTrades} WHERE backtest_id = ${backtestId}),
      curve AS (DELETE FROM ${backtestCurve} WHERE backtest_id = ${backtestId}),
      past AS (DELETE FROM ${backtestPastSignals} WHERE backtest_id = ${backtestId})
    DELETE FROM ${backtestResults} WHERE backtest_id = ${backtestId}`);
}

/**
 * Points a stored segment holds at most: a run that stores its whole curve at once (one that ends
 * within its first report) leaves rows of this size, not one row of millions of points. A
 * three-million-point curve took ~1.5–1.8 s to store as one row and ~3.1–3.9 s to read back; in rows
 * of 65,536 points, a statement each, ~0.4–0.8 and ~0.55–0.8 s (Postgres and pg handle a message of
 * ~70 MB slowly).
 */
export const CURVE_SEGMENT_POINTS = 65_536;

/**
 * Stores curve points from the engine's columns as segments from point `firstPoint` of the curve on
 * (rows of at most `CURVE_SEGMENT_POINTS`), replacing any stored before from that point on (a crashed
 * attempt's, or the last point revalued at the end). A row per point cost Postgres 114–225 ms in index
 * upkeep for a 57,000-point curve, the segment in array text ~30 ms (parsing it), in binary a few.
 */
export async function storeCurvePoints(db: Database, backtestId: string, firstPoint: number, curve: { time: Float64Array; equity: Float64Array }): Promise<void> {
  // The first statement also deletes the segments stored after `firstPoint` (not its own row, which
  // it upserts: Postgres does not say which of two changes to one row in one statement takes place).
  // A run that stops between two statements stores again from its checkpoint, before them.
  const later = sql`WITH later AS (DELETE FROM ${backtestCurve} WHERE backtest_id = ${backtestId} AND first_point > ${firstPoint}::int)`;
  for (let at = 0; at < curve.time.length; at += CURVE_SEGMENT_POINTS) {
    const end = Math.min(curve.time.length, at + CURVE_SEGMENT_POINTS);
    const [time, equity] = [float8Array(curve.time.subarray(at, end)), float8Array(curve.equity.subarray(at, end))];
    await db.execute(sql`
      ${at === 0 ? later : sql``}
      INSERT INTO ${backtestCurve} (backtest_id, first_point, time, equity)
      VALUES (${backtestId}, ${firstPoint + at}::int, ${time}::bigint[], ${equity})
      ON CONFLICT (backtest_id, first_point) DO UPDATE SET time = excluded.time, equity = excluded.equity`);
  }
}

/**
 * Stores trades numbered from `firstSeq` from the log's columns, each one array parameter: one
 * statement however many, no object per trade (a multi-row insert cost the query builder ~50 µs a
 * row). An open trade's exit (NaN in the log) is stored as NULL.
 */
export async function insertTrades(db: Database, backtestId: string, firstSeq: number, trades: TradeLog): Promise<void> {
  if (trades.length === 0) return;
  const c = trades.storageColumns();
  await db.execute(sql`
    INSERT INTO ${backtestTrades}
      (backtest_id, seq, asset, direction, entry_time, entry_price, exit_time, exit_price, quantity, fees, gross_pnl, pnl, return_pct)
    SELECT ${backtestId}, ${firstSeq}::int + trade.k::int - 1, trade.asset, trade.direction, trade.entry_time::bigint, trade.entry_price,
      NULLIF(trade.exit_time, 'NaN')::bigint, NULLIF(trade.exit_price, 'NaN'), trade.quantity, trade.fees, trade.gross_pnl, trade.pnl, trade.return_pct
    FROM unnest(${sql.param(c.asset)}::text[], ${sql.param(c.direction)}::text[], ${float8Array(c.entryTime)}, ${float8Array(c.entryPrice)},
      ${float8Array(c.exitTime)}, ${float8Array(c.exitPrice)}, ${float8Array(c.quantity)}, ${float8Array(c.fees)}, ${float8Array(c.grossPnl)},
      ${float8Array(c.pnl)}, ${float8Array(c.returnPct)})
      WITH ORDINALITY AS trade(asset, direction, entry_time, entry_price, exit_time, exit_price, quantity, fees, gross_pnl, pnl, return_pct, k)`);
}

/**
 * Stores a running backtest's past signals numbered `firstSeq` on as one segment, replacing what was
 * stored from there on (a crashed attempt's): one statement, a few arrays, however many signals.
 * Segments that left the track-record window stay until the run ends: the checkpoint a retry gets is
 * the last heartbeat the server recorded, which may be older than the last one sent.
 */
export async function storePastSignals(db: Database, backtestId: string, firstSeq: number, signals: PastSignal[]): Promise<void> {
  if (signals.length === 0) return;
  const { names, codes } = codedNames(signals);
  // The deletion does not touch the row the insert upserts (see `storeCurvePoints`).
  await db.execute(sql`
    WITH later AS (DELETE FROM ${backtestPastSignals} WHERE backtest_id = ${backtestId} AND first_seq > ${firstSeq}::int)
    INSERT INTO ${backtestPastSignals} (backtest_id, first_seq, timestamp, price, names, codes)
    VALUES (${backtestId}, ${firstSeq}::int, ${float8Array(signals.map((x) => x.timestamp))}::bigint[],
      ${float8Array(signals.map((x) => x.price))}, ${sql.param(names)}::text[], ${codes}::bytea)
    ON CONFLICT (backtest_id, first_seq) DO UPDATE
      SET timestamp = excluded.timestamp, price = excluded.price, names = excluded.names, codes = excluded.codes`);
}

/** A signal's names in a segment: its asset, strategy and signal type. */
const NAMES_PER_SIGNAL = 3;

/**
 * The signals' asset, strategy and signal-type names as indices (uint16) into a list of the names
 * they use, each once: a segment of tens of thousands of signals as three text arrays cost Postgres
 * ~85 ms to parse and store for 30,000, coded ~37 ms (the ten-coin sweep's children store every
 * signal they make).
 */
function codedNames(signals: PastSignal[]): { names: string[]; codes: Buffer } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const codes = Buffer.allocUnsafe(2 * NAMES_PER_SIGNAL * signals.length);
  const code = (name: string) => {
    let k = index.get(name);
    if (k === undefined) index.set(name, (k = names.push(name) - 1));
    if (k > 0xffff) throw new RangeError('a segment of past signals names more than 65,536 assets and strategies');
    return k;
  };
  signals.forEach((x, i) => {
    const at = 2 * NAMES_PER_SIGNAL * i;
    codes.writeUInt16LE(code(x.asset), at);
    codes.writeUInt16LE(code(x.strategyName), at + 2);
    codes.writeUInt16LE(code(x.signalType), at + 4);
  });
  return { names, codes };
}

/**
 * A running backtest's stored past signals numbered `from` up to `to` (not included), oldest first;
 * undefined when any of them is missing (the run ended and dropped them, or it never stored them).
 * Prices and times cross in binary, as the curve's do.
 */
export async function storedPastSignals(db: Database, backtestId: string, from: number, to: number): Promise<PastSignal[] | undefined> {
  if (to <= from) return [];
  type Segment = { first_seq: number; timestamp: string; price: string; names: string[]; codes: string };
  const { rows: sent } = await db.execute<Segment>(sql`
    SELECT first_seq, ${asBase64(sql`array_send(timestamp::float8[])`)} AS timestamp, ${asBase64(sql`array_send(price)`)} AS price,
      names, ${asBase64(sql`codes`)} AS codes
    FROM ${backtestPastSignals}
    WHERE backtest_id = ${backtestId} AND first_seq < ${to}::int AND first_seq + cardinality(price) > ${from}::int ORDER BY first_seq`);
  const past: PastSignal[] = [];
  // As the curve's segments: each replaces what the ones before held from its first signal on.
  for (const r of sent) {
    if (r.first_seq > from + past.length) break;
    past.length = Math.max(0, r.first_seq - from);
    const packedPrice = fromBase64(r.price);
    const n = float8Count(packedPrice);
    const [timestamp, price] = [new Float64Array(n), new Float64Array(n)];
    readFloat8Array(fromBase64(r.timestamp), timestamp, 0);
    readFloat8Array(packedPrice, price, 0);
    const codes = fromBase64(r.codes);
    const name = (k: number, field: number) => r.names[codes.readUInt16LE(2 * (NAMES_PER_SIGNAL * k + field))];
    for (let k = Math.max(0, from - r.first_seq); k < n && from + past.length < to; k++) {
      const signalType = name(k, 2) as PastSignal['signalType'];
      past.push({ strategyName: name(k, 1), signalType, timestamp: timestamp[k], price: price[k], asset: name(k, 0) });
    }
  }
  return past.length === to - from ? past : undefined;
}

/** A run's past signals, once it has ended: they were working state. */
export async function dropPastSignals(db: Database, backtestId: string): Promise<void> {
  await db.delete(backtestPastSignals).where(eq(backtestPastSignals.backtestId, backtestId));
}

/** The run's summary row; idempotent: an attempt retried after this commit writes the same row again. */
export async function saveResult(db: Database, row: typeof backtestResults.$inferInsert): Promise<void> {
  await db.insert(backtestResults).values(row).onConflictDoUpdate({ target: backtestResults.backtestId, set: { ...row, createdAt: sql`now()` } });
}

/**
 * The newest stored results first (by when each id was first stored), their summary columns only: no
 * metrics, curve or trades. Ids starting with one of `excludedPrefixes` are left out (a sweep's or a
 * walk-forward's children). The primary key's index is read newest first: no sort of the table.
 */
export async function recentResults(db: Database, opts: { limit: number; excludedPrefixes: readonly string[] }) {
  const { backtestId, strategyName, startDate, endDate, assets, initialCapital, finalValue, totalReturn, sharpeRatio, maxDrawdown, tradeCount, createdAt } = backtestResults;
  return db.select({ backtestId, strategyName, startDate, endDate, assets, initialCapital, finalValue, totalReturn, sharpeRatio, maxDrawdown, tradeCount, createdAt })
    .from(backtestResults).where(and(...opts.excludedPrefixes.map((prefix) => notLike(backtestId, `${prefix}%`))))
    .orderBy(desc(backtestResults.id)).limit(opts.limit);
}

/**
 * A finished run: its summary row, the trades in entry order from `trades.offset` on (at most
 * `trades.limit` of them; all by default) with how many it has, and the curve; undefined when it has none.
 */
export async function loadResult(db: Database, backtestId: string, trades: { offset?: number; limit?: number } = {}) {
  const [row] = await db.select().from(backtestResults).where(eq(backtestResults.backtestId, backtestId));
  if (!row) return undefined;
  const page = db.select().from(backtestTrades).where(eq(backtestTrades.backtestId, backtestId))
    .orderBy(asc(backtestTrades.entryTime), asc(backtestTrades.seq)).offset(trades.offset ?? 0).$dynamic();
  const [{ total }] = await db.select({ total: count() }).from(backtestTrades).where(eq(backtestTrades.backtestId, backtestId));
  return {
    row, trades: await (trades.limit === undefined ? page : page.limit(trades.limit)), tradesStored: total,
    curve: await storedCurve(db, backtestId),
  };
}
