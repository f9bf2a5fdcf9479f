import { and, desc, eq, gt, gte, lt, lte, ne, sql } from 'drizzle-orm';
import type { AggregatedSignal, PastSignal } from '../domain/aggregation';
import type { Alert } from '../domain/alerts';
import type { TradingSignal } from '../domain/signals';
import type { Database } from './client';
import { alertHistory, signalHistory } from './schema';

const AGGREGATE = 'aggregate';

/** Stores signals; one already stored for (asset, strategy, timestamp) is left alone. Returns the new rows' ids. */
export async function insertSignals(db: Database, signals: Array<TradingSignal | AggregatedSignal>): Promise<Array<{ id: number; asset: string; strategyName: string }>> {
  if (signals.length === 0) return [];
  const rows = signals.map((s) => ({
    asset: s.asset, signalType: s.signalType, timestamp: s.timestamp, price: s.price, strategyName: s.strategyName,
    confidence: s.confidence, positionSize: s.positionSize, stopLoss: s.stopLoss, takeProfit: s.takeProfit,
    analysis: s.analysis, strategies: 'strategies' in s ? s.strategies : null,
  }));
  return db.insert(signalHistory).values(rows).onConflictDoNothing()
    .returning({ id: signalHistory.id, asset: signalHistory.asset, strategyName: signalHistory.strategyName });
}

/** Strategy signals (not aggregates) in [from, before), for track records. */
export async function pastStrategySignals(db: Database, from: number, before: number): Promise<PastSignal[]> {
  return db.select({
    strategyName: signalHistory.strategyName, signalType: sql<'LONG' | 'SHORT'>`${signalHistory.signalType}`,
    timestamp: signalHistory.timestamp, price: signalHistory.price, asset: signalHistory.asset,
  }).from(signalHistory)
    .where(and(ne(signalHistory.strategyName, AGGREGATE), gte(signalHistory.timestamp, from), lt(signalHistory.timestamp, before)));
}

export interface SignalQuery {
  asset?: string;
  strategy?: string;
  type?: 'LONG' | 'SHORT';
  from?: number;
  to?: number;
  limit: number;
}

/** Newest first. */
export async function querySignals(db: Database, q: SignalQuery) {
  const c = [];
  if (q.asset) c.push(eq(signalHistory.asset, q.asset));
  if (q.strategy) c.push(eq(signalHistory.strategyName, q.strategy));
  if (q.type) c.push(eq(signalHistory.signalType, q.type));
  if (q.from !== undefined) c.push(gte(signalHistory.timestamp, q.from));
  if (q.to !== undefined) c.push(lte(signalHistory.timestamp, q.to));
  return db.select().from(signalHistory).where(and(...c)).orderBy(desc(signalHistory.timestamp), signalHistory.id).limit(q.limit);
}

/** Stores an alert unless the same (type, asset, timestamp) exists; returns the new row's id, or undefined. */
export async function insertAlert(db: Database, alert: Alert): Promise<number | undefined> {
  const [row] = await db.insert(alertHistory).values({
    alertType: alert.type, asset: alert.body.asset, timestamp: alert.body.timestamp, alertData: alert.body,
  }).onConflictDoNothing().returning({ id: alertHistory.id });
  return row?.id;
}

/** Latest alert time of this type, asset and direction in [since, until], for the alert cooldown. */
export async function lastAlertTime(db: Database, type: string, asset: string, signalType: string, since: number, until: number): Promise<number | undefined> {
  const [row] = await db.select({ timestamp: alertHistory.timestamp }).from(alertHistory)
    .where(and(eq(alertHistory.alertType, type), eq(alertHistory.asset, asset), gte(alertHistory.timestamp, since), lte(alertHistory.timestamp, until),
      sql`${alertHistory.alertData}->>'signal_type' = ${signalType}`))
    .orderBy(desc(alertHistory.timestamp)).limit(1);
  return row?.timestamp;
}

export async function getAlert(db: Database, id: number) {
  const [row] = await db.select().from(alertHistory).where(eq(alertHistory.id, id));
  return row;
}

/** Adds a channel to distributed_channels once, however often a delivery is retried. */
export async function markDelivered(db: Database, id: number, channel: string, filePath?: string): Promise<void> {
  await db.update(alertHistory).set({
    distributedChannels: sql`CASE WHEN ${alertHistory.distributedChannels} ? ${channel} THEN ${alertHistory.distributedChannels}
      ELSE ${alertHistory.distributedChannels} || jsonb_build_array(${channel}::text) END`,
    ...(filePath ? { filePath } : {}),
  }).where(eq(alertHistory.id, id));
}

export interface AlertQuery {
  type?: string;
  asset?: string;
  from?: number;
  to?: number;
  afterId?: number;
  limit: number;
}

export async function queryAlerts(db: Database, q: AlertQuery) {
  const c = [];
  if (q.type) c.push(eq(alertHistory.alertType, q.type));
  if (q.asset) c.push(eq(alertHistory.asset, q.asset));
  if (q.from !== undefined) c.push(gte(alertHistory.timestamp, q.from));
  if (q.to !== undefined) c.push(lte(alertHistory.timestamp, q.to));
  if (q.afterId !== undefined) c.push(gt(alertHistory.id, q.afterId));
  const order = q.afterId !== undefined ? [alertHistory.id] : [desc(alertHistory.timestamp), desc(alertHistory.id)];
  return db.select().from(alertHistory).where(and(...c)).orderBy(...order).limit(q.limit);
}

/** Whether any signal was ever stored: a database that has none has never decided anything. */
export async function anySignalStored(db: Database): Promise<boolean> {
  const [row] = await db.select({ id: signalHistory.id }).from(signalHistory).limit(1);
  return row !== undefined;
}
