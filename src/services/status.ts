/**
 * What a person checks first, in one place: the Schedules, each collected asset's health, the bars
 * stored, who polls each task queue, the paper portfolio and the latest failures.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { CollectionConfig } from '../config/collection';
import type { Database } from '../db/client';
import { TASK_QUEUES } from '../temporal/task-queues';
import { collectionStatus } from './collections';
import { marketCoverage } from './market-data';
import { portfolioSummary } from './portfolio';
import { describeRun, listRuns } from './runs';
import { listSchedules } from './schedules';

/** Workers polling a task queue (workflow or activity tasks) in the last minutes, by identity. */
export async function queuePollers(client: Client, namespace: string, taskQueue: string): Promise<string[]> {
  const identities = new Set<string>();
  const { TaskQueueType } = proto.temporal.api.enums.v1;
  for (const type of [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
    const r = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: type });
    for (const p of r.pollers ?? []) if (p.identity) identities.add(p.identity);
  }
  return [...identities].sort();
}

export async function systemStatus(opts: {
  client: Client; db: Database; namespace: string; collection: CollectionConfig; portfolioId: string; initialCapital: number;
}) {
  const [schedules, collection, stored, portfolio, failedRuns] = await Promise.all([
    listSchedules(opts.client),
    collectionStatus(opts.db, opts.collection),
    marketCoverage(opts.db),
    portfolioSummary(opts.db, opts.portfolioId, opts.initialCapital),
    listRuns(opts.client, { status: 'FAILED', limit: 5 }),
  ]);
  const queues = await Promise.all(Object.values(TASK_QUEUES).map(async (q) => ({ taskQueue: q, pollers: await queuePollers(opts.client, opts.namespace, q) })));
  const failures = await Promise.all(failedRuns.map(async (r) => ({ ...r, failure: (await describeRun(opts.client, r.workflowId).catch(() => undefined))?.failure ?? null })));
  return { schedules, collection, stored, queues, portfolio, failures };
}
