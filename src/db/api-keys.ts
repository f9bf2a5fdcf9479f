/** API keys and the audit log. */
import { desc, eq, isNull } from 'drizzle-orm';
import type { Database } from './client';
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

/** Revokes the active key of that name; false when there is none. */
export async function revokeApiKey(db: Database, name: string): Promise<boolean> {
  const rows = await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.name, name)).returning({ id: apiKeys.id, revokedAt: apiKeys.revokedAt });
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
