import { type Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import type { CollectionConfig } from '../config/collection';
import type { Database } from '../db/client';
import { anySignalStored } from '../db/signals';
import { DAY_MS } from '../domain/types';
import { TASK_QUEUES } from '../temporal/task-queues';
import { warmUpWorkflow } from '../workflows/warm-up';
import { tierTargets } from './targets';

export const WARM_UP_WORKFLOW_ID = 'warm-up';
/** volatility_spike ranks 20-day volatility over 365 days, the longest window shipped; a little more for weekends and the VIX. */
const HISTORY_DAYS = 400;

/**
 * On a database that has never stored a signal, starts the warm-up (backfill, then the last `days`
 * of daily decisions paper-traded). Returns the run's id, or undefined when there was nothing to do.
 * Only for the simulated market: a real provider's history costs calls against the day's budget.
 */
export async function warmUpIfNew(
  client: Client,
  db: Database,
  request: { config: CollectionConfig; days: number },
  now = Date.now(),
): Promise<string | undefined> {
  if (request.days <= 0 || await anySignalStored(db)) return undefined;
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const handle = await client.workflow.start(warmUpWorkflow, {
    workflowId: WARM_UP_WORKFLOW_ID,
    taskQueue: TASK_QUEUES.pipeline,
    args: [{
      targets: request.config.tiers.flatMap((t) => tierTargets(request.config, t.name)),
      historyFrom: today - HISTORY_DAYS * DAY_MS,
      decideFrom: today - request.days * DAY_MS,
    }],
    // A warm-up interrupted by a stop is still running in the dev server's history: that run goes on.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  return handle.workflowId;
}
