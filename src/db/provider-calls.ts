import { and, count, eq, lte, min, sql } from 'drizzle-orm';
import type { Database } from './client';
import { providerCalls } from './schema';

export interface CallLimit {
  calls: number;
  windowMs: number;
}

/** The database's clock (epoch ms), read at the statement: one clock for every worker process. */
const dbNow = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * Takes one call from the provider's sliding window if there is room: the call's id, recorded at the
 * database's now. Otherwise the milliseconds until the oldest call in the window leaves it. One
 * transaction under a per-provider advisory lock, so every worker process on every machine shares
 * the one cap.
 */
export function takeProviderCall(db: Database, provider: string, limit: CallLimit): Promise<{ id: number } | { waitMs: number }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`mts:provider-calls:${provider}`}))`);
    const [{ now }] = await tx.select({ now: dbNow }).from(sql`(select 1) as clock`);
    const since = Number(now) - limit.windowMs;
    await tx.delete(providerCalls).where(and(eq(providerCalls.provider, provider), lte(providerCalls.at, since)));
    const [window] = await tx.select({ calls: count(), oldest: min(providerCalls.at) }).from(providerCalls).where(eq(providerCalls.provider, provider));
    if (window.calls < limit.calls) {
      const [row] = await tx.insert(providerCalls).values({ provider, at: Number(now) }).returning({ id: providerCalls.id });
      return { id: row.id };
    }
    return { waitMs: Math.max(1, Number(window.oldest) - since) };
  });
}

/**
 * Marks a call finished: it stays in the window until `windowMs` after it ended, so however long the
 * call took, the provider never sees more than the cap start within one window.
 */
export async function finishProviderCall(db: Database, id: number): Promise<void> {
  await db.update(providerCalls).set({ at: dbNow }).where(eq(providerCalls.id, id));
}
