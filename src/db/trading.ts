import { and, desc, eq, lte, sql } from 'drizzle-orm';
import type { Database } from './client';
import { cryptoOhlcv, portfolios, positions, riskAssessments } from './schema';

export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Creates the portfolio with its starting cash the first time it is used. */
export async function ensurePortfolio(db: Database, id: string, initialCapital: number, day: string): Promise<void> {
  await db.insert(portfolios).values({
    id, initialCapital, cash: initialCapital, peakEquity: initialCapital, pnlDay: day, dayStartEquity: initialCapital,
  }).onConflictDoNothing();
}

export async function loadPortfolio(db: Database | Tx, id: string, lock = false) {
  const q = db.select().from(portfolios).where(eq(portfolios.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw new Error(`portfolio "${id}" does not exist`);
  const open = await db.select().from(positions).where(eq(positions.portfolioId, id));
  return { portfolio: row, positions: open };
}

const barEnd = sql`${cryptoOhlcv.timestamp} + ${cryptoOhlcv.intervalMinutes} * 60000`;

/**
 * The newest bar of an asset that had closed by `asOf`, whatever its length: the next available
 * price for a paper fill. Time-aware, so a replay at a past clock sees the market as it was.
 */
export async function latestBar(db: Database | Tx, asset: string, asOf: number) {
  const [row] = await db.select().from(cryptoOhlcv).where(and(eq(cryptoOhlcv.asset, asset), lte(barEnd, asOf)))
    .orderBy(desc(barEnd)).limit(1);
  return row;
}

/** Latest close of each asset at `asOf`, for marking positions. */
export async function latestCloses(db: Database | Tx, assets: string[], asOf: number): Promise<Record<string, number>> {
  const marks: Record<string, number> = {};
  for (const asset of assets) {
    const bar = await latestBar(db, asset, asOf);
    if (bar) marks[asset] = bar.close;
  }
  return marks;
}

export async function storedAssessment(db: Database, signalId: string, portfolioId: string) {
  const [row] = await db.select().from(riskAssessments).where(and(eq(riskAssessments.signalId, signalId), eq(riskAssessments.portfolioId, portfolioId)));
  return row;
}

