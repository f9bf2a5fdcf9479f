/** API keys and the audit log. */
import { desc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from './client';
import { NOTIFY_CHANNELS } from './notify';
import { apiKeys, auditLog } from './schema';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertApiKey(db: Database, row: typeof apiKeys.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(apiKeys).values(row).onConflictDoNothing().returning({ id: apiKeys.id });
  return inserted.length > 0;
}

export async function findApiKey(db: Database, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

export async function listApiKeys(db: Database): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(apiKeys.createdAt);
}

/**
 * Revokes the active key of that name and announces its id to every API process (which forgets it at
 * once), in one statement; false when there is no such active key.
 */
export async function revokeApiKey(db: Database, name: string): Promise<boolean> {
  const { rows } = await db.execute(sql`
    WITH revoked AS (UPDATE ${apiKeys} SET revoked_at = now() WHERE name = ${name} AND revoked_at IS NULL RETURNING id)
    SELECT pg_notify(${NOTIFY_CHANNELS.keyRevocations}, to_json(id)::text) FROM revoked`);
  return rows.length > 0;
}

export async function activeApiKeyIds(db: Database): Promise<string[]> {
  return (await db.select({ id: apiKeys.id }).from(apiKeys).where(isNull(apiKeys.revokedAt))).map((r) => r.id);
}

export async function insertAudit(db: Database, row: typeof auditLog.$inferInsert): Promise<void> {
  await db.insert(auditLog).values(row);
}

/** Newest first. */
export async function queryAudit(db: Database, limit: number) {
  return db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(limit);
}
