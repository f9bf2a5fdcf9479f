import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { DataHealthAlert } from '../domain/alerts';
import type { Database } from './client';
import { alertHistory, collectionRuns, cryptoOhlcv, macroIndicators } from './schema';

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

/** Records one attempt for (tier, asset): success resets the failure streak, failure extends it; calls, attempts and failures count per UTC day. */
export async function recordCollectionOutcome(db: Database, o: CollectionOutcome): Promise<void> {
  const day = utcDay(o.at);
  const ok = o.error === undefined;
  await db
    .insert(collectionRuns)
    .values({
      tier: o.tier, asset: o.asset, source: o.source, lastAttemptAt: o.at,
      lastSuccessAt: ok ? o.at : null, lastError: o.error ?? null, consecutiveFailures: ok ? 0 : 1,
      lastRowsWritten: o.rowsWritten ?? 0, callsDay: day, callsToday: o.calls, totalCalls: o.calls, attemptsToday: 1, failuresToday: ok ? 0 : 1,
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
        attemptsToday: sql`CASE WHEN ${collectionRuns.callsDay} = ${day} THEN ${collectionRuns.attemptsToday} + 1 ELSE 1 END`,
        failuresToday: sql`CASE WHEN ${collectionRuns.callsDay} = ${day} THEN ${collectionRuns.failuresToday} ELSE 0 END + ${ok ? 0 : 1}`,
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

/** The newest stored observation of each asset and indicator (epoch ms): a bar's close, a macro value's day end. */
export async function newestDataTimes(db: Database): Promise<Map<string, number>> {
  const [bars, macro] = await Promise.all([
    db.select({ asset: cryptoOhlcv.asset, at: sql<string>`max(${cryptoOhlcv.timestamp} + ${cryptoOhlcv.intervalMinutes} * 60000)` })
      .from(cryptoOhlcv).groupBy(cryptoOhlcv.asset),
    db.select({ asset: macroIndicators.indicator, at: sql<string>`max(${macroIndicators.date})::text` }).from(macroIndicators).groupBy(macroIndicators.indicator),
  ]);
  return new Map([
    ...bars.map((b) => [b.asset, Number(b.at)] as const),
    // A daily value is complete when its day ends.
    ...macro.map((m) => [m.asset, Date.parse(`${m.at}T00:00:00Z`) + 86_400_000] as const),
  ]);
}

/**
 * Opens (`unhealthy`) or closes (`recovered`) the incident of (tier, asset) and stores its alert, in
 * one transaction and only if the incident was not already in that state: a retried check alerts once.
 */
export async function recordHealthChange(db: Database, alert: DataHealthAlert): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const at = new Date(alert.timestamp);
    const changed = await tx.update(collectionRuns)
      .set({ unhealthySince: alert.status === 'unhealthy' ? at : null })
      .where(and(eq(collectionRuns.tier, alert.tier), eq(collectionRuns.asset, alert.asset),
        alert.status === 'unhealthy' ? isNull(collectionRuns.unhealthySince) : isNotNull(collectionRuns.unhealthySince)))
      .returning({ id: collectionRuns.id });
    if (!changed.length) return undefined;
    const [row] = await tx.insert(alertHistory).values({ alertType: 'data_health', asset: alert.asset, timestamp: alert.timestamp, alertData: alert })
      .onConflictDoNothing().returning({ id: alertHistory.id });
    return row?.id;
  });
}
