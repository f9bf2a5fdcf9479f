import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { type CollectionConfig, tierKindOf } from '../config/collection';
import type { Database } from '../db/client';
import { callsMadeOn, listCollectionRuns, newestDataTimes } from '../db/collection-runs';
import { dailyBudget } from '../domain/budget';
import { collectionHealth } from '../domain/collection-health';
import { isoDate } from '../domain/types';
import { MTS_ASSETS, MTS_TIER } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { backfillWorkflow, collectTierWorkflow } from '../workflows/collection';
import type { CollectionTarget } from '../workflows/types';
import { assetList, days, instant, LIMITS } from './limits';
import { assetTargets, tierTargets } from './targets';

const stamp = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `POST /api/v1/collections` and `mts collect`: a tier, or configured assets. */
export const collectBody = z.union([
  z.object({ tier: z.string().min(1).max(LIMITS.nameLength) }).strict(),
  z.object({ assets: assetList }).strict(),
], { error: 'give either "tier" (a tier name) or "assets" (a list of configured assets)' });

/** `POST /api/v1/backfills` and `mts backfill`: configured assets over a bounded range. */
export const backfillBody = z.object({
  assets: assetList,
  from: instant,
  to: instant,
  heartbeatTimeoutMs: z.number().int().min(1000).max(600_000).optional(),
}).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .refine((b) => days(b.to - b.from) <= LIMITS.backfillDays, { message: `a backfill may cover at most ${LIMITS.backfillDays} days; split it`, path: ['from'] });

/** The targets of a collection: UnknownTargetError for a tier or an asset that config/collection.json lacks. */
export function collectionTargets(config: CollectionConfig, request: { tier: string } | { assets: string[] }): CollectionTarget[] {
  return 'tier' in request ? tierTargets(config, request.tier) : assetTargets(config, request.assets);
}

/** Starts a collection now, for a whole tier or a list of configured assets. */
export async function startCollection(client: Client, config: CollectionConfig, request: { tier: string } | { assets: string[] }, now = Date.now()) {
  const tier = 'tier' in request ? request.tier : 'manual';
  const targets = collectionTargets(config, request);
  const handle = await client.workflow.start(collectTierWorkflow, {
    workflowId: `collect-${tier}-${stamp(now)}`,
    taskQueue: TASK_QUEUES.pipeline,
    args: [{ tier, targets }],
    typedSearchAttributes: [
      { key: MTS_TIER, value: tier },
      { key: MTS_ASSETS, value: targets.map((t) => t.asset) },
    ],
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}

export async function startBackfill(
  client: Client,
  config: CollectionConfig,
  request: { assets: string[]; from: number; to: number; heartbeatTimeoutMs?: number },
  now = Date.now(),
) {
  const targets: CollectionTarget[] = assetTargets(config, request.assets);
  const handle = await client.workflow.start(backfillWorkflow, {
    workflowId: `backfill-${request.assets.join('+')}-${stamp(request.from)}-${stamp(request.to)}-${stamp(now)}`,
    taskQueue: TASK_QUEUES.pipeline,
    args: [{ targets, from: request.from, to: request.to, heartbeatTimeoutMs: request.heartbeatTimeoutMs }],
    typedSearchAttributes: [{ key: MTS_ASSETS, value: request.assets }],
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}

/** Each collected tier and asset with the seed's health rules applied: why it is unhealthy (none: healthy). */
export async function collectionHealthNow(db: Database, config: CollectionConfig, now = Date.now()) {
  const [runs, newest] = await Promise.all([listCollectionRuns(db), newestDataTimes(db)]);
  return collectionHealth(runs, newest, { now, rules: config.health, kindOf: tierKindOf(config) });
}

/** Per-asset collection health and the day's provider-call budget. */
export async function collectionStatus(db: Database, config: CollectionConfig, now = Date.now()) {
  const today = isoDate(now);
  const [health, callsToday] = await Promise.all([collectionHealthNow(db, config, now), callsMadeOn(db, today)]);
  return {
    budget: { ...dailyBudget(config.tiers, config.baseline), callsMadeToday: callsToday, day: today },
    rules: config.health,
    unhealthy: health.filter((h) => h.reasons.length).length,
    assets: health.map(({ run: r, counted, newestDataAt, reasons }) => ({
      tier: r.tier,
      asset: r.asset,
      source: r.source,
      health: reasons.length ? 'unhealthy' : 'healthy',
      reasons,
      unhealthySince: r.unhealthySince?.toISOString() ?? null,
      newestDataAt: newestDataAt === null ? null : new Date(newestDataAt).toISOString(),
      lastAttemptAt: r.lastAttemptAt?.toISOString() ?? null,
      lastSuccessAt: r.lastSuccessAt?.toISOString() ?? null,
      lastError: r.lastError,
      consecutiveFailures: r.consecutiveFailures,
      lastRowsWritten: r.lastRowsWritten,
      callsToday: counted ? r.callsToday : 0,
      attemptsToday: counted ? r.attemptsToday : 0,
      failuresToday: counted ? r.failuresToday : 0,
    })),
  };
}
