import { eq, sql } from 'drizzle-orm';
import type { Database } from './client';
import { collectionRuns } from './schema';

export interface CollectionOutcome {
  tier: string;
  asset: string;
  source: string;
  calls: number;
  at: Date;
  rowsWritten?: number;
  error?: string;
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/** Records one attempt for (tier, asset): success resets the failure streak, failure extends it; calls count per UTC day. */
export async function recordCollectionOutcome(db: Database, o: CollectionOutcome): Promise<void> {
  const day = utcDay(o.at);
  const ok = o.error === undefined;
  await db
    .insert(collectionRuns)
    .values({
      tier: o.tier, asset: o.asset, source: o.source, lastAttemptAt: o.at,
      lastSuccessAt: ok ? o.at : null, lastError: o.error ?? null, consecutiveFailures: ok ? 0 : 1,
      lastRowsWritten: o.rowsWritten ?? 0, callsDay: day, callsToday: o.calls, totalCalls: o.calls,
    })
    .onConflictDoUpdate({
      target: [collectionRuns.tier, collectionRuns.asset],
      set: {
        source: o.source,
        lastAttemptAt: o.at,
        lastSuccessAt: ok ? o.at : sql`${collectionRuns.lastSuccessAt}`,
        lastError: o.error ?? null,
        consecutiveFailures: ok ? 0 : sql`${collectionRuns.consecutiveFailures} + 1`,
        lastRowsWritten: o.rowsWritten ?? sql`${collectionRuns.lastRowsWritten}`,
        callsToday: sql`CASE WHEN ${collectionRuns.callsDay} = ${day} THEN ${collectionRuns.callsToday} + ${o.calls} ELSE ${o.calls} END`,
        callsDay: day,
        totalCalls: sql`${collectionRuns.totalCalls} + ${o.calls}`,
      },
    });
}

export async function listCollectionRuns(db: Database) {
  return db.select().from(collectionRuns).orderBy(collectionRuns.tier, collectionRuns.asset);
}

export async function callsMadeOn(db: Database, day: string): Promise<number> {
  const [row] = await db
    .select({ calls: sql<number>`coalesce(sum(${collectionRuns.callsToday}), 0)::int` })
    .from(collectionRuns)
    .where(eq(collectionRuns.callsDay, day));
  return row?.calls ?? 0;
}
