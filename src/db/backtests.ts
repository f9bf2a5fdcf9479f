/** Every query of backtest results: the equity curve and trades stored as a run goes, and the summary row. */
import { and, asc, eq, gt, gte, sql } from 'drizzle-orm';
import type { BacktestTrade } from '../domain/backtest/logs';
import type { Database } from './client';
import { backtestEquity, backtestResults, backtestTrades } from './schema';

/** The first `points` stored curve points of a run, oldest first. */
export async function storedCurve(db: Database, backtestId: string, points: number) {
  return db.select({ time: backtestEquity.time, equity: backtestEquity.equity }).from(backtestEquity)
    .where(eq(backtestEquity.backtestId, backtestId)).orderBy(asc(backtestEquity.time)).limit(points);
}

/** Drops what a run stored after its checkpoint: curve points after `keptUntil` and trades from `tradeSeq` on. */
export async function dropAfterCheckpoint(db: Database, backtestId: string, keptUntil: number | undefined, tradeSeq: number): Promise<void> {
  const ofThisRun = eq(backtestEquity.backtestId, backtestId);
  await db.delete(backtestEquity).where(keptUntil === undefined ? ofThisRun : and(ofThisRun, gt(backtestEquity.time, keptUntil)));
  await db.delete(backtestTrades).where(and(eq(backtestTrades.backtestId, backtestId), gte(backtestTrades.seq, tradeSeq)));
}

/** Everything a run of this id stored before: a fresh attempt starts from nothing. */
export async function clearBacktest(db: Database, backtestId: string): Promise<void> {
  await db.transaction(async (tx) => {
    for (const table of [backtestTrades, backtestEquity, backtestResults]) await tx.delete(table).where(eq(table.backtestId, backtestId));
  });
}

/**
 * A numeric column as the text of a Postgres array, joined by the column itself: a typed array's
 * join writes each number as JavaScript prints it (the shortest text that reads back as the same
 * double; NaN and ±Infinity as Postgres spells them), without a JavaScript array of boxed numbers
 * and the driver's per-element conversion that a parameter of 57,000 points took.
 */
const arrayText = (column: ArrayLike<number>): string => `{${Array.prototype.join.call(column, ',')}}`;

/**
 * Stores curve points from the engine's columns, oldest first; points stored before from the first
 * one's time on are replaced (the last one is revalued at the end). Two array parameters: one insert
 * whatever the count. The points stored before are deleted first rather than met with ON CONFLICT,
 * which made Postgres try every row of a 57,000-point curve against the index twice (225 ms against
 * 114 ms a curve, measured).
 */
export async function upsertCurve(db: Database, backtestId: string, curve: { time: ArrayLike<number>; equity: ArrayLike<number> }): Promise<void> {
  if (curve.time.length === 0) return;
  await db.transaction(async (tx) => {
    await tx.delete(backtestEquity).where(and(eq(backtestEquity.backtestId, backtestId), gte(backtestEquity.time, curve.time[0])));
    await tx.execute(sql`
      INSERT INTO ${backtestEquity} (backtest_id, time, equity)
      SELECT ${backtestId}, point.time, point.equity
      FROM unnest(${arrayText(curve.time)}::bigint[], ${arrayText(curve.equity)}::double precision[]) AS point(time, equity)`);
  });
}

/**
 * Stores closed trades numbered from `firstSeq`, a column per array parameter: one statement however
 * many, where a multi-row insert cost the query builder ~50 µs a row (15 ms for a sweep child's 300).
 */
export async function insertTrades(db: Database, backtestId: string, firstSeq: number, trades: BacktestTrade[]): Promise<void> {
  if (trades.length === 0) return;
  const column = <K extends keyof BacktestTrade>(key: K) => sql.param(trades.map((t) => t[key]));
  await db.execute(sql`
    INSERT INTO ${backtestTrades}
      (backtest_id, seq, asset, direction, entry_time, entry_price, exit_time, exit_price, quantity, fees, gross_pnl, pnl, return_pct)
    SELECT ${backtestId}, ${firstSeq}::int + trade.k::int - 1, trade.asset, trade.direction, trade.entry_time, trade.entry_price,
      trade.exit_time, trade.exit_price, trade.quantity, trade.fees, trade.gross_pnl, trade.pnl, trade.return_pct
    FROM unnest(${column('asset')}::text[], ${column('direction')}::text[], ${column('entryTime')}::bigint[],
      ${column('entryPrice')}::double precision[], ${column('exitTime')}::bigint[], ${column('exitPrice')}::double precision[],
      ${column('quantity')}::double precision[], ${column('fees')}::double precision[], ${column('grossPnl')}::double precision[],
      ${column('pnl')}::double precision[], ${column('returnPct')}::double precision[])
      WITH ORDINALITY AS trade(asset, direction, entry_time, entry_price, exit_time, exit_price, quantity, fees, gross_pnl, pnl, return_pct, k)`);
}

/** The run's summary row; idempotent: an attempt retried after this commit writes the same row again. */
export async function saveResult(db: Database, row: typeof backtestResults.$inferInsert): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(backtestResults).where(eq(backtestResults.backtestId, row.backtestId));
    await tx.insert(backtestResults).values(row);
  });
}

/** A finished run: its summary row, trades in entry order and the curve; undefined when it has none. */
export async function loadResult(db: Database, backtestId: string) {
  const [row] = await db.select().from(backtestResults).where(eq(backtestResults.backtestId, backtestId));
  if (!row) return undefined;
  const trades = await db.select().from(backtestTrades).where(eq(backtestTrades.backtestId, backtestId))
    .orderBy(asc(backtestTrades.entryTime), asc(backtestTrades.seq));
  const equity = await db.select().from(backtestEquity).where(eq(backtestEquity.backtestId, backtestId)).orderBy(asc(backtestEquity.time));
  return { row, trades, equity };
}
